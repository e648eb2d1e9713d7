"""Reading result files from this computer or from a job's host (SFTP), behind one small interface.

Qt-free. Remote pose arrays are not downloaded whole: :class:`RemoteSequences` reads one sequence
at a time with ranged reads, using the ``.npy`` header for the layout.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.core.datasets.npy_header import FIRST_READ_BYTES, NpyHeaderError, header_length, parse_npy_header
from app.core.hosts.errors import HostError
from app.core.hosts.session import HostSession

MAX_RESULTS_BYTES = 2 * 1024**3
MAX_SMALL_FILE_BYTES = 256 * 1024**2


class ResultFileError(ValueError):
    """A result file cannot be read; the message names the file and where it was looked for."""


class FileAccess(Protocol):
    """Where result files are read from."""

    where: str

    def read_bytes(self, path: str, max_size: int = MAX_SMALL_FILE_BYTES) -> bytes:
        """The whole file (ResultFileError if missing, unreadable or too large)."""

    def read_range(self, path: str, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset``."""

    def is_file(self, path: str) -> bool:
        """True for an existing regular file."""

    def is_dir(self, path: str) -> bool:
        """True for an existing folder."""

    def list_names(self, folder: str) -> list[str]:
        """File names directly inside ``folder`` (sorted)."""

    def join(self, *parts: str) -> str:
        """Join path parts the way this side's paths are written."""


class LocalFiles:
    """Files on this computer."""

    where = "this computer"

    def read_bytes(self, path: str, max_size: int = MAX_SMALL_FILE_BYTES) -> bytes:
        """The whole file (ResultFileError if missing, unreadable or too large)."""
        try:
            size = Path(path).stat().st_size
            if size > max_size:
                raise ResultFileError(f"{path}: {size:,} bytes, more than the {max_size:,} allowed here")
            return Path(path).read_bytes()
        except OSError as exc:
            raise ResultFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc

    def read_range(self, path: str, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset``."""
        try:
            with open(path, "rb") as stream:
                stream.seek(offset)
                return stream.read(size)
        except OSError as exc:
            raise ResultFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc

    def is_file(self, path: str) -> bool:
        """True for an existing regular file."""
        return Path(path).is_file()

    def is_dir(self, path: str) -> bool:
        """True for an existing folder."""
        return Path(path).is_dir()

    def list_names(self, folder: str) -> list[str]:
        """File names directly inside ``folder`` (sorted)."""
        try:
            return sorted(entry.name for entry in Path(folder).iterdir() if entry.is_file())
        except OSError:
            return []

    def join(self, *parts: str) -> str:
        """Join path parts (local separators)."""
        return os.path.join(*parts)


class HostFiles:
    """Files on a job's host, through its session (local I/O or SFTP)."""

    def __init__(self, session: HostSession) -> None:
        self.session = session
        self.where = f"host '{session.name}'"

    def read_bytes(self, path: str, max_size: int = MAX_SMALL_FILE_BYTES) -> bytes:
        """The whole file (ResultFileError if missing, unreadable or too large)."""
        try:
            return self.session.read_bytes(path, max_size)
        except HostError as exc:
            raise ResultFileError(str(exc)) from exc

    def read_range(self, path: str, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset``."""
        try:
            return self.session.read_range(path, offset, size)
        except HostError as exc:
            raise ResultFileError(str(exc)) from exc

    def is_file(self, path: str) -> bool:
        """True for an existing regular file."""
        try:
            info = self.session.stat(path)
        except HostError:
            return False
        return info is not None and not info.is_dir

    def is_dir(self, path: str) -> bool:
        """True for an existing folder."""
        try:
            info = self.session.stat(path)
        except HostError:
            return False
        return info is not None and info.is_dir

    def list_names(self, folder: str) -> list[str]:
        """File names directly inside ``folder`` (sorted)."""
        try:
            return [entry.name for entry in self.session.list_entries(folder) if entry.is_file]
        except HostError:
            return []

    def join(self, *parts: str) -> str:
        """Join path parts (POSIX: hosts are Linux machines)."""
        return posixpath.join(*parts)


class RemoteSequences:
    """A pose ``.npy`` (N, C, T, V, M) on a host, read one sequence at a time.

    It offers what the pose results use of an array: ``shape``, ``ndim``, ``dtype``, ``len`` and
    ``[index]`` for one sequence.
    """

    def __init__(self, files: FileAccess, path: str) -> None:
        self.files = files
        self.path = path
        first = files.read_range(path, 0, FIRST_READ_BYTES)
        try:
            _, total = header_length(first[:12])
            header = parse_npy_header(first if len(first) >= total else files.read_range(path, 0, total))
        except NpyHeaderError as exc:
            raise ResultFileError(f"{path} on {files.where}: {exc}") from exc
        if header.fortran_order:
            raise ResultFileError(f"{path}: Fortran-ordered arrays are not supported; save it with C order")
        if len(header.shape) != 5:
            raise ResultFileError(f"{path}: expected 5 dimensions (N, C, T, V, M), got shape {header.shape}")
        if not np.issubdtype(header.dtype, np.floating):
            raise ResultFileError(f"{path}: expected float32 skeleton coordinates, got dtype {header.dtype}")
        self.shape: tuple[int, ...] = header.shape
        self.dtype = header.dtype
        self.ndim = 5
        self._offset = header.data_offset
        self._sequence_bytes = int(np.prod(header.shape[1:])) * header.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> np.ndarray:
        if not isinstance(index, int | np.integer):
            raise TypeError("remote pose data is read one sequence at a time (an integer index)")
        position = int(index) + (self.shape[0] if int(index) < 0 else 0)
        if not 0 <= position < self.shape[0]:
            raise IndexError(f"sequence {index} is outside 0..{self.shape[0] - 1}")
        data = self.files.read_range(
            self.path, self._offset + position * self._sequence_bytes, self._sequence_bytes
        )
        if len(data) != self._sequence_bytes:
            raise ResultFileError(
                f"{self.path} on {self.files.where}: the file ends inside sequence {position}"
            )
        return np.frombuffer(data, dtype=self.dtype).reshape(self.shape[1:])
