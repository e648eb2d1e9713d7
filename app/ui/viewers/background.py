"""Keeps background workers alive until they report: a worker whose Python object is collected
early loses its signals, and its result never arrives. Everything is connected before the worker
starts, so even a worker that fails at once is released; results that arrive after the widget
that asked for them was closed are dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThreadPool

from app.ui.workers import Worker


class BackgroundTasks:
    """Starts workers for ``owner`` and holds a reference to each until it finishes or fails."""

    def __init__(self, owner: QObject) -> None:
        self.owner = owner
        self._running: set[Worker] = set()

    @property
    def busy(self) -> bool:
        """True while any worker started here has not reported yet."""
        return bool(self._running)

    def start(
        self,
        function: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> Worker:
        """Run ``function(*args)`` off the GUI thread; ``on_done``/``on_error`` run on the GUI thread."""
        worker = Worker(function, *args)
        self._running.add(worker)
        worker.signals.finished.connect(lambda _result: self._running.discard(worker))
        worker.signals.failed.connect(lambda _message: self._running.discard(worker))
        worker.signals.finished.connect(lambda result: self._deliver(on_done, result))
        worker.signals.failed.connect(lambda message: self._deliver(on_error, message))
        QThreadPool.globalInstance().start(worker)
        return worker

    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        if shiboken6.isValid(self.owner):
            callback(value)
