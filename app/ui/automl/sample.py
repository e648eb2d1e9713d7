"""A sample study for opening the AutoML pages alone (``python -m app.ui.automl.study_view``).

The trials are drawn by the real engine and given made-up learning curves; no job is launched.
Everything lives in a temporary data folder.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
import time

from app.core.automl.engine import StudyEngine, open_storage
from app.core.automl.service import create_study, default_config
from app.core.automl.space_edits import search_only, set_range
from app.core.automl.study import StudyState, StudyStore
from app.core.jobs.store import JobStore
from app.core.skills import load_banks
from app.core.specs.service import default_spec
from app.paths import bundled_bank_dir
from app.ui.app_context import AppContext

POSE = "tao-train-pose-classification"


def _curve(lr: float, dropout: float, epochs: int, rng: random.Random) -> list[float]:
    """A loss curve that is best near lr 0.01 and overfits above 0.1 (as the stand-in does)."""
    distance = (math.log10(lr) + 2.0) ** 2
    final = 0.62 + 0.35 * distance + 0.2 * abs(dropout - 0.3) + rng.uniform(0, 0.04)
    start = final + 0.6
    return [final + (start - final) * math.exp(-1.2 * e) for e in range(epochs)]


def sample_context() -> AppContext:
    """An app context on a temporary data folder (unless one is set) with the bundled skills."""
    if "TAODESK_DATA_DIR" not in os.environ:
        base = tempfile.mkdtemp(prefix="taodesk-sample-")
        os.environ["TAODESK_DATA_DIR"] = base
        os.environ.setdefault("TAODESK_CONFIG_DIR", base)
    return AppContext(load_banks([bundled_bank_dir()]), JobStore())


def sample_context_and_study(trials: int = 14) -> tuple[AppContext, str]:
    """An app context on a temporary data folder, with one study of made-up results."""
    context = sample_context()
    bank = context.bank
    skill = bank.skill(POSE)
    config = default_config(skill, "local", default_spec(skill, "train"), trials=trials)
    search_only(config.space, ["train.optim.lr", "model.dropout", "train.optim.momentum"])
    set_range(config.space, "train.optim.lr", 1e-4, 0.3)
    config.pruner, config.seed, config.name = "median", 4, "sample lr sweep"
    studies = StudyStore(context.store)
    record = create_study(context.manager, studies, config).record
    engine = StudyEngine(
        record.id,
        config.space,
        config.engine_settings(),
        open_storage(studies.path),
        default_spec(skill, "train"),
    )
    rng = random.Random(4)
    for index in range(trials):
        proposal = engine.propose()
        values = proposal.values
        curve = _curve(values["train.optim.lr"], values["model.dropout"], 8, rng)
        engine.set_attrs(proposal.number, running_at=time.time() - 95 * (trials - index), gpus=[index % 2])
        for step, value in enumerate(curve):
            if engine.report(proposal.number, step, value) and step >= 2:
                engine.prune(proposal.number, "pruned: its intermediate values were poor")
                break
        else:
            if index == trials - 1:
                break  # the last one is still running
            engine.complete(proposal.number, curve[-1])
    studies.update(record.id, state=StudyState.RUNNING)
    return context, record.id
