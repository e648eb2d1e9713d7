"""A standard JSON Schema derived from a field tree, for validation with ``jsonschema``."""

from __future__ import annotations

import math
from typing import Any

from app.core.skills.fields import Field, FieldKind

_SCALAR_TYPES = {
    FieldKind.INT: "integer",
    FieldKind.FLOAT: "number",
    FieldKind.BOOL: "boolean",
    FieldKind.STRING: "string",
}


def _item_schema(values: list[Any]) -> dict[str, Any] | None:
    """The item type of a list, inferred from its default elements (None when unknown or mixed)."""
    if not values:
        return None
    if all(isinstance(v, bool) for v in values):
        return {"type": "boolean"}
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return {"type": "integer"}
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return {"type": "number"}
    if all(isinstance(v, str) for v in values):
        return {"type": "string"}
    if all(isinstance(v, list) for v in values):
        inner = _item_schema([x for v in values for x in v])
        return {"type": "array", **({"items": inner} if inner else {})}
    return None


def _bounds(field: Field, schema: dict[str, Any]) -> None:
    if field.minimum is not None and math.isfinite(field.minimum):
        schema["minimum"] = field.minimum
    if field.maximum is not None and math.isfinite(field.maximum):
        schema["maximum"] = field.maximum


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def leaf_schema(field: Field) -> dict[str, Any]:
    """The JSON Schema of one leaf (null allowed, as TAO's optional fields take None)."""
    schema: dict[str, Any]
    if field.kind in _SCALAR_TYPES:
        schema = {"type": _SCALAR_TYPES[field.kind]}
        _bounds(field, schema)
        if field.kind is FieldKind.STRING and field.pattern:
            schema["pattern"] = field.pattern
    elif field.kind is FieldKind.ENUM:
        schema = {"enum": list(field.enum or [])}
    elif field.kind is FieldKind.LIST:
        schema = {"type": "array"}
        items = _item_schema(field.default if isinstance(field.default, list) else [])
        if items:
            schema["items"] = items
    elif field.kind is FieldKind.DICT:
        schema = {"type": "object"}
    elif field.kind is FieldKind.UNION and field.any_of:
        return {"anyOf": [to_json_schema(option) for option in field.any_of] + [{"type": "null"}]}
    elif field.kind is FieldKind.CONST and field.has_default:
        return {"const": field.default}
    else:
        return {}
    return _nullable(schema)


def to_json_schema(field: Field) -> dict[str, Any]:
    """The JSON Schema for a field and everything below it (unknown keys are checked elsewhere)."""
    if field.kind is not FieldKind.COLLECTION:
        return leaf_schema(field)
    return {
        "type": "object",
        "properties": {name: to_json_schema(child) for name, child in field.children.items()},
    }
