"""Validating a spec for one action: types and bounds, mandatory values, unknown keys, cross-field rules."""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from app.core.skills.fields import MANDATORY, Field, FieldKind
from app.core.skills.json_schema import to_json_schema
from app.core.skills.model import Skill, SpecRule
from app.core.specs.document import delete_path, flatten, get_path, has_path

ERROR = "error"
WARNING = "warning"
NEEDS_INPUT = "needs_input"

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class SpecIssue:
    """One finding about a spec: a dotted path, a message and how serious it is."""

    path: str
    message: str
    severity: str = ERROR
    unknown_key: bool = False

    def __str__(self) -> str:
        return f"{self.path or '(spec)'}: {self.message}"


def merge_fields(roots: list[Field]) -> Field:
    """One tree holding every field known to any of the given roots (first definition wins)."""
    merged = Field(path="", name="", tao_type="object", kind=FieldKind.COLLECTION)

    def merge_into(target: Field, source: Field) -> None:
        for name, child in source.children.items():
            existing = target.children.get(name)
            if existing is None:
                target.children[name] = child
            elif existing is not child and FieldKind.COLLECTION is existing.kind is child.kind:
                combined = copy.copy(existing)
                combined.children = dict(existing.children)
                target.children[name] = combined
                merge_into(combined, child)

    for root in roots:
        merge_into(merged, root)
    return merged


def _skill_tree(skill: Skill) -> Field:
    cached = getattr(skill, "_merged_fields", None)
    if cached is None:
        cached = merge_fields([a.root for a in skill.actions.values() if a.root is not None])
        skill._merged_fields = cached  # type: ignore[attr-defined]
    return cached


def _readable(error: Any) -> str:
    validator = error.validator
    if validator == "anyOf" and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_schema_path)))
        return _readable(best)
    if validator == "type":
        expected = error.validator_value
        kind = {
            "integer": "an integer",
            "number": "a number",
            "boolean": "true or false",
            "string": "text",
            "array": "a list",
            "object": "a mapping of keys",
        }.get(expected, expected)
        return f"must be {kind}, got {error.instance!r}"
    if validator == "minimum":
        return f"must be at least {_fmt(error.validator_value)}, got {error.instance!r}"
    if validator == "maximum":
        return f"must be at most {_fmt(error.validator_value)}, got {error.instance!r}"
    if validator == "enum":
        return f"must be one of {', '.join(map(str, error.validator_value))}; got {error.instance!r}"
    if validator == "pattern":
        return f"must match {error.validator_value}, got {error.instance!r}"
    return str(error.message)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class SpecValidator:
    """Validates specs for one action of a skill; build once, call ``validate`` on every change."""

    def __init__(self, skill: Skill, action: str) -> None:
        self.skill = skill
        self.action = skill.action(action)
        self.tree = _skill_tree(skill)
        root = self.action.root
        self.action_tree = root if root is not None else self.tree
        self._validator = Draft202012Validator(to_json_schema(self.tree))
        self._conditions = [f for f in self.tree.leaves() if f.math_cond]
        self._required = [
            f for f in self.action_tree.walk() if f.required and f.path.split(".")[0] == action and f.is_leaf
        ]
        self._rules = skill.rules_for(action)

    def validate(self, data: dict[str, Any]) -> list[SpecIssue]:
        """Every issue in the spec, errors first by path."""
        issues: list[SpecIssue] = []
        checked = copy.deepcopy(data)
        for path, value in list(flatten(data)):
            if value == MANDATORY:
                issues.append(SpecIssue(path, 'needs input (mandatory value "???")', NEEDS_INPUT))
                delete_path(checked, path)
        issues.extend(self._unknown_keys(data))
        for error in self._validator.iter_errors(checked):
            path = ".".join(str(p) for p in error.absolute_path)
            issues.append(SpecIssue(path, _readable(error), ERROR))
        issues.extend(self._required_values(data))
        issues.extend(self._conditions_checked(data))
        issues.extend(self._rules_checked(data))
        return issues

    def _unknown_keys(self, data: dict[str, Any]) -> list[SpecIssue]:
        issues = []
        stack: list[tuple[Field, dict[str, Any], str]] = [(self.tree, data, "")]
        while stack:
            field, node, prefix = stack.pop()
            for key, value in node.items():
                path = f"{prefix}.{key}" if prefix else str(key)
                child = field.children.get(str(key))
                if child is None:
                    issues.append(
                        SpecIssue(
                            path,
                            f"unknown key: not a field of any '{self.skill.name}' action",
                            unknown_key=True,
                        )
                    )
                elif child.kind is FieldKind.COLLECTION and isinstance(value, dict):
                    stack.append((child, value, path))
        return issues

    def _required_values(self, data: dict[str, Any]) -> list[SpecIssue]:
        issues = []
        for field in self._required:
            value = get_path(data, field.path)
            if value is None or value == "":
                issues.append(SpecIssue(field.path, f"required for {self.action.name}", NEEDS_INPUT))
        return issues

    def _conditions_checked(self, data: dict[str, Any]) -> list[SpecIssue]:
        issues = []
        for field in self._conditions:
            if not has_path(data, field.path):
                continue
            issue = check_math_cond(field, get_path(data, field.path), data)
            if issue:
                issues.append(issue)
        return issues

    def _rules_checked(self, data: dict[str, Any]) -> list[SpecIssue]:
        issues = []
        for rule in self._rules:
            issue = check_rule(rule, data)
            if issue:
                issues.append(issue)
        return issues


def _operand(value: str | float, data: dict[str, Any]) -> Any:
    return get_path(data, value) if isinstance(value, str) else value


def _comparable(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def check_math_cond(field: Field, value: Any, data: dict[str, Any]) -> SpecIssue | None:
    """Check a TAO ``math_cond`` such as ``"> 0.0"`` or ``"> depends_on"``; None when it holds."""
    text = (field.math_cond or "").strip()
    op = next((o for o in ("<=", ">=", "==", "!=", "<", ">") if text.startswith(o)), None)
    if op is None:
        return None
    operand_text = text[len(op) :].strip()
    if operand_text == "depends_on":
        if not field.depends_on:
            return None
        other = get_path(data, field.depends_on)
        label = field.depends_on
    else:
        try:
            other = float(operand_text)
        except ValueError:
            return None
        label = operand_text
    if not (_comparable(value) and _comparable(other)):
        return None
    if _OPERATORS[op](value, other):
        return None
    return SpecIssue(field.path, f"must be {op} {label} ({other!r}), got {value!r}")


def check_rule(rule: SpecRule, data: dict[str, Any]) -> SpecIssue | None:
    """Check a skill spec rule against a spec; None when it holds or does not apply."""
    for key, expected in rule.when:
        if get_path(data, key) != expected:
            return None
    left = _operand(rule.left, data)
    right = _operand(rule.right, data)
    if not (_comparable(left) and _comparable(right)):
        return None
    if _OPERATORS[rule.op](left, right):
        return None
    path = rule.left if isinstance(rule.left, str) else (rule.right if isinstance(rule.right, str) else "")
    shown = ", ".join(
        f"{key}={value!r}" for key, value in ((rule.left, left), (rule.right, right)) if isinstance(key, str)
    )
    return SpecIssue(path, f"{rule.message} ({shown})", rule.severity)


def unknown_key_paths(issues: list[SpecIssue]) -> list[str]:
    """The keys no action of the skill knows (kept in the spec, flagged)."""
    return [issue.path for issue in issues if issue.unknown_key]
