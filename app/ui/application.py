"""Starting the GUI."""

from __future__ import annotations

import argparse
import sys

from app import paths


def load_style_sheet() -> str:
    """The app's style sheet from resources (empty if missing)."""
    path = paths.resources_dir() / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def create_application() -> object:
    """The QApplication (created once), styled."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("TAO Desk")
    app.setOrganizationName("taodesk")
    app.setStyle("Fusion")
    app.setStyleSheet(load_style_sheet())
    return app


def run_gui(argv: list[str]) -> int:
    """Open the main window; returns the exit code of the event loop."""
    parser = argparse.ArgumentParser(prog="taodesk", description="Open the TAO Desk window.")
    parser.add_argument("--bank", action="append", default=[], metavar="DIR", help="add a skill bank folder")
    args = parser.parse_args(argv)
    app = create_application()
    from app.ui.main_window import MainWindow

    window = MainWindow(extra_banks=args.bank)
    window.show()
    return int(app.exec())  # type: ignore[attr-defined]
