"""Background work and garbage collection keep Qt objects on the GUI thread.

A Qt object destroyed from a worker thread can crash the app or hang its X connection, so: callbacks run
on the GUI thread, what a worker was handed is released there, callbacks of deleted widgets are not
called, and Python's cycle collector never runs in a worker thread.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import QObject, QThreadPool
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.ui.application import create_application
from app.ui.gui_gc import GuiThreadCollector, collect_on_gui_thread
from app.ui.workers import run_in_background, tasks_waiting


class Probe:
    """Records the thread that released it."""

    released_on: ClassVar[list[str]] = []

    def __init__(self, cycle: bool) -> None:
        self.cycle: object = self if cycle else None
        self.qt_object = QObject()

    def __del__(self) -> None:
        Probe.released_on.append(threading.current_thread().name)


class ProgressLabel(QLabel):
    """A label that shows a step's progress."""

    def show_progress(self, step: str, fraction: float, message: str) -> None:
        self.setText(f"{step}: {message} ({fraction:.0%})")


@pytest.fixture
def app_ready(qtbot: QtBot) -> Iterator[None]:
    create_application()
    Probe.released_on.clear()
    yield
    qtbot.waitUntil(lambda: tasks_waiting() == 0, timeout=10_000)


def _wait_idle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: tasks_waiting() == 0, timeout=10_000)
    QThreadPool.globalInstance().waitForDone(5_000)


def test_results_errors_items_and_progress_arrive_on_the_gui_thread(app_ready: None, qtbot: QtBot) -> None:
    seen: list[tuple[str, Any, str]] = []

    def note(kind: str) -> Callable[..., None]:
        return lambda *value: seen.append((kind, value, threading.current_thread().name))

    def counting(report: object) -> Iterator[int]:
        for number in range(3):
            report(number / 3, f"item {number}")  # type: ignore[operator]
            yield number

    def broken() -> None:
        raise ValueError("the file is gone")

    run_in_background(sum, [1, 2, 3], on_done=note("done"))
    run_in_background(broken, on_error=note("error"))
    task = run_in_background(
        counting, on_item=note("item"), on_progress=note("progress"), on_done=note("end")
    )
    _wait_idle(qtbot)
    main = threading.main_thread().name
    assert {thread for *_, thread in seen} == {main}
    assert ("done", (6,), main) in seen and ("error", ("the file is gone",), main) in seen
    assert [value for kind, value, _ in seen if kind == "item"] == [(0,), (1,), (2,)]
    assert [value[1] for kind, value, _ in seen if kind == "progress"] == ["item 0", "item 1", "item 2"]
    assert task.done


def test_what_a_worker_was_handed_is_released_on_the_gui_thread(app_ready: None, qtbot: QtBot) -> None:
    for _ in range(60):
        probe = Probe(cycle=False)
        run_in_background(lambda held: held.qt_object is not None, probe, on_done=lambda _result: None)
        del probe
    _wait_idle(qtbot)
    assert len(Probe.released_on) == 60
    assert set(Probe.released_on) == {threading.main_thread().name}


def test_a_deleted_widgets_callback_is_not_called(app_ready: None, qtbot: QtBot) -> None:
    label = ProgressLabel("waiting")
    gate = threading.Event()

    def finish(report: Callable[[float, str], None]) -> str:
        gate.wait(5)
        report(1.0, "read")
        return "finished"

    run_in_background(finish, on_done=label.setText, on_progress=partial(label.show_progress, "reading"))
    label.deleteLater()
    qtbot.waitUntil(lambda: not _alive(label), timeout=5_000)
    gate.set()
    _wait_idle(qtbot)  # setText on the deleted label would raise RuntimeError in the slot


def _alive(widget: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(widget)


def test_garbage_cycles_are_collected_on_the_gui_thread_not_in_workers(app_ready: None, qtbot: QtBot) -> None:
    collector = collect_on_gui_thread(create_application())
    assert isinstance(collector, GuiThreadCollector) and not gc.isenabled()
    Probe(cycle=True)  # garbage only the cycle collector can free

    loaded: list[list[int]] = []

    def allocate() -> None:
        loaded.extend([index] for index in range(200_000))  # far past the young generation's threshold

    worker = threading.Thread(target=allocate, name="allocating-worker")
    worker.start()
    worker.join()
    assert Probe.released_on == []
    qtbot.waitUntil(lambda: bool(Probe.released_on), timeout=5_000)
    assert Probe.released_on == [threading.main_thread().name]
