"""Finding a train job's checkpoints: exact ``model_epoch_XXX_step_YYYYY.pth`` files, never a guess."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from app.core.hosts.errors import HostError

_CHECKPOINT = re.compile(r"^model_epoch_(\d+)_step_(\d+)\.(pth|tlt)$")
_LATEST = re.compile(r"^\w+_latest\.(pth|tlt)$")


class ListsFolders(Protocol):
    """Anything that lists a folder on a host (a HostSession)."""

    def list_dir(self, path: str) -> list[Any]: ...


@dataclass(frozen=True, order=True)
class Checkpoint:
    """One checkpoint file in a job's results."""

    epoch: int
    step: int
    path: str
    is_latest_link: bool = False

    @property
    def name(self) -> str:
        """The file name."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        """What a user reads in a picker."""
        if self.is_latest_link:
            return f"{self.name} (link to the latest)"
        return f"epoch {self.epoch}, step {self.step} ({self.name})"


def parse_checkpoint_name(name: str) -> tuple[int, int] | None:
    """(epoch, step) from ``model_epoch_004_step_00265.pth``; None for other names."""
    match = _CHECKPOINT.match(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def checkpoints_in(files: ListsFolders, folder: str) -> list[Checkpoint]:
    """Checkpoints in a folder, oldest first; the ``*_latest`` link last (not a checkpoint of its own)."""
    try:
        entries = files.list_dir(folder)
    except (OSError, HostError):  # a missing folder simply has no checkpoints
        return []
    found: list[Checkpoint] = []
    latest: list[Checkpoint] = []
    for entry in entries:
        name = getattr(entry, "name", str(entry))
        parsed = parse_checkpoint_name(name)
        if parsed is not None:
            found.append(Checkpoint(parsed[0], parsed[1], f"{folder}/{name}"))
        elif _LATEST.match(name):
            latest.append(Checkpoint(-1, -1, f"{folder}/{name}", is_latest_link=True))
    return sorted(found) + latest


def default_checkpoint(checkpoints: list[Checkpoint], allow_latest_link: bool = False) -> Checkpoint | None:
    """The highest epoch/step file; the ``*_latest`` link only when asked for."""
    exact = [c for c in checkpoints if not c.is_latest_link]
    if exact:
        return max(exact)
    if allow_latest_link:
        return next((c for c in checkpoints if c.is_latest_link), None)
    return None
