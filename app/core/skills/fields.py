"""The field tree: TAO's schema dialect turned into typed fields."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MANDATORY = "???"


class FieldKind(StrEnum):
    """What a field holds, independent of TAO's many type names."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STRING = "string"
    ENUM = "enum"
    LIST = "list"
    DICT = "dict"
    COLLECTION = "collection"
    UNION = "union"
    CONST = "const"
    UNKNOWN = "unknown"


_KIND_BY_TAO_TYPE: dict[str, FieldKind] = {
    "int": FieldKind.INT,
    "integer": FieldKind.INT,
    "float": FieldKind.FLOAT,
    "number": FieldKind.FLOAT,
    "bool": FieldKind.BOOL,
    "boolean": FieldKind.BOOL,
    "string": FieldKind.STRING,
    "categorical": FieldKind.ENUM,
    "ordered_int": FieldKind.ENUM,
    "collection": FieldKind.COLLECTION,
    "object": FieldKind.COLLECTION,
    "list": FieldKind.LIST,
    "list_1_backbone": FieldKind.LIST,
    "list_1_normal": FieldKind.LIST,
    "list_2": FieldKind.LIST,
    "list_3": FieldKind.LIST,
    "subset_list": FieldKind.LIST,
    "optional_list": FieldKind.LIST,
    "array": FieldKind.LIST,
    "union": FieldKind.UNION,
    "const": FieldKind.CONST,
}

KNOWN_TAO_TYPES = frozenset(_KIND_BY_TAO_TYPE)


def kind_for(tao_type: str | None, *, has_enum: bool, has_properties: bool, has_any_of: bool) -> FieldKind:
    """Map a TAO type name (plus the shape of the node) to a field kind."""
    if has_any_of and tao_type in (None, "union"):
        return FieldKind.UNION
    if tao_type is None:
        return FieldKind.COLLECTION if has_properties else FieldKind.UNKNOWN
    kind = _KIND_BY_TAO_TYPE.get(tao_type, FieldKind.UNKNOWN)
    if kind in (FieldKind.STRING, FieldKind.INT) and has_enum:
        return FieldKind.ENUM
    if kind is FieldKind.COLLECTION and not has_properties:
        return FieldKind.DICT
    return kind


@dataclass
class Field:
    """One node of a spec: a leaf value or a collection of child fields."""

    path: str
    name: str
    tao_type: str | None
    kind: FieldKind
    title: str = ""
    description: str = ""
    default: Any = None
    has_default: bool = False
    minimum: float | None = None
    maximum: float | None = None
    enum: list[Any] | None = None
    option_weights: list[float] | None = None
    pattern: str | None = None
    examples: list[Any] | None = None
    popular: bool = False
    required: bool = False
    automl_enabled: bool | None = None
    math_cond: str | None = None
    depends_on: str | None = None
    parent_param: str | None = None
    link: str | None = None
    units: str | None = None
    children: dict[str, Field] = field(default_factory=dict)
    any_of: list[Field] = field(default_factory=list)
    automl_default_parameters: list[str] = field(default_factory=list)
    automl_disabled_parameters: list[str] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        """True for every field that is edited as one value (everything but collections)."""
        return self.kind is not FieldKind.COLLECTION

    @property
    def is_mandatory(self) -> bool:
        """True when TAO's default is ``"???"``: the user must give a value."""
        return self.has_default and self.default == MANDATORY

    @property
    def label(self) -> str:
        """A human label: the title, else the name with underscores as spaces."""
        return self.title or self.name.replace("_", " ")

    @property
    def bounded_below(self) -> bool:
        """True when the minimum is a finite number."""
        return self.minimum is not None and math.isfinite(self.minimum)

    @property
    def bounded_above(self) -> bool:
        """True when the maximum is a finite number."""
        return self.maximum is not None and math.isfinite(self.maximum)

    def walk(self) -> Iterator[Field]:
        """This field and all its descendants, depth first, in schema order."""
        yield self
        for child in self.children.values():
            yield from child.walk()

    def leaves(self) -> Iterator[Field]:
        """Every leaf below (or at) this field."""
        for node in self.walk():
            if node.is_leaf:
                yield node

    def find(self, dotted: str) -> Field | None:
        """The descendant at a dotted path relative to this field, or None."""
        node: Field | None = self
        for part in dotted.split(".") if dotted else []:
            if node is None:
                return None
            node = node.children.get(part)
        return node

    def nearest(self, dotted: str) -> Field | None:
        """The deepest known field along a dotted path (for keys inside dict fields)."""
        node = self
        for part in dotted.split("."):
            child = node.children.get(part)
            if child is None:
                return node if node is not self else None
            node = child
        return node
