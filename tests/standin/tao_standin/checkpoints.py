"""Checkpoints as Lightning names them, holding numpy arrays (an .npz archive under a .pth name)."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_KEY = "standin_format"


def checkpoint_name(epoch: int, step: int) -> str:
    """`model_epoch_003_step_00042.pth` (epoch 0-based, step = global step)."""
    return f"model_epoch_{epoch:03d}_step_{step:05d}.pth"


def save(path: Path, arrays: dict[str, np.ndarray], kind: str) -> None:
    """Write arrays to path atomically (readers never see half a file)."""
    buffer = io.BytesIO()
    payload: dict[str, Any] = {**arrays, FORMAT_KEY: np.array(kind)}
    np.savez(buffer, **payload)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, path)


def load(path: Path, kind: str) -> dict[str, np.ndarray]:
    """Read a checkpoint written by save() for the given network; clear errors otherwise."""
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    if path.suffix not in (".pth", ".tlt"):
        raise ValueError(f"checkpoint {path} must end in .pth or .tlt")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ValueError(f"{path} is not a checkpoint this trainer can read: {error}") from error
    if str(arrays.get(FORMAT_KEY, "")) != kind:
        raise ValueError(f"{path} is not a {kind} checkpoint")
    return arrays


def link_latest(directory: Path, latest_name: str, target: Path) -> None:
    """Point `<name>_latest.pth` at target with a relative symlink (Lightning's save_last='link')."""
    link = directory / latest_name
    temporary = directory / f".{latest_name}.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(os.path.relpath(target, directory), temporary)
    os.replace(temporary, link)


def find_latest(directory: Path) -> Path | None:
    """The first `*_latest.pth` in a train folder, for auto-resume."""
    for candidate in sorted(directory.glob("*_latest.pth")):
        if candidate.exists():
            return candidate
    return None


def epoch_from_name(path: Path) -> int | None:
    """The epoch number in a checkpoint file name, if there is one."""
    match = re.search(r"epoch_(\d+)", os.path.realpath(path))
    return int(match.group(1)) if match else None


class CheckpointKeeper:
    """Lightning's ModelCheckpoint as TAO configures it: periodic files plus `<name>_latest.pth`.

    The latest file is a link to the last periodic checkpoint, or a full checkpoint of its own while
    no periodic one exists yet (save_last='link').
    """

    def __init__(self, directory: Path, latest_name: str, kind: str) -> None:
        self.directory = directory
        self.latest_name = latest_name
        self.kind = kind
        self.last_saved: Path | None = None

    def resume_path(self, explicit: str | None) -> Path | None:
        """train.resume_training_checkpoint_path if set, else the `*_latest.pth` in the folder."""
        path = Path(explicit) if explicit else find_latest(self.directory)
        if path is not None:
            target = path.resolve()
            self.last_saved = None if target.name.endswith("_latest.pth") else target
        return path

    def save(self, arrays: dict[str, np.ndarray], epoch: int, step: int) -> Path:
        """Write `model_epoch_XXX_step_YYYYY.pth` and point the latest link at it."""
        path = self.directory / checkpoint_name(epoch, step)
        save(path, arrays, self.kind)
        self.last_saved = path
        link_latest(self.directory, self.latest_name, path)
        return path

    def end_of_epoch(self, arrays: dict[str, np.ndarray]) -> None:
        """Refresh the latest link (or file) after every epoch."""
        if self.last_saved is not None and self.last_saved.exists():
            link_latest(self.directory, self.latest_name, self.last_saved)
            return
        latest = self.directory / self.latest_name
        if latest.is_symlink():
            latest.unlink()
        save(latest, arrays, self.kind)
