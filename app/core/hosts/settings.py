"""Host settings (`HostConfig`) and their versioned YAML store (`hosts.yaml` in the config folder)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from app.core.versioned_yaml import (
    check_named_entries,
    parse_named_entries,
    read_yaml_document,
    stored_version,
    write_yaml_document,
)
from app.paths import config_dir

HOSTS_FILE_VERSION = 1
HostKind = Literal["local", "ssh"]
HOST_KINDS: tuple[str, ...] = ("local", "ssh")
DEFAULT_SOCKET_PATH = "/var/run/docker.sock"
DEFAULT_SHM_SIZE = "16G"
LOCAL_HOST_NAME = "local"


class HostSettingsError(ValueError):
    """The hosts file or one host entry is invalid; the message names the file, host and key."""


@dataclass
class HostConfig:
    """One Docker host: the local engine or one reached over SSH, plus its workspace folder.

    ``key_file`` is the SSH private key; without it the SSH agent and the default keys in
    ``~/.ssh`` are tried. ``use_agent`` also offers the agent's keys when a key file is set.
    ``default_images`` maps a skill name to the image to run instead of the skill's own.
    ``extra_mounts`` are ``host_path:container_path[:ro]`` strings.
    """

    name: str
    kind: HostKind = "local"
    socket_path: str = DEFAULT_SOCKET_PATH
    ssh_host: str = ""
    ssh_port: int = 22
    ssh_user: str = ""
    key_file: str | None = None
    use_agent: bool = False
    workspace: str = ""
    default_images: dict[str, str] = field(default_factory=dict)
    shm_size: str = DEFAULT_SHM_SIZE
    extra_mounts: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    connect_timeout: float = 10.0

    @property
    def address(self) -> str:
        """Where the host is, as the user would write it (``user@host:port`` or the socket path)."""
        if self.kind == "local":
            return self.socket_path
        user = f"{self.ssh_user}@" if self.ssh_user else ""
        return f"{user}{self.ssh_host}:{self.ssh_port}"

    def image_for(self, skill_name: str, skill_default: str) -> str:
        """The image to run for a skill on this host: the override if set, else the skill's own."""
        return self.default_images.get(skill_name) or skill_default

    def problems(self) -> list[str]:
        """Everything wrong with these settings, each naming the host and key (empty when valid)."""
        where = f"host '{self.name}'"
        found: list[str] = []
        if not self.name.strip():
            found.append("a host has an empty 'name'")
        if self.kind not in HOST_KINDS:
            found.append(f"{where}: 'kind' must be one of {', '.join(HOST_KINDS)}, not '{self.kind}'")
        if self.kind == "ssh":
            if not self.ssh_host.strip():
                found.append(f"{where}: 'ssh_host' is required for an SSH host")
            if not self.workspace.strip():
                found.append(f"{where}: 'workspace' (a folder on that host) is required")
        if not 0 < self.ssh_port < 65536:
            found.append(f"{where}: 'ssh_port' must be between 1 and 65535, not {self.ssh_port}")
        if self.connect_timeout <= 0:
            found.append(f"{where}: 'connect_timeout' must be positive")
        for mount in self.extra_mounts:
            problem = mount_problem(mount)
            if problem:
                found.append(f"{where}: 'extra_mounts' entry '{mount}': {problem}")
        return found

    def to_dict(self) -> dict[str, Any]:
        """A plain mapping for YAML (no secrets are ever part of a host's settings)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "hosts.yaml") -> HostConfig:
        """Build settings from a YAML mapping; raise `HostSettingsError` naming the bad key."""
        if not isinstance(data, dict):
            raise HostSettingsError(f"{where}: a host entry must be a mapping, not {type(data).__name__}")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise HostSettingsError(f"{where}: a host entry has no 'name'")
        where = f"{where}, host '{name}'"
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise HostSettingsError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
        values = {key: _checked_value(key, value, where) for key, value in data.items()}
        config = cls(**values)
        problems = config.problems()
        if problems:
            raise HostSettingsError(f"{where}: " + "; ".join(p.split(": ", 1)[-1] for p in problems))
        return config

    @classmethod
    def local_default(cls) -> HostConfig:
        """The local Docker engine with a workspace in the user's home folder."""
        return cls(name=LOCAL_HOST_NAME, kind="local", workspace=str(Path.home() / "tao-experiments"))


def mount_problem(mount: str) -> str:
    """Why a ``host:container[:ro|rw]`` mount string is invalid, or an empty string."""
    parts = mount.split(":")
    if len(parts) not in (2, 3):
        return "expected host_path:container_path[:ro]"
    if not parts[0].startswith("/") or not parts[1].startswith("/"):
        return "both paths must be absolute"
    if len(parts) == 3 and parts[2] not in ("ro", "rw"):
        return f"the mode must be 'ro' or 'rw', not '{parts[2]}'"
    return ""


