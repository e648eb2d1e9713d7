"""Building widgets without a screen, for ``taodesk skills check --widgets``."""

from __future__ import annotations

import os

from app.core.specs.form import ActionForm


def ensure_offscreen_app() -> None:
    """A QApplication on the offscreen platform unless one exists."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QApplication([])


def build_form_widgets_offscreen(form: ActionForm) -> None:
    """Build every section of the action's form (lazy sections included), then discard it."""
    ensure_offscreen_app()
    from app.ui.form.action_form import ActionFormView

    view = ActionFormView(form)
    for section in list(view.sections.values()):
        section.ensure_built()
    view.deleteLater()
