"""Jobs through the GUI: the launch bar, the jobs table, a job's page and its live log.

The Docker tests launch the real stand-in TAO image on the local engine from the launch panel with
a click, and follow the jobs on screen the way a user would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.hosts.settings import HostConfig, HostStore
from app.core.jobs.checkpoints import parse_checkpoint_name
from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.model import Job, JobStatus
from app.core.jobs.store import JobStore
from app.core.skills import SkillBank
from app.core.skills.model import ErrorPattern
from app.core.specs.service import render_spec
from app.core.telemetry.logs import LogLevel, LogLine, collapse_carriage_returns, guess_level
from app.ui.action_page import ActionPage
from app.ui.app_context import AppContext
from app.ui.application import create_application
from app.ui.job_log_view import JobLogView
from app.ui.job_page import JobPage
from app.ui.jobs_model import (
    DURATION_COLUMN,
    PROGRESS_COLUMN,
    STATUS_COLUMN,
    JobProgress,
    JobsFilterProxy,
    JobsTableModel,
)
from app.ui.launch_panel import LaunchPanel
from app.ui.main_window import MainWindow
from tests.infra.gui import fill_form, open_main_window
from tests.infra.jobs import STANDIN_IMAGE, delete_all_jobs, local_host, needs_standin, pose_overrides
from tests.standin.make_pose_data import PoseDataset
from tests.ui.conftest import save_screenshot

POSE = "tao-train-pose-classification"
LONG = 120_000


def _open_window(qtbot: QtBot) -> MainWindow:
    return open_main_window(qtbot, 1500, 940)


def _action_page(window: MainWindow, action: str) -> ActionPage:
    window.pages.setCurrentIndex(0)
    window.skill_list.select(POSE)
    view = window.current_skill_view()
    assert view is not None
    page = view.page(action)
    page.automl_switch.setChecked(False)  # plain runs here; AutoML studies have their own tests
    return page


def _ready_panel(qtbot: QtBot, page: ActionPage) -> LaunchPanel:
    panel = page.launch_panel
    assert panel is not None, "every action page has a launch bar"
    qtbot.waitUntil(lambda: panel.gpus.inventory is not None, timeout=LONG)
    return panel


def _launch(qtbot: QtBot, panel: LaunchPanel) -> str:
    """Click Launch and return the new job's id."""
    job_id = _try_launch(qtbot, panel)
    report = panel.requirements.report
    findings = [f"{f.spec_key}: {f.message}" for f in report.errors] if report else []
    assert job_id is not None, f"{panel.message.text()} {findings}"
    return job_id


def _try_launch(qtbot: QtBot, panel: LaunchPanel) -> str | None:
    """Click Launch; preflight runs first, and its warnings (a CPU-only host here) are accepted."""
    qtbot.waitUntil(panel.launch_button.isEnabled, timeout=LONG)
    previous = panel.last_job_id
    qtbot.mouseClick(panel.launch_button, Qt.MouseButton.LeftButton)

    def settled() -> bool:
        return (
            panel.last_job_id != previous
            or "Could not" in panel.message.text()
            or ("checks found problems" in panel.message.text())
        )

    qtbot.waitUntil(settled, timeout=LONG)
    checks = panel.requirements
    if panel.last_job_id == previous and not checks.accept_box.isHidden():
        assert checks.report is not None and not checks.report.errors, panel.message.text()
        checks.accept_box.setChecked(True)
        qtbot.waitUntil(lambda: checks.launch_allowed, timeout=LONG)
        qtbot.mouseClick(panel.launch_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: panel.last_job_id != previous or "Could not" in panel.message.text(), timeout=LONG
        )
    return panel.last_job_id if panel.last_job_id != previous else None


def _wait_final(qtbot: QtBot, page: JobPage) -> Job:
    qtbot.waitUntil(lambda: page.job.status.is_final, timeout=LONG)
    qtbot.waitUntil(lambda: page.follower is None or page.follower.finished, timeout=LONG)
    qtbot.waitUntil(lambda: not page.log_view.pending, timeout=LONG)
    return page.job


