"""Edits to a search space, as the dialog makes them and as the command line writes them.

Text form (``--search``): ``train.optim.lr=1e-4:0.3:log`` (a range, optionally on a log scale),
``train.optim.lr_scheduler=AutoReduce,MultiStep`` (options), ``model.dropout`` (search it with
its default range) and ``~model.dropout`` (keep it fixed). Every edit is checked against the
schema's bounds and options, and a bad one is refused with a message naming the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from app.core.automl.space import (
    ParameterKind,
    SearchParameter,
    SearchSpace,
    SearchSpaceError,
    parameter_problems,
)
from app.core.specs.document import load_yaml


def set_range(space: SearchSpace, path: str, low: float, high: float, log: bool | None = None) -> None:
    """Narrow or widen a numeric parameter (within the schema's bounds) and search it."""
    parameter = space.parameter(path)
    if parameter.kind is ParameterKind.CHOICE:
        raise SearchSpaceError([f"{path}: has options, not a range ({parameter.describe()})"])
    candidate = _copy(parameter, low=float(low), high=float(high), searched=True)
    if log is not None:
        candidate.log = log
    _commit(parameter, candidate)


def set_choices(
    space: SearchSpace, path: str, choices: list[Any], weights: list[float] | None = None
) -> None:
    """Pick the options a parameter takes (a subset of the schema's), with optional weights."""
    parameter = space.parameter(path)
    if parameter.kind is not ParameterKind.CHOICE:
        raise SearchSpaceError([f"{path}: is a {parameter.kind.value} range, not options"])
    if weights is None and parameter.weights is not None:
        previous = dict(zip(map(repr, parameter.choices), parameter.weights, strict=True))
        if all(repr(c) in previous for c in choices):
            weights = [previous[repr(c)] for c in choices]
    candidate = _copy(parameter, choices=list(choices), weights=weights, searched=True)
    _commit(parameter, candidate)


def set_searched(space: SearchSpace, path: str, searched: bool) -> None:
    """Search a parameter or keep it at the spec's value."""
    parameter = space.parameter(path)
    if searched:
        problems = parameter_problems(parameter)
        if problems:
            raise SearchSpaceError(problems)
    parameter.searched = searched


def search_only(space: SearchSpace, paths: Iterable[str]) -> None:
    """Search exactly these parameters."""
    wanted = list(paths)
    for path in wanted:
        space.parameter(path)
    for parameter in space.parameters:
        parameter.searched = parameter.path in wanted


def _copy(parameter: SearchParameter, **changes: Any) -> SearchParameter:
    data = parameter.to_dict()
    data.update(changes)
    data["schema_min"], data["schema_max"] = parameter.schema_min, parameter.schema_max
    return SearchParameter.from_dict(data)


def _commit(parameter: SearchParameter, candidate: SearchParameter) -> None:
    problems = parameter_problems(candidate)
    if problems:
        raise SearchSpaceError(problems)
    for name in ("low", "high", "log", "choices", "weights", "searched"):
        setattr(parameter, name, getattr(candidate, name))


def apply_edit(space: SearchSpace, text: str) -> None:
    """Apply one ``--search`` edit; SearchSpaceError says what was wrong with it."""
    raw = text.strip()
    if not raw:
        raise SearchSpaceError(["an empty --search edit"])
    if raw.startswith("~"):
        set_searched(space, raw[1:].strip(), False)
        return
    if "=" not in raw:
        set_searched(space, raw, True)
        return
    path, value = (part.strip() for part in raw.split("=", 1))
    parameter = space.parameter(path)
    if parameter.kind is ParameterKind.CHOICE:
        choices = [_typed(part) for part in value.split(",") if part.strip()]
        set_choices(space, path, choices)
        return
    parts = [part.strip() for part in value.split(":")]
    log = None
    if len(parts) == 3 and parts[2].lower() in ("log", "linear"):
        log = parts[2].lower() == "log"
        parts = parts[:2]
    if len(parts) != 2:
        raise SearchSpaceError([f"'{text}': a range is LOW:HIGH or LOW:HIGH:log, e.g. {path}=1e-4:0.3:log"])
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise SearchSpaceError([f"'{text}': {parts[0]!r} and {parts[1]!r} must be numbers"]) from None
    set_range(space, path, low, high, log)


def _typed(text: str) -> Any:
    try:
        return load_yaml(text.strip())
    except yaml.YAMLError:
        return text.strip()


def apply_edits(space: SearchSpace, edits: Iterable[str]) -> None:
    """Apply several edits, reporting every bad one at once."""
    problems: list[str] = []
    for edit in edits:
        try:
            apply_edit(space, edit)
        except SearchSpaceError as error:
            problems.extend(error.problems)
    if problems:
        raise SearchSpaceError(problems)
