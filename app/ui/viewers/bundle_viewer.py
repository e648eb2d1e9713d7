"""What the results viewers share: a bundle read in a worker, a message banner, and a placeholder page
that says why nothing is shown while there is nothing to show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QStackedWidget, QVBoxLayout, QWidget

from app.ui.viewers.background import BackgroundTasks
from app.ui.viewers.chrome import VIEWER_STYLE, MessageBanner, notice_label


class BundleViewer(QWidget):
    """A viewer of one loaded bundle; stays usable (with a message) when loading fails.

    Subclasses lay out ``banner`` and ``pages`` with their own controls, add their body as the second
    page, and implement ``set_bundle`` (show a bundle) and ``clear_results`` (forget the shown one).
    ``loaded`` fires whenever a load ends, shown or failed.
    """

    loaded = Signal()

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setStyleSheet(VIEWER_STYLE)
        self.loading = False
        self.tasks = BackgroundTasks(self)
        self.main_layout = QVBoxLayout(self)
        self.main_layout.setContentsMargins(4, 4, 4, 4)
        self.main_layout.setSpacing(4)
        self.banner = MessageBanner(self)
        self.pages = QStackedWidget(self)
        self.placeholder = notice_label("Nothing to show yet.", self.pages)
        self.pages.addWidget(self.placeholder)

    def start_loading(self, description: str, function: Callable[..., object], *args: object) -> None:
        """Run ``function(*args)`` (which returns a bundle) in a worker and show its result."""
        self.loading = True
        self.banner.show_message(description, "info")
        self.placeholder.setText("Reading the results …")
        self.pages.setCurrentWidget(self.placeholder)
        self.tasks.start(function, *args, on_done=self.set_bundle, on_error=self.show_error)

    def set_bundle(self, bundle: Any) -> None:
        """Show a loaded bundle (and emit ``loaded``)."""
        raise NotImplementedError

    def clear_results(self) -> None:
        """Forget what is shown (loading failed)."""
        raise NotImplementedError

    def show_error(self, message: str) -> None:
        """Say why nothing can be shown; the viewer stays open and usable."""
        self.loading = False
        self.banner.show_message(message, "error")
        self.clear_results()
        self.placeholder.setText("Nothing to show: see the message above.")
        self.pages.setCurrentWidget(self.placeholder)
        self.loaded.emit()


def show_alone(app: QApplication, viewer: QWidget, width: int, height: int) -> int:
    """Show a viewer opened on its own (``python -m app.ui.viewers.<viewer>``) until it is closed."""
    viewer.resize(width, height)
    viewer.show()
    return int(app.exec())
