"""Plain-language messages for failed SSH connections (network, server, login)."""

from __future__ import annotations

import errno
import socket

from app.core.hosts.errors import HostAuthFailed, HostError, HostUnreachable
from app.core.hosts.secrets import ssh_passphrase_name
from app.core.hosts.settings import HostConfig

_NETWORK_REASONS = {
    errno.ECONNREFUSED: "connection refused (is an SSH server running on that port?)",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "the network is unreachable",
    errno.ETIMEDOUT: "timed out",
    errno.ECONNRESET: "the connection was reset",
}


def _network_reason(error: BaseException, timeout: float) -> str | None:
    """Why the TCP connection failed, or ``None`` if ``error`` is not a network failure."""
    import paramiko

    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        inner = list(error.errors.values())
        return _network_reason(inner[0], timeout) if inner else "no address could be reached"
    if isinstance(error, TimeoutError | socket.timeout):
        return f"timed out after {timeout:g} s"
    if isinstance(error, socket.gaierror):
        return "the host name could not be resolved"
    if isinstance(error, OSError) and error.errno in _NETWORK_REASONS:
        return _NETWORK_REASONS[error.errno]
    if isinstance(error, ConnectionRefusedError):
        return _NETWORK_REASONS[errno.ECONNREFUSED]
    return None


def connect_error(error: BaseException, config: HostConfig, user: str, key_file: str | None) -> HostError:
    """The `HostError` to show for an exception raised while connecting and logging in."""
    import paramiko

    where = f"{config.ssh_host}:{config.ssh_port}"
    reason = _network_reason(error, config.connect_timeout)
    if reason is not None:
        return HostUnreachable(f"Cannot reach host '{config.name}' at {where}: {reason}", config.name)
    if isinstance(error, paramiko.PasswordRequiredException):
        return HostAuthFailed(
            f"The SSH key {key_file} for host '{config.name}' is protected by a passphrase. Store the "
            f"passphrase in the keyring (entry '{ssh_passphrase_name(config.name)}') or load the key "
            "into an SSH agent and enable 'use agent'.",
            config.name,
        )
    if isinstance(error, paramiko.AuthenticationException):
        used = f"the key {key_file}" if key_file else "the SSH agent and the keys in ~/.ssh"
        return HostAuthFailed(
            f"SSH login to host '{config.name}' as '{user}' at {where} failed with {used}: {error}",
            config.name,
        )
    if isinstance(error, paramiko.SSHException) and "banner" in str(error).lower():
        return HostUnreachable(
            f"Cannot reach host '{config.name}' at {where}: something answered on that port, but it "
            "is not an SSH server (or it did not answer in time)",
            config.name,
        )
    if isinstance(error, EOFError):
        return HostUnreachable(f"Cannot reach host '{config.name}' at {where}: the server closed the "
                               "connection", config.name)
    return HostError(f"SSH connection to host '{config.name}' at {where} failed: {error}", config.name)
