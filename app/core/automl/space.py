"""The AutoML search space: which spec keys a study varies, over which ranges or options.

The space comes from the action's schema: ``automl_default_parameters`` are searched by default,
other ``automl_enabled`` fields can be added, ``automl_disabled_parameters`` are never touched.
Bounds, options and option weights come from the field; ``math_cond`` / ``depends_on`` are
enforced when values are drawn. Where the schema leaves a bound open (TAO writes ``Infinity``),
the default range is derived from the field's default value (see ``default_range``); the user
narrows or widens it within the schema's bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from app.core.skills.fields import Field, FieldKind
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument, get_path, has_path
from app.core.specs.form import is_disabled

SEARCHABLE_KINDS = (FieldKind.INT, FieldKind.FLOAT, FieldKind.ENUM, FieldKind.BOOL)
_COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")


class ParameterKind(StrEnum):
    """How a parameter is drawn."""

    FLOAT = "float"
    INT = "int"
    CHOICE = "choice"


class SearchSpaceError(ValueError):
    """A search space that cannot be used; ``problems`` name the key and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class InfeasibleSample(ValueError):
    """The values drawn so far leave no room for a parameter (a ``math_cond`` cannot hold)."""


@dataclass
class SearchParameter:
    """One spec key of the space: its range (numbers) or options, and the schema's limits."""

    path: str
    kind: ParameterKind
    title: str = ""
    default: Any = None
    searched: bool = True
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] = field(default_factory=list)
    weights: list[float] | None = None
    schema_min: float | None = None
    schema_max: float | None = None
    schema_choices: list[Any] = field(default_factory=list)
    math_cond: str | None = None
    depends_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (infinite schema bounds become None)."""
        data = asdict(self)
        data["kind"] = self.kind.value
        for key in ("schema_min", "schema_max"):
            value = data[key]
            if value is not None and not math.isfinite(value):
                data[key] = None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchParameter:
        """The inverse of ``to_dict``."""
        values = dict(data)
        values["kind"] = ParameterKind(values["kind"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})

    def describe(self) -> str:
        """``[0.0001, 0.3] log`` or ``{a, b}``, for lists and messages."""
        if self.kind is ParameterKind.CHOICE:
            return "{" + ", ".join(map(str, self.choices)) + "}"
        scale = " log" if self.log else ""
        return f"[{_fmt(self.low)}, {_fmt(self.high)}]{scale}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def default_range(field_: Field, default: Any) -> tuple[float, float, bool]:
    """(low, high, log) for a numeric field from its schema bounds and default value.

    Finite bounds are used as they are (log scale when they span two decades or more above 0).
    An open upper bound with a positive default ``d`` gives ``[d/100, d*10]`` on a log scale,
    capped at 1 when ``d`` is below 1 (such values are usually fractions: rates, decays,
    momenta); a zero default gives ``[min, min+1]``; integers get ``[min, 10*max(d, 1)]``.
    An open lower bound mirrors that. The result is clipped to the schema's bounds.
    """
    lo = field_.minimum if _finite(field_.minimum) else None
    hi = field_.maximum if _finite(field_.maximum) else None
    is_int = field_.kind is FieldKind.INT
    d = _number(default)
    if d is None:
        d = lo if lo is not None else (hi if hi is not None else 0.0)
    if lo is not None and hi is not None:
        low, high = lo, hi
    elif is_int:
        low = lo if lo is not None else d - 10
        high = hi if hi is not None else max(low + 1, 10 * max(d, 1))
    elif d > 0:
        low, high = d / 100, d * 10
        if d < 1:
            high = min(high, 1.0)
    elif d == 0:
        low = lo if lo is not None else -1.0
        high = hi if hi is not None else low + 1.0
    else:
        low, high = d * 10, min(0.0, d / 100)
    if lo is not None:
        low = max(low, lo)
    if hi is not None:
        high = min(high, hi)
    if high <= low:
        high = low + 1
    log = not is_int and low > 0 and high / low >= 100
    return float(low), float(high), log


def searchable(field_: Field | None) -> bool:
    """True for leaves AutoML can vary: numbers, options and switches."""
    return field_ is not None and field_.is_leaf and field_.kind in SEARCHABLE_KINDS


def parameter_for(field_: Field, default: Any, searched: bool = True) -> SearchParameter:
    """The default search parameter of one schema field."""
    common: dict[str, Any] = {
        "path": field_.path,
        "title": field_.label,
        "default": default,
        "searched": searched,
        "schema_min": field_.minimum,
        "schema_max": field_.maximum,
        "math_cond": field_.math_cond,
        "depends_on": field_.depends_on,
    }
    if field_.kind is FieldKind.BOOL:
        return SearchParameter(
            kind=ParameterKind.CHOICE, choices=[False, True], schema_choices=[False, True], **common
        )
    if field_.kind is FieldKind.ENUM:
        options = list(field_.enum or [])
        weights = _weights(field_.option_weights, len(options))
        return SearchParameter(
            kind=ParameterKind.CHOICE,
            choices=options,
            weights=weights,
            schema_choices=list(options),
            **common,
        )
    low, high, log = default_range(field_, default)
    kind = ParameterKind.INT if field_.kind is FieldKind.INT else ParameterKind.FLOAT
    return SearchParameter(kind=kind, low=low, high=high, log=log, **common)


def _weights(weights: list[float] | None, count: int) -> list[float] | None:
    if not weights or len(weights) != count:
        return None
    if any((not isinstance(w, int | float)) or w < 0 for w in weights) or sum(weights) <= 0:
        return None
    return [float(w) for w in weights]


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
            other_value = _number(other)
            if other_value is None:
                return low, high
        else:
            other_value = float(operand)
        low, high = _apply_condition(op, other_value, low, high, parameter.kind is ParameterKind.INT)
        if low > high:
            source = parameter.depends_on if operand == "depends_on" else operand
            raise InfeasibleSample(
                f"{parameter.path} must be {op} {source} ({_fmt(other_value)}), which "
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
            grid[parameter.path] = _grid_points(parameter, points_per_range)
        return grid

    def base_values(self, document: SpecDocument) -> dict[str, Any]:
        """The searched keys' values in a spec (the baseline trial's parameters)."""
        return {p.path: document.get(p.path, p.default) for p in self.searched}


def _grid_points(parameter: SearchParameter, count: int) -> list[Any]:
    assert parameter.low is not None and parameter.high is not None
    count = max(2, count)
    low, high = parameter.low, parameter.high
    if parameter.log and low > 0:
        points = [
            math.exp(math.log(low) + (math.log(high) - math.log(low)) * i / (count - 1)) for i in range(count)
        ]
    else:
        points = [low + (high - low) * i / (count - 1) for i in range(count)]
    if parameter.kind is ParameterKind.INT:
        return sorted({round(v) for v in points})
    return [float(f"{v:.6g}") for v in points]


def _apply_condition(op: str, other: float, low: float, high: float, is_int: bool) -> tuple[float, float]:
    if op == ">":
        low = max(low, other + 1 if is_int else math.nextafter(other, math.inf))
    elif op == ">=":
        low = max(low, other)
    elif op == "<":
        high = min(high, other - 1 if is_int else math.nextafter(other, -math.inf))
    elif op == "<=":
        high = min(high, other)
    elif op == "==":
        low, high = max(low, other), min(high, other)
    return low, high


def parse_math_cond(text: str | None) -> tuple[str, str] | None:
    """``"> depends_on"`` -> (">", "depends_on"); ``"> 0.0"`` -> (">", "0.0"); None if not understood."""
    text = (text or "").strip()
    op = next((o for o in _COMPARISONS if text.startswith(o)), None)
    if op is None:
        return None
    operand = text[len(op) :].strip()
    if operand != "depends_on":
        try:
            float(operand)
        except ValueError:
            return None
    return op, operand


def parameter_problems(parameter: SearchParameter) -> list[str]:
    """What is wrong with one parameter's range or options (empty when it can be searched)."""
    path = parameter.path
    if parameter.kind is ParameterKind.CHOICE:
        return _choice_problems(parameter)
    low, high = parameter.low, parameter.high
    if not (_finite(low) and _finite(high)):
        return [f"{path}: give a finite lower and upper end"]
    assert low is not None and high is not None
    problems = []
    if low >= high:
        problems.append(f"{path}: the lower end ({_fmt(low)}) must be below the upper end ({_fmt(high)})")
    if _finite(parameter.schema_min) and low < float(parameter.schema_min or 0):
        problems.append(f"{path}: {_fmt(low)} is below the schema's minimum {_fmt(parameter.schema_min)}")
    if _finite(parameter.schema_max) and high > float(parameter.schema_max or 0):
        problems.append(f"{path}: {_fmt(high)} is above the schema's maximum {_fmt(parameter.schema_max)}")
    if parameter.log and low <= 0:
        problems.append(f"{path}: a log scale needs a lower end above 0, got {_fmt(low)}")
    if parameter.kind is ParameterKind.INT and not (float(low).is_integer() and float(high).is_integer()):
        problems.append(f"{path}: an integer range needs whole-number ends, got {_fmt(low)} and {_fmt(high)}")
    condition = parse_math_cond(parameter.math_cond)
    if condition and condition[1] != "depends_on" and not problems:
        cut_low, cut_high = _apply_condition(
            condition[0], float(condition[1]), low, high, parameter.kind is ParameterKind.INT
        )
        if cut_low > cut_high:
            problems.append(
                f"{path}: the schema requires {parameter.math_cond}, which no value in "
                f"{parameter.describe()} meets"
            )
    return problems


def _choice_problems(parameter: SearchParameter) -> list[str]:
    path = parameter.path
    problems = []
    if not parameter.choices:
        problems.append(f"{path}: choose at least one option")
    allowed = parameter.schema_choices
    unknown = [c for c in parameter.choices if allowed and c not in allowed]
    if unknown:
        problems.append(
            f"{path}: {', '.join(map(repr, unknown))} not among the schema's options "
            f"({', '.join(map(str, allowed))})"
        )
    if len(set(map(repr, parameter.choices))) != len(parameter.choices):
        problems.append(f"{path}: an option is listed twice")
    weights = parameter.weights
    if weights is not None:
        if len(weights) != len(parameter.choices):
            problems.append(f"{path}: {len(weights)} weights for {len(parameter.choices)} options")
        elif any(w < 0 for w in weights) or sum(weights) <= 0:
            problems.append(f"{path}: option weights must be 0 or more and not all 0")
    return problems


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
