"""The search space from real schemas: defaults, ranges, constraints, option weights and edits."""

from __future__ import annotations

import copy
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from app.core.automl.engine import EngineSettings, StudyEngine
from app.core.automl.space import (
    ParameterKind,
    SearchSpace,
    SearchSpaceError,
    build_search_space,
    check_paths,
    default_range,
)
from app.core.automl.space_edits import apply_edit, apply_edits, search_only, set_choices, set_range
from app.core.skills import Skill, load_banks
from app.core.specs.service import default_spec
from tests.infra.bundles import MINIMAL_SCHEMA, write_bundle

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def pose() -> Skill:
    return load_banks([REPO / "skills"]).skill("tao-train-pose-classification")


def _toy(tmp_path: Path, disabled: tuple[str, ...] = (), **changes: dict[str, object]) -> Skill:
    """A bundle whose train fields are changed as given (name under train -> extra schema keys)."""
    schema = copy.deepcopy(MINIMAL_SCHEMA)
    schema["automl_disabled_parameters"] = [*schema["automl_disabled_parameters"], *disabled]
    train = schema["properties"]["train"]["properties"]
    for name, extra in changes.items():
        train[name].update(extra)
    write_bundle(tmp_path, schema=schema)
    return load_banks([tmp_path]).skill("tao-train-toy")


def _draws(skill: Skill, space: SearchSpace, algorithm: str, count: int) -> list[dict[str, Any]]:
    settings = EngineSettings(algorithm=algorithm, pruner="none", seed=3, startup_trials=count)
    import optuna

    engine = StudyEngine(
        "t", space, settings, optuna.storages.InMemoryStorage(), default_spec(skill, "train")
    )
    draws = []
    for _ in range(count):
        proposal = engine.propose()
        draws.append(proposal.values)
        if not proposal.infeasible:
            engine.complete(proposal.number, 0.0)
    return draws


def test_pose_space_is_the_schemas_default_parameters(pose: Skill) -> None:
    space = build_search_space(pose, "train", default_spec(pose, "train"))
    action = pose.action("train")
    assert {p.path for p in space.searched} == set(action.automl_default_parameters)
    assert not {p.path for p in space.parameters} & set(action.automl_disabled_parameters)
    by_path = {p.path: p for p in space.parameters}
    dropout = by_path["model.dropout"]
    assert (dropout.low, dropout.high, dropout.log) == (0.0, 1.0, False), "finite schema bounds are used"
    lr = by_path["train.optim.lr"]
    assert (lr.low, lr.high, lr.log, lr.default) == (pytest.approx(1e-3), 1.0, True, 0.1)
    decay = by_path["train.optim.weight_decay"]
    assert (decay.low, decay.high, decay.log) == (pytest.approx(1e-6), pytest.approx(1e-3), True)
    patience = by_path["train.optim.patience"]
    assert (patience.kind, patience.low, patience.high) == (ParameterKind.INT, 1, 10)
    assert by_path["train.grad_clip"].low == 0.0 and not by_path["train.grad_clip"].log
    space.check()


def test_open_bounds_use_the_default_value_and_stay_inside_the_schema(pose: Skill) -> None:
    root = pose.action("train").root
    field = root.find("train.optim.momentum") if root is not None else None
    assert field is not None
    low, high, log = default_range(field, 0.9)
    assert (low, high, log) == (pytest.approx(0.009), 1.0, True), "fractions stay at or below 1"
    assert default_range(field, 5.0) == (pytest.approx(0.05), 50.0, True)


def test_sparse4d_searches_its_learning_rate_around_the_template() -> None:
    sparse = load_banks([REPO / "skills"]).skill("tao-train-sparse4d")
    space = build_search_space(sparse)
    (lr,) = space.searched
    assert lr.path == "train.optim.lr" and lr.log
    assert (lr.low, lr.high) == (pytest.approx(5e-7), pytest.approx(5e-4))


