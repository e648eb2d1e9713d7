"""The searchable list of skills: model name, task tag, AutoML badge."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.core.skills import SkillBank


class SkillListPanel(QWidget):
    """Lists the bank's skills; emits ``skill_selected(name)``."""

    skill_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        caption = QLabel("Skills", self)
        caption.setObjectName("PaneCaption")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter skills…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_filter_changed)
        self.list = QListWidget(self)
        self.list.setObjectName("SkillList")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.problems = QLabel(self)
        self.problems.setObjectName("BankProblems")
        self.problems.setWordWrap(True)
        self.problems.hide()
        layout.addWidget(caption)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.problems)

    def set_bank(self, bank: SkillBank) -> None:
        """Show the skills of a bank (and how many problems it had)."""
        self.list.clear()
        for name in sorted(bank.skills):
            skill = bank.skills[name]
            title = name.removeprefix("tao-train-").replace("-", " ").title()
            badges = [skill.task_tag] if skill.task_tag else []
            if skill.automl_enabled:
                badges.append("AutoML")
            item = QListWidgetItem(f"{title}\n{'  ·  '.join(badges)}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(f"{name}\n{skill.description}\n{skill.path}")
            self.list.addItem(item)
        if bank.problems:
            self.problems.setText(f"⚠ {len(bank.problems)} problem(s) while loading skills")
            self.problems.setToolTip("\n".join(str(p) for p in bank.problems[:40]))
        self.problems.setVisible(bool(bank.problems))

    def select(self, name: str) -> None:
        """Select a skill by name (first one when not found)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(row)
                return
        if self.list.count():
            self.list.setCurrentRow(0)

    def _on_filter_changed(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(bool(needle) and needle not in (item.text() + item.toolTip()).lower())

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self.skill_selected.emit(current.data(Qt.ItemDataRole.UserRole))
