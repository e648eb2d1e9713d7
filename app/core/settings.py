"""The app's own settings (recent banks, window layout), as versioned YAML in the config folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app import paths
from app.core.coerce import as_dict, as_list
from app.core.versioned_yaml import write_yaml_document

SETTINGS_VERSION = 1


@dataclass
class AppSettings:
    """User settings that outlive the app: skill banks added, window layout."""

    banks: list[str] = field(default_factory=list)
    window: dict[str, str] = field(default_factory=dict)
    last_skill: str = ""
    last_action: str = ""

    @staticmethod
    def file() -> Path:
        """Where the settings live."""
        return paths.config_dir() / "settings.yaml"

    @classmethod
    def load(cls) -> AppSettings:
        """Read the settings; a missing or unreadable file gives defaults (never crashes)."""
        path = cls.file()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, yaml.YAMLError):
            return cls()
        return cls.from_dict(migrate(data if isinstance(data, dict) else {}))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppSettings:
        """Settings from a migrated mapping."""
        banks = as_list(data.get("banks"))
        window = as_dict(data.get("window"))
        return cls(
            banks=[str(b) for b in banks],
            window={str(k): str(v) for k, v in window.items()},
            last_skill=str(data.get("last_skill") or ""),
            last_action=str(data.get("last_action") or ""),
        )

    def save(self) -> None:
        """Write the settings atomically."""
        data = {
            "version": SETTINGS_VERSION,
            "banks": self.banks,
            "window": self.window,
            "last_skill": self.last_skill,
            "last_action": self.last_action,
        }
        write_yaml_document(self.file(), data, keep_backup=False)

    def add_bank(self, folder: str) -> None:
        """Remember a bank folder (most recent last, no duplicates)."""
        folder = str(Path(folder).expanduser().resolve())
        if folder in self.banks:
            self.banks.remove(folder)
        self.banks.append(folder)


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older settings mapping to the current version."""
    version = data.get("version", 0)
    if version == 0 and "recent_banks" in data:
        data["banks"] = data.pop("recent_banks")
    data["version"] = SETTINGS_VERSION
    return data


def bank_folders(extra: list[str] | None = None) -> list[Path]:
    """The banks to load: the bundled one, the user's added ones, then ``extra`` (``--bank``)."""
    folders = [paths.bundled_bank_dir()]
    folders += [Path(b) for b in AppSettings.load().banks]
    folders += [Path(b) for b in extra or []]
    unique: list[Path] = []
    for folder in folders:
        resolved = folder.expanduser().resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique
