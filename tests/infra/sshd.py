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
from typing import Any

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

    def accept_host_key(self) -> None:
        """Trust this server's host key in the app's known hosts, as a user accepting it would."""
        accept_host_key(self.host, self.port, self.host_key_type, self.host_key_base64)

    def host_config(self, workspace: str | Path, name: str = "lab", **settings: Any) -> HostConfig:
        """Settings for this server as an SSH host, logging in with the client key."""
        return HostConfig(name=name, kind="ssh", ssh_host=self.host, ssh_port=self.port, ssh_user=self.user,
                          key_file=str(self.client_key), workspace=str(workspace), **settings)


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


def start_sshd(directory: Path, host: str = "127.0.0.1", port: int | None = None,
               command_prefix: tuple[str, ...] = ()) -> tuple[SshServer, subprocess.Popen[bytes]]:
    """Generate keys and a config in ``directory`` and start sshd in the foreground.

    ``command_prefix`` runs sshd through another command (``ip netns exec <name>``).
    """
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
    process = subprocess.Popen([*command_prefix, binary, "-D", "-f", str(config), "-E", str(log)],
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
    ssh_server.accept_host_key()
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    return ssh_server.host_config(workspace, connect_timeout=5.0)


@dataclass(frozen=True)
class NamespaceHost:
    """An sshd inside its own network namespace, reached over a veth pair: a "remote" host whose
    network can be cut (packets silently dropped) and restored."""

    server: SshServer
    namespace: str

    def _firewall(self, action: str) -> None:
        subprocess.run(["ip", "netns", "exec", self.namespace, "iptables", action, "INPUT", "-j", "DROP"],
                       check=True, capture_output=True)

    def cut_off(self) -> None:
        """Drop every packet that reaches the host, as a dead link or a crashed machine would."""
        self._firewall("-I")

    def restore(self) -> None:
        """Undo `cut_off`."""
        self._firewall("-D")


def _free_subnet() -> int:
    """A third octet X such that 10.231.X.0/24 is not in use on this machine."""
    used = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    for offset in range(200):
        octet = 20 + (os.getpid() + offset) % 200
        if f"10.231.{octet}." not in used:
            return octet
    raise RuntimeError("no free 10.231.x.0/24 subnet")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def namespace_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NamespaceHost]:
    """An sshd on 10.231.x.2:22 in a private network namespace (skipped without root, ip, iptables)."""
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("iptables") is None:
        pytest.skip("a network-namespace host needs root, iproute2 and iptables")
    if sshd_binary() is None or shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH server (sshd) or ssh-keygen is not installed: SSH tests need openssh-server")
    octet = _free_subnet()
    namespace, outside, inside = f"taodesk-t{octet}", f"tdv{octet}a", f"tdv{octet}b"
    process: subprocess.Popen[bytes] | None = None
    try:
        _ip("netns", "add", namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", namespace)
        _ip("addr", "add", f"10.231.{octet}.1/24", "dev", outside)
        _ip("link", "set", outside, "up")
        _ip("netns", "exec", namespace, "ip", "addr", "add", f"10.231.{octet}.2/24", "dev", inside)
        _ip("netns", "exec", namespace, "ip", "link", "set", inside, "up")
        _ip("netns", "exec", namespace, "ip", "link", "set", "lo", "up")
        route = subprocess.run(["ip", "route", "get", f"10.231.{octet}.2"], capture_output=True,
                               text=True).stdout
        if f"dev {outside}" not in route:  # never let test traffic leave through another interface
            pytest.skip(f"the veth route to the namespace host is not in place: {route.strip()}")
        server, process = start_sshd(tmp_path_factory.mktemp("sshd-netns"), host=f"10.231.{octet}.2", port=22,
                                     command_prefix=("ip", "netns", "exec", namespace))
        yield NamespaceHost(server, namespace)
    except (subprocess.CalledProcessError, RuntimeError) as error:
        detail = error.stderr if isinstance(error, subprocess.CalledProcessError) else error
        pytest.skip(f"could not set up a network-namespace host: {detail!r}")
    finally:
        if process is not None:
            stop_sshd(process)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
