"""Progress of every job for the jobs table, read from status.json in the background.

The table asks its provider on the GUI thread, so `JobProgressFeed.provider` only answers from a
cache; a worker refreshes the cache every few seconds (running jobs incrementally, finished jobs
once, when first asked) and `changed(job_id)` tells the table which rows to repaint::

    feed = JobProgressFeed(context, context.manager.session, parent=jobs_page)
    feed.attach(jobs_page.model)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.hosts.errors import HostError
from app.core.jobs.model import Job, JobStatus
from app.core.telemetry.job_monitor import StatusFollower, describe_progress, status_file_candidates
from app.core.telemetry.status import JobProgress
from app.ui.jobs_model import JobProgress as RowProgress
from app.ui.monitor.watch import SessionOpener
from app.ui.workers import run_in_background

FEED_INTERVAL_MS = 2000


@dataclass
class _FeedState:
    """Worker-side state: one follower per job (only ever touched by one worker at a time)."""

    followers: dict[str, StatusFollower] = field(default_factory=dict)


def read_progress(
    state: _FeedState, jobs: list[Job], open_session: SessionOpener
) -> dict[str, tuple[JobProgress, JobStatus]]:
    """Read the new status lines of each job; return the progress of those that changed."""
    changed: dict[str, tuple[JobProgress, JobStatus]] = {}
    for job in jobs:
        follower = state.followers.get(job.id)
        try:
            if follower is None:
                follower = state.followers[job.id] = StatusFollower(
                    open_session(job.host), status_file_candidates(job)
                )
            grew = follower.poll()
            if job.status.is_final:
                grew = follower.finish() or grew
                state.followers.pop(job.id, None)
        except (HostError, OSError):
            continue  # an unreachable host: the row keeps its last figures
        if not follower.found:
            continue
        if grew or job.status.is_final:
            changed[job.id] = (follower.progress, job.status)
    return changed


def row_progress(progress: JobProgress, status: JobStatus) -> RowProgress:
    """The table cell: `epoch 5/70 · ETA 0:13:00` and the fraction for the bar."""
    fraction = progress.fraction
    if status is JobStatus.COMPLETED:
        fraction = 1.0
    text = describe_progress(progress, status, with_step=False)
    return RowProgress(text, fraction)


class JobProgressFeed(QObject):
    """Caches each job's progress for the jobs table and refreshes it in the background."""

    changed = Signal(str)

    def __init__(
        self,
        jobs: Any,
        open_session: SessionOpener,
        parent: QObject | None = None,
        interval_ms: int = FEED_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.open_session = open_session
        self._cache: dict[str, RowProgress] = {}
        self._final_read: set[str] = set()
        self._wanted: dict[str, Job] = {}
        self._state = _FeedState()
        self._busy = False
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        QTimer.singleShot(0, self.refresh)

    def attach(self, model: Any) -> None:
        """Fill a `JobsTableModel`'s Progress column and repaint its rows when figures change."""
        model.set_progress_provider(self.provider)
        self.changed.connect(model.progress_changed)

    def provider(self, job: Job) -> RowProgress | None:
        """What the table shows for a job (from the cache; a finished job is read once on demand)."""
        cached = self._cache.get(job.id)
        if cached is None and job.status.is_final and job.id not in self._final_read:
            self._wanted[job.id] = job
        return cached

    def refresh(self) -> None:
        """Start a background read of the running jobs (and the finished ones asked for)."""
        if self._busy or self._stopped:
            return
        try:
            running = [job for job in self.jobs.store.all() if job.status is JobStatus.RUNNING]
        except Exception:  # the store is closing
            return
        for job in running:
            self._final_read.discard(job.id)
        wanted, self._wanted = list(self._wanted.values()), {}
        batch = running + [job for job in wanted if job.id not in {r.id for r in running}]
        batch += [job for job_id, job in self._finishing().items() if job_id not in {b.id for b in batch}]
        if not batch:
            return
        self._busy = True
        self._final_read.update(job.id for job in batch if job.status.is_final)
        run_in_background(
            read_progress,
            self._state,
            batch,
            self.open_session,
            on_done=self._on_read,
            on_error=self._on_failed,
        )

    def _finishing(self) -> dict[str, Job]:
        """Jobs followed while running that have ended since: read their last lines."""
        found = {}
        for job_id in list(self._state.followers):
            job = self.jobs.store.find(job_id)
            if job is not None and job.status.is_final:
                found[job_id] = job
        return found

    def _on_read(self, changed: dict[str, tuple[JobProgress, JobStatus]]) -> None:
        self._busy = False
        if self._stopped:
            return
        for job_id, (progress, status) in changed.items():
            self._cache[job_id] = row_progress(progress, status)
            self.changed.emit(job_id)

    def _on_failed(self, _message: str) -> None:
        self._busy = False

    def stop(self) -> None:
        """Stop refreshing."""
        self._stopped = True
        self._timer.stop()
        with contextlib.suppress(RuntimeError):
            self.changed.disconnect()
