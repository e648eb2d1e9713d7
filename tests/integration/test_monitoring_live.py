"""Live monitoring of real stand-in TAO jobs on Docker, locally and over SSH: the charts and the progress
bar move while the job runs, runs overlay, GPU/container plots, and the `scalars` / `status` commands."""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from app.cli import run_cli
from app.core.hosts.settings import HostConfig
from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.model import Job, JobStatus
from app.core.specs.service import render_spec
from app.core.telemetry.job_monitor import job_event_dir
from app.core.telemetry.smoothing import smooth_ema
from app.ui.app_context import AppContext
from app.ui.application import create_application
from app.ui.monitor.job_monitor_panel import JobMonitorPanel
from tests.infra.gui import show_widget
from tests.infra.jobs import SKILLS, STANDIN_IMAGE, local_host, needs_standin, pose_overrides
from tests.infra.tfevents_writer import tensorboard_scalars
from tests.standin.make_pose_data import PoseDataset
from tests.ui.conftest import save_screenshot

pytestmark = [pytest.mark.docker, needs_standin]
POSE = "tao-train-pose-classification"
LONG = 120_000
EPOCH_SECONDS = "1.5"


@pytest.fixture
def context(manager: JobManager, tmp_path: Path) -> Iterator[AppContext]:
    """The GUI's context over the test's job store, with a 'slow' local host (epochs take a while)."""
    create_application()
    slow = local_host(tmp_path / "workspace-slow", name="slow")
    slow.extra_env = {"TAODESK_STANDIN_EPOCH_SECONDS": EPOCH_SECONDS}
    manager.hosts.put(slow)
    app_context = AppContext(manager.bank, store=manager.store, hosts=manager.hosts)
    yield app_context
    app_context.close()


def launch(context: AppContext, host: str, data: PoseDataset, epochs: int, *extra: str) -> Job:
    skill = context.bank.skill(POSE)
    spec = render_spec(skill, "train", overrides=[*pose_overrides(data, epochs=epochs), *extra])
    return context.manager.launch(LaunchRequest(POSE, "train", host, spec))


def open_panel(qtbot: QtBot, context: AppContext, job: Job) -> JobMonitorPanel:
    return show_widget(qtbot, JobMonitorPanel(job, context.manager.session, jobs=context), 1500, 950)


def points(panel: JobMonitorPanel, tag: str, job_id: str) -> int:
    chart = panel.charts.chart(tag)
    return 0 if chart is None or job_id not in chart.job_ids else int(chart.raw_points(job_id)[0].size)


def status_of(context: AppContext, job_id: str) -> JobStatus:
    return context.store.get(job_id).status


def follow_live(qtbot: QtBot, context: AppContext, panel: JobMonitorPanel, job: Job) -> None:
    """While the job runs, the val_loss chart gains points and the progress bar moves forward."""
    fractions: list[float] = []

    def moved() -> bool:
        fraction = panel.progress_view.fraction
        if fraction is not None and status_of(context, job.id) is JobStatus.RUNNING:
            fractions.append(fraction)
        return len(set(fractions)) >= 2

    qtbot.waitUntil(lambda: points(panel, "val_loss", job.id) >= 2, timeout=LONG)
    assert status_of(context, job.id) is JobStatus.RUNNING, "two validation points drawn before the end"
    qtbot.waitUntil(moved, timeout=LONG)
    assert fractions == sorted(fractions) and 0 < fractions[0] < fractions[-1] < 1


def check_finished(qtbot: QtBot, context: AppContext, panel: JobMonitorPanel, job: Job, epochs: int) -> Job:
    """The final state matches the files the stand-in wrote, read by TensorBoard itself."""
    qtbot.waitUntil(lambda: status_of(context, job.id).is_final, timeout=LONG)
    finished = context.store.get(job.id)
    assert finished.status is JobStatus.COMPLETED, context.manager.log(job.id).text(last=30)
    qtbot.waitUntil(lambda: panel.watches[job.id].done and not panel.busy, timeout=LONG)
    reference = tensorboard_scalars(Path(job_event_dir(finished)))
    assert len(reference["val_loss"]) == epochs
    # new charts are built a few per repaint: wait for the repaint timer to have built them all
    qtbot.waitUntil(lambda: all(panel.charts.chart(tag) is not None for tag in reference), timeout=LONG)
    panel.charts.flush()
    for tag, events in reference.items():
        chart = panel.charts.chart(tag)
        assert chart is not None, tag
        x, y = chart.raw_points(job.id)
        assert x.tolist() == [float(step) for step, _, _ in events], tag
        assert y.tolist() == [value for _, _, value in events], tag
        assert np.allclose(chart.displayed(job.id)[1], smooth_ema(y, 0.6), rtol=1e-9, atol=0), tag
    assert panel.progress_view.fraction == 1.0
    assert panel.progress_view.values["Epoch"].text() == f"{epochs} / {epochs}"
    shown = panel.kpi_table.values()
    assert set(shown) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    assert float(shown["val_loss"]) == pytest.approx(reference["val_loss"][-1][2], rel=1e-3)
    return finished


