"""The job monitor panel on real job folders (tensorboardX event files, TAO status lines) read through a
real local host session: charts, smoothing, overlays, exports, zoom, KPIs, GPU note, jobs-table feed."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolButton
from pytestqt.qtbot import QtBot

from app.core.hosts.errors import HostUnreachable
from app.core.hosts.settings import HostConfig
from app.core.jobs.model import Job, JobStatus
from app.core.skills import SkillBank
from app.core.telemetry.smoothing import XAxis, smooth_ema, y_range
from app.ui.app_context import AppContext
from app.ui.application import create_application
from app.ui.jobs_model import PROGRESS_COLUMN, JobsTableModel
from app.ui.monitor.axes import DurationAxis, compact_duration, compact_number
from app.ui.monitor.chart import RAW_ALPHA, ScalarChart
from app.ui.monitor.colours import RUN_PALETTE, assign_colours, job_colour
from app.ui.monitor.groups import OTHER_GROUP, group_tags
from app.ui.monitor.incremental import IncrementalSmoother
from app.ui.monitor.job_monitor_panel import JobMonitorPanel
from app.ui.monitor.progress_feed import JobProgressFeed
from tests.infra.gui import show_widget
from tests.infra.monitor import EVENT_SUBDIR, GrowingFile, TaoRun, tao_job, write_tao_train
from tests.infra.tfevents_writer import tensorboard_scalars

WAIT = 15_000


@pytest.fixture
def context(tmp_path: Path) -> Iterator[AppContext]:
    create_application()
    app_context = AppContext(SkillBank())
    app_context.hosts.put(HostConfig(name="local", kind="local", workspace=str(tmp_path)))
    yield app_context
    app_context.close()


def add_job(context: AppContext, job: Job) -> Job:
    return context.store.add(job)


def open_panel(qtbot: QtBot, context: AppContext, job: Job, poll_interval_ms: int = 500) -> JobMonitorPanel:
    panel = JobMonitorPanel(job, context.manager.session, jobs=context, poll_interval_ms=poll_interval_ms)
    return show_widget(qtbot, panel, 1400, 900)


def wait_read(qtbot: QtBot, panel: JobMonitorPanel, tags: int) -> None:
    qtbot.waitUntil(lambda: len(panel.charts.charts) >= tags and not panel.busy, timeout=WAIT)
    panel.charts.flush()


def chart(panel: JobMonitorPanel, tag: str) -> ScalarChart:
    found = panel.charts.chart(tag)
    assert found is not None, f"no chart for {tag}"
    return found


@pytest.fixture
def finished(tmp_path: Path, context: AppContext) -> tuple[Job, TaoRun]:
    run = write_tao_train(tmp_path / "a", num_epochs=6, steps_per_epoch=8, seed=1)
    return add_job(context, tao_job(run.job_dir, job_id="20260101-000000-train-aaaa")), run


def test_a_finished_job_shows_progress_kpis_and_a_chart_per_tag(
    qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun]
) -> None:
    job, run = finished
    panel = open_panel(qtbot, context, job)
    reference = tensorboard_scalars(run.job_dir / EVENT_SUBDIR)
    wait_read(qtbot, panel, len(reference))
    assert sorted(panel.charts.charts) == sorted(reference)
    assert list(panel.charts.groups) == ["train", "val", OTHER_GROUP], "lone tags (epoch, lr-SGD) come last"
    for tag, events in reference.items():
        x, _ = chart(panel, tag).raw_points(job.id)
        assert x.tolist() == [float(step) for step, _, _ in events]
    assert panel.progress_view.fraction == 1.0
    assert panel.progress_view.values["Epoch"].text() == "6 / 6"
    assert panel.progress_view.values["ETA"].text() == "done"
    assert panel.kpi_table.values() == {key: f"{value:.4g}" for key, value in run.kpis.items()}
    assert panel.poll_count >= 1
    assert all(watch.done for watch in panel.watches.values()), "read once, then idle"
    panel.shutdown()


def test_smoothing_is_tensorboards_with_the_raw_curve_faint_behind(
    qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun]
) -> None:
    job, run = finished
    panel = open_panel(qtbot, context, job)
    wait_read(qtbot, panel, 7)
    loss = chart(panel, "train_loss_step")
    raw_item, smooth_item = loss.curve_items(job.id)
    values = np.array(run.values("train_loss_step"))
    assert np.allclose(loss.displayed(job.id)[1], smooth_ema(values, 0.6))
    assert raw_item.isVisible()
    assert raw_item.opts["pen"].color().alphaF() == pytest.approx(RAW_ALPHA, abs=0.01)
    assert smooth_item.opts["pen"].color().name() == QColor(job_colour(job.id)).name()
    for item in (raw_item, smooth_item):
        assert item.opts["autoDownsample"] and item.opts["downsampleMethod"] == "peak"
        assert item.opts["clipToView"]
    panel.charts.smoothing_slider.setValue(900)
    panel.charts.flush()
    assert panel.charts.smoothing_box.value() == pytest.approx(0.9)
    assert np.allclose(loss.displayed(job.id)[1], smooth_ema(values, 0.9))
    panel.charts.set_smoothing(0.0)
    panel.charts.flush()
    assert not raw_item.isVisible() and np.array_equal(loss.displayed(job.id)[1], values)
    panel.shutdown()


def test_two_runs_overlay_in_stable_colours(
    qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun], tmp_path: Path
) -> None:
    job, run = finished
    other_run = write_tao_train(tmp_path / "b", num_epochs=6, steps_per_epoch=8, seed=2)
    other = add_job(context, tao_job(other_run.job_dir, job_id="20260101-000100-train-bbbb"))
    panel = open_panel(qtbot, context, job)
    wait_read(qtbot, panel, 7)
    assert panel.run_list.list.count() == 2, "the other train of the same skill is offered"
    panel.run_list.set_shown(other.id, True)
    val = chart(panel, "val_loss")
    qtbot.waitUntil(lambda: other.id in val.job_ids, timeout=WAIT)
    assert val.raw_points(other.id)[1].tolist() == other_run.values("val_loss")
    assert val.raw_points(job.id)[1].tolist() == run.values("val_loss")
    colours = {job_id: val.curve_items(job_id)[1].opts["pen"].color().name() for job_id in val.job_ids}
    assert colours == {key: QColor(value).name() for key, value in assign_colours([job.id, other.id]).items()}
    assert colours[job.id] != colours[other.id]
    assert set(colours.values()) <= {QColor(c).name() for c in RUN_PALETTE}
    panel.run_list.set_shown(other.id, False)
    panel.charts.flush()
    assert val.job_ids == [job.id]
    panel.shutdown()
    again = open_panel(qtbot, context, job)
    again.add_comparison(other)
    wait_read(qtbot, again, 7)
    qtbot.waitUntil(lambda: len(chart(again, "val_loss").job_ids) == 2, timeout=WAIT)
    again_val = chart(again, "val_loss")
    again_colours = {j: again_val.curve_items(j)[1].opts["pen"].color().name() for j in colours}
    assert again_colours == colours, "the same runs get the same colours every time"
    again.shutdown()


def test_csv_and_png_export_of_a_chart(
    qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun], tmp_path: Path
) -> None:
    job, run = finished
    panel = open_panel(qtbot, context, job)
    wait_read(qtbot, panel, 7)
    loss = chart(panel, "train_loss_step")
    path = tmp_path / "loss.csv"
    assert loss.export_csv(path) == len(run.values("train_loss_step"))
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    reference = tensorboard_scalars(run.job_dir / EVENT_SUBDIR)["train_loss_step"]
    assert [(int(r["step"]), float(r["wall_time"]), float(r["value"])) for r in rows] == reference
    smoothed = smooth_ema([value for _, _, value in reference], 0.6)
    assert np.allclose([float(r["smoothed"]) for r in rows], smoothed)
    assert {r["job"] for r in rows} == {job.id} and {r["tag"] for r in rows} == {"train_loss_step"}
    image = tmp_path / "loss.png"
    assert loss.export_png(image)
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tools = [button.text() for button in loss.findChildren(QToolButton) if button.isVisible()]
    assert tools == ["CSV", "PNG"], "the tool buttons are back after the grab (and not zoomed: no reset)"
    panel.shutdown()


def wheel(widget: pg.PlotWidget, steps: int = 2) -> None:
    """Turn the mouse wheel over the middle of a plot, as a user zooming in."""
    centre = QPoint(widget.width() // 2, widget.height() // 2)
    global_centre = widget.mapToGlobal(centre)
    for _ in range(steps):
        event = QWheelEvent(
            QPointF(centre), QPointF(global_centre), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
        )
        QApplication.sendEvent(widget.viewport(), event)


def test_zoom_is_kept_while_points_arrive_until_reset(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    staged = write_tao_train(tmp_path / "staging", num_epochs=6, steps_per_epoch=8, seed=3)
    job_dir = tmp_path / "live"
    job = add_job(context, tao_job(job_dir, JobStatus.RUNNING, job_id="20260101-000200-train-cccc"))
    events = GrowingFile(staged.event_file, job_dir / EVENT_SUBDIR / staged.event_file.name)
    events.grow(len(events.data) // 2)
    panel = open_panel(qtbot, context, job, poll_interval_ms=100)
    qtbot.waitUntil(lambda: panel.charts.chart("train_loss_step") is not None, timeout=WAIT)
    loss = chart(panel, "train_loss_step")
    before = loss.view_box.viewRange()
    wheel(loss.plot)
    qtbot.waitUntil(lambda: loss.user_zoomed, timeout=WAIT)
    zoomed = loss.view_box.viewRange()
    assert zoomed[0][1] - zoomed[0][0] < before[0][1] - before[0][0], "the wheel zoomed in"
    assert loss.reset_button.isVisible()
    shown = loss.raw_points(job.id)[0].size
    events.grow(len(events.data))
    qtbot.waitUntil(lambda: loss.raw_points(job.id)[0].size > shown, timeout=WAIT)
    assert loss.view_box.viewRange() == zoomed, "new points do not move a zoomed view"
    loss.reset_zoom()
    last_step = loss.raw_points(job.id)[0][-1]
    assert loss.view_box.viewRange()[0][1] >= last_step and not loss.user_zoomed
    panel.shutdown()


def test_tag_filter_axes_log_scale_and_outliers(
    qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun]
) -> None:
    job, run = finished
    panel = open_panel(qtbot, context, job)
    wait_read(qtbot, panel, 7)
    panel.charts.set_tag_filter("^val")
    panel.charts.flush()
    assert panel.charts.visible_tags() == ["val_acc_1", "val_loss"] and list(panel.charts.groups) == ["val"]
    assert not chart(panel, "train_loss_step").isVisibleTo(panel)
    qtbot.wait(50)  # the emptied groups are deleted: their hidden charts must survive
    panel.charts.set_tag_filter("([")
    panel.charts.flush()
    assert panel.charts.filter_edit.property("invalid") is True
    assert panel.charts.visible_tags() == ["val_acc_1", "val_loss"], "a bad expression keeps the last filter"
    panel.charts.set_tag_filter("")
    panel.charts.flush()
    assert len(panel.charts.visible_tags()) == 7
    assert chart(panel, "train_loss_step").isVisibleTo(panel) and list(panel.charts.groups)[:1] == ["train"]

    loss = chart(panel, "train_loss_step")
    reference = tensorboard_scalars(run.job_dir / EVENT_SUBDIR)["train_loss_step"]
    walls = np.array([wall for _, wall, _ in reference])
    panel.charts.set_x_axis(XAxis.RELATIVE)
    panel.charts.flush()
    assert np.allclose(loss.raw_points(job.id)[0], walls - walls[0])
    panel.charts.set_x_axis(XAxis.WALL)
    panel.charts.flush()
    assert np.allclose(loss.raw_points(job.id)[0], walls)
    assert isinstance(loss.plot.getPlotItem().getAxis("bottom"), pg.DateAxisItem)
    panel.charts.set_x_axis(XAxis.STEP)

    panel.charts.log_check.setChecked(True)
    panel.charts.flush()
    values = np.array(run.values("train_loss_step"))
    low, high = loss.view_box.viewRange()[1]
    assert loss.plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert low <= np.log10(values.min()) and high >= np.log10(values.max()) and high < 2
    panel.charts.log_check.setChecked(False)
    panel.charts.outliers_check.setChecked(True)
    panel.charts.flush()
    assert tuple(loss.view_box.viewRange()[1]) == pytest.approx(y_range(values, ignore_outliers=True))
    panel.shutdown()


@pytest.mark.parametrize("weight", [0.6, 0.95, 0.999])
def test_smoothing_a_growing_series_continues_where_it_stopped(weight: float) -> None:
    rng = np.random.default_rng(5)
    values = np.cumsum(rng.normal(size=5000))
    values[[10, 400, 401]] = [np.nan, np.inf, -np.inf]
    values[2000:2300] = 3.0
    smoother = IncrementalSmoother()
    end = 0
    for size in [1, 2, 50, 700, 1, 300, 2000, 1946]:
        end += size
        result = smoother.smooth(values[:end], weight)
        assert smoother.reused == (end - size if end > size else 0)
        assert np.allclose(result, smooth_ema(values[:end], weight), rtol=1e-9, atol=1e-12, equal_nan=True)
    assert end == values.size
    rewritten = values.copy()
    rewritten[100] += 1.0
    assert np.allclose(smoother.smooth(rewritten, weight), smooth_ema(rewritten, weight), equal_nan=True)
    assert smoother.reused == 0, "a changed prefix is smoothed again from the start"
    assert np.allclose(smoother.smooth(rewritten, 0.3), smooth_ema(rewritten, 0.3), equal_nan=True)
    assert smoother.reused == 0, "a new weight is smoothed again from the start"


def test_repaints_are_coalesced(qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun]) -> None:
    job, _ = finished
    panel = open_panel(qtbot, context, job)
    wait_read(qtbot, panel, 7)
    qtbot.wait(100)
    data = {"val_loss": chart(panel, "val_loss").raw_points(job.id)}
    monitor_series = panel.watches[job.id].monitor
    assert monitor_series is not None
    series = {"val_loss": monitor_series.series("val_loss")}
    before = panel.charts.repaint_count
    for _ in range(50):
        panel.charts.update_series(job.id, series)
    qtbot.wait(200)
    assert panel.charts.repaint_count - before == 1, "fifty updates, one repaint"
    assert data["val_loss"][1].size == len(series["val_loss"])
    panel.shutdown()


def test_a_cpu_host_shows_a_plain_gpu_note(
    qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun], screenshot_dir: Path
) -> None:
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has nvidia-smi: the note is for hosts without GPUs")
    job, _ = finished
    panel = open_panel(qtbot, context, job)
    qtbot.waitUntil(lambda: panel.metrics_view.snapshot is not None and not panel.busy, timeout=WAIT)
    view = panel.metrics_view
    assert not view.gpu_plots_shown
    assert view.gpu_note.text() == "No GPUs on host 'local': the job runs on the CPU."
    assert not view.container_plots_shown, "a finished job was not sampled"
    assert panel.message.isHidden(), "no GPU is not an error"
    panel.shutdown()


def test_the_jobs_table_shows_each_running_jobs_progress(
    qtbot: QtBot, context: AppContext, tmp_path: Path, finished: tuple[Job, TaoRun]
) -> None:
    done_job, _ = finished
    running_run = write_tao_train(tmp_path / "r", num_epochs=10, steps_per_epoch=4, epochs_done=3)
    record = tao_job(running_run.job_dir, JobStatus.RUNNING, job_id="20260101-000300-train-dddd")
    running = add_job(context, record)
    model = JobsTableModel(context)
    feed = JobProgressFeed(context, context.manager.session, interval_ms=200)
    feed.attach(model)

    def cell(job: Job) -> str:
        row = model.row_of(job.id)
        return "" if row is None else str(model.index(row, PROGRESS_COLUMN).data())

    qtbot.waitUntil(lambda: cell(running).startswith("epoch 3/10"), timeout=WAIT)
    assert "ETA" in cell(running) and "step" not in cell(running)
    qtbot.waitUntil(lambda: cell(done_job) == "epoch 6/6", timeout=WAIT)
    row = model.row_of(done_job.id)
    done_progress = feed.provider(done_job)
    assert row is not None and done_progress is not None and done_progress.fraction == 1.0
    with open(running_run.status_file, "a", encoding="utf-8") as stream:
        stream.write('{"epoch": 3, "step": 16, "max_epoch": 9, "max_step": 40, "eta": "0:00:12", '
                     '"status": "RUNNING", "verbosity": "INFO", "message": "Training loop in progress"}\n')
    qtbot.waitUntil(lambda: cell(running) == "epoch 4/10 · ETA 0:00:12", timeout=WAIT)
    feed.stop()


def test_axis_labels_read_as_steps_and_round_durations() -> None:
    create_application()
    assert [compact_number(v) for v in (950, 12_000, 1_500_000)] == ["950", "12k", "1.5M"]
    durations = [compact_duration(s) for s in (45, 750, 3600, 11_100, 90_000)]
    assert durations == ["45s", "12m30s", "1h", "3h05m", "1d1h"]
    axis = DurationAxis("bottom")
    for span, size in ((95.0, 300.0), (700.0, 300.0), (5000.0, 600.0)):
        spacings = axis.tickSpacing(0.0, span, size)
        assert len(spacings) == 1 and spacings[0][0] in (30.0, 300.0, 600.0, 900.0)
        labels = axis.tickStrings([spacings[0][0] * i for i in range(3)], 1.0, spacings[0][0])
        assert labels[0] == "0s" and all(re.fullmatch(r"\d+[smh](\d\dm)?", text) for text in labels)


def test_an_unreachable_host_is_reported_and_retried(
    qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun]
) -> None:
    job, _ = finished
    attempts: list[str] = []

    def flaky(host: str) -> object:
        attempts.append(host)
        if len(attempts) <= 2:  # the first poll and the first metrics sample
            raise HostUnreachable(f"Host '{host}' (10.0.0.9:22) did not answer within 5 s", host)
        return context.manager.session(host)

    panel = JobMonitorPanel(job, flaky, jobs=context)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.message.isVisible(), timeout=WAIT)
    assert "did not answer" in panel.message.text() and "Retrying" in panel.message.text()
    qtbot.waitUntil(lambda: panel.charts.chart("val_loss") is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.message.isHidden(), timeout=WAIT)
    panel.shutdown()


def test_hovering_a_chart_reads_out_the_nearest_point(
    qtbot: QtBot, context: AppContext, finished: tuple[Job, TaoRun]
) -> None:
    job, run = finished
    panel = open_panel(qtbot, context, job)
    wait_read(qtbot, panel, 7)
    loss = chart(panel, "train_acc_1")  # the first chart, in view without scrolling
    viewport = loss.plot.viewport()
    centre = QPoint(viewport.width() // 2, viewport.height() // 2)
    for offset in (QPoint(-9, 3), QPoint(0, 0)):  # a real move even if the pointer rests there already
        qtbot.mouseMove(viewport, centre + offset)
        qtbot.wait(30)
    qtbot.waitUntil(lambda: "step" in loss.readout.text(), timeout=WAIT)
    steps, values = run.steps("train_acc_1"), run.values("train_acc_1")
    hovered = int(loss.hover_line.value())
    assert hovered in steps
    index = steps.index(hovered)
    smoothed = smooth_ema(np.array(values), 0.6)[index]
    assert f"{smoothed:.4g} ({values[index]:.4g})" in loss.readout.text()
    assert f"step {hovered:,}" in loss.readout.text()
    panel.shutdown()


def test_tags_are_grouped_and_ordered_as_a_user_reads_them() -> None:
    tags = ["loss_cls_10", "loss_cls_2", "loss", "lr", "img_bbox_NuScenes/mAP", "val_mAP", "epoch",
            "val_loss"]
    assert group_tags(tags) == {
        "img_bbox_NuScenes": ["img_bbox_NuScenes/mAP"],
        "loss": ["loss", "loss_cls_2", "loss_cls_10"],
        "val": ["val_loss", "val_mAP"],
        OTHER_GROUP: ["epoch", "lr"],
    }
