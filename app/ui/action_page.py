"""One action's page: toolbar (import, export, reset, AutoML), the form and the live YAML preview."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.skills.model import Skill
from app.core.specs.document import SpecParseError
from app.core.specs.form import ActionForm
from app.core.specs.validation import ERROR, NEEDS_INPUT, SpecIssue
from app.ui.form.action_form import ActionFormView
from app.ui.yaml_preview import YamlPreview

if TYPE_CHECKING:
    from app.ui.app_context import AppContext
    from app.ui.launch_panel import LaunchPanel


class ActionPage(QWidget):
    """Everything needed to prepare one action's spec."""

    def __init__(self, skill: Skill, action: str, parent: QWidget | None = None,
                 context: AppContext | None = None) -> None:
        super().__init__(parent)
        self.skill = skill
        self.form = ActionForm(skill, action)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._toolbar())
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.form_view = ActionFormView(self.form, self.splitter)
        self.preview = YamlPreview(self.form, self.splitter)
        self.splitter.addWidget(self.form_view)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([620, 400])
        layout.addWidget(self.splitter, 1)
        self.launch_area = QVBoxLayout()
        layout.addLayout(self.launch_area)
        self.launch_panel: LaunchPanel | None = None
        if context is not None:
            from app.ui.launch_panel import LaunchPanel

            self.launch_panel = LaunchPanel(context, self.form, self)
            self.launch_area.addWidget(self.launch_panel)
            self._add_checks_tab(self.launch_panel)
        self.form.issues_changed.connect(self._on_issues_changed)
        self._on_issues_changed(self.form.issues)

    def _add_checks_tab(self, panel: LaunchPanel) -> None:
        """Put the YAML preview and the data requirements/preflight side by side as tabs."""
        self.side_tabs = QTabWidget(self.splitter)
        self.side_tabs.setObjectName("SideTabs")
        self.side_tabs.addTab(self.preview, "Spec YAML")
        self.side_tabs.addTab(panel.requirements, "Data && checks")
        self.splitter.insertWidget(1, self.side_tabs)
        panel.checks_requested.connect(lambda: self.side_tabs.setCurrentWidget(panel.requirements))
        self.splitter.setSizes([600, 460])

    def _toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        title = QLabel(f"<b>{self.form.action.name}</b>", self)
        title.setObjectName("ActionTitle")
        command = self.form.action.command or "no command in skill_info"
        title.setToolTip(f"{command}\nimage: {self.form.action.image or 'none'}")
        bar.addWidget(title)
        self.summary = QLabel(self)
        self.summary.setObjectName("IssueSummary")
        bar.addWidget(self.summary, 1)
        self.automl_switch = QCheckBox("AutoML", self)
        self.automl_switch.setToolTip("Search the schema's AutoML parameters instead of one plain run")
        self.automl_switch.setVisible(self.form.automl_available)
        self.automl_switch.setChecked(self.form.automl_on)
        self.automl_switch.toggled.connect(self.form.set_automl)
        bar.addWidget(self.automl_switch)
        for text, handler, tip in (
            ("Import…", self._on_import_clicked, "Load an existing spec YAML"),
            ("Export…", self._on_export_clicked, "Save the spec YAML"),
            ("Reset", self._on_reset_clicked, "Back to the template"),
        ):
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.clicked.connect(handler)
            bar.addWidget(button)
        return bar

    def _on_issues_changed(self, issues: list[SpecIssue]) -> None:
        errors = [i for i in issues if i.severity == ERROR]
        needs = [i for i in issues if i.severity == NEEDS_INPUT]
        if errors:
            text = f"<span style='color:#c0392b'>✖ {len(errors)} error(s)</span>"
        elif needs:
            text = f"<span style='color:#b9770e'>✎ {len(needs)} field(s) need input</span>"
        else:
            text = "<span style='color:#1e8449'>✔ valid</span>"
        changed = len(self.form.changed_paths())
        self.summary.setText(f"{text} · {changed} changed from the template")
        self.summary.setToolTip("\n".join(str(i) for i in issues[:30]))

    def import_file(self, path: Path) -> None:
        """Import a spec file, telling the user about YAML errors and unknown keys."""
        try:
            imported = self.form.import_yaml(path.read_text(encoding="utf-8"), str(path))
        except (OSError, SpecParseError) as exc:
            QMessageBox.warning(self, "Import failed", str(exc))
            return
        if imported.unknown_keys:
            QMessageBox.information(
                self,
                "Unknown keys kept",
                "These keys are not fields of any action of this skill; they were kept and are flagged:\n\n"
                + "\n".join(imported.unknown_keys),
            )

    def _on_import_clicked(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Import spec", "", "YAML (*.yaml *.yml);;All files (*)")
        if chosen:
            self.import_file(Path(chosen))

    def _on_export_clicked(self) -> None:
        name = f"{self.skill.network_arch}_{self.form.action.name}.yaml"
        chosen, _ = QFileDialog.getSaveFileName(self, "Export spec", name, "YAML (*.yaml *.yml)")
        if chosen:
            try:
                Path(chosen).write_text(self.form.export_yaml(), encoding="utf-8")
            except OSError as exc:
                QMessageBox.warning(self, "Export failed", f"Cannot write {chosen}: {exc.strerror or exc}")

    def _on_reset_clicked(self) -> None:
        self.form.reset_all()
