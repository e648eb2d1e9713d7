"""A private OpenSSH server on 127.0.0.1 for tests, with host and client keys made on the spot.

Import the fixtures into a conftest.py or test module::

    from tests.infra.sshd import ssh_host_config, ssh_server  # noqa: F401
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.core.hosts.known_hosts import accept_host_key
from app.core.hosts.settings import HostConfig

PROTECTED_KEY_PASSPHRASE = "correct horse battery staple"


@dataclass(frozen=True)
class SshServer:
    """A running private sshd and the keys to reach it."""

    host: str
    port: int
    user: str
    client_key: Path
    protected_client_key: Path
    stranger_key: Path
    host_key_type: str
    host_key_base64: str
    directory: Path
    pid: int

    @property
    def host_public_key(self) -> str:
        """The host key as ``type base64``."""
        return f"{self.host_key_type} {self.host_key_base64}"

    @property
    def known_hosts_line(self) -> str:
        """A known_hosts line that trusts this server's host key."""
        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        return f"{name} {self.host_public_key}"


def sshd_binary() -> str | None:
    """The absolute path of sshd (sshd refuses to start from a relative path), or ``None``."""
    for candidate in (shutil.which("sshd"), "/usr/sbin/sshd"):
        if candidate and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _keygen(path: Path, passphrase: str = "") -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", path.name, "-f", str(path)],
                   check=True, capture_output=True)


def _wait_for_banner(host: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection((host, port), timeout=1) as probe:
                if probe.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not answer on {host}:{port}: {log.read_text(errors='replace')}")


def start_sshd(directory: Path, host: str = "127.0.0.1", port: int | None = None) -> tuple[
        SshServer, subprocess.Popen[bytes]]:
    """Generate keys and a config in ``directory`` and start sshd in the foreground."""
    binary = sshd_binary()
    if binary is None or shutil.which("ssh-keygen") is None:
        raise FileNotFoundError("OpenSSH server (sshd) or ssh-keygen is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    host_key, client_key = directory / "ssh_host_ed25519_key", directory / "id_ed25519"
    protected_key, stranger_key = directory / "id_protected", directory / "id_stranger"
    _keygen(host_key)
    _keygen(client_key)
    _keygen(protected_key, PROTECTED_KEY_PASSPHRASE)
    _keygen(stranger_key)
    authorized = directory / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text()
                          + protected_key.with_suffix(".pub").read_text())
    config = directory / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", f"ListenAddress {host}", f"HostKey {host_key}", f"PidFile {directory / 'sshd.pid'}",
        f"AuthorizedKeysFile {authorized}", "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
        "Subsystem sftp internal-sftp", "LogLevel VERBOSE", "",
    ]))
    with contextlib.suppress(OSError):
        os.makedirs("/run/sshd", exist_ok=True)  # privilege separation folder sshd insists on
    log = directory / "sshd.log"
    subprocess.run([binary, "-t", "-f", str(config)], check=True, capture_output=True)
    process = subprocess.Popen([binary, "-D", "-f", str(config), "-E", str(log)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_banner(host, port, process, log)
    key_type, key_base64 = host_key.with_suffix(".pub").read_text().split()[:2]
    server = SshServer(host=host, port=port, user=getpass.getuser(), client_key=client_key,
                       protected_client_key=protected_key, stranger_key=stranger_key,
                       host_key_type=key_type, host_key_base64=key_base64, directory=directory,
                       pid=process.pid)
    return server, process


def stop_sshd(process: subprocess.Popen[bytes]) -> None:
    """Stop the sshd started by `start_sshd` (its connection children exit with it)."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A private sshd on 127.0.0.1 for the whole test run (skipped if OpenSSH is not installed)."""
    if sshd_binary() is None or shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH server (sshd) or ssh-keygen is not installed: SSH tests need openssh-server")
    server, process = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        stop_sshd(process)


@pytest.fixture
def ssh_host_config(ssh_server: SshServer, tmp_path: Path) -> HostConfig:
    """Settings for the private sshd as an SSH host, its host key already accepted by the app."""
    accept_host_key(ssh_server.host, ssh_server.port, ssh_server.host_key_type, ssh_server.host_key_base64)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return HostConfig(name="lab", kind="ssh", ssh_host=ssh_server.host, ssh_port=ssh_server.port,
                      ssh_user=ssh_server.user, key_file=str(ssh_server.client_key), workspace=str(workspace),
                      connect_timeout=5.0)
