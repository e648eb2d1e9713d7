"""Helpers for AutoML tests: a small pose study on the stand-in image, and running it with a time limit."""

from __future__ import annotations

import threading

from app.core.automl.scheduler import StudyScheduler
from app.core.automl.service import default_config
from app.core.automl.space_edits import search_only, set_range
from app.core.automl.study import StudyConfig, StudyRecord
from app.core.jobs.manager import JobManager
from app.core.specs.service import render_spec
from tests.infra.jobs import pose_overrides
from tests.standin.make_pose_data import PoseDataset

POSE = "tao-train-pose-classification"
LR = "train.optim.lr"


def pose_study_config(
    manager: JobManager,
    data: PoseDataset,
    *,
    trials: int = 4,
    epochs: int = 4,
    parallel: int = 2,
    seed: int = 7,
    lr_range: tuple[float, float] = (1e-4, 0.3),
    extra_overrides: list[str] | None = None,
    host: str = "local",
) -> StudyConfig:
    """A study of the pose train action over the learning rate only (log scale), seed fixed."""
    skill = manager.bank.skill(POSE)
    spec = render_spec(skill, "train", overrides=pose_overrides(data, epochs) + list(extra_overrides or []))
    config = default_config(skill, host, spec, trials=trials)
    search_only(config.space, [LR])
    set_range(config.space, LR, lr_range[0], lr_range[1], log=True)
    config.parallel = parallel
    config.seed = seed
    config.startup_trials = 3
    return config


def set_epoch_seconds(manager: JobManager, seconds: float) -> None:
    """Slow the stand-in's epochs down on the 'local' host so a running trial can be watched."""
    config = manager.hosts.get("local")
    config.extra_env["TAODESK_STANDIN_EPOCH_SECONDS"] = str(seconds)
    manager.hosts.put(config)


def run_with_limit(scheduler: StudyScheduler, seconds: float) -> StudyRecord:
    """Run a study in the foreground, giving up (and letting go of it) after ``seconds``."""
    halt = threading.Event()
    timer = threading.Timer(seconds, halt.set)
    timer.start()
    try:
        return scheduler.run(halt)
    finally:
        timer.cancel()
