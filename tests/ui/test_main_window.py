"""The main window under a real X server: skills, action tabs, the generated form, live YAML, screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ui.application import create_application, load_style_sheet
from app.ui.form.editors import (
    BoolEditor,
    DictEditor,
    EnumEditor,
    FloatEditor,
    IntEditor,
    ListEditor,
    PathEditor,
    YamlEditor,
)
from app.ui.main_window import MainWindow
from tests.infra.bundles import write_bundle
from tests.infra.gui import open_main_window
from tests.ui.conftest import save_screenshot


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return open_main_window(qtbot, 1400, 860)


def test_style_sheet_ships_with_the_app() -> None:
    assert "FieldMessage" in load_style_sheet()


def test_skill_list_shows_both_skills_with_task_and_automl_badges(window: MainWindow) -> None:
    texts = [window.skill_list.list.item(i).text() for i in range(window.skill_list.list.count())]
    assert len(texts) == 2 and all("AutoML" in t for t in texts)
    window.skill_list.search.setText("sparse")
    visible = [
        window.skill_list.list.item(i) for i in range(2) if not window.skill_list.list.item(i).isHidden()
    ]
    assert [i.data(Qt.ItemDataRole.UserRole) for i in visible] == ["tao-train-sparse4d"]


def test_editing_shows_errors_at_the_field_and_updates_yaml(
    window: MainWindow, qtbot: QtBot, screenshot_dir: Path
) -> None:
    window.skill_list.select("tao-train-pose-classification")
    view = window.current_skill_view()
    assert view is not None and [view.tabs.tabText(i) for i in range(view.tabs.count())] == [
        "dataset_convert",
        "train",
        "evaluate",
        "export",
        "inference",
    ]
    page = view.page("train")
    row = page.form_view.reveal("train.checkpoint_interval")
    assert row is not None and isinstance(row.editor, IntEditor)
    row.editor.spin.lineEdit().selectAll()
    qtbot.keyClicks(row.editor.spin, "50")
    assert page.form.value("train.checkpoint_interval") == 50
    assert row.message.isVisible() and "epochs" in row.message.text()
    assert row.marker.isVisible()
    dropout = page.form_view.reveal("model.dropout")
    assert dropout is not None and isinstance(dropout.editor, FloatEditor)
    dropout.editor.spin.lineEdit().selectAll()
    qtbot.keyClicks(dropout.editor.spin, "2.5")
    assert page.form.value("model.dropout") == 0.5, "the spin box keeps typing inside the schema's bounds"
    page.form_view.search.setFocus()
    page.form.set_value("model.dropout", 2.5)  # as an imported spec would
    assert dropout.editor.spin.value() == 2.5, "an out-of-range value is shown as it is, not clamped"
    assert "at most 1" in dropout.message.text()
    section = page.form_view.sections["model"]
    assert section.badge.isVisible() and "1" in section.badge.text()
    qtbot.waitUntil(lambda: "checkpoint_interval: 50" in page.preview.text.toPlainText(), timeout=2000)
    assert "error" in page.summary.text()
    assert row.automl_tag.isHidden() and dropout.automl_tag.isVisible(), "AutoML on by default for train"
    save_screenshot(window, screenshot_dir, "main_window_pose_train")
    row.reset_button.click()
    assert page.form.value("train.checkpoint_interval") == 1 and not row.marker.isVisible()


def test_sparse4d_form_uses_the_widget_registry(window: MainWindow, screenshot_dir: Path) -> None:
    window.skill_list.select("tao-train-sparse4d")
    view = window.current_skill_view()
    assert view is not None
    page = view.page("train")
    kinds = {
        "dataset.batch_size": IntEditor,
        "dataset.use_h5_file_for_depth": BoolEditor,
        "train.precision": EnumEditor,
        "dataset.classes": ListEditor,
        "dataset.data_root": PathEditor,
    }
    for path, editor in kinds.items():
        row = page.form_view.reveal(path, focus=False)
        assert row is not None and isinstance(row.editor, editor), path
    data_root = page.form_view.rows["dataset.data_root"][-1]
    assert "needs input" in data_root.message.text()
    page.form_view.search.setText("anchor")
    anchor = page.form_view.rows["model.head.instance_bank.anchor"][-1]
    assert anchor.isVisibleTo(page.form_view)
    page.form_view.search.setText("")
    save_screenshot(window, screenshot_dir, "main_window_sparse4d_train")


def test_label_map_is_a_key_value_table_and_import_flags_unknown_keys(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.skill_list.select("tao-train-pose-classification")
    page = window.current_skill_view().page("train")  # type: ignore[union-attr]
    row = page.form_view.reveal("dataset.label_map")
    assert row is not None and isinstance(row.editor, DictEditor)
    assert row.editor.table.rowCount() == 6
    spec = tmp_path / "mine.yaml"
    spec.write_text(
        yaml.safe_dump(
            {"train": {"num_epochs": 7, "secret_sauce": 1}, "dataset": {"label_map": {"walk": 0, "run": 1}}}
        )
    )
    shown: list[str] = []
    monkeypatch.setattr("app.ui.action_page.QMessageBox.information", lambda *args: shown.append(args[2]))
    page.import_file(spec)
    assert page.form.value("train.num_epochs") == 7
    assert row.editor.table.rowCount() == 2
    assert shown and "train.secret_sauce" in shown[0]
    assert page.form_view.unknown_label.isVisible()
    broken = tmp_path / "broken.yaml"
    broken.write_text("train: [1\n")
    warned: list[str] = []
    monkeypatch.setattr("app.ui.action_page.QMessageBox.warning", lambda *args: warned.append(args[2]))
    page.import_file(broken)
    assert warned and "broken.yaml:2" in warned[0] and page.form.value("train.num_epochs") == 7


def test_unknown_type_falls_back_to_yaml_editor(qtbot: QtBot, tmp_path: Path) -> None:
    import json

    folder = write_bundle(tmp_path)
    schema = json.loads((folder / "schemas" / "train.schema.json").read_text())
    schema["properties"]["train"]["properties"]["fancy"] = {"type": "tensor_shape", "default": [1, 2]}
    (folder / "schemas" / "train.schema.json").write_text(json.dumps(schema))
    create_application()
    win = MainWindow(extra_banks=[str(tmp_path)])
    qtbot.addWidget(win)
    win.skill_list.select("tao-train-toy")
    page = win.current_skill_view().page("train")  # type: ignore[union-attr]
    row = page.form_view.reveal("train.fancy")
    assert row is not None and isinstance(row.editor, YamlEditor)
    assert "unknown" in row.message.text()


def test_window_layout_and_banks_persist(qtbot: QtBot, tmp_path: Path) -> None:
    write_bundle(tmp_path)
    create_application()
    first = MainWindow()
    qtbot.addWidget(first)
    first.add_bank(tmp_path)
    first.resize(1111, 777)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert "tao-train-toy" in second.bank.skills
    assert second.size().width() == 1111
