"""The header button of a collapsible section (form sections, chart groups)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy, QToolButton, QWidget


def section_toggle(parent: QWidget, object_name: str, text: str = "", expanded: bool = False) -> QToolButton:
    """A checkable, full-width header button with an arrow showing whether the section is open."""
    button = QToolButton(parent)
    button.setObjectName(object_name)
    button.setText(text)
    button.setCheckable(True)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    show_expanded(button, expanded)
    return button


def show_expanded(button: QToolButton, expanded: bool) -> None:
    """Check the button and point its arrow down (open) or right (closed), without emitting."""
    button.blockSignals(True)
    button.setChecked(expanded)
    button.blockSignals(False)
    button.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
