"""Where TAO Desk finds its bundled files and keeps the user's settings and data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _bundled(name: str) -> Path:
    """A folder shipped with the app: next to the package in a checkout, else under share/taodesk."""
    in_checkout = _SOURCE_ROOT / name
    if in_checkout.is_dir():
        return in_checkout
    return Path(sys.prefix) / "share" / "taodesk" / name


def bundled_bank_dir() -> Path:
    """The skill bank shipped with the app (``skills/``)."""
    return _bundled("skills")


def resources_dir() -> Path:
    """Icons, style sheets and sample outputs (``resources/``)."""
    return _bundled("resources")


def config_dir() -> Path:
    """The user's settings folder (``$TAODESK_CONFIG_DIR``, else the XDG config folder)."""
    override = os.environ.get("TAODESK_CONFIG_DIR")
    if override:
        path = Path(override)
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        path = Path(base) / "taodesk"
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The user's data folder: job store, kept logs (``$TAODESK_DATA_DIR``, else XDG data)."""
    override = os.environ.get("TAODESK_DATA_DIR")
    if override:
        path = Path(override)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "taodesk"
    path.mkdir(parents=True, exist_ok=True)
    return path
