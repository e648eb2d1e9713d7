"""GUI test helpers: a main window on the real bundled bank, and screenshots."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QWidget


def save_screenshot(widget: QWidget, folder: Path, name: str) -> Path:
    """Grab a widget into ``folder/name.png`` and return the path."""
    for _ in range(3):  # let pending layout requests settle, as they would on screen
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path
