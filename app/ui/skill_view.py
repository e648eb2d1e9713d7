"""A skill's header and its actions as tabs (action pages are built when first shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from app.core.skills.model import Skill
from app.ui.action_page import ActionPage

if TYPE_CHECKING:
    from app.ui.app_context import AppContext


class SkillView(QWidget):
    """Header (name, description, hardware) and one tab per action."""

    def __init__(
        self, skill: Skill, parent: QWidget | None = None, context: AppContext | None = None
    ) -> None:
        super().__init__(parent)
        self.skill = skill
        self.context = context
        self.pages: dict[str, ActionPage] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QLabel(self)
        header.setObjectName("SkillHeader")
        header.setWordWrap(True)
        hardware = skill.hardware
        gpus = f" · needs {hardware.min_gpus}+ GPU(s)" if hardware.min_gpus else ""
        memory = f", {hardware.min_gpu_memory_gb:g} GB+ each" if hardware.min_gpu_memory_gb else ""
        header.setText(
            f"<b>{skill.name}</b>{gpus}{memory}<br><span style='color:#555'>{skill.description}</span>"
        )
        layout.addWidget(header)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("ActionTabs")
        self._names = list(skill.actions)
        for name in self._names:
            placeholder = QWidget(self.tabs)
            self.tabs.addTab(placeholder, name)
            if skill.actions[name].root is None:
                self.tabs.setTabEnabled(self.tabs.count() - 1, False)
                self.tabs.setTabToolTip(self.tabs.count() - 1, "The action's schema did not load")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        layout.addWidget(self.tabs, 1)
        self._on_tab_changed(self.tabs.currentIndex())

    def page(self, action: str) -> ActionPage:
        """The page of an action (built on demand) and make it current."""
        index = self._names.index(action)
        self.tabs.setCurrentIndex(index)
        self._on_tab_changed(index)
        return self.pages[action]

    def current_page(self) -> ActionPage | None:
        """The page shown now."""
        index = self.tabs.currentIndex()
        return self.pages.get(self._names[index]) if 0 <= index < len(self._names) else None

    def _on_tab_changed(self, index: int) -> None:
        if index < 0 or index >= len(self._names):
            return
        name = self._names[index]
        if name in self.pages or self.skill.actions[name].root is None:
            return
        page = ActionPage(self.skill, name, self.tabs, self.context)
        self.pages[name] = page
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, page, name)
        self.tabs.setCurrentIndex(index)
        self.tabs.blockSignals(False)
