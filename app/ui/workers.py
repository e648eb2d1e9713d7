"""Background work for the GUI: a plain function runs in a thread pool and reports through signals.

The function receives a ``report(progress: float, message: str)`` callable and may also be a generator
whose yielded values arrive as ``item`` signals; its return value arrives as ``finished``, an exception as
``failed`` (the message is for the user, the window never blocks or crashes).
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class WorkerSignals(QObject):
    """Signals a worker emits back on the GUI thread."""

    progress = Signal(float, str)
    item = Signal(object)
    finished = Signal(object)
    failed = Signal(str)


class Worker(QRunnable):
    """Runs ``function(*args, report=..., **kwargs)`` off the GUI thread."""

    def __init__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.signals = WorkerSignals()
        self.cancelled = False
        self.setAutoDelete(True)

    def report(self, progress: float, message: str = "") -> None:
        """Called by the function to report progress (0..1)."""
        self.signals.progress.emit(progress, message)

    def run(self) -> None:
        """QRunnable entry point."""
        try:
            kwargs = dict(self.kwargs)
            if "report" in inspect.signature(self.function).parameters:
                kwargs["report"] = self.report
            result = self.function(*self.args, **kwargs)
            if inspect.isgenerator(result):
                for value in result:
                    if self.cancelled:
                        result.close()
                        break
                    self.signals.item.emit(value)
                result = None
            self.signals.finished.emit(result)
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            traceback.print_exc()
            self.signals.failed.emit(message)


def run_in_background(
    function: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_item: Callable[[Any], None] | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    **kwargs: Any,
) -> Worker:
    """Start a worker on the global pool and connect the given callbacks."""
    worker = Worker(function, *args, **kwargs)
    if on_done:
        worker.signals.finished.connect(on_done)
    if on_error:
        worker.signals.failed.connect(on_error)
    if on_item:
        worker.signals.item.connect(on_item)
    if on_progress:
        worker.signals.progress.connect(on_progress)
    _running.add(worker)
    worker.signals.finished.connect(lambda _result: _running.discard(worker))
    worker.signals.failed.connect(lambda _message: _running.discard(worker))
    QThreadPool.globalInstance().start(worker)
    return worker


_running: set[Worker] = set()  # keeps each worker (and its signals) alive until it has reported
