"""Background reads for one viewer: results that arrive after the viewer was closed are dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

from app.ui.workers import Task, run_in_background


class BackgroundTasks:
    """Starts runs for ``owner`` and knows whether any of them has not reported yet."""

    def __init__(self, owner: QObject) -> None:
        self.owner = owner
        self._running: set[int] = set()

    @property
    def busy(self) -> bool:
        """True while any run started here has not reported yet."""
        return bool(self._running)

    def start(
        self,
        function: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> Task:
        """Run ``function(*args)`` off the GUI thread; ``on_done``/``on_error`` run on the GUI thread."""
        ticket: list[int] = []

        def deliver(callback: Callable[[Any], None], value: Any) -> None:
            self._running.discard(ticket[0])
            if shiboken6.isValid(self.owner):
                callback(value)

        task = run_in_background(
            function, *args,
            on_done=lambda result: deliver(on_done, result),
            on_error=lambda message: deliver(on_error, message),
        )  # fmt: skip
        ticket.append(task.ticket)
        self._running.add(task.ticket)
        return task
