"""For tests under a real X server: widgets shown on screen, the main window, forms filled in."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.core.specs.form import ActionForm
from app.core.specs.overrides import parse_override
from app.ui.application import create_application
from app.ui.main_window import MainWindow

ShownWidget = TypeVar("ShownWidget", bound=QWidget)


def show_widget(qtbot: QtBot, widget: ShownWidget, width: int, height: int) -> ShownWidget:
    """Hand ``widget`` to qtbot (closed after the test), size it, show it and wait until it is on screen."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def open_main_window(qtbot: QtBot, width: int, height: int) -> MainWindow:
    """The application's main window, shown on screen at the given size."""
    create_application()
    return show_widget(qtbot, MainWindow(), width, height)


def fill_form(form: ActionForm, overrides: list[str]) -> None:
    """Type ``key=value`` overrides into the form model (keys the action's form does not have are skipped)."""
    for text in overrides:
        override = parse_override(text, form.skill.shorthand_keys)
        if form.root.find(override.key) is not None:
            form.set_value(override.key, override.value)
