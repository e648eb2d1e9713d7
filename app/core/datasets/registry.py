"""Registered datasets: a folder (or file) on a host with a role, kept in ``datasets.yaml``.

The user registers a dataset once; every action whose requirement table asks for that role on that
host then fills its spec keys from it (see `app.core.datasets.resolve`).
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from app.core.versioned_yaml import (
    check_named_entries,
    parse_named_entries,
    read_yaml_document,
    stored_version,
    write_yaml_document,
)
from app.paths import config_dir

DATASETS_FILE_VERSION = 1
ROLES = ("train", "eval", "inference")


class DatasetRegistryError(ValueError):
    """The datasets file or one entry is invalid; the message names the file, dataset and key."""


@dataclass(frozen=True)
class Dataset:
    """A dataset on a host. ``path`` is that host's path; ``skill`` limits it to one skill ('' = any)."""

    name: str
    host: str
    role: str
    path: str
    skill: str = ""
    note: str = ""

    def problems(self) -> list[str]:
        """Everything wrong with this entry, each naming the dataset and key (empty when valid)."""
        where = f"dataset '{self.name}'"
        found = []
        if not self.name.strip():
            found.append("a dataset has an empty 'name'")
        if not self.host.strip():
            found.append(f"{where}: 'host' is required")
        if self.role not in ROLES:
            found.append(f"{where}: 'role' must be one of {', '.join(ROLES)}, not '{self.role}'")
        if not self.path.startswith("/"):
            found.append(f"{where}: 'path' must be an absolute path on host '{self.host}', not '{self.path}'")
        return found

    def fits(self, host: str, skill: str) -> bool:
        """True when the dataset is on this host and usable by this skill."""
        return self.host == host and (not self.skill or self.skill == skill)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Dataset:
        """Build an entry from YAML; `DatasetRegistryError` naming the bad key."""
        if not isinstance(data, dict):
            raise DatasetRegistryError(f"{where}: a dataset entry must be a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in set(data) - known)
        name = data.get("name")
        label = f"{where}, dataset '{name}'" if isinstance(name, str) else where
        if unknown:
            raise DatasetRegistryError(f"{label}: unknown key(s) {', '.join(unknown)}")
        values = {}
        for key, value in data.items():
            if not isinstance(value, str):
                raise DatasetRegistryError(f"{label}: '{key}' must be text")
            values[str(key)] = value
        for key in ("name", "host", "role", "path"):
            if key not in values:
                raise DatasetRegistryError(f"{label}: '{key}' is required")
        values["path"] = posixpath.normpath(values["path"]) if values["path"] else ""
        dataset = cls(**values)
        problems = dataset.problems()
        if problems:
            raise DatasetRegistryError(f"{label}: " + "; ".join(p.split(": ", 1)[-1] for p in problems))
        return dataset


def _migrate(document: Any, path: Path) -> dict[str, Any]:
    """Bring a loaded document to the current version (version-less files held a list or a mapping)."""
    if isinstance(document, list):
        document = {"version": DATASETS_FILE_VERSION, "datasets": document}
    version = stored_version(document, path, DATASETS_FILE_VERSION, "datasets", DatasetRegistryError)
    entries = document.get("datasets") or []
    if version == 0 and isinstance(entries, dict):
        entries = [{"name": name, **(entry or {})} for name, entry in entries.items()]
    return {"version": DATASETS_FILE_VERSION, "datasets": entries}


class DatasetRegistry:
    """All registered datasets, kept in ``datasets.yaml`` in the user's config folder.

    Broken entries are skipped and listed in ``problems``; before such a file is overwritten its
    old content is kept as ``datasets.yaml.bak``.
    """

    FILE_NAME = "datasets.yaml"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / self.FILE_NAME
        self.problems: list[str] = []

    def load(self) -> list[Dataset]:
        """Read every dataset; `DatasetRegistryError` only when the whole file is unreadable."""
        self.problems = []
        if not self.path.exists():
            return []
        document = read_yaml_document(self.path, DatasetRegistryError)
        if document is None:
            return []
        entries = _migrate(document, self.path)["datasets"]
        return parse_named_entries(
            entries, self.path, "datasets", "dataset", Dataset.from_dict, DatasetRegistryError, self.problems
        )

    def save(self, datasets: list[Dataset]) -> None:
        """Write every dataset atomically; refuse invalid or duplicate entries."""
        check_named_entries(datasets, "dataset", DatasetRegistryError)
        entries = [
            {k: v for k, v in asdict(d).items() if v or k in ("name", "host", "role", "path")}
            for d in datasets
        ]
        document = {"version": DATASETS_FILE_VERSION, "datasets": entries}
        write_yaml_document(self.path, document, keep_backup=bool(self.problems))
        self.problems = []

    def get(self, name: str) -> Dataset:
        """The dataset called ``name``; `DatasetRegistryError` if there is none."""
        for dataset in self.load():
            if dataset.name == name:
                return dataset
        raise DatasetRegistryError(f"no dataset named '{name}' in {self.path}")

    def add(self, dataset: Dataset, replace: bool = False) -> None:
        """Register a dataset; an existing name is an error unless ``replace``."""
        datasets = self.load()
        if not replace and any(existing.name == dataset.name for existing in datasets):
            raise DatasetRegistryError(f"a dataset named '{dataset.name}' is already registered")
        self.save([existing for existing in datasets if existing.name != dataset.name] + [dataset])

    def remove(self, name: str) -> None:
        """Forget a dataset; `DatasetRegistryError` if there is none of that name."""
        datasets = self.load()
        if not any(dataset.name == name for dataset in datasets):
            raise DatasetRegistryError(f"no dataset named '{name}' in {self.path}")
        self.save([dataset for dataset in datasets if dataset.name != name])

    def for_host(self, host: str, skill: str = "", role: str | None = None) -> list[Dataset]:
        """Datasets on a host usable by a skill, optionally of one role, sorted by name."""
        found = [d for d in self.load() if d.fits(host, skill) or (not skill and d.host == host)]
        if role is not None:
            found = [d for d in found if d.role == role]
        return sorted(found, key=lambda dataset: dataset.name)