def test_charts_and_progress_follow_a_running_train(
    qtbot: QtBot, context: AppContext, pose_data: PoseDataset, screenshot_dir: Path
) -> None:
    job = launch(context, "slow", pose_data, 6)
    context.follow(job.id)
    panel = open_panel(qtbot, context, job)
    follow_live(qtbot, context, panel, job)
    save_screenshot(panel, screenshot_dir, "monitor_running")
    qtbot.waitUntil(lambda: panel.metrics_view.snapshot is not None
                    and panel.metrics_view.snapshot.cpu_percent[0].size >= 3, timeout=LONG)
    snapshot = panel.metrics_view.snapshot
    assert snapshot is not None and panel.metrics_view.container_plots_shown
    assert snapshot.memory_bytes[1][-1] > 1 << 20, "the container's memory is plotted"
    save_screenshot(panel.metrics_view, screenshot_dir, "monitor_system_metrics_running")
    check_finished(qtbot, context, panel, job, 6)
    panel.shutdown()


def test_a_finished_train_and_an_overlay_of_two_runs(
    qtbot: QtBot, context: AppContext, pose_data: PoseDataset, screenshot_dir: Path
) -> None:
    first = launch(context, "local", pose_data, 10, "train.optim.lr=0.05")
    second = launch(context, "local", pose_data, 10, "train.optim.lr=0.01")
    for job in (first, second):
        assert context.manager.wait(job.id, poll_seconds=0.3, timeout=120).status is JobStatus.COMPLETED
    panel = open_panel(qtbot, context, context.store.get(first.id))
    check_finished(qtbot, context, panel, first, 10)
    save_screenshot(panel, screenshot_dir, "monitor_pose_train_finished")
    assert panel.run_list.list.count() == 2
    panel.run_list.set_shown(second.id, True)
    qtbot.waitUntil(lambda: points(panel, "val_loss", second.id) == 10 and not panel.busy, timeout=LONG)
    panel.charts.flush()
    val = panel.charts.chart("val_loss")
    assert val is not None and val.job_ids == [first.id, second.id]
    reference = tensorboard_scalars(Path(job_event_dir(context.store.get(second.id))))
    assert val.raw_points(second.id)[1].tolist() == [value for _, _, value in reference["val_loss"]]
    save_screenshot(panel, screenshot_dir, "monitor_overlay_two_runs")
    panel.shutdown()


@pytest.mark.ssh
def test_charts_and_progress_follow_a_running_train_over_ssh(
    ssh_host_config: HostConfig, qtbot: QtBot, context: AppContext, pose_data: PoseDataset
) -> None:
    lab = dataclasses.replace(
        ssh_host_config, default_images={skill: STANDIN_IMAGE for skill in SKILLS}, shm_size="256m",
        extra_env={"TAODESK_STANDIN_EPOCH_SECONDS": EPOCH_SECONDS},
    )
    context.hosts.put(lab)
    job = launch(context, "lab", pose_data, 5)
    context.follow(job.id)
    panel = open_panel(qtbot, context, job)
    follow_live(qtbot, context, panel, job)
    finished = check_finished(qtbot, context, panel, job, 5)
    assert finished.host == "lab" and type(context.manager.session("lab")).__name__ == "SshHostSession"
    panel.shutdown()


def test_scalars_and_status_commands(
    manager: JobManager, pose_data: PoseDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skill = manager.bank.skill(POSE)
    spec = render_spec(skill, "train", overrides=pose_overrides(pose_data, epochs=3))
    job = manager.launch(LaunchRequest(POSE, "train", "local", spec))
    job = manager.wait(job.id, poll_seconds=0.3, timeout=120)
    assert job.status is JobStatus.COMPLETED
    reference = tensorboard_scalars(Path(job_event_dir(job)))
    capsys.readouterr()

    assert run_cli(["scalars", job.id[:-1]]) == 0, "a unique prefix names the job"
    table = capsys.readouterr().out.splitlines()
    header = ["TAG", "POINTS", "FIRST", "STEP", "LAST", "STEP", "LAST", "VALUE", "MIN", "MAX"]
    assert table[0].split() == header
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    assert set(rows) == set(reference)
    for tag, events in reference.items():
        count, first, last, last_value = rows[tag][:4]
        assert int(count) == len(events) and int(first) == events[0][0] and int(last) == events[-1][0]
        assert float(last_value) == pytest.approx(events[-1][2], rel=1e-5)

    out = tmp_path / "val.csv"
    assert run_cli(["scalars", job.id, "--tag", "^VAL", "--csv", str(out)]) == 0
    with open(out, newline="", encoding="utf-8") as stream:
        written = list(csv.DictReader(stream))
    expected = [(tag, step, wall, value) for tag, events in sorted(reference.items()) if tag.startswith("val")
                for step, wall, value in events]
    assert [(r["tag"], int(r["step"]), float(r["wall_time"]), float(r["value"])) for r in written] == expected
    assert f"Wrote {len(expected)} points of 2 tag(s)" in capsys.readouterr().out
    assert run_cli(["scalars", job.id, "--tag", "("]) == 2
    assert "not a valid regular expression" in capsys.readouterr().err

    assert run_cli(["status", job.id]) == 0
    status = capsys.readouterr().out
    assert re.search(r"^state\s+completed \(exit code 0\)$", status, re.MULTILINE)
    assert re.search(r"^progress\s+epoch 3/3 · step 24/24 \(100%\)$", status, re.MULTILINE)
    val_loss = reference["val_loss"][-1][2]
    match = re.search(r"^\s+val_loss\s+(\S+)$", status, re.MULTILINE)
    assert match and float(match.group(1)) == pytest.approx(val_loss, rel=1e-3)
    assert run_cli(["status", "no-such-job"]) == 2