@pytest.fixture
def gui_host(tmp_path: Path) -> Iterator[HostConfig]:
    """The local engine as host 'local', running the stand-in with short epochs; jobs removed after."""
    config = local_host(tmp_path / "workspace")
    config.extra_env["TAODESK_STANDIN_EPOCH_SECONDS"] = "0.4"
    HostStore().put(config)
    yield config
    delete_all_jobs()


# -- without Docker: the table model, the log view, the launch bar's rules -------------------------


def _record(store: JobStore, job_id: str, status: JobStatus, action: str = "train", **fields: Any) -> Job:
    job = Job(
        id=job_id,
        skill=POSE,
        action=action,
        host="local",
        spec_yaml="a: 1\n",
        job_dir=f"/w/{job_id}",
        status=status,
        **fields,
    )
    return store.add(job)


def test_jobs_table_filters_ticks_and_takes_a_progress_provider(qtbot: QtBot) -> None:
    create_application()
    context = AppContext(SkillBank())
    now = time.time()
    _record(
        context.store,
        "20260101-000000-train-aaaa",
        JobStatus.COMPLETED,
        created_at=now - 30,
        started_at=now - 29,
        finished_at=now - 20,
    )
    _record(
        context.store,
        "20260101-000001-train-bbbb",
        JobStatus.RUNNING,
        created_at=now - 10,
        started_at=now - 5,
    )
    model = JobsTableModel(context)
    proxy = JobsFilterProxy()
    proxy.setSourceModel(model)
    assert [model.job_at(r).id[-4:] for r in range(model.rowCount())] == ["bbbb", "aaaa"], "newest first"
    assert model.index(0, PROGRESS_COLUMN).data() == "-"
    assert model.index(1, DURATION_COLUMN).data() == "0:00:09"
    assert model.index(0, STATUS_COLUMN).data(Qt.ItemDataRole.ForegroundRole).name() == "#2874a6"
    ticked: list[int] = []
    model.dataChanged.connect(lambda first, _last, _roles=(): ticked.append(first.column()))
    qtbot.waitUntil(lambda: DURATION_COLUMN in ticked, timeout=3000)
    assert model.index(0, DURATION_COLUMN).data() >= "0:00:05", "the running job's duration ticks"

    model.set_progress_provider(
        lambda job: JobProgress("epoch 3/10", 0.3) if job.status.value == "running" else None
    )
    assert model.index(0, PROGRESS_COLUMN).data() == "epoch 3/10"
    assert model.index(1, PROGRESS_COLUMN).data() == "-"

    proxy.set_statuses({JobStatus.COMPLETED})
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data().endswith("aaaa")
    proxy.set_statuses(None)
    proxy.set_text("bbbb train")
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data().endswith("bbbb")

    context.store.update("20260101-000001-train-bbbb", status=JobStatus.FAILED, finished_at=time.time())
    qtbot.waitUntil(lambda: model.index(0, STATUS_COLUMN).data() == "failed", timeout=3000)
    _record(
        context.store,
        "20260101-000002-evaluate-cccc",
        JobStatus.CREATED,
        action="evaluate",
        created_at=now,
        parent_id="20260101-000000-train-aaaa",
    )
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=3000)
    assert model.job_at(0).action == "evaluate" and model.index(0, 7).data().endswith("aaaa")
    context.store.remove("20260101-000002-evaluate-cccc")
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=3000)
    context.close()


def _pattern() -> ErrorPattern:
    return ErrorPattern(
        "dataset_smaller_than_batch",
        "Dataset smaller than the batch",
        re.compile(r"Dataset size \(\d+\) is smaller than the total batch size"),
        "Lower dataset.batch_size.",
    )


