"""Problems found while loading a skill bank: file, key, reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoadProblem:
    """Something wrong in a bundle file; the rest of the bank still loads."""

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"
