"""Python's cycle collector, run on the GUI thread only.

Left automatic, a collection starts in whichever thread happens to allocate: a background read that
makes many objects would collect the reference cycles of closed widgets, timers and canvases there,
and a Qt object destroyed off the GUI thread can crash the app or hang its X connection. The app
switches automatic collection off and collects from a timer on the GUI thread instead (pyqtgraph's
``GarbageCollector`` does the same). A full collection walks every object, so it runs at most once per
``FULL_COLLECTION_SPACING_S`` however fast young objects pile up.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

CHECK_INTERVAL_MS = 250
FULL_COLLECTION_SPACING_S = 10.0


class GuiThreadCollector(QObject):
    """Disables automatic collection and collects by generation from a GUI-thread timer."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.collections = 0
        self._last_full = time.monotonic()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        """Collect the generations whose counts passed Python's own thresholds."""
        young, middle, old = gc.get_count()
        if young <= self.thresholds[0]:
            return
        generation = 0
        if middle > self.thresholds[1]:
            generation = 1
            now = time.monotonic()
            if old > self.thresholds[2] and now - self._last_full >= FULL_COLLECTION_SPACING_S:
                generation = 2
                self._last_full = now
        gc.collect(generation)
        self.collections += 1


def collect_on_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """Install the GUI-thread collector on ``app`` (once); call from the GUI thread."""
    existing = app.findChild(GuiThreadCollector)
    if isinstance(existing, GuiThreadCollector):
        return existing
    if QThread.currentThread() != app.thread():
        raise RuntimeError("the collector must be installed from the GUI thread")
    return GuiThreadCollector(app)
