"""A study as the user sees it: the record plus one row per trial, the best trial and the baseline.

Read from the database only (Optuna's tables and the study record), so any process can show a
study while another one runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from app.core.automl.engine import BASELINE_ATTR, load_study, open_storage
from app.core.automl.study import StudyRecord, StudyStore

TRIAL_STATES = ("waiting", "running", "complete", "pruned", "failed")
_STATE_NAMES = {
    "WAITING": "waiting",
    "RUNNING": "running",
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
}


@dataclass
class TrialRow:
    """One trial: its state, parameters, metric, job, GPUs, times and what happened to it."""

    number: int
    state: str
    params: dict[str, Any]
    value: float | None = None
    intermediate: dict[int, float] = field(default_factory=dict)
    job_id: str = ""
    gpus: list[int] = field(default_factory=list)
    baseline: bool = False
    started: float | None = None
    finished: float | None = None
    note: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to now while it runs)."""
        if self.started is None:
            return None
        import time

        return max(0.0, (self.finished if self.finished is not None else time.time()) - self.started)

    @property
    def last_value(self) -> float | None:
        """The final value, else the latest intermediate one."""
        if self.value is not None:
            return self.value
        if self.intermediate:
            return self.intermediate[max(self.intermediate)]
        return None

    @property
    def counted(self) -> bool:
        """False for a trial that was queued again after an interruption (it never ran)."""
        return not self.attrs.get("requeued")


@dataclass
class StudySnapshot:
    """A study's record and trials at one moment."""

    record: StudyRecord
    trials: list[TrialRow]

    @property
    def direction(self) -> str:
        """``minimize`` or ``maximize``."""
        return self.record.config.direction

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` beats ``b`` in the study's direction."""
        return a < b if self.direction == "minimize" else a > b

    @property
    def completed(self) -> list[TrialRow]:
        """Trials that finished with a metric value."""
        return [
            t for t in self.trials if t.state == "complete" and t.value is not None and math.isfinite(t.value)
        ]

    @property
    def best(self) -> TrialRow | None:
        """The best completed trial (the baseline included)."""
        best: TrialRow | None = None
        for trial in self.completed:
            if best is None or self.better(trial.value or 0.0, best.value or 0.0):
                best = trial
        return best

    @property
    def baseline(self) -> TrialRow | None:
        """The trial run with the spec's own values, if the study has one."""
        return next((t for t in self.trials if t.baseline and t.counted), None)

    @property
    def counts(self) -> dict[str, int]:
        """How many trials are in each state (re-queued ones not counted)."""
        counts = dict.fromkeys(TRIAL_STATES, 0)
        for trial in self.trials:
            if trial.counted:
                counts[trial.state] = counts.get(trial.state, 0) + 1
        return counts

    @property
    def budget(self) -> int:
        """Trials the study runs in all (the baseline included)."""
        config = self.record.config
        return config.trials + (1 if config.baseline else 0)

    @property
    def done(self) -> int:
        """Trials that ended (complete, pruned or failed)."""
        counts = self.counts
        return counts["complete"] + counts["pruned"] + counts["failed"]


def trial_row(frozen: Any) -> TrialRow:
    """One Optuna ``FrozenTrial`` as a row."""
    attrs = dict(frozen.user_attrs)
    state = _STATE_NAMES.get(frozen.state.name, frozen.state.name.lower())
    note = str(attrs.get("failure") or attrs.get("pruned_because") or "")
    started = attrs.get("running_at")
    finished = frozen.datetime_complete.timestamp() if frozen.datetime_complete else None
    return TrialRow(
        number=frozen.number,
        state=state,
        params=dict(frozen.params),
        value=frozen.value if state == "complete" else None,
        intermediate={int(k): float(v) for k, v in frozen.intermediate_values.items()},
        job_id=str(attrs.get("job_id") or ""),
        gpus=list(attrs.get("gpus") or []),
        baseline=bool(attrs.get(BASELINE_ATTR)),
        started=float(started) if started is not None else None,
        finished=finished,
        note=note,
        attrs=attrs,
    )


def read_snapshot(studies: StudyStore, study_id: str) -> StudySnapshot:
    """The study as it is now (KeyError for an unknown study)."""
    record = studies.get(study_id)
    storage = open_storage(studies.path)
    try:
        study = load_study(record.id, storage)
    except KeyError:
        return StudySnapshot(record, [])
    return StudySnapshot(record, [trial_row(t) for t in study.get_trials(deepcopy=False)])


def parameter_importances(studies: StudyStore, study_id: str) -> dict[str, float]:
    """How much each searched parameter explains the metric (PED-ANOVA), or {} with too few trials."""
    record = studies.get(study_id)
    study = load_study(record.id, open_storage(studies.path))
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 3:
        return {}
    try:
        return dict(get_param_importances(study, evaluator=PedAnovaImportanceEvaluator()))
    except (ValueError, RuntimeError, ZeroDivisionError):
        return {}
