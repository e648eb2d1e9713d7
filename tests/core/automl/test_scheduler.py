"""The study loop with a stand-in job manager (no Docker): GPU groups, controls, failures, recovery."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from app.core.automl.scheduler import StudyScheduler
from app.core.automl.service import create_study, default_config
from app.core.automl.snapshot import read_snapshot
from app.core.automl.space_edits import search_only
from app.core.automl.study import StudyConfig, StudyRequest, StudyState, StudyStore
from app.core.jobs.manager import LaunchRequest
from app.core.jobs.model import Job, JobStatus, new_job_id
from app.core.jobs.plan import LaunchError
from app.core.jobs.store import JobStore
from app.core.skills import SkillBank, load_banks
from app.core.specs.service import default_spec
from app.core.telemetry.files import LocalFiles

REPO = Path(__file__).resolve().parents[3]


class FakeJobs:
    """Records launches as running jobs in a real store; the test writes their status.json and ends them."""

    def __init__(self, store: JobStore, bank: SkillBank, root: Path) -> None:
        self.store, self.bank, self.root = store, bank, root
        self.launch_error: str | None = None
        self.cancelled: list[str] = []

    def launch(self, request: LaunchRequest) -> Job:
        if self.launch_error:
            raise LaunchError(self.launch_error)
        job_id = new_job_id("train")
        job = Job(
            id=job_id,
            skill=request.skill,
            action="train",
            host=request.host,
            spec_yaml=request.spec.to_yaml(),
            job_dir=str(self.root / job_id),
            gpus=list(request.gpus),
            study_id=request.study_id,
            status=JobStatus.RUNNING,
            started_at=time.time(),
        )
        return self.store.add(job)

    def refresh(self, job_id: str) -> Job:
        return self.store.get(job_id)

    def cancel(self, job_id: str, grace_seconds: int = 10) -> Job:
        self.cancelled.append(job_id)
        return self.store.update(job_id, status=JobStatus.CANCELLED, finished_at=time.time())

    def session(self, host: str) -> LocalFiles:
        return LocalFiles()

    def drop_session(self, host: str) -> None:
        pass

    def finish(self, job_id: str, values: list[float], key: str = "val_loss") -> None:
        folder = Path(self.store.get(job_id).results_dir) / "train"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({"epoch": e, "status": "RUNNING", "kpi": {key: v}}) for e, v in enumerate(values)]
        (folder / "status.json").write_text("\n".join(lines) + "\n")
        self.store.update(job_id, status=JobStatus.COMPLETED, exit_code=0, finished_at=time.time())

    def fail(self, job_id: str, hint: str) -> None:
        self.store.update(
            job_id, status=JobStatus.FAILED, exit_code=1, error_hint=hint, finished_at=time.time()
        )


@pytest.fixture
def setup(tmp_path: Path) -> Any:
    bank = load_banks([REPO / "skills"])
    store = JobStore(tmp_path / "taodesk.sqlite3")
    jobs = FakeJobs(store, bank, tmp_path / "workspace")
    yield jobs, StudyStore(store)
    store.close()


def _config(jobs: FakeJobs, **changes: Any) -> StudyConfig:
    skill = jobs.bank.skill("tao-train-pose-classification")
    config = default_config(skill, "local", default_spec(skill, "train"), trials=4)
    search_only(config.space, ["train.optim.lr"])
    config.seed, config.pruner = 1, "none"
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def _scheduler(jobs: FakeJobs, studies: StudyStore, config: StudyConfig) -> StudyScheduler:
    record = create_study(jobs, studies, config).record  # type: ignore[arg-type]
    scheduler = StudyScheduler(jobs, studies, record.id, poll_seconds=0)  # type: ignore[arg-type]
    scheduler.open()
    return scheduler


def _running_gpus(jobs: FakeJobs) -> list[list[int]]:
    return [j.gpus for j in jobs.store.all(status=JobStatus.RUNNING) if j.study_id]


def test_trials_take_disjoint_gpu_groups_and_skip_busy_gpus(setup: Any) -> None:
    jobs, studies = setup
    other = jobs.launch(
        LaunchRequest(
            "s",
            "train",
            "local",
            default_spec(jobs.bank.skill("tao-train-pose-classification"), "train"),
            gpus=[1],
        )
    )
    scheduler = _scheduler(jobs, studies, _config(jobs, gpus=[0, 1, 2, 3], gpus_per_trial=2))
    assert scheduler.step().launched == [0]
    assert _running_gpus(jobs) == [[2, 3]], "GPU 1 is used by another job"
    jobs.finish(other.id, [1.0])
    assert len(scheduler.step().launched) == 1
    assert sorted(map(sorted, _running_gpus(jobs))) == [[0, 1], [2, 3]]
    assert scheduler.step().launched == [], "no free group: trials never share a GPU"
    for trial in list(scheduler.running.values()):
        jobs.finish(trial.job_id, [0.5, 0.4])
    report = scheduler.step()
    assert sorted(report.finished) == [0, 1] and len(report.launched) == 2


def test_cpu_host_runs_the_configured_number_in_parallel_then_finishes(setup: Any) -> None:
    jobs, studies = setup
    scheduler = _scheduler(jobs, studies, _config(jobs, parallel=3, trials=2))
    assert scheduler.step().launched == [0, 1, 2] and all(g == [] for g in _running_gpus(jobs))
    for value, trial in zip((0.9, 0.3, 0.6), list(scheduler.running.values()), strict=True):
        jobs.finish(trial.job_id, [value + 0.1, value])
    scheduler.step()
    assert scheduler.record.state is StudyState.FINISHED
    snapshot = read_snapshot(studies, scheduler.study_id)
    assert snapshot.best is not None and snapshot.best.value == 0.3
    assert snapshot.baseline is not None and snapshot.baseline.value == 0.9


def test_pause_resume_stop_and_cancel(setup: Any) -> None:
    jobs, studies = setup
    scheduler = _scheduler(jobs, studies, _config(jobs, trials=5))
    scheduler.step()
    first = scheduler.running[0].job_id
    studies.request(scheduler.study_id, StudyRequest.PAUSE)
    jobs.finish(first, [1.0])
    assert scheduler.step().launched == [] and scheduler.record.state is StudyState.PAUSED
    studies.request(scheduler.study_id, StudyRequest.RESUME)
    assert scheduler.step().launched == [1]
    studies.request(scheduler.study_id, StudyRequest.CANCEL)
    scheduler.step()
    assert jobs.cancelled == [scheduler_job(studies, scheduler, 1)]
    assert scheduler.record.state is StudyState.CANCELLED
    trial = read_snapshot(studies, scheduler.study_id).trials[1]
    assert trial.state == "failed" and trial.note == "cancelled with the study"


def scheduler_job(studies: StudyStore, scheduler: StudyScheduler, number: int) -> str:
    return read_snapshot(studies, scheduler.study_id).trials[number].job_id


def test_stop_lets_running_trials_finish(setup: Any) -> None:
    jobs, studies = setup
    scheduler = _scheduler(jobs, studies, _config(jobs, parallel=2))
    scheduler.step()
    studies.request(scheduler.study_id, StudyRequest.STOP)
    scheduler.step()
    assert scheduler.record.state is StudyState.STOPPING and jobs.cancelled == []
    for trial in list(scheduler.running.values()):
        jobs.finish(trial.job_id, [0.5])
    scheduler.step()
    assert scheduler.record.state is StudyState.STOPPED
    assert read_snapshot(studies, scheduler.study_id).counts["complete"] == 2


def test_a_study_that_cannot_launch_fails_with_the_reason(setup: Any) -> None:
    jobs, studies = setup
    jobs.launch_error = "image 'tao:1' is not on host 'local'"
    scheduler = _scheduler(jobs, studies, _config(jobs))
    scheduler.step()
    assert scheduler.record.state is StudyState.FAILED
    assert "is not on host 'local'" in scheduler.record.message
    (trial,) = read_snapshot(studies, scheduler.study_id).trials[:1]
    assert trial.state == "failed" and trial.note.startswith("could not launch")


def test_a_metric_that_never_appears_fails_the_study(setup: Any) -> None:
    jobs, studies = setup
    scheduler = _scheduler(jobs, studies, _config(jobs, metric="val_losss"))
    scheduler.step()
    jobs.finish(scheduler.running[0].job_id, [0.5], key="val_loss")
    scheduler.step()
    assert scheduler.record.state is StudyState.FAILED
    assert "never reported 'val_losss'" in scheduler.record.message and "val_loss" in scheduler.record.message


def test_after_a_crash_running_trials_keep_their_jobs_and_unlaunched_ones_are_queued_again(
    setup: Any,
) -> None:
    jobs, studies = setup
    crashed = _scheduler(jobs, studies, _config(jobs, parallel=2, trials=6))
    crashed.step()
    kept = {n: t.job_id for n, t in crashed.running.items()}
    engine = crashed.engine
    assert engine is not None
    linked_later = engine.propose()  # its job got recorded, but the app died before linking it
    orphan = jobs.launch(LaunchRequest("s", "train", "local", engine.base_spec, study_id=crashed.study_id))
    never_launched = engine.propose()  # the app died before its job was created
    studies.update(crashed.study_id, heartbeat_at=time.time() - 3600)

    restarted = StudyScheduler(jobs, studies, crashed.study_id, poll_seconds=0)
    restarted.open()
    assert {n: t.job_id for n, t in restarted.running.items()} == {**kept, linked_later.number: orphan.id}
    trials = read_snapshot(studies, crashed.study_id).trials
    assert trials[never_launched.number].attrs.get("requeued")
    for trial in list(restarted.running.values()):
        jobs.finish(trial.job_id, [0.5])
    report = restarted.step()
    assert sorted(report.finished) == sorted([*kept, linked_later.number])
    relaunched = read_snapshot(studies, crashed.study_id).trials[report.launched[0]]
    assert relaunched.params == never_launched.values, "the interrupted trial's values run now, once"


def test_a_failing_baseline_stops_the_study_and_says_why(setup: Any) -> None:
    jobs, studies = setup
    scheduler = _scheduler(jobs, studies, _config(jobs, parallel=2))
    scheduler.step()
    jobs.fail(scheduler.running[0].job_id, "File system error: dataset.train_dataset.data_path not found")
    scheduler.step()
    assert scheduler.record.state is StudyState.STOPPING, "no new trial; the running one may finish"
    jobs.finish(scheduler.running[1].job_id, [0.5])
    scheduler.step()
    assert scheduler.record.state is StudyState.FAILED
    assert "baseline" in scheduler.record.message and "data_path not found" in scheduler.record.message
    assert read_snapshot(studies, scheduler.study_id).counts == {
        "waiting": 0,
        "running": 0,
        "complete": 1,
        "pruned": 0,
        "failed": 1,
    }


def test_grid_search_runs_each_point_once(setup: Any) -> None:
    jobs, studies = setup
    config = _config(jobs, algorithm="grid", grid_points=3, trials=10, baseline=False, parallel=3)
    created = create_study(jobs, studies, config)
    assert created.notes == ["the grid has 3 configurations; trials reduced from 10"]
    scheduler = StudyScheduler(jobs, studies, created.record.id, poll_seconds=0)
    scheduler.open()
    assert len(scheduler.step().launched) == 3
    for trial in list(scheduler.running.values()):
        jobs.finish(trial.job_id, [0.5])
    scheduler.step()
    assert scheduler.record.state is StudyState.FINISHED
    values = sorted(t.params["train.optim.lr"] for t in read_snapshot(studies, scheduler.study_id).trials)
    assert values == pytest.approx([1e-3, 10**-1.5, 1.0], rel=1e-3)


def test_each_skill_optimises_its_own_metric(setup: Any) -> None:
    jobs, _ = setup
    for name, metric in (
        ("tao-train-pose-classification", ("val_loss", "minimize")),
        ("tao-train-sparse4d", ("val_mAP", "maximize")),
    ):
        skill = jobs.bank.skill(name)
        config = default_config(skill, "local", default_spec(skill, "train"))
        assert (config.metric, config.direction) == metric
