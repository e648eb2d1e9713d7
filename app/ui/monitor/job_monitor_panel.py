"""A job's live monitor: progress, KPIs, TensorBoard charts (other runs overlaid) and GPU/container plots.

Embedding it in a job page takes one line; everything else happens inside::

    panel = JobMonitorPanel(job, context.manager.session, jobs=context)

`open_session(host_name) -> HostSession` is called in background workers only (`JobManager.session`
fits). `jobs` (optional) is anything with a `store` (`find`, `all`) and a Qt `job_changed(str)`
signal, such as the `AppContext`: with it the panel follows the job's state by itself and offers
other runs of the same skill and action to compare. Without it, call `update_job(job)` when the
job's record changes. Call `shutdown()` before dropping the panel.

The job's host is polled every half second while the job runs (never on the GUI thread); a finished
job is read once, to its end. `python -m app.ui.monitor.job_monitor_panel JOB_ID` opens the panel of
a stored job on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from app.core.jobs.model import Job, JobStatus
from app.core.telemetry.job_monitor import MonitorUpdate
from app.core.telemetry.system_metrics import MetricsSnapshot
from app.ui.monitor.charts import ScalarChartsView
from app.ui.monitor.colours import assign_colours
from app.ui.monitor.compare import RunList
from app.ui.monitor.kpis import KpiTable
from app.ui.monitor.metrics import SystemMetricsView
from app.ui.monitor.progress import JobProgressView
from app.ui.monitor.style import MONITOR_STYLE
from app.ui.monitor.watch import MetricsWatch, PollResult, SessionOpener, Watch, poll_watches, sample_metrics
from app.ui.workers import run_in_background

POLL_INTERVAL_MS = 500
METRICS_INTERVAL_MS = 2000
RETRY_INTERVAL_MS = 3000
MAX_COMPARE_CANDIDATES = 40
SIDEBAR_WIDTH = 290


class JobSource(Protocol):
    """Where the panel finds jobs and hears about changes (the app context fits)."""

    @property
    def store(self) -> Any: ...

    @property
    def job_changed(self) -> Any: ...


class JobMonitorPanel(QWidget):
    """Live monitor of one job, with other runs overlaid on its charts on request."""

    def __init__(
        self,
        job: Job,
        open_session: SessionOpener,
        jobs: JobSource | None = None,
        parent: QWidget | None = None,
        *,
        poll_interval_ms: int = POLL_INTERVAL_MS,
        metrics_interval_ms: int = METRICS_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("JobMonitorPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(MONITOR_STYLE)
        self.job = job
        self.open_session = open_session
        self.jobs = jobs
        self.poll_interval_ms = poll_interval_ms
        self.watches: dict[str, Watch] = {job.id: Watch(job)}
        self.metrics_watch = MetricsWatch(job)
        self.poll_count = 0
        self.errors: dict[str, str] = {}
        self._problems: list[str] = []
        self._polling = False
        self._sampling = False
        self._closed = False
        self._build()
        self._poll_timer = QTimer(self)
        self._poll_timer.setSingleShot(True)
        self._poll_timer.timeout.connect(self._poll)
        self._metrics_timer = QTimer(self)
        self._metrics_timer.setSingleShot(True)
        self._metrics_timer.setInterval(metrics_interval_ms)
        self._metrics_timer.timeout.connect(self._sample)
        self._show_runs()
        self.progress_view.show_progress(None, job.status)
        if jobs is not None:
            jobs.job_changed.connect(self._on_job_changed)
        self._poll_timer.start(0)
        self._metrics_timer.start(0)

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        self.progress_view = JobProgressView(self)
        layout.addWidget(self.progress_view)
        self.message = QLabel(self)
        self.message.setObjectName("MonitorMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._sidebar())
        main = QWidget(splitter)
        column = QVBoxLayout(main)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        self.charts = ScalarChartsView(main)
        self.charts.set_empty_text("Reading the job's TensorBoard scalars…")
        self.metrics_view = SystemMetricsView(main)
        self.metrics_view.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        column.addWidget(self.charts, 1)
        column.addWidget(self.metrics_view)
        splitter.addWidget(main)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([SIDEBAR_WIDTH, 1200])
        layout.addWidget(splitter, 1)

    def _sidebar(self) -> QWidget:
        sidebar = QFrame(self)
        sidebar.setObjectName("MonitorSidebar")
        sidebar.setMinimumWidth(220)
        sidebar.setMaximumWidth(420)
        column = QVBoxLayout(sidebar)
        column.setContentsMargins(10, 8, 10, 10)
        column.setSpacing(6)
        self.run_list = RunList(sidebar)
        self.run_list.run_toggled.connect(self._on_run_toggled)
        column.addWidget(self.run_list)
        caption = QLabel("KPIs", sidebar)
        caption.setObjectName("SectionCaption")
        column.addWidget(caption)
        self.kpi_table = KpiTable(sidebar)
        column.addWidget(self.kpi_table)
        self.problems_label = QLabel("", sidebar)
        self.problems_label.setObjectName("MonitorProblems")
        self.problems_label.setWordWrap(True)
        self.problems_label.hide()
        column.addWidget(self.problems_label)
        column.addStretch(1)
        return sidebar

    # -- runs --------------------------------------------------------------------------------------

    def compared_jobs(self) -> list[str]:
        """The ids of the other runs overlaid on the charts."""
        return [job_id for job_id in self.watches if job_id != self.job.id]

    def add_comparison(self, job: Job) -> None:
        """Overlay another job's curves."""
        if job.id in self.watches:
            return
        self.watches[job.id] = Watch(job)
        self.run_list.set_shown(job.id, True)
        self._show_runs()
        self._poll_soon()

    def remove_comparison(self, job_id: str) -> None:
        """Stop overlaying a job's curves."""
        if job_id == self.job.id or self.watches.pop(job_id, None) is None:
            return
        self.charts.remove_run(job_id)
        self.errors.pop(job_id, None)
        self.run_list.set_shown(job_id, False)
        self._show_runs()

    def _show_runs(self) -> None:
        colours = assign_colours(self.watches)
        for job_id, colour in colours.items():
            self.charts.set_run(job_id, job_id, colour)
        self.run_list.set_colours(colours)
        self._list_candidates()

    def _list_candidates(self) -> None:
        others: list[Job] = []
        if self.jobs is not None:
            with contextlib.suppress(Exception):  # a store being closed: show the job alone
                others = [
                    other
                    for other in self.jobs.store.all()
                    if other.id != self.job.id
                    and other.skill == self.job.skill
                    and other.action == self.job.action
                    and other.status is not JobStatus.CREATED
                ][:MAX_COMPARE_CANDIDATES]
        listed = {job.id for job in others}
        others += [
            watch.job
            for job_id, watch in self.watches.items()
            if job_id != self.job.id and job_id not in listed
        ]
        self.run_list.set_runs(self.job, others, shown=self.compared_jobs())
        self.run_list.set_colours(assign_colours(self.watches))

    def _on_run_toggled(self, job_id: str, on: bool) -> None:
        if not on:
            self.remove_comparison(job_id)
            return
        job = self.jobs.store.find(job_id) if self.jobs is not None else None
        if job is not None:
            self.add_comparison(job)

    # -- job changes -------------------------------------------------------------------------------

    def update_job(self, job: Job) -> None:
        """The job's record changed (state, container): follow it."""
        watch = self.watches.get(job.id)
        if watch is None:
            return
        was_final = watch.job.status.is_final
        watch.job = job
        if job.id == self.job.id:
            self.job = job
            self.metrics_watch.job = job
            self.progress_view.show_progress(None, job.status)
            if job.status is JobStatus.RUNNING and not self._metrics_timer.isActive() and not self._sampling:
                self._metrics_timer.start(0)
        if job.status.is_final and not was_final:
            self._poll_soon()
        self._list_candidates()  # the run list shows each run's state

    def _on_job_changed(self, job_id: str) -> None:
        if self._closed or self.jobs is None:
            return
        job = self.jobs.store.find(job_id)
        if job is None:
            return
        if job_id in self.watches:
            self.update_job(job)
        elif job.skill == self.job.skill and job.action == self.job.action:
            self._list_candidates()

    # -- polling -----------------------------------------------------------------------------------

    def _poll_soon(self) -> None:
        if not self._polling and not self._closed:
            self._poll_timer.start(0)

    def _poll(self) -> None:
        if self._closed or self._polling:
            return
        watches = list(self.watches.values())
        if all(watch.done for watch in watches):
            return
        self._polling = True
        run_in_background(
            poll_watches, watches, self.open_session, on_done=self._on_polled, on_error=self._on_poll_failed
        )

    def _on_polled(self, result: PollResult) -> None:
        self._polling = False
        if self._closed:
            return
        self.poll_count += 1
        for update in result.updates:
            if update.job_id in self.watches:
                self._apply(update)
        self.errors = dict(result.errors)
        self._show_message()
        if any(not watch.done for watch in self.watches.values()):
            self._poll_timer.start(RETRY_INTERVAL_MS if result.errors else self.poll_interval_ms)

    def _on_poll_failed(self, message: str) -> None:
        self._polling = False
        if self._closed:
            return
        self.errors = {self.job.id: message}
        self._show_message()
        self._poll_timer.start(RETRY_INTERVAL_MS)

    def _apply(self, update: MonitorUpdate) -> None:
        self.charts.update_series(update.job_id, update.series)
        self._problems.extend(str(problem) for problem in update.problems)
        if update.job_id != self.job.id:
            return
        if update.progress is not None:
            self.progress_view.show_progress(update.progress, self.job.status)
        if update.kpis is not None:
            self.kpi_table.show_kpis(update.kpis, update.kpi_history or [])
        if not self.charts.tags():
            final = self.job.status.is_final
            where = update.event_dir or "the job's folder"
            self.charts.set_empty_text(
                f"This job wrote no TensorBoard scalars ({where})."
                if final
                else f"No TensorBoard scalars yet: TAO writes them to {where} once training starts."
            )
        if self._problems:
            self.problems_label.setText(f"⚠ {len(self._problems)} unreadable record(s) skipped")
            self.problems_label.setToolTip("\n".join(self._problems[-20:]))
            self.problems_label.setProperty("state", "warning")
            self.problems_label.show()

    def _show_message(self) -> None:
        lines = [f"Cannot read {job_id}: {text}" for job_id, text in self.errors.items()]
        self.message.setText("\n".join(lines) + ("\nRetrying…" if lines else ""))
        self.message.setVisible(bool(lines))

    # -- metrics -----------------------------------------------------------------------------------

    def _sample(self) -> None:
        if self._closed or self._sampling:
            return
        self._sampling = True
        running = self.job.status is JobStatus.RUNNING
        run_in_background(
            sample_metrics,
            self.metrics_watch,
            self.open_session,
            running,
            on_done=self._on_sampled,
            on_error=self._on_sample_failed,
        )

    def _on_sampled(self, snapshot: MetricsSnapshot) -> None:
        self._sampling = False
        if self._closed:
            return
        self.metrics_view.set_origin(self.job.started_at)
        self.metrics_view.show_snapshot(snapshot)
        self.metrics_view.set_note("")
        if self.job.status is JobStatus.RUNNING:
            self._metrics_timer.start()

    def _on_sample_failed(self, message: str) -> None:
        self._sampling = False
        if self._closed:
            return
        self.metrics_view.set_note(f"Could not sample: {message}")
        if self.job.status is JobStatus.RUNNING:
            self._metrics_timer.start(RETRY_INTERVAL_MS)

    # -- closing -----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop polling (the job itself is not touched)."""
        if self._closed:
            return
        self._closed = True
        self._poll_timer.stop()
        self._metrics_timer.stop()
        self.charts.repaint_timer.stop()
        if self.jobs is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self.jobs.job_changed.disconnect(self._on_job_changed)

    @property
    def busy(self) -> bool:
        """True while a poll or a sample is in flight."""
        return self._polling or self._sampling


def main(argv: list[str]) -> int:
    """Open the monitor of a stored job: `python -m app.ui.monitor.job_monitor_panel JOB_ID`."""
    from app.ui.app_context import AppContext
    from app.ui.application import create_application

    if len(argv) != 1:
        print("usage: python -m app.ui.monitor.job_monitor_panel JOB_ID", file=sys.stderr)
        return 2
    from app.cli.common import load_bank

    app = create_application()
    context = AppContext(load_bank(argparse.Namespace(bank=[])))
    job = context.store.find(argv[0])
    if job is None:
        print(f"no job {argv[0]!r} in the job store", file=sys.stderr)
        return 2
    panel = JobMonitorPanel(job, context.manager.session, jobs=context)
    panel.resize(1500, 950)
    panel.setWindowTitle(f"{job.action} {job.id}")
    panel.show()
    code = int(app.exec())
    panel.shutdown()
    context.close()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
