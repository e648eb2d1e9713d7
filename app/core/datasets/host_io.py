"""Reading data where it lives, through a `HostSession`: file headers from small ranges, and permissions."""

from __future__ import annotations

import stat as stat_flags

from app.core.datasets.npy_header import FIRST_READ_BYTES, NpyHeader, header_length, parse_npy_header
from app.core.hosts.session import FileStat, HostSession


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
