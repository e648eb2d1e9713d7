"""Spec documents: nested YAML mappings addressed by dotted keys, read and written in TAO's form."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

_MISSING = object()


class SpecLoader(yaml.SafeLoader):
    """Safe YAML loader that also reads ``5e-5``-style floats as numbers, as OmegaConf does."""


SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Safe-load spec YAML text (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=SpecLoader)


class SpecParseError(ValueError):
    """A spec file that is not valid YAML (or not a mapping), with where it went wrong."""

    def __init__(self, source: str, message: str, line: int | None = None, column: int | None = None) -> None:
        self.source = source
        self.line = line
        self.column = column
        where = f":{line}:{column}" if line is not None else ""
        super().__init__(f"{source}{where}: {message}")


def parse_yaml_mapping(text: str, source: str = "<spec>") -> dict[str, Any]:
    """Safe-load YAML text that must be a mapping (empty text is an empty spec)."""
    try:
        data = load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise SpecParseError(source, str(exc.problem or exc), line, column) from exc
    except yaml.YAMLError as exc:
        raise SpecParseError(source, str(exc)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecParseError(source, f"a spec must be a mapping of keys, got {type(data).__name__}")
    return data


def get_path(tree: dict[str, Any], dotted: str, default: Any = None) -> Any:
    """The value at a dotted key, or ``default``."""
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def has_path(tree: dict[str, Any], dotted: str) -> bool:
    """True when the dotted key exists (even with a null value)."""
    return get_path(tree, dotted, _MISSING) is not _MISSING


def set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    """Set a dotted key, creating the mappings on the way (a scalar in the way is replaced)."""
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def delete_path(tree: dict[str, Any], dotted: str) -> bool:
    """Remove a dotted key; returns whether it existed."""
    parts = dotted.split(".")
    node: Any = tree
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    if isinstance(node, dict) and parts[-1] in node:
        del node[parts[-1]]
        return True
    return False


def flatten(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, leaf value) pairs; an empty mapping is a leaf."""
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            yield from flatten(value, path)
        else:
            yield path, value


def ordered_like(tree: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``tree`` with keys in the reference's order, keys the reference lacks last."""
    result: dict[str, Any] = {}
    for key in reference:
        if key in tree:
            value = tree[key]
            ref_value = reference[key]
            result[key] = (
                ordered_like(value, ref_value)
                if isinstance(value, dict) and isinstance(ref_value, dict)
                else value
            )
    for key, value in tree.items():
        if key not in result:
            result[key] = value
    return result


class _SpecDumper(yaml.SafeDumper):
    """YAML dumper that keeps insertion order and writes infinities the way YAML spells them."""


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    if math.isinf(value):
        return dumper.represent_scalar("tag:yaml.org,2002:float", ".inf" if value > 0 else "-.inf")
    if math.isnan(value):
        return dumper.represent_scalar("tag:yaml.org,2002:float", ".nan")
    return yaml.SafeDumper.represent_float(dumper, value)


_SpecDumper.add_representer(float, _represent_float)


def dump_yaml(tree: dict[str, Any]) -> str:
    """YAML text in the mapping's own key order."""
    return yaml.dump(tree, Dumper=_SpecDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


@dataclass
class SpecDocument:
    """One experiment spec (what TAO reads with ``-e spec.yaml``)."""

    data: dict[str, Any]

    @classmethod
    def from_yaml(cls, text: str, source: str = "<spec>") -> SpecDocument:
        """Parse YAML text; raises SpecParseError with line and column."""
        return cls(parse_yaml_mapping(text, source))

    def copy(self) -> SpecDocument:
        """A deep copy."""
        return SpecDocument(copy.deepcopy(self.data))

    def get(self, dotted: str, default: Any = None) -> Any:
        """The value at a dotted key."""
        return get_path(self.data, dotted, default)

    def has(self, dotted: str) -> bool:
        """True when the dotted key exists."""
        return has_path(self.data, dotted)

    def set(self, dotted: str, value: Any) -> None:
        """Set the value at a dotted key."""
        set_path(self.data, dotted, value)

    def delete(self, dotted: str) -> bool:
        """Remove a dotted key."""
        return delete_path(self.data, dotted)

    def flat(self) -> dict[str, Any]:
        """Every leaf as {dotted key: value}."""
        return dict(flatten(self.data))

    def to_yaml(self, order: dict[str, Any] | None = None) -> str:
        """YAML text, keys in the given reference order (the template) when one is given."""
        return dump_yaml(ordered_like(self.data, order) if order else self.data)
