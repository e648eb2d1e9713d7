"""Problems found while reading telemetry: bad bytes are reported and skipped, never raised."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("app.core.telemetry")


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """One problem in a telemetry source: which file, where (byte offset or line number), what."""

    source: str
    message: str
    offset: int | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.offset is not None:
            where = f" at byte offset {self.offset}"
        elif self.line is not None:
            where = f" at line {self.line}"
        return f"{self.source}{where}: {self.message}"


def report(problems: list[ReadProblem], problem: ReadProblem) -> None:
    """Record a problem and log it as a warning."""
    problems.append(problem)
    log.warning("%s", problem)