_STR_KEYS = {"name", "kind", "socket_path", "ssh_host", "ssh_user", "workspace", "shm_size"}


def _checked_value(key: str, value: Any, where: str) -> Any:
    """The value for ``key`` if it has the right type, else a `HostSettingsError`."""
    if key in _STR_KEYS:
        if not isinstance(value, str):
            raise HostSettingsError(f"{where}: '{key}' must be text")
        return value
    if key == "key_file":
        if value is not None and not isinstance(value, str):
            raise HostSettingsError(f"{where}: 'key_file' must be a path or empty")
        return value or None
    if key == "ssh_port":
        if isinstance(value, bool) or not isinstance(value, int):
            raise HostSettingsError(f"{where}: 'ssh_port' must be a whole number")
        return value
    if key == "connect_timeout":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise HostSettingsError(f"{where}: 'connect_timeout' must be a number of seconds")
        return float(value)
    if key == "use_agent":
        if not isinstance(value, bool):
            raise HostSettingsError(f"{where}: 'use_agent' must be true or false")
        return value
    if key == "extra_mounts":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise HostSettingsError(f"{where}: 'extra_mounts' must be a list of host:container strings")
        return list(value)
    if not isinstance(value, dict):
        raise HostSettingsError(f"{where}: '{key}' must be a mapping")
    return {str(k): str(v) for k, v in value.items()}


def _migrate(document: Any, path: Path) -> dict[str, Any]:
    """Bring a loaded hosts document to the current version; older shapes are converted."""
    if isinstance(document, list):
        document = {"hosts": document}
    if stored_version(document, path, HOSTS_FILE_VERSION, "hosts", HostSettingsError) == 0:
        document = _migrate_v0(document)
    return document


def _migrate_v0(document: dict[str, Any]) -> dict[str, Any]:
    """Version-less files kept hosts as a mapping of name -> settings, with ``port``/``user`` keys."""
    hosts = document.get("hosts", [])
    if isinstance(hosts, dict):
        hosts = [{"name": name, **(entry or {})} for name, entry in hosts.items()]
    renamed = {"host": "ssh_host", "port": "ssh_port", "user": "ssh_user", "socket": "socket_path"}
    migrated = []
    for entry in hosts if isinstance(hosts, list) else []:
        if isinstance(entry, dict):
            entry = {renamed.get(key, key): value for key, value in entry.items()}
        migrated.append(entry)
    return {"version": HOSTS_FILE_VERSION, "hosts": migrated}


class HostStore:
    """All configured hosts, kept in ``hosts.yaml`` in the user's config folder.

    A missing file means only the local host. Broken entries are skipped and listed in
    ``problems``; before such a file is overwritten its old content is kept as ``hosts.yaml.bak``.
    """

    FILE_NAME = "hosts.yaml"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / self.FILE_NAME
        self.problems: list[str] = []

    def load(self) -> list[HostConfig]:
        """Read the hosts; raise `HostSettingsError` only when the whole file is unreadable."""
        self.problems = []
        if not self.path.exists():
            return [HostConfig.local_default()]
        document = read_yaml_document(self.path, HostSettingsError)
        if document is None:
            return []
        entries = _migrate(document, self.path).get("hosts") or []
        return parse_named_entries(
            entries, self.path, "hosts", "host", HostConfig.from_dict, HostSettingsError, self.problems
        )

    def save(self, hosts: list[HostConfig]) -> None:
        """Write all hosts atomically; refuse invalid or duplicate entries."""
        check_named_entries(hosts, "host", HostSettingsError)
        document = {"version": HOSTS_FILE_VERSION, "hosts": [config.to_dict() for config in hosts]}
        write_yaml_document(self.path, document, keep_backup=bool(self.problems))
        self.problems = []

    def get(self, name: str) -> HostConfig:
        """The host called ``name``; `HostSettingsError` if there is none."""
        for config in self.load():
            if config.name == name:
                return config
        raise HostSettingsError(f"no host named '{name}' in {self.path}")

    def put(self, config: HostConfig) -> None:
        """Add a host, or replace the one with the same name."""
        hosts = [existing for existing in self.load() if existing.name != config.name]
        hosts.append(config)
        self.save(hosts)

    def remove(self, name: str) -> None:
        """Forget the host called ``name`` (nothing happens if there is none)."""
        self.save([existing for existing in self.load() if existing.name != name])
