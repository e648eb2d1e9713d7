"""Errors raised by host sessions, each with a plain-language message that names the host.

Network and file errors are also `OSError` subclasses (`ConnectionError`, `TimeoutError`,
`FileNotFoundError`), so code written against plain file access (the telemetry readers'
`ByteSource`) handles them without knowing about hosts.
"""

from __future__ import annotations


class HostError(Exception):
    """Something went wrong talking to a host; ``str(error)`` is fit to show the user."""

    def __init__(self, message: str, host_name: str = "") -> None:
        super().__init__(message)
        self.host_name = host_name


class HostUnreachable(HostError, ConnectionError):
    """The host could not be reached over the network (refused, timed out, no route, unknown name)."""


class HostAuthFailed(HostError):
    """The SSH server refused the login (wrong key, missing passphrase, no usable key)."""


class UnknownHostKey(HostError):
    """The host offered a key that no known_hosts file lists: the user must check and accept it."""

    def __init__(self, host: str, port: int, key_type: str, fingerprint_sha256: str, key_base64: str,
                 host_name: str = "") -> None:
        label = f"'{host_name}' at " if host_name else ""
        super().__init__(
            f"The host key of {label}{host}:{port} is not known yet. It offered a {key_type} key with "
            f"fingerprint {fingerprint_sha256}. Check it with the host's administrator and accept it "
            "only if it matches.",
            host_name,
        )
        self.host = host
        self.port = port
        self.key_type = key_type
        self.fingerprint_sha256 = fingerprint_sha256
        self.key_base64 = key_base64


class HostKeyMismatch(HostError):
    """The host offered a key different from the one on record: refused, never replaced silently."""

    def __init__(self, host: str, port: int, expected_fingerprint: str, got_fingerprint: str,
                 host_name: str = "") -> None:
        label = f"'{host_name}' at " if host_name else ""
        super().__init__(
            f"The host key of {label}{host}:{port} has CHANGED: expected {expected_fingerprint}, "
            f"got {got_fingerprint}. The connection was refused. This can mean the host was "
            "reinstalled, or that someone is intercepting the connection; check with the host's "
            "administrator before removing the old key.",
            host_name,
        )
        self.host = host
        self.port = port
        self.expected_fingerprint = expected_fingerprint
        self.got_fingerprint = got_fingerprint


class HostCommandTimeout(HostError, TimeoutError):
    """A command on the host did not finish in the time allowed."""


class HostPathNotFound(HostError, FileNotFoundError):
    """A file or folder does not exist on the host."""


class HostFileTooLarge(HostError):
    """A file is larger than the caller allowed to read at once."""


class HostFileError(HostError, OSError):
    """A file operation on the host failed (permissions, not a folder, disk full ...)."""


class DockerUnreachable(HostError):
    """The Docker engine on the host does not answer (daemon down, socket missing, no docker CLI)."""


class DockerPermissionDenied(DockerUnreachable):
    """The user may not use the Docker engine's socket on the host."""


class ImagePullFailed(HostError):
    """Pulling a container image failed; the message carries the engine's reason."""
