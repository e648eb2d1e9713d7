"""Background reads for one viewer: results that arrive after the viewer was closed are dropped."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

from app.ui.workers import Task, run_in_background


class BackgroundTasks:
    """Starts runs for ``owner`` and knows whether any of them has not reported yet."""

    def __init__(self, owner: QObject) -> None:
        self.owner = owner
        self._tasks: list[Task] = []

    @property
    def busy(self) -> bool:
        """True while any run started here has not reported yet."""
        self._tasks = [task for task in self._tasks if not task.done]
        return bool(self._tasks)

    def start(
        self,
        function: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> Task:
        """Run ``function(*args)`` off the GUI thread; ``on_done``/``on_error`` run on the GUI thread."""
        deliver = self._deliver
        task = run_in_background(
            function, *args, on_done=partial(deliver, on_done), on_error=partial(deliver, on_error)
        )
        self._tasks.append(task)
        return task

    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        if shiboken6.isValid(self.owner):
            callback(value)
