"""Hydra-style ``key=value`` overrides with YAML typing, and the skill's shorthand keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from app.core.specs.document import SpecDocument, load_yaml


class OverrideError(ValueError):
    """An override that cannot be understood, with the text that was given."""


@dataclass(frozen=True)
class Override:
    """One parsed override: set (or delete) a dotted key."""

    key: str
    value: Any = None
    delete: bool = False


def _typed(text: str) -> Any:
    if text == "":
        return ""
    try:
        return load_yaml(text)
    except yaml.YAMLError:
        return text


def parse_override(text: str, shorthand: dict[str, str] | None = None) -> Override:
    """Parse ``a.b=1``, ``+a.b=1``, ``++a.b=1`` or ``~a.b``; values typed as YAML (``[0,1]``, ``null``)."""
    raw = text.strip()
    if raw.startswith("~"):
        key = raw[1:].split("=", 1)[0].strip()
        if not key:
            raise OverrideError(f"'{text}': nothing to delete after '~'")
        return Override(_expand(key, shorthand), delete=True)
    if "=" not in raw:
        raise OverrideError(f"'{text}': expected KEY=VALUE")
    key, value = raw.split("=", 1)
    key = key.strip().lstrip("+")
    if not key or any(not part for part in key.split(".")):
        raise OverrideError(f"'{text}': the key '{key}' is not a dotted spec key")
    return Override(_expand(key, shorthand), _typed(value.strip()))


def _expand(key: str, shorthand: dict[str, str] | None) -> str:
    if shorthand and key in shorthand:
        return shorthand[key]
    return key


def apply_overrides(doc: SpecDocument, overrides: list[Override]) -> None:
    """Apply overrides in order to a spec document."""
    for item in overrides:
        if item.delete:
            doc.delete(item.key)
        else:
            doc.set(item.key, item.value)