def test_log_view_filters_searches_and_highlights_known_failures(qtbot: QtBot) -> None:
    create_application()
    view = JobLogView([_pattern()], max_lines=500)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    texts = [f"Epoch {i}: loss=0.{i:03d}" for i in range(700)]
    texts[650] = "WARNING: the learning rate is high"
    texts[690] = "ValueError: Dataset size (24) is smaller than the total batch size (500)"
    view.feed([LogLine(None, t, guess_level(t)) for t in texts])
    qtbot.waitUntil(lambda: not view.pending, timeout=5000)
    shown = view.plain_text().split("\n")
    assert len(shown) == 500 and shown[-1] == texts[-1], "memory is bounded to the newest max_lines lines"
    assert view.received_count == 700
    hits = view.hits()
    assert [h.pattern.id for h in hits] == ["dataset_smaller_than_batch"] and hits[0].first_line == 690
    assert view.hints.isVisible() and "Lower dataset.batch_size" in view.hints.text()
    document = view.text.document()
    error_block = document.findBlockByNumber(shown.index(texts[690]))
    emphasised = error_block.begin().fragment().charFormat()
    assert emphasised.fontWeight() > 400 and emphasised.background().style() != Qt.BrushStyle.NoBrush, (
        "the line matching a known failure is emphasised"
    )
    warning_block = document.findBlockByNumber(shown.index(texts[650]))
    assert warning_block.begin().fragment().charFormat().foreground().color().name() == "#9a6700"

    view.set_level_filter(LogLevel.WARNING)
    qtbot.waitUntil(lambda: not view.pending, timeout=5000)
    assert view.plain_text().split("\n") == [texts[650], texts[690]]
    view.set_level_filter(LogLevel.ERROR)
    qtbot.waitUntil(lambda: not view.pending, timeout=5000)
    assert view.plain_text() == texts[690]
    view.set_level_filter(LogLevel.DEBUG)
    qtbot.waitUntil(lambda: not view.pending, timeout=5000)

    view.search.setText("Epoch 2")
    assert view.find_next() and view.text.textCursor().selectedText() == "Epoch 2"
    first = view.text.textCursor().blockNumber()
    assert view.find_next() and view.text.textCursor().blockNumber() > first
    assert view.find_previous() and view.text.textCursor().blockNumber() == first
    assert not view.follow_toggle.isChecked(), "searching stops auto-scroll"
    view.search.setText("no such text")
    assert not view.find_next() and view.search.property("notFound") is True


def test_launch_is_disabled_while_the_form_has_errors(qtbot: QtBot, gui_host: HostConfig) -> None:
    window = _open_window(qtbot)
    page = _action_page(window, "train")
    panel = _ready_panel(qtbot, page)
    assert panel.host_name() == "local" and panel.image_edit.text() == STANDIN_IMAGE
    qtbot.waitUntil(panel.launch_button.isEnabled, timeout=LONG)
    page.form.set_value("model.dropout", 2.5)
    assert not panel.launch_button.isEnabled() and "model.dropout" in panel.message.text()
    page.form.set_value("model.dropout", 0.5)
    assert panel.launch_button.isEnabled()
    evaluate = _ready_panel(qtbot, _action_page(window, "evaluate"))
    assert evaluate.parent_id() is None and not evaluate.launch_button.isEnabled()
    assert "evaluate.checkpoint" in evaluate.message.text(), "the mandatory checkpoint is asked for"


# -- with Docker and the stand-in image ------------------------------------------------------------


