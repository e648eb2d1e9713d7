"""Experiment specs: YAML loading, Hydra-style overrides, `${...}` interpolation and dotted lookups."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

MISSING = "???"
_INTERPOLATION = re.compile(r"\$\{([^}]+)\}")


class ConfigError(Exception):
    """A spec value is missing or malformed."""


def load_spec(path: Path) -> dict[str, Any]:
    """Read a spec file (YAML mapping; an empty file is an empty spec)."""
    with open(path, encoding="utf-8") as stream:
        try:
            document = yaml.safe_load(stream)
        except yaml.YAMLError as error:
            raise ConfigError(f"{path} is not valid YAML: {error}") from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level, not {type(document).__name__}")
    return document


def parse_value(text: str) -> Any:
    """Type an override value the way Hydra does: YAML scalars and flow collections, plus 1e-3 floats."""
    if text == "":
        return ""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(text)
        except ValueError:
            return value
    return value


def apply_override(cfg: dict[str, Any], override: str) -> None:
    """Apply one `a.b=value`, `+a.b=value`, `++a.b=value` or `~a.b` override in place."""
    if override.startswith("~"):
        keys = override[1:].split("=", 1)[0].split(".")
        parent = _walk(cfg, keys[:-1], create=False)
        if isinstance(parent, dict):
            parent.pop(keys[-1], None)
        return
    if "=" not in override:
        raise ConfigError(f"override '{override}' is not of the form key=value")
    key, text = override.split("=", 1)
    key = key.lstrip("+")
    if not key or key.startswith("hydra."):
        return
    keys = key.split(".")
    parent = _walk(cfg, keys[:-1], create=True)
    parent[keys[-1]] = parse_value(text)


def _walk(cfg: dict[str, Any], keys: list[str], create: bool) -> Any:
    node: Any = cfg
    for key in keys:
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set a key below '{key}': it is not a mapping")
        if key not in node or node[key] is None:
            if not create:
                return None
            node[key] = {}
        node = node[key]
    if not isinstance(node, dict):
        raise ConfigError(f"'{'.'.join(keys)}' is not a mapping")
    return node


def lookup(cfg: dict[str, Any], dotted: str, default: Any = None) -> Any:
    """The value at a dotted key, or default when any part is absent."""
    node: Any = cfg
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def require(cfg: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted key; raises ConfigError when it is absent, null or "???"."""
    value = lookup(cfg, dotted)
    if value is None or value == MISSING:
        raise ConfigError(f"Missing mandatory value: {dotted}")
    return value


def resolve_interpolations(cfg: dict[str, Any]) -> dict[str, Any]:
    """A copy with OmegaConf-style `${a.b}` references in strings replaced by their values."""
    resolved = copy.deepcopy(cfg)

    def resolve(value: Any, depth: int = 0) -> Any:
        if isinstance(value, dict):
            return {key: resolve(item, depth) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item, depth) for item in value]
        if not isinstance(value, str) or "${" not in value or depth > 10:
            return value
        whole = _INTERPOLATION.fullmatch(value)
        if whole:
            return resolve(_reference(cfg, whole.group(1)), depth + 1)
        return _INTERPOLATION.sub(
            lambda match: str(resolve(_reference(cfg, match.group(1)), depth + 1)), value
        )

    return {key: resolve(item) for key, item in resolved.items()}


def _reference(cfg: dict[str, Any], dotted: str) -> Any:
    marker = object()
    value = lookup(cfg, dotted.strip(), marker)
    if value is marker:
        raise ConfigError(f"interpolation '${{{dotted}}}' refers to a key that does not exist")
    return value
