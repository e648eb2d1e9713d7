"""One searched spec key: its kind, range or options, the schema's limits, and what is wrong with it.

Where the schema leaves a bound open (TAO writes ``Infinity``), the default range is derived from
the field's default value (``default_range``); ``math_cond`` such as ``"> 0.0"`` or
``"> depends_on"`` narrows the range when values are drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from app.core.skills.fields import Field, FieldKind

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
        return f"[{format_value(self.low)}, {format_value(self.high)}]{scale}"


def format_value(value: float | None) -> str:
    """A number for messages: whole numbers without a decimal point, others with 6 digits."""
    if value is None:
        return "?"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def as_number(value: Any) -> float | None:
    """A finite int or float as a float, else None (booleans are not numbers here)."""
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
    d = as_number(default)
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


def grid_points(parameter: SearchParameter, count: int) -> list[Any]:
    """``count`` evenly spaced values of a range (on a log scale when the parameter is log)."""
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


def apply_condition(op: str, other: float, low: float, high: float, is_int: bool) -> tuple[float, float]:
    """The part of [low, high] where ``value <op> other`` holds (strict bounds step to the next value)."""
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
    fmt = format_value
    if low >= high:
        problems.append(f"{path}: the lower end ({fmt(low)}) must be below the upper end ({fmt(high)})")
    if _finite(parameter.schema_min) and low < float(parameter.schema_min or 0):
        problems.append(f"{path}: {fmt(low)} is below the schema's minimum {fmt(parameter.schema_min)}")
    if _finite(parameter.schema_max) and high > float(parameter.schema_max or 0):
        problems.append(f"{path}: {fmt(high)} is above the schema's maximum {fmt(parameter.schema_max)}")
    if parameter.log and low <= 0:
        problems.append(f"{path}: a log scale needs a lower end above 0, got {fmt(low)}")
    if parameter.kind is ParameterKind.INT and not (float(low).is_integer() and float(high).is_integer()):
        problems.append(f"{path}: an integer range needs whole-number ends, got {fmt(low)} and {fmt(high)}")
    condition = parse_math_cond(parameter.math_cond)
    if condition and condition[1] != "depends_on" and not problems:
        cut_low, cut_high = apply_condition(
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
