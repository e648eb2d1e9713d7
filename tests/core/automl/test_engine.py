"""The Optuna engine on the app's SQLite file: baseline first, previews, resuming, pruning, algorithms."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from app.core.automl.engine import (
    EngineSettings,
    StudyEngine,
    algorithm_problem,
    exact_preview_count,
    open_storage,
    preview_proposals,
)
from app.core.automl.space import build_search_space
from app.core.automl.space_edits import search_only
from app.core.jobs.store import JobStore
from app.core.skills import Skill, load_banks
from app.core.specs.service import default_spec

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def pose() -> Skill:
    return load_banks([REPO / "skills"]).skill("tao-train-pose-classification")


def _engine(pose: Skill, database: Path, name: str, **settings: Any) -> StudyEngine:
    space = build_search_space(pose)
    search_only(space, ["train.optim.lr", "model.dropout"])
    return StudyEngine(
        name,
        space,
        EngineSettings(**settings),
        open_storage(database),
        default_spec(pose, "train"),
    )


def test_optuna_tables_live_in_the_job_store_file(pose: Skill, tmp_path: Path) -> None:
    store = JobStore(tmp_path / "taodesk.sqlite3")
    engine = _engine(pose, store.path, "s1", seed=1)
    engine.enqueue_baseline()
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(store.path).execute("SELECT name FROM sqlite_master")}
    assert {"jobs", "automl_studies", "studies", "trials", "trial_params"} <= tables
    store.close()


def test_baseline_first_then_the_preview_is_what_the_study_draws(pose: Skill, tmp_path: Path) -> None:
    settings = {"algorithm": "tpe", "seed": 5, "startup_trials": 4}
    engine = _engine(pose, tmp_path / "db.sqlite3", "s2", **settings)
    engine.enqueue_baseline()
    preview = preview_proposals(engine.space, engine.settings, engine.base_spec, 4)
    drawn = [engine.propose() for _ in range(4)]
    assert drawn[0].baseline and drawn[0].values == {"train.optim.lr": 0.1, "model.dropout": 0.5}
    assert [p.values for p in preview] == [p.values for p in drawn]
    assert exact_preview_count(engine.settings, 11) == 4
    assert exact_preview_count(EngineSettings(algorithm="random"), 11) == 11


def test_a_resumed_study_does_not_draw_the_same_values_again(pose: Skill, tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    first = _engine(pose, database, "s3", algorithm="random", seed=9)
    before = [first.propose().values for _ in range(3)]
    again = _engine(pose, database, "s3", algorithm="random", seed=9)
    after = [again.propose().values for _ in range(3)]
    assert not any(values in before for values in after)
    assert [t.number for t in again.trials()] == [0, 1, 2, 3, 4, 5]


def test_median_pruning_and_states_are_recorded(pose: Skill, tmp_path: Path) -> None:
    engine = _engine(
        pose, tmp_path / "db.sqlite3", "s4", algorithm="random", pruner="median", startup_trials=2
    )
    for curve in ([1.0, 0.8, 0.6], [1.1, 0.9, 0.7]):
        proposal = engine.propose()
        for step, value in enumerate(curve):
            assert not engine.report(proposal.number, step, value)
        engine.complete(proposal.number, curve[-1])
    poor = engine.propose()
    assert engine.report(poor.number, 0, 5.0), "worse than the median at the same step"
    assert not engine.report(poor.number, 0, 5.0), "a step is reported once"
    engine.prune(poor.number, "pruned: poor")
    failed = engine.propose()
    engine.fail(failed.number, "job failed: exit code 1")
    states = [t.state.name for t in engine.trials()]
    assert states == ["COMPLETE", "COMPLETE", "PRUNED", "FAIL"]
    assert engine.trials()[3].user_attrs["failure"] == "job failed: exit code 1"


def test_gaussian_process_says_what_it_needs() -> None:
    problem = algorithm_problem("gp")
    has_deps = all(importlib.util.find_spec(m) for m in ("torch", "scipy"))
    assert (problem is None) == has_deps
    if problem:
        assert "torch" in problem or "scipy" in problem
    assert algorithm_problem("bohb") is not None and "choose from" in str(algorithm_problem("bohb"))


@pytest.mark.parametrize("pruner", ["successive_halving", "hyperband", "none"])
def test_every_pruner_takes_reports(pose: Skill, tmp_path: Path, pruner: str) -> None:
    engine = _engine(pose, tmp_path / "db.sqlite3", f"p-{pruner}", algorithm="random", pruner=pruner)
    for curve in ([1.0, 0.8, 0.6, 0.5], [1.1, 0.9, 0.7, 0.6], [0.9, 0.7, 0.5, 0.4]):
        proposal = engine.propose()
        for step, value in enumerate(curve):
            engine.report(proposal.number, step, value)
        engine.complete(proposal.number, curve[-1])
    poor = engine.propose()
    decisions = [engine.report(poor.number, step, 9.0) for step in range(4)]
    assert any(decisions) == (pruner != "none"), decisions


@pytest.mark.skipif(algorithm_problem("gp") is not None, reason="PyTorch and SciPy are not installed")
def test_gaussian_process_search_moves_towards_the_optimum(pose: Skill, tmp_path: Path) -> None:
    """A real GP study (Optuna's GPSampler) on a known objective: after its start-up trials, its draws
    concentrate near the optimum of lr (log scale) more than the start-up draws did."""
    import math

    engine = _engine(pose, tmp_path / "db.sqlite3", "gp", algorithm="gp", seed=3, startup_trials=4)
    best_log_lr = math.log10(0.01)

    def objective(values: dict[str, Any]) -> float:
        lr_error = math.log10(values["train.optim.lr"]) - best_log_lr
        return lr_error**2 + (values["model.dropout"] - 0.3) ** 2

    distances = []
    for _ in range(14):
        proposal = engine.propose()
        assert not proposal.infeasible, proposal.infeasible
        score = objective(proposal.values)
        distances.append(score)
        engine.complete(proposal.number, score)
    startup, guided = distances[:4], distances[4:]
    assert min(guided) < min(startup), (startup, guided)
    assert sorted(guided)[len(guided) // 2] < sorted(startup)[len(startup) // 2]
