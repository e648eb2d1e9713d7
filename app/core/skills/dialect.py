"""Reading TAO's generated ``<action>.schema.json`` dialect into a field tree."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.coerce import as_dict, as_list
from app.core.skills.fields import KNOWN_TAO_TYPES, Field, FieldKind, kind_for
from app.core.skills.problems import LoadProblem

# Keys a TAO generator may put on a node; anything else is kept silently (forward compatible).
_STRAY_PROPERTY_KEYS = frozenset({"automl_disabled_parameters", "automl_default_parameters"})


@dataclass
class ParsedSchema:
    """A parsed action schema: the root field plus the top-level TAO lists."""

    root: Field
    raw: dict[str, Any]
    automl_default_parameters: list[str]
    automl_disabled_parameters: list[str]
    popular_defaults: dict[str, Any]
    required_sections: list[str]
    x_tao_schema: dict[str, Any]


def read_json_file(path: Path) -> Any:
    """Read TAO JSON (which may contain bare ``Infinity``/``NaN``); raises ValueError with line/col."""
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in ("inf", "infinity", "+inf"):
        return math.inf
    if isinstance(value, str) and value.strip().lower() in ("-inf", "-infinity"):
        return -math.inf
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


class SchemaParser:
    """Turns one schema document into a field tree, collecting problems instead of failing."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[LoadProblem] = []

    def parse(self, raw: Any) -> ParsedSchema:
        """Parse the top-level schema object."""
        if not isinstance(raw, dict):
            raise ValueError("the schema is not a JSON object")
        properties = raw.get("properties")
        if not isinstance(properties, dict):
            raise ValueError("the schema has no 'properties' object")
        root = Field(path="", name="", tao_type="object", kind=FieldKind.COLLECTION)
        root.default = as_dict(raw.get("default"))
        root.has_default = True
        self._fill_children(root, raw)
        return ParsedSchema(
            root=root,
            raw=raw,
            automl_default_parameters=self._string_list(raw, "automl_default_parameters", ""),
            automl_disabled_parameters=self._string_list(raw, "automl_disabled_parameters", ""),
            popular_defaults=as_dict(raw.get("popular")),
            required_sections=self._string_list(raw, "required", ""),
            x_tao_schema=as_dict(raw.get("x_tao_schema")),
        )

    def _string_list(self, node: dict[str, Any], key: str, path: str) -> list[str]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._problem(f"{path}.{key}".strip("."), "expected a list of strings")
            return []
        return list(value)

    def _problem(self, key: str, reason: str) -> None:
        self.problems.append(LoadProblem(self.file, key or "(root)", reason))

    def _fill_children(self, parent: Field, node: dict[str, Any]) -> None:
        properties = node.get("properties") or {}
        popular_names = as_list(node.get("popular"))
        required_names = as_list(node.get("required"))
        for name, child_node in properties.items():
            if name in _STRAY_PROPERTY_KEYS and isinstance(child_node, list):
                continue  # TAO generator artifact inside properties, not a field
            path = f"{parent.path}.{name}" if parent.path else name
            if not isinstance(child_node, dict):
                self._problem(
                    path, f"expected an object describing the field, got {type(child_node).__name__}"
                )
                continue
            child = self._field(path, name, child_node)
            child.popular = child.popular or name in popular_names
            child.required = name in required_names
            parent.children[name] = child

    def _field(self, path: str, name: str, node: dict[str, Any]) -> Field:
        tao_type = node.get("type")
        if tao_type is not None and not isinstance(tao_type, str):
            self._problem(path, f"'type' must be a string, got {tao_type!r}")
            tao_type = None
        has_properties = isinstance(node.get("properties"), dict)
        any_of = as_list(node.get("anyOf"))
        enum = node.get("enum")
        if enum is not None and not isinstance(enum, list):
            self._problem(path, "'enum' must be a list")
            enum = None
        kind = kind_for(tao_type, has_enum=bool(enum), has_properties=has_properties, has_any_of=bool(any_of))
        if kind is FieldKind.UNKNOWN and tao_type is not None and tao_type not in KNOWN_TAO_TYPES:
            self._problem(path, f"unknown type {tao_type!r}: edited as YAML text")
        weights = node.get("option_weights")
        if weights is not None and (not isinstance(weights, list) or (enum and len(weights) != len(enum))):
            self._problem(path, "'option_weights' must be a list as long as 'enum'")
            weights = None
        field = Field(
            path=path,
            name=name,
            tao_type=tao_type,
            kind=kind,
            title=str(node.get("title") or ""),
            description=str(node.get("description") or ""),
            default=node.get("default"),
            has_default="default" in node,
            minimum=_number(node.get("minimum")),
            maximum=_number(node.get("maximum")),
            enum=list(enum) if enum else None,
            option_weights=[float(w) for w in weights] if weights else None,
            pattern=node.get("pattern") if isinstance(node.get("pattern"), str) else None,
            examples=node.get("examples") if isinstance(node.get("examples"), list) else None,
            popular=node.get("popular") is True,
            automl_enabled=node.get("automl_enabled")
            if isinstance(node.get("automl_enabled"), bool)
            else None,
            math_cond=node.get("math_cond") if isinstance(node.get("math_cond"), str) else None,
            depends_on=node.get("depends_on") if isinstance(node.get("depends_on"), str) else None,
            parent_param=str(node["parent_param"]) if node.get("parent_param") is not None else None,
            link=node.get("link") if isinstance(node.get("link"), str) else None,
            units=node.get("units") if isinstance(node.get("units"), str) else None,
            automl_default_parameters=self._string_list(node, "automl_default_parameters", path),
            automl_disabled_parameters=self._string_list(node, "automl_disabled_parameters", path),
        )
        if field.pattern is not None:
            try:
                re.compile(field.pattern)
            except re.error as exc:
                self._problem(path, f"invalid 'pattern': {exc}")
                field.pattern = None
        if has_properties:
            self._fill_children(field, node)
        for index, option in enumerate(any_of):
            if isinstance(option, dict):
                field.any_of.append(self._field(f"{path}", f"{name}[{index}]", option))
        return field


def _kind_of_value(value: Any) -> FieldKind:
    if isinstance(value, bool):
        return FieldKind.BOOL
    if isinstance(value, int):
        return FieldKind.INT
    if isinstance(value, float):
        return FieldKind.FLOAT
    if isinstance(value, list):
        return FieldKind.LIST
    if isinstance(value, dict):
        return FieldKind.DICT
    return FieldKind.STRING


def fields_from_template(template: dict[str, Any]) -> Field:
    """A field tree inferred from a spec template, for actions whose bundle has no schema."""

    def build(path: str, name: str, value: Any) -> Field:
        if isinstance(value, dict) and value:
            node = Field(
                path=path,
                name=name,
                tao_type="collection",
                kind=FieldKind.COLLECTION,
                default=value,
                has_default=True,
            )
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else str(key)
                node.children[str(key)] = build(child_path, str(key), child)
            return node
        kind = _kind_of_value(value)
        return Field(path=path, name=name, tao_type=kind.value, kind=kind, default=value, has_default=True)

    root = build("", "", template)
    root.tao_type = "object"
    return root
