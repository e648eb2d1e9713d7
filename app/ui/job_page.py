"""One job's page: its facts and lineage, the failure hint, the actions on it, and its live log."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.jobs.model import Job, JobStatus
from app.core.telemetry.logs import LogLine
from app.ui.app_context import ActionRequest, AppContext, LogFollower
from app.ui.job_log_view import JobLogView
from app.ui.jobs_model import format_duration, skill_title, status_colour
from app.ui.monitor.job_monitor_panel import JobMonitorPanel
from app.ui.viewers.open_results import viewer_kind

FROM_CHECKPOINT_TITLES = {
    "evaluate": "Evaluate from this checkpoint",
    "export": "Export from this checkpoint",
    "inference": "Infer from this checkpoint",
    "quantize": "Quantize from this checkpoint",
}
FACTS = ("Job", "Host", "Duration", "Exit code", "Image", "Checkpoint", "Folder", "Lineage")


def job_link(job: Job) -> str:
    """A rich-text link to a job (``job:<id>``)."""
    return f"<a href='job:{html.escape(job.id)}'>{html.escape(job.action)} {html.escape(job.id)}</a>"


VIEWABLE_ACTIONS = ("inference", "evaluate")


class JobPage(QWidget):
    """Everything about one job; emits ``closed_requested`` when the job is deleted."""

    close_requested = Signal(str)

    def __init__(self, context: AppContext, job_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.job = context.store.get(job_id)
        self.job_id = self.job.id
        self.follower: LogFollower | None = None
        self._shown_status: JobStatus | None = None
        skill = context.bank.skills.get(self.job.skill)
        self.patterns = skill.patterns_for(self.job.action) if skill else []
        self._build()
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._show_duration)
        self._ticker.start()
        context.job_changed.connect(self._on_job_changed)
        self.refresh()
        self._start_log()

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        top = QHBoxLayout()
        self.title = QLabel(self)
        self.title.setObjectName("JobTitle")
        self.status_badge = QLabel(self)
        self.status_badge.setObjectName("StatusBadge")
        top.addWidget(self.title)
        top.addWidget(self.status_badge)
        top.addStretch(1)
        layout.addLayout(top)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        self.facts: dict[str, QLabel] = {}
        for position, name in enumerate(FACTS):
            row, pair = divmod(position, 2)
            caption = QLabel(name, self)
            caption.setObjectName("FactCaption")
            value = QLabel("-", self)
            value.setObjectName("FactValue")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            value.setWordWrap(True)
            value.linkActivated.connect(self._on_link)
            grid.addWidget(caption, row, pair * 2, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, pair * 2 + 1, Qt.AlignmentFlag.AlignTop)
            self.facts[name] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        layout.addLayout(grid)
        self.warnings = QLabel(self)
        self.warnings.setObjectName("JobWarnings")
        self.warnings.setWordWrap(True)
        layout.addWidget(self.warnings)
        self.hint = QLabel(self)
        self.hint.setObjectName("ErrorHint")
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.hint)
        layout.addLayout(self._actions())
        self.message = QLabel(self)
        self.message.setObjectName("JobMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        self.log_view = JobLogView(self.patterns, parent=self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("JobTabs")
        self.tabs.addTab(self.log_view, "Log")
        self.monitor: JobMonitorPanel | None = None
        self.monitor_holder = QWidget(self.tabs)
        QVBoxLayout(self.monitor_holder).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self.monitor_holder, "Curves && progress")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        layout.addWidget(self.tabs, 1)
        if self.job.action == "train" and self.job.status is not JobStatus.FAILED:
            self.tabs.setCurrentWidget(self.monitor_holder)

    def _actions(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.cancel_button = self._button(bar, "Cancel", self._on_cancel_clicked, "Stop the container")
        self.clone_button = self._button(
            bar, "Clone and edit", self._on_clone_clicked, "Open the action's page with this job's spec"
        )
        self.resume_button = self._button(
            bar,
            "Resume training",
            self._on_resume_clicked,
            "Continue training from one of this job's checkpoints",
        )
        self.from_checkpoint_buttons: dict[str, QPushButton] = {}
        skill = self.context.bank.skills.get(self.job.skill)
        for action, title in FROM_CHECKPOINT_TITLES.items():
            if (
                skill is not None
                and action in skill.actions
                and "parent_model" in set(skill.action(action).spec_params.values())
            ):
                button = self._button(
                    bar,
                    title,
                    lambda _c=False, a=action: self.open_from_checkpoint(a),
                    f"Open {action} with this job and its latest epoch chosen",
                )
                self.from_checkpoint_buttons[action] = button
        self.view_results_button = self._button(
            bar,
            "View results",
            lambda: self.context.results_requested.emit(self.job_id),
            "Open the job's outputs in the viewer (tracks or skeletons)",
        )
        bar.addStretch(1)
        self.open_folder_button = self._button(
            bar, "Open results folder", self._on_open_folder_clicked, "Show the job's folder"
        )
        self.delete_button = self._button(bar, "Delete…", self._on_delete_clicked, "Remove the job")
        self.delete_button.setObjectName("DangerButton")
        return bar

    def _on_tab_changed(self, _index: int) -> None:
        """The monitor polls its host, so it is made the first time its tab is shown."""
        if self.tabs.currentWidget() is self.monitor_holder and self.monitor is None:
            self.monitor = JobMonitorPanel(self.job, self.context.manager.session, jobs=self.context)
            layout = self.monitor_holder.layout()
            assert layout is not None
            layout.addWidget(self.monitor)

    def _button(self, bar: QHBoxLayout, text: str, handler: object, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.clicked.connect(handler)
        bar.addWidget(button)
        return button

    # -- showing the job ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the job's current record."""
        job = self.job
        self.title.setText(f"<b>{html.escape(job.action)}</b> · {html.escape(skill_title(job.skill))}")
        self.status_badge.setText(job.status.value)
        self.status_badge.setStyleSheet(f"background: {status_colour(job.status)};")
        gpus = f"GPU {', '.join(map(str, job.gpus))}" if job.gpus else "CPU only"
        self.facts["Job"].setText(html.escape(job.id))
        self.facts["Host"].setText(f"{html.escape(job.host)} ({gpus})")
        self.facts["Exit code"].setText("-" if job.exit_code is None else str(job.exit_code))
        self.facts["Image"].setText(html.escape(job.image or "-"))
        self.facts["Checkpoint"].setText(html.escape(job.checkpoint or "-"))
        self.facts["Folder"].setText(html.escape(job.job_dir))
        self.facts["Lineage"].setText(self._lineage_html())
        self._show_duration()
        warnings = job.extra.get("warnings") or []
        self.warnings.setText("⚠ " + "<br>⚠ ".join(html.escape(w) for w in warnings) if warnings else "")
        self.warnings.setVisible(bool(warnings))
        self.hint.setText(self._hint_text())
        self.hint.setVisible(bool(job.error_hint))
        self.log_view.set_compact_hints(bool(job.error_hint))
        final = job.status.is_final
        self.cancel_button.setVisible(not final)
        is_train = job.action == "train"
        self.resume_button.setVisible(is_train and final)
        for button in self.from_checkpoint_buttons.values():
            button.setVisible(is_train and job.status is JobStatus.COMPLETED)
        if job.status is JobStatus.FAILED and self._shown_status is not JobStatus.FAILED:
            self.tabs.setCurrentWidget(self.log_view)  # the log tells why it failed
        self._shown_status = job.status
        viewable = job.action in VIEWABLE_ACTIONS and viewer_kind(job.skill) is not None
        self.view_results_button.setVisible(viewable and job.status is JobStatus.COMPLETED)

    def _hint_text(self) -> str:
        hint = self.job.error_hint
        if not hint:
            return ""
        title = "Why it failed" if self.job.status is JobStatus.FAILED else "Note"
        return f"<b>{title}</b><br>" + html.escape(hint).replace("\n", "<br>")

    def _lineage_html(self) -> str:
        parts = []
        parent = self.context.store.find(self.job.parent_id) if self.job.parent_id else None
        if parent is not None:
            parts.append(f"from {job_link(parent)}")
        elif self.job.parent_id:
            parts.append(f"from {html.escape(self.job.parent_id)} (deleted)")
        children = self.context.store.children(self.job_id)
        if children:
            parts.append("used by " + ", ".join(job_link(child) for child in children))
        return " · ".join(parts) or "-"

    def _show_duration(self) -> None:
        text = format_duration(self.job.duration)
        if self.job.status is JobStatus.RUNNING:
            text += " (running)"
        elif self.job.finished_at:
            text += f" · ended {time.strftime('%Y-%m-%d %H:%M', time.localtime(self.job.finished_at))}"
        self.facts["Duration"].setText(text)

    def _on_job_changed(self, job_id: str) -> None:
        if job_id == self.job_id:
            job = self.context.store.find(job_id)
            if job is not None:
                self.job = job
                self.refresh()
            return
        other = self.context.store.find(job_id)
        if other is not None and other.parent_id == self.job_id:
            self.facts["Lineage"].setText(self._lineage_html())

    def _on_link(self, link: str) -> None:
        kind, _, target = link.partition(":")
        if kind == "job" and target:
            self.context.open_job(target)

    def _say(self, text: str, state: str = "error") -> None:
        self.message.setText(text)
        self.message.setProperty("state", state)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setVisible(bool(text))

    # -- the log -----------------------------------------------------------------------------------

    def _start_log(self) -> None:
        self.follower = self.context.follow(self.job_id)
        if self.follower is not None:
            self.context.run(self.follower.attach, self.log_view.feed)
        else:
            self.context.run(self._read_stored_log, on_error=lambda m: self._say(f"Cannot read the log: {m}"))

    def _read_stored_log(self) -> None:
        lines: list[LogLine] = self.context.manager.log(self.job_id).lines()
        self.log_view.feed(lines)

    def shutdown(self) -> None:
        """Stop listening (the page is being closed); the job itself is not touched."""
        self._ticker.stop()
        if self.monitor is not None:
            self.monitor.shutdown()
        if self.follower is not None:
            self.follower.detach(self.log_view.feed)
        self.context.job_changed.disconnect(self._on_job_changed)

    # -- actions -----------------------------------------------------------------------------------

    def _on_cancel_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self._say("Stopping the container…", "busy")
        self.context.run(
            self.context.manager.cancel,
            self.job_id,
            on_done=self._on_cancelled,
            on_error=self._on_cancel_failed,
        )

    def _on_cancelled(self, _job: object) -> None:
        self.cancel_button.setEnabled(True)
        self._say("")

    def _on_cancel_failed(self, message: str) -> None:
        self.cancel_button.setEnabled(True)
        self._say(f"Could not cancel: {message}")

    def _on_clone_clicked(self) -> None:
        job = self.job
        self.context.request_action(
            ActionRequest(
                skill=job.skill,
                action=job.action,
                host=job.host,
                parent_id=job.parent_id,
                checkpoint=job.checkpoint or None,
                spec_yaml=job.spec_yaml,
                gpus=list(job.gpus),
                image=job.image,
                notes=[f"Cloned from job {job.id}: edit and launch."],
            )
        )

    def _on_resume_clicked(self) -> None:
        job = self.job
        self.context.request_action(
            ActionRequest(
                skill=job.skill,
                action="train",
                host=job.host,
                parent_id=job.id,
                spec_yaml=job.spec_yaml,
                gpus=list(job.gpus),
                image=job.image,
                notes=[f"Resuming job {job.id}: pick the checkpoint, raise train.num_epochs if needed."],
            )
        )

    def open_from_checkpoint(self, action: str) -> None:
        """Open ``action``'s page with this job as the parent and its highest checkpoint chosen."""
        job = self.job
        self.context.request_action(
            ActionRequest(
                skill=job.skill,
                action=action,
                host=job.host,
                parent_id=job.id,
                inherit_from=job.id,
                gpus=list(job.gpus),
                notes=[f"Dataset and model settings copied from job {job.id}."],
            )
        )

    def _on_open_folder_clicked(self) -> None:
        config = self.context.host_config(self.job.host)
        if config is not None and config.kind == "local":
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(self.job.job_dir)):
                self._say(f"No file manager opened {self.job.job_dir}", "busy")
            return
        where = f"on host '{self.job.host}'" + (f" ({config.address})" if config else "")
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Results folder",
            f"The job's folder is {where}:\n\n{self.job.job_dir}",
            parent=self,
        )
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

    def confirm_delete(self) -> tuple[bool, bool]:
        """Ask before deleting: (delete?, also the folder?)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete job",
            f"Delete job {self.job_id}? Its container, record and stored log are removed.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        also = QCheckBox(f"Also delete its folder on '{self.job.host}' ({self.job.job_dir})", box)
        box.setCheckBox(also)
        return box.exec() == QMessageBox.StandardButton.Yes, also.isChecked()

    def _on_delete_clicked(self) -> None:
        confirmed, remove_files = self.confirm_delete()
        if not confirmed:
            return
        self.delete_button.setEnabled(False)
        self._say("Deleting…", "busy")
        self.context.run(
            self.context.manager.delete,
            self.job_id,
            remove_files=remove_files,
            on_done=lambda _none: self.close_requested.emit(self.job_id),
            on_error=self._on_delete_failed,
        )

    def _on_delete_failed(self, message: str) -> None:
        self.delete_button.setEnabled(True)
        self._say(f"Could not delete: {message}")
