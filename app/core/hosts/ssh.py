"""`SshHostSession`: a remote host's Docker engine and files over one verified SSH connection."""

from __future__ import annotations

import contextlib
import getpass
import os
import posixpath
import shlex
import socket
import stat as stat_flags
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from app.core.hosts.errors import (
    HostAuthFailed,
    HostCommandTimeout,
    HostError,
    HostFileError,
    HostPathNotFound,
    HostUnreachable,
    UnknownHostKey,
)
from app.core.hosts.known_hosts import mismatch_from_paramiko, prepare_client_host_keys
from app.core.hosts.secrets import SecretStore, ssh_passphrase_name
from app.core.hosts.session import CommandResult, DirEntry, FileStat, HostPath, HostSession
from app.core.hosts.settings import HostConfig
from app.core.hosts.ssh_errors import connect_error

if TYPE_CHECKING:
    import paramiko
    from docker import DockerClient

Result = TypeVar("Result")
_READ_CHUNK = 65536
_PREFETCH_ABOVE = 256 * 1024
_READ_SLICE = 1024 * 1024


class SshHostSession(HostSession):
    """A host reached over SSH: Docker through ``docker system dial-stdio``, files through SFTP.

    One verified connection carries SFTP and commands, a second one Docker; if one drops, the next
    call reconnects, and read-only file calls are retried once. A file call that gets no answer
    for ``operation_timeout`` seconds closes the connection and raises `HostUnreachable`.
    """

    operation_timeout: float = 60.0

    def __init__(self, config: HostConfig, secrets: SecretStore | None = None) -> None:
        super().__init__(config)
        self._secrets = secrets or SecretStore()
        self._lock = threading.RLock()
        self._client: paramiko.SSHClient | None = None
        self._docker_ssh: paramiko.SSHClient | None = None
        self._docker_ssh_lock = threading.Lock()
        self._sftp: paramiko.SFTPClient | None = None
        self._home: str | None = None
        self._ids: tuple[int, int] | None = None
        self._client = self._connect()

    @property
    def user(self) -> str:
        """The login name on the host."""
        return self.config.ssh_user or getpass.getuser()

    @property
    def address(self) -> str:
        """``user@host:port`` (IPv6 addresses in brackets)."""
        host = self.config.ssh_host
        if ":" in host:
            host = f"[{host}]"
        return f"{self.user}@{host}:{self.config.ssh_port}"

    def _connect(self) -> paramiko.SSHClient:
        import paramiko

        config = self.config
        key_file = os.path.expanduser(config.key_file) if config.key_file else None
        if key_file and not os.path.isfile(key_file):
            raise HostAuthFailed(f"The SSH key file {key_file} for host '{self.name}' does not exist",
                                 self.name)
        passphrase = self._secrets.get(ssh_passphrase_name(self.name)) if key_file else None
        client = paramiko.SSHClient()
        prepare_client_host_keys(client, config.ssh_host, config.ssh_port, self.name)
        try:
            client.connect(
                config.ssh_host, port=config.ssh_port, username=self.user, key_filename=key_file,
                passphrase=passphrase, allow_agent=config.use_agent or key_file is None,
                look_for_keys=key_file is None, timeout=config.connect_timeout,
                banner_timeout=config.connect_timeout, auth_timeout=config.connect_timeout,
            )
        except UnknownHostKey:
            client.close()
            raise
        except paramiko.BadHostKeyException as error:
            client.close()
            raise mismatch_from_paramiko(error, config.ssh_host, config.ssh_port, self.name) from error
        except (paramiko.SSHException, OSError, EOFError) as error:
            client.close()
            raise connect_error(error, config, self.user, key_file) from error
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(30)
            if isinstance(transport.sock, socket.socket):
                # Small request/response packets: without this, delayed ACKs add ~40 ms per channel.
                with contextlib.suppress(OSError):
                    transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return client

    def ssh_client(self) -> paramiko.SSHClient:
        """The connected paramiko client, reconnected first if the connection dropped."""
        with self._lock:
            transport = self._client.get_transport() if self._client else None
            if self._client is None or transport is None or not transport.is_active():
                self._drop_connection()
                self._client = self._connect()
            return self._client

    def docker_ssh_client(self) -> paramiko.SSHClient:
        """A second verified connection that carries only Docker traffic, (re)opened on demand.

        Docker's client keeps up to a handful of channels open; giving it its own connection keeps
        files and commands clear of the server's per-connection session limit (MaxSessions).
        """
        with self._docker_ssh_lock:
            client = self._docker_ssh
            transport = client.get_transport() if client else None
            if client is None or transport is None or not transport.is_active():
                if client is not None:
                    client.close()
                self._docker_ssh = None
                client = self._docker_ssh = self._connect()
            return client

    def _drop_connection(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _sftp_client(self) -> paramiko.SFTPClient:
        client = self.ssh_client()
        channel = self._sftp.get_channel() if self._sftp is not None else None
        if self._sftp is None or channel is None or channel.closed:
            self._sftp = client.open_sftp()
            sftp_channel = self._sftp.get_channel()
            if sftp_channel is not None:
                sftp_channel.settimeout(self.operation_timeout)
        return self._sftp

    def _connection_alive(self) -> bool:
        transport = self._client.get_transport() if self._client else None
        return transport is not None and transport.is_active()

    def _sftp_call(self, path: HostPath, action: Callable[[paramiko.SFTPClient], Result],
                   retry: bool = True) -> Result:
        """Run an SFTP action; map errors to host errors; retry once on a dropped connection."""
        import paramiko

        for attempt in (1, 2):
            with self._lock:
                try:
                    return action(self._sftp_client())
                except HostError:
                    raise
                except FileNotFoundError as error:
                    raise HostPathNotFound(f"{os.fspath(path)} does not exist on host '{self.name}'",
                                           self.name) from error
                except TimeoutError as error:
                    self._drop_connection()
                    raise HostUnreachable(
                        f"Host '{self.name}' ({self.address}) did not answer within "
                        f"{self.operation_timeout:g} s; the connection was closed",
                        self.name,
                    ) from error
                except (OSError, EOFError, paramiko.SSHException) as error:
                    if self._connection_alive():
                        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
                        raise HostFileError(f"{os.fspath(path)} on host '{self.name}': {reason}",
                                            self.name) from error
                    self._drop_connection()
                    if not retry or attempt == 2:
                        raise HostUnreachable(
                            f"The connection to host '{self.name}' ({self.address}) dropped: {error}",
                            self.name,
                        ) from error
        raise AssertionError("unreachable")

    def _connect_docker(self) -> DockerClient:
        from app.core.hosts.ssh_docker import connect_docker_over_ssh

        return connect_docker_over_ssh(
            self, self.address, lambda: self.run(["docker", "version", "--format", "{{.Server.Version}}"])
        )

    def stat(self, path: HostPath) -> FileStat | None:
        """Facts about a path (following links), or ``None`` if it does not exist."""
        try:
            info = self._sftp_call(path, lambda sftp: sftp.stat(os.fspath(path)))
        except HostPathNotFound:
            return None
        mode = info.st_mode or 0
        return FileStat(info.st_size or 0, float(info.st_mtime or 0), stat_flags.S_ISDIR(mode), mode,
                        info.st_uid, info.st_gid)

    def list_entries(self, path: HostPath) -> list[DirEntry]:
        """Files and subfolders of a folder, sorted by name; `HostPathNotFound` if it does not exist."""
        folder = os.fspath(path)

        def listing(sftp: paramiko.SFTPClient) -> list[DirEntry]:
            entries = []
            for item in sftp.listdir_attr(folder):
                info = item
                if stat_flags.S_ISLNK(item.st_mode or 0):
                    try:
                        info = sftp.stat(posixpath.join(folder, item.filename))
                    except FileNotFoundError:
                        continue  # a dangling link
                mode = info.st_mode or 0
                entries.append(DirEntry(item.filename, info.st_size or 0, float(info.st_mtime or 0),
                                        stat_flags.S_ISDIR(mode), stat_flags.S_ISREG(mode)))
            return sorted(entries, key=lambda entry: entry.name)

        return self._sftp_call(path, listing)

    def read_range(self, path: HostPath, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset`` (fewer at the end of the file)."""
        if size <= 0:
            return b""

        def read(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(os.fspath(path), "rb") as stream:
                stream.seek(offset)
                if size > _PREFETCH_ABOVE:
                    end = min(offset + size, stream.stat().st_size or 0)
                    if end > offset:
                        stream.prefetch(end)
                # paramiko's read() grows one bytes object per packet (quadratic); read in slices.
                parts, remaining = [], size
                while remaining > 0:
                    part = stream.read(min(remaining, _READ_SLICE))
                    if not part:
                        break
                    parts.append(part)
                    remaining -= len(part)
                return b"".join(parts)

        return self._sftp_call(path, read)

    def write_bytes(self, path: HostPath, data: bytes) -> None:
        """Replace a file's content atomically (a temporary file renamed over the target)."""
        target = os.fspath(path)
        folder, name = posixpath.split(target)
        temporary = posixpath.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")

        def write(sftp: paramiko.SFTPClient) -> None:
            try:
                with sftp.open(temporary, "wb") as stream:
                    stream.set_pipelined(True)
                    stream.write(data)
                _replace(sftp, temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    sftp.remove(temporary)
                raise

        self._sftp_call(path, write)

    def make_dirs(self, path: HostPath) -> None:
        """Create a folder and any missing parents (no error if it exists)."""
        target = os.fspath(path)

        def make(sftp: paramiko.SFTPClient) -> None:
            prefix = "/" if target.startswith("/") else ""
            for part in [p for p in target.split("/") if p]:
                prefix = posixpath.join(prefix, part)
                try:
                    if not stat_flags.S_ISDIR(sftp.stat(prefix).st_mode or 0):
                        raise HostFileError(f"{prefix} on host '{self.name}' is not a folder", self.name)
                except FileNotFoundError:
                    try:
                        sftp.mkdir(prefix)
                    except OSError:
                        if not stat_flags.S_ISDIR(sftp.stat(prefix).st_mode or 0):
                            raise

        self._sftp_call(path, make)

    def remove(self, path: HostPath, missing_ok: bool = False) -> None:
        """Delete a file or an empty folder."""
        target = os.fspath(path)

        def delete(sftp: paramiko.SFTPClient) -> None:
            if stat_flags.S_ISDIR(sftp.lstat(target).st_mode or 0):
                sftp.rmdir(target)
            else:
                sftp.remove(target)

        try:
            self._sftp_call(path, delete, retry=False)
        except HostPathNotFound:
            if not missing_ok:
                raise

    def rename(self, source: HostPath, target: HostPath) -> None:
        """Move ``source`` to ``target``, replacing a file already there."""
        self._sftp_call(source, lambda sftp: _replace(sftp, os.fspath(source), os.fspath(target)),
                        retry=False)

    def run(self, argv: list[str], timeout: float | None = 60.0) -> CommandResult:
        """Run a program on the host; every argument is shell-quoted, so none is interpreted."""
        import paramiko

        if not argv:
            raise HostError("no command given to run", self.name)
        command = " ".join(shlex.quote(argument) for argument in argv)
        try:
            transport = self.ssh_client().get_transport()
            if transport is None:
                raise EOFError("no SSH transport")
            channel = transport.open_session(timeout=self.config.connect_timeout)
            channel.exec_command(command)
        except HostError:
            raise
        except (paramiko.SSHException, OSError, EOFError) as error:
            raise HostUnreachable(f"Cannot run '{argv[0]}' on host '{self.name}': {error}",
                                  self.name) from error
        try:
            channel.shutdown_write()
            stdout, stderr = _collect_output(channel, timeout)
            if stdout is None:
                raise HostCommandTimeout(
                    f"'{argv[0]}' did not finish within {timeout} s on host '{self.name}'", self.name
                )
            exit_code = channel.recv_exit_status()
        finally:
            channel.close()
        return CommandResult(exit_code, stdout.decode("utf-8", "replace"),
                             (stderr or b"").decode("utf-8", "replace"))

    @property
    def home(self) -> str:
        """The login user's home folder on the host (where SFTP starts)."""
        if self._home is None:
            self._home = self._sftp_call(".", lambda sftp: sftp.normalize("."))
        return self._home

    def uid_gid(self) -> tuple[int, int]:
        """The login user's numeric user and group id on the host (``id -u`` / ``id -g``)."""
        if self._ids is None:
            ids = []
            for flag in ("-u", "-g"):
                exit_code, stdout, stderr = self.run(["id", flag], timeout=self.config.connect_timeout)
                if exit_code != 0 or not stdout.strip().isdigit():
                    raise HostError(f"'id {flag}' failed on host '{self.name}': {stderr.strip()}", self.name)
                ids.append(int(stdout.strip()))
            self._ids = (ids[0], ids[1])
        return self._ids

    def close(self) -> None:
        """Release the Docker client, SFTP and the SSH connection."""
        super().close()
        with self._lock:
            self._drop_connection()
        with self._docker_ssh_lock:
            if self._docker_ssh is not None:
                self._docker_ssh.close()
                self._docker_ssh = None


def _replace(sftp: paramiko.SFTPClient, source: str, target: str) -> None:
    """Rename over an existing target: OpenSSH's posix-rename, else remove then rename."""
    try:
        sftp.posix_rename(source, target)
    except OSError as error:
        if "unsupported" not in str(error).lower():
            raise
        with contextlib.suppress(FileNotFoundError):
            sftp.remove(target)
        sftp.rename(source, target)


def _collect_output(channel: paramiko.Channel, timeout: float | None) -> tuple[bytes | None, bytes | None]:
    """Read stdout and stderr together until the command ends; ``(None, None)`` on timeout."""
    import select

    stdout, stderr = bytearray(), bytearray()
    deadline = None if timeout is None else time.monotonic() + timeout

    def remaining() -> float:
        return 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))

    while True:
        if channel.recv_ready():
            stdout += channel.recv(_READ_CHUNK)
        elif channel.recv_stderr_ready():
            stderr += channel.recv_stderr(_READ_CHUNK)
        elif channel.eof_received or channel.closed:
            break
        elif deadline is not None and time.monotonic() > deadline:
            return None, None
        else:
            select.select([channel], [], [], remaining())
    while not channel.status_event.wait(remaining()):
        if deadline is not None and time.monotonic() > deadline:
            return None, None
    return bytes(stdout), bytes(stderr)

