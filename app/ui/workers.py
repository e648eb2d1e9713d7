"""Background work for the GUI: a plain function runs in the thread pool and reports to the GUI thread.

The function receives a ``report(progress: float, message: str)`` callable when it takes one, and may
be a generator whose yielded values arrive as items; its return value arrives at ``on_done``, an
exception's message at ``on_error`` (the window never blocks or crashes).

Qt objects must live and die on the GUI thread. So the worker thread never holds a callback (they
usually belong to widgets): callbacks wait on the GUI thread under a ticket, and everything the worker
was handed travels back with its outcome, so the last reference to it is dropped on the GUI thread too.
"""

from __future__ import annotations

import inspect
import itertools
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeGuard

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, Signal


class Task:
    """A handle on one background run: ``cancel()`` stops a generator between items."""

    def __init__(self, ticket: int) -> None:
        self.ticket = ticket
        self.cancelled = False
        self.done = False

    def cancel(self) -> None:
        """Ask the run to stop (a generator stops before its next item; a plain function runs to its end)."""
        self.cancelled = True


@dataclass
class _Callbacks:
    task: Task
    on_done: Callable[[Any], None] | None
    on_error: Callable[[str], None] | None
    on_item: Callable[[Any], None] | None
    on_progress: Callable[[float, str], None] | None


class _Dispatcher(QObject):
    """Lives on the GUI thread; workers emit through it, so every report is a queued call there."""

    progress = Signal(int, float, str)
    item = Signal(int, object)
    ended = Signal(int, object)  # ticket, the run's box: [function, args, kwargs, succeeded, value]

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, _Callbacks] = {}
        self.progress.connect(self._on_progress)
        self.item.connect(self._on_item)
        self.ended.connect(self._on_ended)

    def _on_progress(self, ticket: int, progress: float, message: str) -> None:
        callbacks = self.waiting.get(ticket)
        if callbacks is not None and _receiver_alive(callbacks.on_progress):
            callbacks.on_progress(progress, message)

    def _on_item(self, ticket: int, value: object) -> None:
        callbacks = self.waiting.get(ticket)
        if callbacks is not None and _receiver_alive(callbacks.on_item) and not callbacks.task.cancelled:
            callbacks.on_item(value)

    def _on_ended(self, ticket: int, box: list[Any]) -> None:
        _function, _args, _kwargs, succeeded, value = box
        box.clear()  # from here on only this thread holds what the worker was handed
        callbacks = self.waiting.pop(ticket, None)
        if callbacks is None:
            return
        callbacks.task.done = True
        callback = callbacks.on_done if succeeded else callbacks.on_error
        if _receiver_alive(callback):
            callback(value)


def _receiver_alive(callback: Callable[..., None] | None) -> TypeGuard[Callable[..., None]]:
    """False for no callback, and for a method (or a partial of one) of a Qt object that was deleted
    meanwhile: a signal connected to it would have been disconnected."""
    if callback is None:
        return False
    function: Any = callback
    while isinstance(function, partial):
        function = function.func
    owner = getattr(function, "__self__", None)
    return not isinstance(owner, shiboken6.Object) or shiboken6.isValid(owner)


_dispatcher: _Dispatcher | None = None
_tickets = itertools.count(1)


def _run(dispatcher: _Dispatcher, task: Task, box: list[Any]) -> None:
    """The pool thread's side: run the function and send its outcome back in the box it came in."""
    box.extend(_call(dispatcher, task, box))
    dispatcher.ended.emit(task.ticket, box)


def _call(dispatcher: _Dispatcher, task: Task, box: list[Any]) -> tuple[bool, Any]:
    function, args, kwargs = box
    try:
        if "report" in inspect.signature(function).parameters:
            kwargs = {**kwargs, "report": partial(_report, dispatcher, task.ticket)}
        result = function(*args, **kwargs)
        if inspect.isgenerator(result):
            for value in result:
                if task.cancelled:
                    result.close()
                    break
                dispatcher.item.emit(task.ticket, value)
            result = None
        return True, result
    except Exception as exc:
        traceback.print_exc()
        return False, str(exc) or type(exc).__name__


def _report(dispatcher: _Dispatcher, ticket: int, progress: float, message: str = "") -> None:
    dispatcher.progress.emit(ticket, progress, message)


def run_in_background(
    function: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_item: Callable[[Any], None] | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    **kwargs: Any,
) -> Task:
    """Run ``function(*args, **kwargs)`` in the global pool; the callbacks run on the GUI thread.

    Call from the GUI thread. Until it reports, the run is kept alive here: callers hold the returned
    `Task` only to cancel it or to ask whether it is done.
    """
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = _Dispatcher()
    task = Task(next(_tickets))
    _dispatcher.waiting[task.ticket] = _Callbacks(task, on_done, on_error, on_item, on_progress)
    QThreadPool.globalInstance().start(partial(_run, _dispatcher, task, [function, args, kwargs]))
    return task


def tasks_waiting() -> int:
    """How many runs have not reported their end yet."""
    return 0 if _dispatcher is None else len(_dispatcher.waiting)
