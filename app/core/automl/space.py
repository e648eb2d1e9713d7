"""The AutoML search space: which spec keys a study varies, over which ranges or options.

The space comes from the action's schema: ``automl_default_parameters`` are searched by default,
other ``automl_enabled`` fields can be added, ``automl_disabled_parameters`` are never touched.
Bounds, options and option weights come from the field; ``math_cond`` / ``depends_on`` are
enforced when values are drawn. Where the schema leaves a bound open (TAO writes ``Infinity``),
the default range is derived from the field's default value (see ``default_range``); the user
narrows or widens it within the schema's bounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.core.automl.parameters import (
    InfeasibleSample,
    ParameterKind,
    SearchParameter,
    SearchSpaceError,
    apply_condition,
    as_number,
    default_range,
    format_value,
    grid_points,
    parameter_for,
    parameter_problems,
    parse_math_cond,
    searchable,
)
from app.core.skills.fields import Field
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument, get_path, has_path
from app.core.specs.form import is_disabled

__all__ = [
    "InfeasibleSample",
    "ParameterKind",
    "SearchParameter",
    "SearchSpace",
    "SearchSpaceError",
    "available_fields",
    "build_search_space",
    "check_paths",
    "default_range",
    "parameter_problems",
    "parse_math_cond",
]


@dataclass
class SearchSpace:
    """The parameters of one study, searched or not, in schema order."""

    skill: str
    action: str
    parameters: list[SearchParameter]

    @property
    def searched(self) -> list[SearchParameter]:
        """The parameters the study varies."""
        return [p for p in self.parameters if p.searched]

    def parameter(self, path: str) -> SearchParameter:
        """The parameter at a dotted key; SearchSpaceError naming the choices otherwise."""
        for candidate in self.parameters:
            if candidate.path == path:
                return candidate
        known = ", ".join(p.path for p in self.parameters) or "none"
        raise SearchSpaceError(
            [f"{path}: not an AutoML parameter of {self.skill}/{self.action} (parameters: {known})"]
        )

    def copy(self) -> SearchSpace:
        """A deep copy (parameters are plain data)."""
        return SearchSpace(
            self.skill, self.action, [replace(p, choices=list(p.choices)) for p in self.parameters]
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, kept in the study record."""
        return {
            "skill": self.skill,
            "action": self.action,
            "parameters": [p.to_dict() for p in self.parameters],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        """The inverse of ``to_dict``."""
        return cls(
            str(data["skill"]),
            str(data["action"]),
            [SearchParameter.from_dict(p) for p in data.get("parameters", [])],
        )

    def check(self) -> None:
        """Raise SearchSpaceError listing every problem (nothing to search, bad ranges, ...)."""
        problems = [problem for p in self.parameters if p.searched for problem in parameter_problems(p)]
        if not self.searched:
            problems.insert(0, "nothing to search: choose at least one parameter")
        if problems:
            raise SearchSpaceError(problems)

    def draw_order(self) -> list[SearchParameter]:
        """Searched parameters with each ``depends_on`` target before the parameter that uses it."""
        searched = {p.path: p for p in self.searched}
        ordered: list[SearchParameter] = []
        visiting: set[str] = set()

        def visit(parameter: SearchParameter) -> None:
            if parameter in ordered or parameter.path in visiting:
                return
            visiting.add(parameter.path)
            target = searched.get(parameter.depends_on or "")
            if target is not None:
                visit(target)
            ordered.append(parameter)

        for parameter in searched.values():
            visit(parameter)
        return ordered

    def bounds_given(
        self, parameter: SearchParameter, values: Mapping[str, Any], base: SpecDocument
    ) -> tuple[float, float]:
        """The numeric range left for ``parameter`` once its ``math_cond`` is applied."""
        assert parameter.low is not None and parameter.high is not None
        low, high = float(parameter.low), float(parameter.high)
        condition = parse_math_cond(parameter.math_cond)
        if condition is None:
            return low, high
        op, operand = condition
        if operand == "depends_on":
            if not parameter.depends_on:
                return low, high
            other = values.get(parameter.depends_on, base.get(parameter.depends_on))
            other_value = as_number(other)
            if other_value is None:
                return low, high
        else:
            other_value = float(operand)
        low, high = apply_condition(op, other_value, low, high, parameter.kind is ParameterKind.INT)
        if low > high:
            source = parameter.depends_on if operand == "depends_on" else operand
            raise InfeasibleSample(
                f"{parameter.path} must be {op} {source} ({format_value(other_value)}), which "
                f"its range {parameter.describe()} cannot meet"
            )
        return low, high

    def apply(self, document: SpecDocument, values: Mapping[str, Any]) -> SpecDocument:
        """A copy of ``document`` with the drawn values set."""
        result = document.copy()
        for path, value in values.items():
            result.set(path, value)
        return result

    def grid(self, points_per_range: int = 3) -> dict[str, list[Any]]:
        """Values for a grid search: options as they are, ranges cut into evenly spaced points."""
        grid: dict[str, list[Any]] = {}
        for parameter in self.searched:
            if parameter.kind is ParameterKind.CHOICE:
                grid[parameter.path] = list(parameter.choices)
                continue
            assert parameter.low is not None and parameter.high is not None
            grid[parameter.path] = grid_points(parameter, points_per_range)
        return grid

    def base_values(self, document: SpecDocument) -> dict[str, Any]:
        """The searched keys' values in a spec (the baseline trial's parameters)."""
        return {p.path: document.get(p.path, p.default) for p in self.searched}


def available_fields(skill: Skill, action: str) -> list[Field]:
    """Fields AutoML may search for an action: its default parameters and other automl_enabled leaves."""
    act = skill.action(action)
    root = act.root
    if root is None:
        return []
    disabled = act.automl_disabled_parameters
    defaults = set(act.automl_default_parameters)
    fields = []
    for leaf in root.leaves():
        if not leaf.path or is_disabled(leaf.path, disabled) or not searchable(leaf):
            continue
        if leaf.path in defaults or leaf.automl_enabled:
            fields.append(leaf)
    return fields


def build_search_space(
    skill: Skill,
    action: str = "train",
    spec: SpecDocument | None = None,
    include: Iterable[str] | None = None,
) -> SearchSpace:
    """The default space of an action: default parameters searched, other AutoML fields listed but off.

    ``spec`` (the user's spec) gives each parameter its current value; ``include`` replaces the
    schema's default selection.
    """
    act = skill.action(action)
    chosen = set(include) if include is not None else set(act.automl_default_parameters)
    parameters = []
    for leaf in available_fields(skill, action):
        if spec is not None and spec.has(leaf.path):
            default = spec.get(leaf.path)
        elif has_path(act.template, leaf.path):
            default = get_path(act.template, leaf.path)
        else:
            default = leaf.default
        parameters.append(parameter_for(leaf, default, searched=leaf.path in chosen))
    return SearchSpace(skill.name, action, parameters)


def check_paths(skill: Skill, action: str, paths: Iterable[str]) -> None:
    """SearchSpaceError for keys AutoML may not search (unknown, disabled or not a number/option)."""
    act = skill.action(action)
    root = act.root
    problems = []
    for path in paths:
        node = root.find(path) if root is not None else None
        if node is None:
            problems.append(f"{path}: not a field of {skill.name}/{action}")
        elif is_disabled(path, act.automl_disabled_parameters):
            problems.append(
                f"{path}: listed in automl_disabled_parameters of {skill.name}/{action}; "
                "AutoML must not change it"
            )
        elif not searchable(node):
            problems.append(
                f"{path}: a {node.kind.value} field; AutoML searches numbers, options and switches"
            )
    if problems:
        raise SearchSpaceError(problems)
