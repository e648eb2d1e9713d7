"""AutoML through the real path: studies of stand-in pose train jobs on the local Docker engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.cli import run_cli
from app.core.automl.scheduler import StudyScheduler
from app.core.automl.service import create_study, promote_best
from app.core.automl.snapshot import StudySnapshot, read_snapshot
from app.core.automl.study import StudyState, StudyStore
from app.core.hosts.settings import HostConfig
from app.core.jobs.manager import JobManager
from app.core.jobs.model import JobStatus
from app.core.jobs.store import JobStore
from app.core.skills import load_banks
from app.core.specs.document import SpecDocument
from tests.infra.automl import LR, pose_study_config, run_with_limit, set_epoch_seconds
from tests.infra.jobs import REPO, delete_all_jobs, needs_standin, pose_overrides, ssh_manager
from tests.standin.make_pose_data import PoseDataset

pytestmark = [pytest.mark.docker, pytest.mark.slow, needs_standin]


def _val_losses(results_dir: str) -> list[float]:
    """val_loss of every validation, straight from the job's status.json."""
    lines = Path(results_dir, "train", "status.json").read_text().splitlines()
    return [json.loads(line)["kpi"]["val_loss"] for line in lines if "Eval metrics generated" in line]


def _overlapping(manager: JobManager, job_ids: list[str]) -> bool:
    jobs = [manager.store.get(j) for j in job_ids]
    spans = [(j.started_at or 0.0, j.finished_at or time.time()) for j in jobs]
    return any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :])


def test_small_study_beats_the_baseline_and_promotes_the_best(
    manager: JobManager, pose_data: PoseDataset
) -> None:
    set_epoch_seconds(manager, 0.2)
    studies = StudyStore(manager.store)
    config = pose_study_config(manager, pose_data, trials=4, epochs=4, parallel=2)
    created = create_study(manager, studies, config)
    record = run_with_limit(StudyScheduler(manager, studies, created.record.id, poll_seconds=0.3), 100)
    assert record.state is StudyState.FINISHED, record.message

    snapshot = read_snapshot(studies, record.id)
    assert snapshot.counts["complete"] == 5, [(t.number, t.state, t.note) for t in snapshot.trials]
    baseline, best = snapshot.baseline, snapshot.best
    assert baseline is not None and best is not None
    assert baseline.params == {LR: 0.1}, "the baseline runs the template's learning rate"
    assert best.value is not None and baseline.value is not None
    assert best.value < baseline.value and not best.baseline
    for trial in snapshot.trials:
        job = manager.store.get(trial.job_id)
        assert job.study_id == record.id and job.extra["automl_trial"] == trial.number
        assert job.status is JobStatus.COMPLETED
        assert SpecDocument.from_yaml(job.spec_yaml).get(LR) == pytest.approx(trial.params[LR])
        losses = _val_losses(job.results_dir)
        assert list(trial.intermediate.values()) == pytest.approx(losses), "one report per validation"
        assert trial.value == pytest.approx(losses[-1])
    assert sorted(studies.job_ids(record.id)) == sorted(t.job_id for t in snapshot.trials)
    assert _overlapping(manager, [t.job_id for t in snapshot.trials]), "two trials ran at once"

    promoted = promote_best(manager, studies, record.id, epochs=5)
    assert promoted.parent_id == best.job_id and promoted.study_id is None
    promoted = manager.wait(promoted.id, poll_seconds=0.3, timeout=60)
    assert promoted.status is JobStatus.COMPLETED, manager.log(promoted.id).text(last=20)
    spec = SpecDocument.from_yaml(promoted.spec_yaml)
    assert spec.get(LR) == pytest.approx(best.params[LR]) and spec.get("train.num_epochs") == 5
    assert len(_val_losses(promoted.results_dir)) == 5


@pytest.mark.ssh
def test_a_study_on_an_ssh_host(ssh_host_config: HostConfig, pose_data: PoseDataset) -> None:
    manager = ssh_manager(ssh_host_config)
    try:
        studies = StudyStore(manager.store)
        host = ssh_host_config.name
        config = pose_study_config(manager, pose_data, trials=2, epochs=3, parallel=2, host=host)
        created = create_study(manager, studies, config)
        record = run_with_limit(StudyScheduler(manager, studies, created.record.id, poll_seconds=0.3), 120)
        assert record.state is StudyState.FINISHED, record.message
        snapshot = read_snapshot(studies, record.id)
        assert snapshot.counts["complete"] == 3, [(t.number, t.state, t.note) for t in snapshot.trials]
        for trial in snapshot.trials:
            job = manager.store.get(trial.job_id)
            assert job.host == host and job.status is JobStatus.COMPLETED
            losses = _val_losses(job.results_dir)
            assert list(trial.intermediate.values()) == pytest.approx(losses), "read over SFTP, one per epoch"
            assert trial.value == pytest.approx(losses[-1])
        values = [trial.value for trial in snapshot.trials if trial.value is not None]
        assert snapshot.best is not None and snapshot.best.value == min(values)
    finally:
        delete_all_jobs(manager)


def test_pruning_stops_the_trial_container(manager: JobManager, pose_data: PoseDataset) -> None:
    set_epoch_seconds(manager, 1.0)
    studies = StudyStore(manager.store)
    config = pose_study_config(
        manager,
        pose_data,
        trials=1,
        epochs=6,
        parallel=1,
        lr_range=(0.3, 0.6),
        extra_overrides=[f"{LR}=0.01"],
    )
    config.pruner, config.startup_trials = "median", 1
    created = create_study(manager, studies, config)
    record = run_with_limit(StudyScheduler(manager, studies, created.record.id, poll_seconds=0.3), 90)
    assert record.state is StudyState.FINISHED, record.message
    snapshot = read_snapshot(studies, record.id)
    baseline, trial = snapshot.trials
    assert baseline.baseline and baseline.state == "complete"
    assert trial.state == "pruned" and "pruned" in trial.note
    job = manager.store.get(trial.job_id)
    assert job.status is JobStatus.CANCELLED
    container = manager.session("local").docker.containers.get(job.container_id)
    assert container.status == "exited", "the pruned trial's container was stopped"
    assert 1 <= len(_val_losses(job.results_dir)) < 6, "stopped before its last epoch"


