"""The requirements panel under a real X server: table, check in a worker, findings at their fields, fixes,
launch gating, the depth-path fix with its preview, and screenshots."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.datasets.context import PreflightOptions
from app.core.datasets.findings import NORMALIZE_DEPTH_PATHS
from app.core.datasets.preflight import PreflightReport
from app.core.datasets.registry import Dataset, DatasetRegistry
from app.core.hosts.session import open_session
from app.core.hosts.settings import HostConfig
from app.core.skills import load_banks
from app.core.skills.model import Skill
from app.core.specs.form import ActionForm
from app.ui.application import create_application
from app.ui.requirements_panel import RequirementsPanel
from tests.infra.gui import show_widget
from tests.infra.preflight_data import (
    POSE,
    REPO,
    SPARSE4D,
    converted_scenes,
    pose_spec_overrides,
    small_pose_dataset,
    sparse4d_overrides,
)
from tests.ui.conftest import save_screenshot

NO_GPU_PROBE = PreflightOptions(check_gpus=False)
LOCAL = HostConfig(name="local", workspace=tempfile.gettempdir())


@pytest.fixture(scope="module")
def skills() -> dict[str, Skill]:
    bank = load_banks([REPO / "skills"])
    return {name: bank.skill(name) for name in (POSE, SPARSE4D)}


def _pose_form(skill: Skill, overrides: list[str]) -> ActionForm:
    form = ActionForm(skill, "train")
    for override in overrides:
        key, _, value = override.partition("=")
        form.set_value(key, yaml.safe_load(value))
    return form


def _panel(qtbot: QtBot, form: ActionForm, **kwargs: object) -> RequirementsPanel:
    create_application()
    panel = RequirementsPanel(form, options=NO_GPU_PROBE, **kwargs)  # type: ignore[arg-type]
    return show_widget(qtbot, panel, 1300, 640)


def _check(qtbot: QtBot, panel: RequirementsPanel) -> PreflightReport:
    with qtbot.waitSignal(panel.report_ready, timeout=60000) as blocker:
        qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    report: PreflightReport = blocker.args[0]
    return report


def _cell(panel: RequirementsPanel, key: str, column: int) -> str:
    for row in range(panel.table.rowCount()):
        name, cell = panel.table.item(row, 0), panel.table.item(row, column)
        if name is not None and cell is not None and name.text() == key:
            return cell.text()
    raise AssertionError(f"{key} not in the table")


def test_pose_train_fills_checks_shows_findings_at_fields_and_gates_launch(
    qtbot: QtBot, skills: dict[str, Skill], tmp_path: Path, screenshot_dir: Path
) -> None:
    data = small_pose_dataset(tmp_path / "pose")
    DatasetRegistry().add(Dataset("pose-train", "local", "train", str(data.folder)))
    overrides = [
        *pose_spec_overrides(data, batch_size=24),
        "dataset.num_classes=6",
        "dataset.label_map={a: 0, b: 1, c: 2, d: 3, e: 4, f: 5}",
        f"dataset.val_dataset.label_path={data.label_path('val')}",
    ]
    form = _pose_form(skills[POSE], overrides)
    panel = _panel(qtbot, form, host=LOCAL)
    assert panel.table.rowCount() == 4
    assert _cell(panel, "dataset.train_dataset.data_path", 4) == str(data.data_path("train"))
    assert _cell(panel, "dataset.train_dataset.data_path", 5) == "dataset pose-train"
    assert _cell(panel, "dataset.val_dataset.label_path", 5) == "typed by you"
    assert _cell(panel, "dataset.train_dataset.data_path", 6) == "not checked"
    assert form.value("dataset.train_dataset.data_path") == str(data.data_path("train")), "the form is filled"
    assert not panel.launch_allowed

    report = _check(qtbot, panel)
    assert [(f.severity, f.spec_key) for f in report.errors] == [("error", "dataset.batch_size")]
    assert [(f.severity, f.spec_key) for f in report.warnings] == [
        ("warning", "dataset.train_dataset.label_path")
    ]
    assert panel.findings.rowCount() == len(report.findings)
    assert _cell(panel, "dataset.val_dataset.data_path", 6) == "error", "the file smaller than the batch"
    assert _cell(panel, "dataset.train_dataset.data_path", 6) == "ok"
    assert _cell(panel, "dataset.train_dataset.label_path", 6) == "warning"
    assert any("preflight: " in i.message for i in form.issues_at("dataset.batch_size")), "shown at its field"
    assert not panel.launch_allowed and not panel.accept_box.isVisible()
    assert "launch is blocked" in panel.status_label.text()
    save_screenshot(panel, screenshot_dir, "requirements_panel_pose_train")

    fix = panel.findings.fix_buttons()[0]
    with qtbot.waitSignal(panel.report_ready, timeout=60000) as blocker:
        qtbot.mouseClick(fix, Qt.MouseButton.LeftButton)
    assert form.value("dataset.batch_size") == 16
    fixed: PreflightReport = blocker.args[0]
    assert not fixed.errors and fixed.warnings and not form.issues_at("dataset.batch_size")
    assert _cell(panel, "dataset.val_dataset.data_path", 6) == "ok"
    assert panel.accept_box.isVisible() and not panel.launch_allowed
    with qtbot.waitSignal(panel.launch_allowed_changed, timeout=5000) as allowed:
        panel.accept_box.setChecked(True)
    assert allowed.args == [True] and panel.launch_allowed
    with qtbot.waitSignal(panel.launch_allowed_changed, timeout=5000) as blocked:
        form.set_value("train.num_epochs", 3)
    assert blocked.args == [False]
    assert "checking again" in panel.status_label.text()
    with qtbot.waitSignal(panel.report_ready, timeout=60000):
        pass  # the panel checks again by itself a moment after the last edit
    assert panel.accept_box.isChecked() and panel.launch_allowed, "the same warnings stay accepted"

    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    form.set_value("train.num_epochs", 4)  # edited while the check runs
    with qtbot.waitSignal(panel.report_ready, timeout=60000):
        pass
    assert not panel.launch_allowed, "a check of the spec before the edit does not allow a launch"
    with qtbot.waitSignal(panel.report_ready, timeout=60000) as again:
        pass
    assert again.args[0].spec.get("train.num_epochs") == 4 and panel.launch_allowed


def test_sparse4d_depth_path_fix_with_preview(
    qtbot: QtBot, skills: dict[str, Skill], tmp_path: Path, screenshot_dir: Path
) -> None:
    converted = converted_scenes(tmp_path, hide_depth_maps=True)
    form = ActionForm(skills[SPARSE4D], "train")
    for override in sparse4d_overrides():
        key, _, value = override.partition("=")
        form.set_value(key, yaml.safe_load(value))
    panel = _panel(qtbot, form, host=LOCAL, parent_job=converted.job)
    assert "dataset_convert job" in panel.convert_label.text()
    assert _cell(panel, "model.head.instance_bank.anchor", 5) == f"convert job {converted.job.id}"
    report = _check(qtbot, panel)
    depth = [f for f in report.errors if f.fix_action == NORMALIZE_DEPTH_PATHS]
    assert [f.spec_key for f in depth] == [f"dataset.{s}_dataset.ann_file" for s in ("train", "val", "test")]
    assert _cell(panel, "dataset.train_dataset.ann_file", 6) == "error"
    assert panel.export_box.isVisible()
    save_screenshot(panel, screenshot_dir, "requirements_panel_sparse4d_train")

    originals = {p: p.read_bytes() for p in converted.pickles("train")}
    qtbot.mouseClick(panel.findings.fix_buttons()[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: panel.depth_fix_dialog is not None and panel.depth_fix_dialog.isVisible(), timeout=30000
    )
    dialog = panel.depth_fix_dialog
    assert dialog is not None
    assert "depth_maps/Camera_" in dialog.details.toPlainText()
    assert {p: p.read_bytes() for p in originals} == originals, "nothing written before the user confirms"
    save_screenshot(dialog, screenshot_dir, "requirements_panel_depth_fix_preview")
    with qtbot.waitSignal(panel.report_ready, timeout=60000) as blocker:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    after: PreflightReport = blocker.args[0]
    assert not [f for f in after.errors if f.spec_key == "dataset.train_dataset.ann_file"]
    assert all(Path(f"{p}.bak").read_bytes() == content for p, content in originals.items())


@pytest.mark.ssh
def test_panel_checks_on_an_ssh_host_in_a_worker(
    qtbot: QtBot, skills: dict[str, Skill], tmp_path: Path, ssh_host_config: HostConfig
) -> None:
    data = small_pose_dataset(tmp_path / "pose")
    registry = DatasetRegistry(tmp_path / "datasets.yaml")
    registry.add(Dataset("pose-lab", "lab", "train", str(data.folder)))
    form = _pose_form(skills[POSE], pose_spec_overrides(data))
    opened = []

    def open_host(config: HostConfig) -> object:
        opened.append(config.name)
        return open_session(config)

    panel = _panel(qtbot, form, host=ssh_host_config, registry=registry, open_host=open_host)
    assert _cell(panel, "dataset.train_dataset.data_path", 5) == "dataset pose-lab"
    report = _check(qtbot, panel)
    assert opened == ["lab"] and report.host == "lab"
    assert report.errors == [], [f.line() for f in report.errors]
    assert panel.launch_allowed


def test_register_dataset_from_the_panel(qtbot: QtBot, skills: dict[str, Skill], tmp_path: Path) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.dataset_choice import RegisterDatasetDialog

    data = small_pose_dataset(tmp_path / "pose")
    form = _pose_form(skills[POSE], pose_spec_overrides(data))
    panel = _panel(qtbot, form, host=LOCAL)
    assert _cell(panel, "dataset.train_dataset.data_path", 5) == "not set"
    seen: list[str] = []

    def fill_in() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, RegisterDatasetDialog)
        dialog.name_edit.setText("pose-here")
        dialog.path_edit.setText("relative/path")
        dialog._on_accept()
        seen.append(dialog.message.text())
        dialog.path_edit.setText(str(data.folder))
        dialog._on_accept()

    QTimer.singleShot(0, fill_in)
    qtbot.mouseClick(panel.register_button, Qt.MouseButton.LeftButton)
    assert seen and "must be an absolute path" in seen[0]
    assert [d.name for d in DatasetRegistry().load()] == ["pose-here"]
    assert _cell(panel, "dataset.train_dataset.data_path", 5) == "dataset pose-here"
    assert form.value("dataset.val_dataset.label_path") == str(data.label_path("val"))
