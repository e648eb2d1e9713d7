"""Reading data where it lives, through a `HostSession`: small ranges, bounded whole reads, permissions.

Nothing here copies a large file whole unless asked to with a size limit; `ReadAheadStream` lets a
parser consume a large remote file while the next chunks are still on their way (SFTP reads are
pipelined by the session; this overlaps them with the parsing).
"""

from __future__ import annotations

import queue
import stat as stat_flags
import threading
from typing import Any

from app.core.datasets.npy_header import FIRST_READ_BYTES, NpyHeader, header_length, parse_npy_header
from app.core.hosts.session import FileStat, HostSession

STREAM_CHUNK_BYTES = 8 * 1024 * 1024
STREAM_AHEAD_CHUNKS = 3


def read_npy_header(session: HostSession, path: str) -> NpyHeader:
    """The header of a ``.npy`` file on the host, from its first bytes (`NpyHeaderError` if unreadable)."""
    head = session.read_range(path, 0, FIRST_READ_BYTES)
    _, total = header_length(head[:12])
    if total > len(head):
        head = session.read_range(path, 0, total)
    return parse_npy_header(head)


def access_allowed(info: FileStat, uid: int, gid: int, *, write: bool = False, search: bool = False) -> bool:
    """Whether a process running as ``uid:gid`` (no supplementary groups) may read it (or write/search).

    That is how the job's container runs: as the host user's UID:GID. Root may do anything.
    """
    if uid == 0:
        return True
    mode = info.mode
    if info.uid == uid:
        bits = (stat_flags.S_IRUSR, stat_flags.S_IWUSR, stat_flags.S_IXUSR)
    elif info.gid == gid:
        bits = (stat_flags.S_IRGRP, stat_flags.S_IWGRP, stat_flags.S_IXGRP)
    else:
        bits = (stat_flags.S_IROTH, stat_flags.S_IWOTH, stat_flags.S_IXOTH)
    wanted = [bits[1] if write else bits[0]]
    if search:
        wanted.append(bits[2])
    return all(mode & bit for bit in wanted)


class ReadAheadStream:
    """A sequential binary stream over a host file, fetched in chunks by a background thread.

    Offers ``read`` and ``readline`` (what an unpickler needs). At most ``size`` bytes are read.
    Errors of the background reads are raised by the next ``read``. Call `close` when done.
    """

    def __init__(self, session: HostSession, path: str, size: int, chunk_bytes: int = STREAM_CHUNK_BYTES,
                 ahead: int = STREAM_AHEAD_CHUNKS) -> None:
        self.name = path
        self._session = session
        self._size = size
        self._chunk = chunk_bytes
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._buffer = b""
        self._position = 0
        self._ended = False
        self._thread = threading.Thread(target=self._fetch, name=f"read {path}", daemon=True)
        self._thread.start()

    def _fetch(self) -> None:
        offset = 0
        try:
            while offset < self._size and not self._stop.is_set():
                data = self._session.read_range(self.name, offset, min(self._chunk, self._size - offset))
                if not data:
                    break
                offset += len(data)
                self._put(data)
        except BaseException as error:  # handed to the reading thread, which raises it
            self._put(error)
            return
        self._put(b"")

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _fill(self, wanted: int) -> None:
        parts = [self._buffer[self._position :]]
        have = len(parts[0])
        while have < wanted and not self._ended:
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                self._ended = True
                break
            parts.append(item)
            have += len(item)
        self._buffer = b"".join(parts)
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when negative)."""
        wanted = self._size if size is None or size < 0 else size
        if len(self._buffer) - self._position < wanted:
            self._fill(wanted)
        end = self._position + wanted
        data = self._buffer[self._position : end]
        self._position = min(end, len(self._buffer))
        return data

    def readline(self, size: int = -1) -> bytes:
        """Bytes up to and including the next newline."""
        while True:
            found = self._buffer.find(b"\n", self._position)
            if found >= 0 or self._ended:
                end = found + 1 if found >= 0 else len(self._buffer)
                if size is not None and size >= 0:
                    end = min(end, self._position + size)
                line = self._buffer[self._position : end]
                self._position = end
                return line
            self._fill(len(self._buffer) - self._position + self._chunk)

    def close(self) -> None:
        """Stop the background reads."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=5)

    def __enter__(self) -> ReadAheadStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
