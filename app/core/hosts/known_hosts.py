"""SSH host-key trust: the app's own known_hosts file plus read-only use of ``~/.ssh/known_hosts``.

An unknown key raises `UnknownHostKey` (with its SHA256 fingerprint) so the user can decide;
`accept_host_key` records it in the app's file. A changed key raises `HostKeyMismatch` and is
never replaced automatically.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.hosts.errors import HostKeyMismatch, UnknownHostKey
from app.paths import config_dir

if TYPE_CHECKING:
    import paramiko

APP_KNOWN_HOSTS_NAME = "known_hosts"


def app_known_hosts_path() -> Path:
    """The app's own known_hosts file (written only when the user accepts a key)."""
    return config_dir() / APP_KNOWN_HOSTS_NAME


def user_known_hosts_path() -> Path:
    """The user's OpenSSH known_hosts file, read but never written."""
    return Path.home() / ".ssh" / "known_hosts"


def known_hosts_name(host: str, port: int) -> str:
    """How known_hosts names a host: ``host`` on port 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint_sha256(key_blob: bytes) -> str:
    """The fingerprint OpenSSH prints for a public key blob: ``SHA256:`` + unpadded base64."""
    digest = hashlib.sha256(key_blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def fingerprint_of_base64(key_base64: str) -> str:
    """The SHA256 fingerprint of a key given as the base64 text of a known_hosts line."""
    return fingerprint_sha256(base64.b64decode(key_base64))


def load_host_keys(paths: list[Path] | None = None) -> paramiko.HostKeys:
    """All keys from the given known_hosts files (default: the user's, then the app's)."""
    import paramiko

    keys = paramiko.HostKeys()
    for path in paths if paths is not None else [user_known_hosts_path(), app_known_hosts_path()]:
        if path.is_file():
            keys.load(str(path))
    return keys


def known_keys_for(host: str, port: int, paths: list[Path] | None = None) -> dict[str, str]:
    """The recorded keys of a host, as key type -> SHA256 fingerprint."""
    entry = load_host_keys(paths).lookup(known_hosts_name(host, port))
    if entry is None:
        return {}
    return {key_type: key.fingerprint for key_type, key in entry.items()}


def accept_host_key(host: str, port: int, key_type: str, key_base64: str, path: Path | None = None) -> None:
    """Record a host key the user has accepted in the app's known_hosts file.

    Refuses (`HostKeyMismatch`) if a different key of the same type is already recorded for the
    host in either file: a changed key is never replaced here.
    """
    target = path or app_known_hosts_path()
    sources = [user_known_hosts_path(), target]
    known = known_keys_for(host, port, sources)
    new_fingerprint = fingerprint_of_base64(key_base64)
    if key_type in known:
        if known[key_type] == new_fingerprint:
            return
        raise HostKeyMismatch(host, port, known[key_type], new_fingerprint)
    target.parent.mkdir(parents=True, exist_ok=True)
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    separator = "" if not existing or existing.endswith("\n") else "\n"
    with target.open("a", encoding="utf-8") as stream:
        stream.write(f"{separator}{known_hosts_name(host, port)} {key_type} {key_base64}\n")


def forget_host_key(host: str, port: int, path: Path | None = None) -> bool:
    """Remove a host's keys from the app's known_hosts file (the user's own file is not touched).

    This is only for an explicit user decision after a key change was checked. Returns whether
    anything was removed.
    """
    from paramiko.hostkeys import HostKeyEntry

    target = path or app_known_hosts_path()
    if not target.is_file():
        return False
    name = known_hosts_name(host, port)
    kept: list[str] = []
    removed = False
    for line in target.read_text(encoding="utf-8").splitlines():
        entry = HostKeyEntry.from_line(line) if line.strip() else None
        if entry is not None and _entry_matches(entry, name):
            removed = True
            continue
        kept.append(line)
    if removed:
        target.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    return removed


def _entry_matches(entry: Any, name: str) -> bool:
    """Whether a known_hosts entry names ``name`` (plain or hashed)."""
    import paramiko

    for pattern in entry.hostnames:
        if pattern == name:
            return True
        if pattern.startswith("|1|") and paramiko.HostKeys.hash_host(name, pattern) == pattern:
            return True
    return False


def make_verifying_policy(host: str, port: int, host_name: str = "") -> paramiko.MissingHostKeyPolicy:
    """A paramiko policy that turns an unknown host key into `UnknownHostKey`."""
    import paramiko

    class RaiseUnknownHostKey(paramiko.MissingHostKeyPolicy):
        """Refuse unknown keys, handing their fingerprint to the caller."""

        def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
            raise UnknownHostKey(host, port, key.get_name(), key.fingerprint, key.get_base64(), host_name)

    return RaiseUnknownHostKey()


def prepare_client_host_keys(client: paramiko.SSHClient, host: str, port: int, host_name: str = "",
                             app_file: Path | None = None, user_file: Path | None = None) -> None:
    """Make ``client`` trust only keys from the user's and the app's known_hosts files."""
    user_path = user_file or user_known_hosts_path()
    app_path = app_file or app_known_hosts_path()
    if user_path.is_file():
        client.load_system_host_keys(str(user_path))
    if app_path.is_file():
        client.get_host_keys().load(str(app_path))
    client.set_missing_host_key_policy(make_verifying_policy(host, port, host_name))


def mismatch_from_paramiko(error: Any, host: str, port: int, host_name: str = "") -> HostKeyMismatch:
    """Convert paramiko's ``BadHostKeyException`` into our `HostKeyMismatch`."""
    return HostKeyMismatch(host, port, error.expected_key.fingerprint, error.key.fingerprint, host_name)