def test_edits_narrow_and_widen_within_the_schema_and_refuse_the_rest(pose: Skill) -> None:
    space = build_search_space(pose)
    set_range(space, "train.optim.lr", 1e-5, 0.5)
    assert space.parameter("train.optim.lr").describe() == "[1e-05, 0.5] log"
    apply_edit(space, "model.dropout=0.1:0.6")
    apply_edit(space, "~train.grad_clip")
    assert not space.parameter("train.grad_clip").searched
    with pytest.raises(SearchSpaceError) as raised:
        apply_edits(
            space,
            [
                "model.dropout=0.2:1.5",
                "train.optim.lr=0:0.1",
                "train.optim.patience=2.5:4",
                "train.optim.momentum=0.9:0.1",
                "train.gpu_ids=0:1",
                "model.dropout=low:high",
            ],
        )
    problems = raised.value.problems
    assert "model.dropout: 1.5 is above the schema's maximum 1" in problems
    assert "train.optim.lr: a log scale needs a lower end above 0, got 0" in problems
    assert any(
        p.startswith("train.optim.patience: an integer range needs whole-number ends") for p in problems
    )
    assert "train.optim.momentum: the lower end (0.9) must be below the upper end (0.1)" in problems
    assert any(p.startswith("train.gpu_ids: not an AutoML parameter") for p in problems)
    assert any("must be numbers" in p for p in problems)
    assert space.parameter("model.dropout").describe() == "[0.1, 0.6]", "a refused edit changes nothing"
    search_only(space, [])
    with pytest.raises(SearchSpaceError, match="nothing to search"):
        space.check()


def test_disabled_parameters_are_never_searched(tmp_path: Path) -> None:
    skill = _toy(
        tmp_path,
        disabled=("train.checkpoint_interval",),
        checkpoint_interval={"automl_enabled": True},
        num_epochs={"automl_enabled": True},
    )
    space = build_search_space(skill)
    assert [p.path for p in space.parameters] == ["train.num_epochs", "train.lr"]
    with pytest.raises(SearchSpaceError, match="listed in automl_disabled_parameters"):
        check_paths(skill, "train", ["train.checkpoint_interval"])


def test_math_cond_against_another_parameter_holds_in_every_draw(tmp_path: Path) -> None:
    skill = _toy(tmp_path, warmup={"automl_enabled": True, "minimum": 0.0, "maximum": 1.0})
    space = build_search_space(skill, include=["train.lr", "train.warmup"])
    assert [p.path for p in space.draw_order()] == ["train.lr", "train.warmup"], "lr is drawn first"
    draws = _draws(skill, space, "random", 60)
    assert all(d["train.warmup"] < d["train.lr"] for d in draws)
    assert len({d["train.warmup"] for d in draws}) == 60


def test_math_cond_with_a_constant_narrows_the_range_or_is_refused(tmp_path: Path) -> None:
    skill = _toy(tmp_path, lr={"math_cond": "> 0.5"})
    space = build_search_space(skill)
    draws = _draws(skill, space, "random", 40)
    assert min(d["train.lr"] for d in draws) > 0.5
    with pytest.raises(SearchSpaceError, match=r"requires > 0.5, which no value in \[0.1, 0.3\] meets"):
        apply_edit(space, "train.lr=0.1:0.3")


def test_option_weights_lead_the_draws_until_results_come_in(tmp_path: Path) -> None:
    skill = _toy(tmp_path, optimizer={"automl_enabled": True, "option_weights": [0.1, 0.9]})
    space = build_search_space(skill, include=["train.optimizer"])
    assert space.parameter("train.optimizer").weights == [0.1, 0.9]
    counts = Counter(d["train.optimizer"] for d in _draws(skill, space, "random", 300))
    assert 0.8 < counts["adam"] / 300 < 0.97
    set_choices(space, "train.optimizer", ["adam"])
    assert space.parameter("train.optimizer").weights == [0.9], "weights follow the chosen options"
    with pytest.raises(SearchSpaceError, match="'rmsprop' not among the schema's options"):
        apply_edit(space, "train.optimizer=sgd,rmsprop")


def test_grid_and_round_trip(pose: Skill) -> None:
    space = build_search_space(pose)
    search_only(space, ["train.optim.lr", "train.optim.patience"])
    grid = space.grid(3)
    assert grid["train.optim.lr"] == pytest.approx([1e-3, math.sqrt(1e-3), 1.0])
    assert grid["train.optim.patience"] == [1, 6, 10]
    again = SearchSpace.from_dict(space.to_dict())
    assert again.to_dict() == space.to_dict()
    assert [p.path for p in again.searched] == ["train.optim.lr", "train.optim.patience"]