@pytest.mark.docker
@needs_standin
def test_train_launched_from_the_panel_streams_its_log_then_evaluate_from_its_checkpoint(
    qtbot: QtBot, gui_host: HostConfig, pose_data: PoseDataset, screenshot_dir: Path
) -> None:
    window = _open_window(qtbot)
    page = _action_page(window, "train")
    panel = _ready_panel(qtbot, page)
    fill_form(page.form, pose_overrides(pose_data, epochs=4))
    assert panel.gpus.text() == "CPU only"
    qtbot.waitUntil(panel.launch_button.isEnabled, timeout=LONG)
    assert "Ready to run train on 'local'" in panel.message.text()
    qtbot.waitUntil(
        lambda: str(pose_data.data_path("train")) in page.preview.text.toPlainText(), timeout=5000
    )
    save_screenshot(window, screenshot_dir, "launch_bar_pose_train")

    job_id = _launch(qtbot, panel)
    assert window.pages.currentWidget() is window.jobs_page
    job_page = window.jobs_page.job_pages[job_id]
    assert window.jobs_page.tabs.currentWidget() is job_page
    table = window.jobs_page.list
    assert [table.job_id_at(row) for row in range(table.proxy.rowCount())] == [job_id]

    seen: list[tuple[int, JobStatus]] = []

    def streaming() -> bool:
        seen.append((job_page.log_view.received_count, job_page.job.status))
        return job_page.log_view.received_count > 3

    qtbot.waitUntil(streaming, timeout=LONG)
    assert any(count > 0 and status is JobStatus.RUNNING for count, status in seen), (
        "log lines arrive while the job is still running"
    )
    job = _wait_final(qtbot, job_page)
    assert job.status is JobStatus.COMPLETED, job_page.log_view.plain_text()[-2000:]
    stored = [line.text for line in window.context.manager.log(job_id).lines()]
    assert job_page.log_view.plain_text().split("\n") == stored, "every stored line shown once, in order"
    assert "Execution status: PASS" in job_page.log_view.plain_text()
    assert job_page.status_badge.text() == "completed" and job_page.facts["Exit code"].text() == "0"
    assert job_page.hint.isHidden()
    save_screenshot(window, screenshot_dir, "job_page_streamed_log")
    window.jobs_page.tabs.setCurrentIndex(0)
    assert table.proxy.index(0, STATUS_COLUMN).data() == "completed"
    cell = table.table.visualRect(table.proxy.index(0, 0)).center()
    qtbot.mouseClick(table.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.mouseDClick(table.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert window.jobs_page.tabs.currentWidget() is job_page, "double click opens the job's page"

    checkpoints = {
        parse_checkpoint_name(path.name): path.name
        for path in Path(job.results_dir, "train").glob("model_epoch_*_step_*.pth")
    }
    highest = checkpoints[max(key for key in checkpoints if key is not None)]
    assert len(checkpoints) > 1
    job_page.from_checkpoint_buttons["evaluate"].click()
    assert window.pages.currentIndex() == 0
    evaluate_page = _action_page(window, "evaluate")
    evaluate = _ready_panel(qtbot, evaluate_page)
    assert evaluate.parent_id() == job_id
    qtbot.waitUntil(lambda: not evaluate.parents.loading, timeout=LONG)
    chosen = evaluate.selected_checkpoint()
    assert chosen is not None and chosen.name == highest, "defaults to the highest epoch/step"
    assert f"settings copied from job {job_id}" in evaluate.message.text()
    assert [c.name for c in evaluate.parents.checkpoints if not c.is_latest_link] == sorted(
        (n for n in checkpoints.values()), key=lambda n: parse_checkpoint_name(n) or (0, 0), reverse=True
    )
    assert evaluate_page.form.value("dataset.num_classes") == len(pose_data.label_map), (
        "the evaluation takes the trained model's dataset settings"
    )
    assert evaluate_page.form.value("evaluate.checkpoint") == chosen.path, "the spec shows the hand-off"
    fill_form(evaluate_page.form, pose_overrides(pose_data))
    qtbot.waitUntil(lambda: chosen.name in evaluate_page.preview.text.toPlainText(), timeout=5000)
    save_screenshot(window, screenshot_dir, "launch_bar_evaluate_from_checkpoint")
    evaluate_id = _launch(qtbot, evaluate)
    evaluate_job_page = window.jobs_page.job_pages[evaluate_id]
    evaluated = _wait_final(qtbot, evaluate_job_page)
    assert evaluated.status is JobStatus.COMPLETED, evaluate_job_page.log_view.plain_text()[-2000:]
    assert evaluated.parent_id == job_id and evaluated.checkpoint.endswith(highest)
    assert job_id in evaluate_job_page.facts["Lineage"].text()
    assert evaluate_id in job_page.facts["Lineage"].text(), "the train job links to its evaluation"
    window.jobs_page.tabs.setCurrentIndex(0)
    assert [table.job_id_at(row) for row in range(table.proxy.rowCount())] == [evaluate_id, job_id]
    assert table.proxy.index(0, 7).data() == job_id, "the Parent column shows the lineage"
    save_screenshot(window, screenshot_dir, "jobs_table")


@pytest.mark.docker
@needs_standin
def test_failed_job_shows_the_skill_hint_and_launch_errors_are_plain(
    qtbot: QtBot, gui_host: HostConfig, pose_data: PoseDataset, screenshot_dir: Path
) -> None:
    window = _open_window(qtbot)
    page = _action_page(window, "train")
    panel = _ready_panel(qtbot, page)
    fill_form(page.form, pose_overrides(pose_data, epochs=2))
    panel.image_edit.setText("taodesk-no-such-image:1")
    assert _try_launch(qtbot, panel) is None
    assert "Could not launch" in panel.message.text()
    assert (
        "taodesk-no-such-image:1" in panel.message.text() and "is not on host 'local'" in panel.message.text()
    )
    assert panel.launch_button.isEnabled(), "the user can fix it and try again"

    panel.image_edit.setText(STANDIN_IMAGE)
    page.form.set_value("dataset.batch_size", 500)
    qtbot.mouseClick(panel.launch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "checks found problems" in panel.message.text(), timeout=LONG)
    report = panel.requirements.report
    assert report is not None and any("batch" in f.message for f in report.errors), (
        "preflight blocks the launch"
    )
    assert panel.last_job_id is None

    forced = panel.launch_request()  # what `taodesk run --force` would do: launch despite preflight
    job_id = window.context.manager.launch(forced).id
    window.context.follow(job_id)
    window.context.open_job(job_id)
    job_page = window.jobs_page.job_pages[job_id]
    job = _wait_final(qtbot, job_page)
    assert job.status is JobStatus.FAILED and job.exit_code == 1
    assert job_page.hint.isVisible()
    assert "Dataset smaller than the batch" in job_page.hint.text() and "batch_size" in job_page.hint.text()
    assert [hit.pattern.id for hit in job_page.log_view.hits()] == ["dataset_smaller_than_batch"]
    assert job_page.log_view.hints.isVisible()
    assert not job_page.resume_button.isHidden() and not job_page.cancel_button.isVisible()
    assert job_page.from_checkpoint_buttons["evaluate"].isHidden(), "only a completed training hands off"
    assert "Lower dataset.batch_size" not in job_page.log_view.hints.text(), "the fix is not shown twice"
    save_screenshot(window, screenshot_dir, "job_page_failed_with_hint")


@pytest.mark.docker
@needs_standin
def test_reopening_the_app_resumes_following_without_duplicates(
    qtbot: QtBot, manager: JobManager, pose_data: PoseDataset
) -> None:
    config = manager.hosts.get("local")
    config.extra_env["TAODESK_STANDIN_EPOCH_SECONDS"] = "0.5"
    manager.hosts.put(config)
    spec = render_spec(manager.bank.skill(POSE), "train", overrides=pose_overrides(pose_data, epochs=8))
    job = manager.launch(LaunchRequest(skill=POSE, action="train", host="local", spec=spec))

    first = _open_window(qtbot)
    qtbot.waitUntil(lambda: job.id in first.context.followers, timeout=LONG)
    first.context.open_job(job.id)
    page = first.jobs_page.job_pages[job.id]
    qtbot.waitUntil(lambda: page.log_view.received_count >= 5, timeout=LONG)
    follower = first.context.followers[job.id]
    first.close()
    qtbot.waitUntil(lambda: follower.finished, timeout=LONG)
    assert manager.store.get(job.id).status is JobStatus.RUNNING, "closing the window leaves the job running"

    second = _open_window(qtbot)
    qtbot.waitUntil(lambda: job.id in second.context.followers, timeout=LONG)
    second.context.open_job(job.id)
    again = second.jobs_page.job_pages[job.id]
    finished = _wait_final(qtbot, again)
    assert finished.status is JobStatus.COMPLETED
    assert finished.container_id is not None
    container = manager.session("local").docker.containers.get(finished.container_id)
    from_engine = container.logs(stdout=True, stderr=True).decode().splitlines()
    stored = [line.text for line in manager.log(job.id).lines()]
    assert stored == [collapse_carriage_returns(line) for line in from_engine], (
        "no line lost or repeated across the restart"
    )
    assert again.log_view.plain_text().split("\n") == stored


@pytest.mark.docker
@needs_standin
def test_clone_resume_cancel_and_delete_from_the_job_page(
    qtbot: QtBot,
    manager: JobManager,
    pose_data: PoseDataset,
    monkeypatch: pytest.MonkeyPatch,
    screenshot_dir: Path,
) -> None:
    config = manager.hosts.get("local")
    config.extra_env["TAODESK_STANDIN_EPOCH_SECONDS"] = "0.2"
    manager.hosts.put(config)
    spec = render_spec(manager.bank.skill(POSE), "train", overrides=pose_overrides(pose_data, epochs=2))
    done = manager.follow(
        manager.launch(LaunchRequest(skill=POSE, action="train", host="local", spec=spec)).id
    )
    assert done.status is JobStatus.COMPLETED
    window = _open_window(qtbot)
    window.context.open_job(done.id)
    page = window.jobs_page.job_pages[done.id]

    page.clone_button.click()
    train = _action_page(window, "train")
    panel = _ready_panel(qtbot, train)
    assert train.form.value("train.num_epochs") == 2, "the job's spec is imported"
    assert train.form.value("dataset.train_dataset.data_path") == str(pose_data.data_path("train"))
    assert (
        panel.host_name() == "local" and panel.image_edit.text() == done.image and panel.parent_id() is None
    )

    page.resume_button.click()
    qtbot.waitUntil(lambda: panel.parent_id() == done.id and not panel.parents.loading, timeout=LONG)
    chosen = panel.selected_checkpoint()
    on_disk = [p.name for p in Path(done.results_dir, "train").glob("model_epoch_*_step_*.pth")]
    assert chosen is not None and chosen.name == max(
        on_disk, key=lambda n: parse_checkpoint_name(n) or (0, 0)
    )
    assert train.form.value("train.resume_training_checkpoint_path") == chosen.path
    train.form.set_value("train.num_epochs", 4)
    resumed_id = _launch(qtbot, panel)
    resumed = _wait_final(qtbot, window.jobs_page.job_pages[resumed_id])
    assert resumed.status is JobStatus.COMPLETED and resumed.parent_id == done.id
    assert (
        f"Resuming training from {chosen.path} at epoch {chosen.epoch + 1}" in manager.log(resumed_id).text()
    )

    panel.parents.job_combo.setCurrentIndex(0)
    assert train.form.value("train.resume_training_checkpoint_path") == "", "a new training resumes nothing"
    train.form.set_value("train.num_epochs", 400)
    long_id = _launch(qtbot, panel)
    long_page = window.jobs_page.job_pages[long_id]
    qtbot.waitUntil(lambda: long_page.log_view.received_count >= 3, timeout=LONG)
    assert long_page.cancel_button.isVisible() and long_page.status_badge.text() == "running"
    save_screenshot(window, screenshot_dir, "job_page_running")
    long_page.cancel_button.click()
    cancelled = _wait_final(qtbot, long_page)
    assert cancelled.status is JobStatus.CANCELLED and "Cancelled by the user" in long_page.hint.text()

    monkeypatch.setattr(JobPage, "confirm_delete", lambda _self: (True, True))
    folder = Path(cancelled.job_dir)
    assert folder.is_dir()
    long_page.delete_button.click()
    qtbot.waitUntil(lambda: long_id not in window.jobs_page.job_pages, timeout=LONG)
    assert manager.store.find(long_id) is None and not folder.exists()
    table = window.jobs_page.list
    assert long_id not in [table.job_id_at(row) for row in range(table.proxy.rowCount())]


def test_every_action_page_has_a_launch_bar_with_the_right_parent_picker(
    qtbot: QtBot, gui_host: HostConfig
) -> None:
    window = _open_window(qtbot)
    for skill in window.bank.skills.values():
        window.skill_list.select(skill.name)
        view = window.current_skill_view()
        assert view is not None
        for action in skill.actions:
            panel = view.page(action).launch_panel
            assert panel is not None
            rules = set(skill.action(action).spec_params.values())
            picks_parent = bool(rules & {"parent_model", "resume_model"})
            assert panel.parents.isVisibleTo(panel) == picks_parent, (skill.name, action)
            if picks_parent:
                expected = "Resume from" if "resume_model" in rules else "From train job"
                assert panel.parents.caption.text() == expected, (skill.name, action)


@pytest.mark.docker
@needs_standin
def test_gpu_picker_hands_the_choice_to_the_launch_and_explains_a_refusal(
    qtbot: QtBot, gui_host: HostConfig, pose_data: PoseDataset
) -> None:
    from app.core.hosts.gpus import GpuInfo, GpuInventory

    window = _open_window(qtbot)
    window.context.gpu_inventories["local"] = GpuInventory(  # as a GPU host would report them
        [GpuInfo(0, "Test GPU A", 16000, 1200, 5, "GPU-a"), GpuInfo(1, "Test GPU B", 16000, 0, 0, "GPU-b")]
    )
    page = _action_page(window, "train")
    panel = _ready_panel(qtbot, page)
    fill_form(page.form, pose_overrides(pose_data, epochs=1))
    entries = [entry for entry in panel.gpus.menu_of_gpus.actions() if entry.isCheckable()]
    assert [entry.text().split(" · ")[:2] for entry in entries] == [
        ["GPU 0", "Test GPU A"],
        ["GPU 1", "Test GPU B"],
    ]
    entries[1].setChecked(True)
    assert panel.gpus.selected() == [1] and panel.gpus.text() == "GPU 1"
    assert panel.launch_request().gpus == [1]
    assert _try_launch(qtbot, panel) is None, "the real engine has no GPUs"
    report = panel.requirements.report
    findings = " ".join(f.message for f in report.findings) if report else ""
    said = f"{panel.message.text()} {findings}"
    assert "GPU" in said and "1" in said and "local" in said, said


def test_with_automl_on_launch_opens_a_study_instead_of_one_job(
    qtbot: QtBot, gui_host: HostConfig, pose_data: PoseDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        "app.ui.automl.study_dialog.open_study_setup",
        lambda parent, form, host, context, image=None, gpus=None: opened.append((host, gpus or [])),
    )
    window = _open_window(qtbot)
    page = _action_page(window, "train")
    page.automl_switch.setChecked(True)
    panel = _ready_panel(qtbot, page)
    assert panel.launch_button.text() == "AutoML study…"
    fill_form(page.form, pose_overrides(pose_data, epochs=2))
    qtbot.waitUntil(panel.launch_button.isEnabled, timeout=LONG)
    qtbot.mouseClick(panel.launch_button, Qt.MouseButton.LeftButton)  # preflight runs first
    checks = panel.requirements
    qtbot.waitUntil(lambda: bool(opened) or not checks.accept_box.isHidden(), timeout=LONG)
    if not opened:
        checks.accept_box.setChecked(True)  # a CPU-only host: accept the warning
        qtbot.mouseClick(panel.launch_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(opened), timeout=LONG)
    assert panel.last_job_id is None, "no plain job is launched"
    assert opened == [("local", [])]
    page.automl_switch.setChecked(False)
    assert panel.launch_button.text() == "Launch"
