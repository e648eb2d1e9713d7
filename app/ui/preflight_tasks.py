"""Host work for the requirements panel off the GUI thread: sessions per task, and the depth-path fix flow
(preview in the background, a dialog to confirm, the rewrite in the background)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from app.core.datasets.depth_paths import DepthFixPlan, apply_depth_fix, preview_depth_fix
from app.core.datasets.findings import Finding
from app.core.hosts.session import HostSession
from app.core.hosts.settings import HostConfig
from app.ui.workers import run_in_background

OpenHost = Callable[[HostConfig], HostSession]
Report = Callable[[float, str], None]


class HostTasks:
    """Turns functions of a host session into work for `run_in_background` that opens the session itself.

    With ``close_sessions`` every task opens its own session and closes it afterwards; otherwise
    ``open_host`` hands out shared sessions that stay open.
    """

    def __init__(self, open_host: OpenHost, close_sessions: bool) -> None:
        self.open_host = open_host
        self.close_sessions = close_sessions

    def bind_reporting(
        self, config: HostConfig, action: Callable[[HostSession, Report], Any]
    ) -> Callable[[Report], Any]:
        """``action(session, report)`` as a function of ``report`` (progress for the GUI) that opens
        (and, if asked, closes) the session itself."""
        opener, close = self.open_host, self.close_sessions

        def work(report: Report) -> Any:
            session = opener(config)
            try:
                return action(session, report)
            finally:
                if close:
                    session.close()

        return work

    def bind(self, config: HostConfig, action: Callable[[HostSession], Any]) -> Callable[[Report], Any]:
        """Like `bind_reporting`, for an ``action(session)`` that reports no progress."""
        return self.bind_reporting(config, lambda session, _report: action(session))


class DepthFixDialog(QDialog):
    """Shows what the depth-path fix would rewrite; the user confirms before anything is written."""

    def __init__(self, plan: DepthFixPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rewrite depth paths")
        layout = QVBoxLayout(self)
        changed = [f for f in plan.files if f.changes]
        intro = QLabel(
            f"{plan.total} depth reference(s) in {len(changed)} infos pickle(s) point at camera folders "
            "while the H5 files are under depth_maps/. They will be rewritten to the H5 files; each "
            "original pickle is kept next to it with the suffix .bak.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.details = QPlainTextEdit(plan.summary(), self)
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setMinimumSize(860, 280)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(self)
        self.apply_button = buttons.addButton(
            f"Rewrite {len(changed)} pickle(s)", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.setEnabled(bool(changed))
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class DepthFixFlow(QObject):
    """Preview (background) -> `DepthFixDialog` -> rewrite (background); ``status(text, severity)``
    reports along the way and ``fixed`` fires once the pickles were rewritten."""

    status = Signal(str, str)
    fixed = Signal(object)

    def __init__(self, tasks: HostTasks, parent: QWidget) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.window = parent
        self.dialog: DepthFixDialog | None = None

    def start(self, config: HostConfig, finding: Finding, max_bytes: int) -> None:
        """Look at the pickles the finding names and show what would change."""
        value = finding.fix_value if isinstance(finding.fix_value, dict) else {}
        pickles = [str(p) for p in value.get("pickles", [])]
        data_root = str(value.get("data_root", ""))
        self.status.emit(f"Looking at {len(pickles)} pickle(s) for the depth-path fix…", "")
        preview = self.tasks.bind(
            config, partial(preview_depth_fix, pickles=pickles, data_root=data_root, max_bytes=max_bytes)
        )
        run_in_background(preview, on_done=partial(self._confirm, config, max_bytes), on_error=self._failed)

    def _confirm(self, config: HostConfig, max_bytes: int, plan: DepthFixPlan) -> None:
        dialog = DepthFixDialog(plan, self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(partial(self._on_dialog_finished, config, max_bytes, dialog, plan))
        self.dialog = dialog
        dialog.open()

    def _on_dialog_finished(
        self, config: HostConfig, max_bytes: int, dialog: DepthFixDialog, plan: DepthFixPlan, result: int
    ) -> None:
        self.dialog = None
        dialog.deleteLater()
        if result != QDialog.DialogCode.Accepted:
            self.status.emit("The depth paths were left as they are.", "")
            return
        self.status.emit(f"Rewriting {len([f for f in plan.files if f.changes])} pickle(s)…", "")
        rewrite = self.tasks.bind(config, partial(apply_depth_fix, plan=plan, max_bytes=max_bytes))
        run_in_background(rewrite, on_done=self._done, on_error=self._failed)

    def _done(self, plan: DepthFixPlan) -> None:
        self.status.emit(f"Rewrote {plan.total} depth path(s); the originals are kept as .bak files.", "ok")
        self.fixed.emit(plan)

    def _failed(self, message: str) -> None:
        self.status.emit(f"The fix could not be applied: {message}", "error")
