"""`HostSession`: one interface to a host's Docker engine and files, local or over SSH."""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple

from app.core.hosts.errors import HostFileTooLarge
from app.core.hosts.settings import HostConfig
from app.core.telemetry.files import FileEntry

if TYPE_CHECKING:
    from docker import DockerClient

    from app.core.hosts.secrets import SecretStore
    from app.core.telemetry.files import ByteSource

HostPath = str | os.PathLike[str]
DEFAULT_MAX_READ = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileStat:
    """What a host knows about one path; ``mtime`` is seconds since the epoch."""

    size: int
    mtime: float
    is_dir: bool
    mode: int
    uid: int | None
    gid: int | None


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One entry of a folder listing, files and subfolders (symbolic links are followed)."""

    name: str
    size: int
    mtime: float
    is_dir: bool
    is_file: bool


class CommandResult(NamedTuple):
    """The outcome of a command run on a host; unpacks as ``(exit_code, stdout, stderr)``."""

    exit_code: int
    stdout: str
    stderr: str


class HostSession(ABC):
    """A live connection to one host: a Docker client plus file access and command execution.

    Paths are paths on that host (POSIX). Errors are `HostError` subclasses whose message names
    the host. Use as a context manager or call `close`.
    """

    def __init__(self, config: HostConfig) -> None:
        self.config = config
        self._docker: DockerClient | None = None
        self._docker_lock = threading.Lock()

    @property
    def name(self) -> str:
        """The host's name as the user configured it."""
        return self.config.name

    @property
    def docker(self) -> DockerClient:
        """The Docker client for this host, connected on first use (`DockerUnreachable` if it fails)."""
        with self._docker_lock:
            if self._docker is None:
                self._docker = self._connect_docker()
            return self._docker

    @abstractmethod
    def _connect_docker(self) -> DockerClient:
        """Create a Docker client and check that the engine answers."""

    @abstractmethod
    def stat(self, path: HostPath) -> FileStat | None:
        """Facts about a path (following links), or ``None`` if it does not exist."""

    def exists(self, path: HostPath) -> bool:
        """Whether a file or folder exists at ``path``."""
        return self.stat(path) is not None

    @abstractmethod
    def list_entries(self, path: HostPath) -> list[DirEntry]:
        """Files and subfolders of a folder, sorted by name; `HostPathNotFound` if it does not exist."""

    def list_dir(self, path: HostPath) -> list[FileEntry]:
        """The regular files directly inside a folder, sorted by name (the telemetry `ByteSource` call)."""
        return [FileEntry(entry.name, entry.size, entry.mtime) for entry in self.list_entries(path)
                if entry.is_file]

    @abstractmethod
    def read_range(self, path: HostPath, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset`` (fewer at the end of the file)."""

    def read_bytes(self, path: HostPath, max_size: int = DEFAULT_MAX_READ) -> bytes:
        """A whole file; `HostFileTooLarge` if it is bigger than ``max_size`` bytes."""
        info = self.stat(path)
        if info is not None and info.size > max_size:
            raise HostFileTooLarge(
                f"{os.fspath(path)} on host '{self.name}' is {info.size} bytes, more than the "
                f"{max_size} bytes allowed here",
                self.name,
            )
        data = self.read_range(path, 0, max_size + 1)
        if len(data) > max_size:
            raise HostFileTooLarge(f"{os.fspath(path)} on host '{self.name}' grew past {max_size} bytes",
                                   self.name)
        return data

    @abstractmethod
    def write_bytes(self, path: HostPath, data: bytes) -> None:
        """Replace a file's content atomically (a temporary file renamed over the target)."""

    @abstractmethod
    def make_dirs(self, path: HostPath) -> None:
        """Create a folder and any missing parents (no error if it exists)."""

    @abstractmethod
    def remove(self, path: HostPath, missing_ok: bool = False) -> None:
        """Delete a file or an empty folder."""

    @abstractmethod
    def rename(self, source: HostPath, target: HostPath) -> None:
        """Move ``source`` to ``target``, replacing a file already there."""

    @abstractmethod
    def run(self, argv: list[str], timeout: float | None = 60.0) -> CommandResult:
        """Run a program without a shell (arguments passed verbatim); exit 127 if it is not found."""

    @property
    @abstractmethod
    def home(self) -> str:
        """The home folder of the user on that host."""

    @abstractmethod
    def uid_gid(self) -> tuple[int, int]:
        """The numeric user and group id of the user on that host (what containers run as)."""

    def close(self) -> None:
        """Release the Docker client and the connection; the session cannot be used afterwards."""
        with self._docker_lock:
            if self._docker is not None:
                self._docker.close()
                self._docker = None

    def __enter__(self) -> HostSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def open_session(config: HostConfig, secrets: SecretStore | None = None) -> HostSession:
    """Connect to a host. SSH hosts are connected and their key verified before this returns."""
    if config.kind == "ssh":
        from app.core.hosts.ssh import SshHostSession

        return SshHostSession(config, secrets)
    from app.core.hosts.local import LocalHostSession

    return LocalHostSession(config)


if TYPE_CHECKING:

    def _is_a_byte_source(session: HostSession) -> ByteSource:
        """Checked by mypy only: a session serves the telemetry readers as it is."""
        return session