def _cli_study(manager: JobManager, data: PoseDataset) -> list[str]:
    sets = [f"--set={item}" for item in pose_overrides(data, 4)]
    return [
        "automl",
        "start",
        "pose-classification",
        "--host",
        "local",
        *sets,
        "--only",
        LR,
        "--search",
        f"{LR}=1e-4:0.3:log",
        "--trials",
        "4",
        "--parallel",
        "2",
        "--seed",
        "11",
        "--pruner",
        "none",
        "--poll",
        "0.3",
    ]


def _start_cli_study(manager: JobManager, data: PoseDataset) -> subprocess.Popen[str]:
    """``taodesk automl start`` of `_cli_study` in another process (its output piped, as text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "app", *_cli_study(manager, data)],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(
    studies: StudyStore,
    condition: Callable[[StudySnapshot], bool],
    process: subprocess.Popen[str],
    seconds: float,
) -> StudySnapshot:
    """Poll the study run by ``process`` until ``condition`` holds (fails at once if the process ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the study process ended early:\n{process.communicate()[0]}")
        records = studies.all()
        if records:
            snapshot = read_snapshot(studies, records[0].id)
            if condition(snapshot):
                return snapshot
        time.sleep(0.2)
    raise AssertionError("the study did not get there in time")


def test_study_survives_the_app_being_killed(manager: JobManager, pose_data: PoseDataset) -> None:
    set_epoch_seconds(manager, 1.0)
    studies = StudyStore(manager.store)
    process = _start_cli_study(manager, pose_data)
    try:
        _wait_for(studies, lambda s: s.counts["complete"] >= 1 and s.counts["running"] == 2, process, 60)
    finally:
        process.kill()
        output = process.communicate(timeout=30)[0]
    killed = read_snapshot(studies, studies.all()[0].id)
    started = {
        t.number: t.job_id
        for t in killed.trials
        if t.state == "running" and t.job_id and manager.store.get(t.job_id).started_at is not None
    }
    assert started, output

    restarted = JobManager(JobStore(), load_banks([REPO / "skills"]), manager.hosts)
    try:
        study_id = killed.record.id
        scheduler = StudyScheduler(restarted, StudyStore(restarted.store), study_id, poll_seconds=0.3)
        record = run_with_limit(scheduler, 90)
    finally:
        restarted.close()
    assert record.state is StudyState.FINISHED, record.message
    final = read_snapshot(studies, study_id)
    counted = [t for t in final.trials if t.counted]
    assert [t.state for t in counted] == ["complete"] * 5, [(t.number, t.state, t.note) for t in final.trials]
    for number, job_id in started.items():
        trial = final.trials[number]
        assert trial.job_id == job_id and trial.state == "complete", (
            "a trial running at the crash kept its job"
        )
    for trial in final.trials:
        if not trial.counted:  # cut short before it ran: its values (if drawn yet) ran once later
            assert "interrupted" in trial.note
            assert not trial.params or [t.params for t in counted].count(trial.params) == 1, trial
    assert sorted(studies.job_ids(study_id)) == sorted(t.job_id for t in final.trials if t.job_id)
    values = [t.params[LR] for t in counted]
    assert len(set(values)) == len(values), "no configuration was drawn twice"


def test_bad_search_space_edit_gives_a_clear_message(
    manager: JobManager, pose_data: PoseDataset, capsys: pytest.CaptureFixture[str]
) -> None:
    command = _cli_study(manager, pose_data)
    command += [
        "--search",
        "model.dropout=0.2:1.5",
        "--search",
        "train.gpu_ids=0:1",
        "--search",
        f"{LR}=0:0.1",
    ]
    assert run_cli(command) == 2
    error = capsys.readouterr().err
    assert "model.dropout: 1.5 is above the schema's maximum 1" in error
    assert "train.gpu_ids: not an AutoML parameter" in error
    assert f"{LR}: a log scale needs a lower end above 0" in error
    assert StudyStore(manager.store).all() == [], "nothing was created"


def test_status_and_stop_from_another_process(
    manager: JobManager, pose_data: PoseDataset, capsys: pytest.CaptureFixture[str]
) -> None:
    set_epoch_seconds(manager, 1.0)
    studies = StudyStore(manager.store)
    process = _start_cli_study(manager, pose_data)
    try:
        running = _wait_for(studies, lambda s: s.counts["running"] == 2, process, 60)
        study_id = running.record.id
        assert run_cli(["automl", "status", study_id]) == 0
        status = capsys.readouterr().out
        assert "state     running, run by" in status and "\trunning\t" in status
        assert run_cli(["automl", "stop", study_id]) == 0
        assert "stop requested" in capsys.readouterr().out
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"Study {study_id} stopped" in output
    final = read_snapshot(studies, study_id)
    assert final.record.state is StudyState.STOPPED
    assert final.counts["running"] == 0 and final.done < final.budget, "no new trial after the stop"
    for number in (t.number for t in running.trials if t.state == "running"):
        assert final.trials[number].state == "complete", "running trials finished"
    assert run_cli(["automl", "best", study_id]) == 0
    assert "Best: trial" in capsys.readouterr().out
