"""AutoML screens under a real X server: the set-up dialog, and a real study followed live in the window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.automl.snapshot import read_snapshot
from app.core.automl.study import StudyState
from app.core.hosts.settings import HostConfig, HostStore
from app.core.specs.form import ActionForm
from app.ui.action_page import ActionPage
from app.ui.automl.runtime import runner_for
from app.ui.automl.study_dialog import StudySetupDialog, open_study_setup
from app.ui.automl.study_view import StudyView
from app.ui.main_window import MainWindow
from tests.infra.gui import fill_form, open_main_window
from tests.infra.jobs import delete_all_jobs, local_host, needs_standin, pose_overrides
from tests.standin.make_pose_data import PoseDataset
from tests.ui.conftest import save_screenshot

POSE = "tao-train-pose-classification"
LR = "train.optim.lr"
LONG = 120_000


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    """The main window with host 'local' on the stand-in image; studies let go and jobs removed after."""
    config: HostConfig = local_host(tmp_path / "workspace")
    config.extra_env["TAODESK_STANDIN_EPOCH_SECONDS"] = "0.3"
    HostStore().put(config)
    win = open_main_window(qtbot, 1500, 960)
    yield win
    runner_for(win.context).close()
    delete_all_jobs()


def _train_form(window: MainWindow, data: PoseDataset, epochs: int = 4) -> tuple[ActionPage, ActionForm]:
    window.skill_list.select(POSE)
    view = window.current_skill_view()
    assert view is not None
    form = view.page("train").form
    fill_form(form, pose_overrides(data, epochs))
    return view.page("train"), form


def _open_dialog(qtbot: QtBot, window: MainWindow, data: PoseDataset) -> StudySetupDialog:
    page, form = _train_form(window, data)
    dialog = open_study_setup(page, form, "local", window.context)
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.inventory is not None and dialog.preview.rowCount() > 0, timeout=LONG)
    return dialog


def _cell(dialog: StudySetupDialog, row: int, column: int) -> str:
    item = dialog.preview.item(row, column)
    return item.text() if item is not None else ""


def _header(dialog: StudySetupDialog, column: int) -> str:
    item = dialog.preview.horizontalHeaderItem(column)
    return item.text() if item is not None else ""


def test_setup_dialog_checks_edits_against_the_schema_and_previews_the_first_trials(
    qtbot: QtBot, window: MainWindow, pose_data: PoseDataset, screenshot_dir: Path
) -> None:
    dialog = _open_dialog(qtbot, window, pose_data)
    action = window.context.bank.skill(POSE).action("train")
    assert sorted(dialog.space_table.search_boxes) == sorted(action.automl_default_parameters)
    assert dialog.metric_box.currentText() == "val_loss" and dialog.direction.currentData() == "minimize"
    assert "CPU" in dialog.gpu_note.text() and dialog.parallel.isEnabled()
    assert _cell(dialog, 0, 0) == "baseline"

    dialog.space_table.set_range_text("model.dropout", "0.1", "1.5")
    qtbot.waitUntil(lambda: not dialog.start_button.isEnabled(), timeout=LONG)
    assert "model.dropout: 1.5 is above the schema's maximum 1" in dialog.message.text()
    _low, high = dialog.space_table.edits["model.dropout"]  # type: ignore[misc]
    assert high.property("invalid") is True
    dialog.space_table.set_range_text("model.dropout", "0.1", "0.6")
    dialog.space_table.set_searched_paths([LR, "model.dropout"])
    dialog.space_table.set_range_text(LR, "1e-4", "0.3", log=True)
    dialog.metric_box.setCurrentText("val_acc")
    assert dialog.direction.currentData() == "maximize", "the direction follows the metric's name"
    dialog.metric_box.setCurrentText("val_loss")
    dialog.parallel.setValue(2)
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=LONG)
    assert not dialog.message.isVisible()
    headers = [_header(dialog, c) for c in range(dialog.preview.columnCount())]
    assert headers == ["Trial", "model.dropout", "optim.lr"]
    values = [float(_cell(dialog, r, 2)) for r in range(1, dialog.preview.rowCount())]
    assert values and all(1e-4 <= v <= 0.3 for v in values), "previewed draws stay in the narrowed range"
    assert "2 at a time" in dialog.summary.text()
    path = save_screenshot(dialog, screenshot_dir, "automl_setup_dialog")
    assert path.stat().st_size > 20_000
    dialog.reject()


@needs_standin
@pytest.mark.docker
@pytest.mark.slow
def test_a_study_started_from_the_dialog_runs_live_and_can_be_paused(
    qtbot: QtBot, window: MainWindow, pose_data: PoseDataset, screenshot_dir: Path
) -> None:
    dialog = _open_dialog(qtbot, window, pose_data)
    dialog.space_table.set_searched_paths([LR])
    dialog.space_table.set_range_text(LR, "1e-4", "0.3", log=True)
    dialog.trials.setValue(4)
    dialog.parallel.setValue(2)
    dialog.seed.setValue(7)
    dialog.name_edit.setText("lr sweep")
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=LONG)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), StudyView), timeout=LONG)
    view = window.pages.currentWidget()
    assert isinstance(view, StudyView)
    assert window.pages.tabText(window.pages.currentIndex()) == "AutoML · lr sweep"

    qtbot.waitUntil(lambda: view.model.rowCount() >= 2, timeout=LONG)
    qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.badge.text() == "paused", timeout=LONG)
    assert view.pause_button.text() == "Resume"
    qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.badge.text() == "finished", timeout=LONG)
    qtbot.waitUntil(lambda: view.model.rowCount() == 5 and view.promote_button.isEnabled(), timeout=LONG)

    snapshot = read_snapshot(view.studies, view.study_id)
    assert snapshot.record.state is StudyState.FINISHED
    best, baseline = snapshot.best, snapshot.baseline
    assert best is not None and baseline is not None and best.value is not None and baseline.value is not None
    assert best.value < baseline.value
    assert "vs baseline" in view.facts.text() and f"trial {best.number}" in view.facts.text()
    view.state_filter.setCurrentIndex(view.state_filter.findData("complete"))
    assert view.shown.text() == f"{snapshot.counts['complete']} of 5 trials"
    view.text_filter.setText("no such trial")
    assert view.shown.text() == "0 of 5 trials"
    view.text_filter.setText("")
    view.table.selectRow(0)
    qtbot.wait(300)
    path = save_screenshot(view, screenshot_dir, "automl_study_view")
    assert path.stat().st_size > 30_000
