"""`LocalHostSession`: the local Docker engine and local files."""

from __future__ import annotations

import os
import stat as stat_flags
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.hosts.docker_errors import docker_connect_error
from app.core.hosts.errors import HostCommandTimeout, HostError, HostFileError, HostPathNotFound
from app.core.hosts.session import CommandResult, DirEntry, FileStat, HostPath, HostSession

if TYPE_CHECKING:
    from docker import DockerClient


class LocalHostSession(HostSession):
    """This machine: Docker through its unix socket, files through the operating system."""

    @property
    def docker_url(self) -> str:
        """The engine's address as docker-py takes it."""
        socket_path = self.config.socket_path
        return socket_path if "://" in socket_path else f"unix://{socket_path}"

    def _connect_docker(self) -> DockerClient:
        import docker
        import requests

        try:
            client = docker.DockerClient(base_url=self.docker_url, timeout=60)
            client.ping()
        except (docker.errors.DockerException, requests.RequestException, OSError) as error:
            raise docker_connect_error(error, self.name, self.config.socket_path) from error
        return client

    @contextmanager
    def _file_errors(self, path: HostPath) -> Iterator[None]:
        """Turn ``OSError`` into host errors that name the path and the host."""
        try:
            yield
        except FileNotFoundError as error:
            raise HostPathNotFound(f"{os.fspath(path)} does not exist on host '{self.name}'",
                                   self.name) from error
        except OSError as error:
            reason = error.strerror or str(error)
            raise HostFileError(f"{os.fspath(path)} on host '{self.name}': {reason}", self.name) from error

    def stat(self, path: HostPath) -> FileStat | None:
        """Facts about a path (following links), or ``None`` if it does not exist."""
        try:
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise HostFileError(f"{os.fspath(path)} on host '{self.name}': {error.strerror}",
                                self.name) from error
        return FileStat(info.st_size, info.st_mtime, stat_flags.S_ISDIR(info.st_mode), info.st_mode,
                        info.st_uid, info.st_gid)

    def list_entries(self, path: HostPath) -> list[DirEntry]:
        """Files and subfolders of a folder, sorted by name; `HostPathNotFound` if it does not exist."""
        entries: list[DirEntry] = []
        with self._file_errors(path), os.scandir(path) as scan:
            for item in scan:
                try:
                    info = item.stat()
                except FileNotFoundError:
                    continue  # removed while listing, or a dangling link
                entries.append(DirEntry(item.name, info.st_size, info.st_mtime,
                                        stat_flags.S_ISDIR(info.st_mode), stat_flags.S_ISREG(info.st_mode)))
        return sorted(entries, key=lambda entry: entry.name)

    def read_range(self, path: HostPath, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset`` (fewer at the end of the file)."""
        if size <= 0:
            return b""
        with self._file_errors(path), open(path, "rb") as stream:
            stream.seek(offset)
            return stream.read(size)

    def write_bytes(self, path: HostPath, data: bytes) -> None:
        """Replace a file's content atomically (a temporary file renamed over the target)."""
        target = Path(path)
        with self._file_errors(path):
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

    def make_dirs(self, path: HostPath) -> None:
        """Create a folder and any missing parents (no error if it exists)."""
        with self._file_errors(path):
            os.makedirs(path, exist_ok=True)

    def remove(self, path: HostPath, missing_ok: bool = False) -> None:
        """Delete a file or an empty folder."""
        info = self.stat(path)
        if info is None and not os.path.islink(path):
            if missing_ok:
                return
            raise HostPathNotFound(f"{os.fspath(path)} does not exist on host '{self.name}'", self.name)
        with self._file_errors(path):
            if info is not None and info.is_dir and not os.path.islink(path):
                os.rmdir(path)
            else:
                os.unlink(path)

    def rename(self, source: HostPath, target: HostPath) -> None:
        """Move ``source`` to ``target``, replacing a file already there."""
        with self._file_errors(source):
            os.replace(source, target)

    def run(self, argv: list[str], timeout: float | None = 60.0) -> CommandResult:
        """Run a program without a shell (arguments passed verbatim); exit 127 if it is not found."""
        if not argv:
            raise HostError("no command given to run", self.name)
        try:
            done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False,
                                  stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            return CommandResult(127, "", f"{argv[0]}: command not found")
        except subprocess.TimeoutExpired as error:
            raise HostCommandTimeout(
                f"'{argv[0]}' did not finish within {timeout} s on host '{self.name}'", self.name
            ) from error
        return CommandResult(done.returncode, done.stdout.decode("utf-8", "replace"),
                             done.stderr.decode("utf-8", "replace"))

    @property
    def home(self) -> str:
        """The home folder of the current user."""
        return str(Path.home())

    def uid_gid(self) -> tuple[int, int]:
        """The current user's numeric user and group id."""
        return os.getuid(), os.getgid()
