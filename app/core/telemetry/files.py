"""The small file-access interface the telemetry readers need, and its local implementation.

A `ByteSource` is all a reader asks of a host: list a folder and read a byte range. The same
readers therefore follow files on the local disk (`LocalFiles`) and on an SSH host (an SFTP
implementation in `app.core.hosts` satisfies the same Protocol). Readers remember how far they
have read, so each poll asks only for the new bytes.
"""

from __future__ import annotations

import os
from typing import NamedTuple, Protocol, runtime_checkable


class FileEntry(NamedTuple):
    """A regular file in a listed folder: its name (no folder part), size in bytes and mtime (s)."""

    name: str
    size: int
    mtime: float


@runtime_checkable
class ByteSource(Protocol):
    """Read-only access to files on some machine; paths are that machine's paths, as strings.

    Contract:
    - `list_dir(path)` returns the regular files directly inside `path` (no subfolders, any order).
      It raises `FileNotFoundError` when the folder does not exist, and `OSError` for other failures.
    - `read_range(path, offset, size)` returns up to `size` bytes starting at `offset`; it returns
      fewer bytes only at the end of the file (and `b""` at or past the end). It raises `OSError`
      (including `FileNotFoundError`) when the file cannot be read.
    """

    def list_dir(self, path: str) -> list[FileEntry]:
        """The regular files directly inside `path`."""
        ...

    def read_range(self, path: str, offset: int, size: int) -> bytes:
        """Up to `size` bytes of `path` from byte `offset`."""
        ...


class LocalFiles:
    """`ByteSource` over the local file system."""

    def list_dir(self, path: str) -> list[FileEntry]:
        """The regular files directly inside `path` (symlinks to files included)."""
        entries: list[FileEntry] = []
        with os.scandir(path) as scan:
            for entry in scan:
                try:
                    if not entry.is_file():
                        continue
                    stat = entry.stat()
                except OSError:
                    continue  # removed between listing and stat
                entries.append(FileEntry(entry.name, stat.st_size, stat.st_mtime))
        return entries

    def read_range(self, path: str, offset: int, size: int) -> bytes:
        """Up to `size` bytes of `path` from byte `offset`."""
        if size <= 0:
            return b""
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read(size)


def join_path(folder: str, name: str) -> str:
    """Join a folder and a file name with '/', which both POSIX and SFTP paths accept."""
    if not folder:
        return name
    return folder.rstrip("/\\") + "/" + name
