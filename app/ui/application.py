"""Starting the GUI."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from app import paths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication


def load_style_sheet() -> str:
    """The app's style sheet from resources (empty if missing)."""
    path = paths.resources_dir() / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


MIN_WORKER_THREADS = 8  # background work mostly waits on hosts (SSH, Docker), not on the CPU
GUI_SWITCH_INTERVAL = 0.001


def create_application() -> QApplication:
    """The QApplication (created once), styled, and the process set up for a GUI.

    Garbage is collected on the GUI thread only (`app.ui.gui_gc`); the worker pool has room for
    runs that wait on hosts; busy background threads (log followers, workers) hand the interpreter
    lock to the GUI thread within about 1 ms instead of Python's default 5 ms (measured by
    bench_job_log, this halves the worst event-loop stall while a flood of log lines arrives).
    """
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("TAO Desk")
    app.setOrganizationName("taodesk")
    app.setStyle("Fusion")
    app.setStyleSheet(load_style_sheet())
    from app.ui.gui_gc import collect_on_gui_thread

    collect_on_gui_thread(app)
    sys.setswitchinterval(GUI_SWITCH_INTERVAL)
    pool = QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_WORKER_THREADS))
    return app


def run_gui(argv: list[str]) -> int:
    """Open the main window; returns the exit code of the event loop."""
    parser = argparse.ArgumentParser(prog="taodesk", description="Open the TAO Desk window.")
    parser.add_argument("--bank", action="append", default=[], metavar="DIR", help="add a skill bank folder")
    args = parser.parse_args(argv)
    app = create_application()
    from app.ui.main_window import MainWindow

    window = MainWindow(extra_banks=args.bank)
    if os.environ.get("TAODESK_REPORT_FIRST_PAINT"):
        _report_first_paint(window)
    window.show()
    return int(app.exec())


def _report_first_paint(window: object) -> None:
    """Print the wall-clock time of the window's first paint and quit (start-up benchmark)."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    class FirstPaint(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not getattr(self, "done", False):
                self.done = True
                print(f"first-paint {time.time():.6f}", flush=True)
                QTimer.singleShot(0, QApplication.quit)
            return False

    watcher = FirstPaint(window)  # type: ignore[arg-type]
    window.installEventFilter(watcher)  # type: ignore[attr-defined]
