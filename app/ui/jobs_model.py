"""The jobs as a Qt table model over the job store, with a filter proxy and a pluggable progress column."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from app.core.jobs.model import Job, JobStatus
from app.core.jobs.store import JobStore

COLUMNS = ("ID", "Skill", "Action", "Status", "Host", "Duration", "Progress", "Parent", "Created")
(
    ID_COLUMN,
    SKILL_COLUMN,
    ACTION_COLUMN,
    STATUS_COLUMN,
    HOST_COLUMN,
    DURATION_COLUMN,
    PROGRESS_COLUMN,
    PARENT_COLUMN,
    CREATED_COLUMN,
) = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 2
PROGRESS_FRACTION_ROLE = Qt.ItemDataRole.UserRole + 3
STATUS_COLOURS = {
    JobStatus.CREATED: "#7f8c8d",
    JobStatus.RUNNING: "#2874a6",
    JobStatus.COMPLETED: "#1e8449",
    JobStatus.FAILED: "#c0392b",
    JobStatus.CANCELLED: "#9a7d0a",
}
NO_PROGRESS = "-"
ModelIndex = QModelIndex | QPersistentModelIndex


class JobProgress(NamedTuple):
    """What the progress column shows for a job: a short text and, when known, a fraction 0..1."""

    text: str
    fraction: float | None = None


ProgressProvider = Callable[[Job], JobProgress | None]


class JobEvents(Protocol):
    """Where the model hears about job changes (the app context): Qt signals carrying a job id."""

    store: JobStore

    @property
    def job_changed(self) -> Any:
        """Signal(str): a job was added or changed."""

    @property
    def job_removed(self) -> Any:
        """Signal(str): a job was deleted."""


def format_duration(seconds: float | None) -> str:
    """``1:02:03`` style, or ``-``."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def skill_title(name: str) -> str:
    """A skill's name as a user reads it (``tao-train-pose-classification`` -> ``Pose Classification``)."""
    return name.removeprefix("tao-train-").replace("-", " ").title()


def status_colour(status: JobStatus) -> str:
    """The colour a status is shown in."""
    return STATUS_COLOURS[status]


class JobsTableModel(QAbstractTableModel):
    """Every job in the store, newest first; running durations tick once a second.

    The Progress column asks a `ProgressProvider` (none by default, so it shows ``-``); whoever
    computes progress calls `set_progress_provider` and then `progress_changed(job_id)` on updates.
    """

    rows_changed = Signal()

    def __init__(self, events: JobEvents, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = events.store
        self._jobs: list[Job] = []
        self._progress: ProgressProvider | None = None
        events.job_changed.connect(self.update_job)
        events.job_removed.connect(self.remove_job)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._on_tick)
        self._ticker.start()
        self.reload()

    # -- content -----------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read every job again."""
        self.beginResetModel()
        self._jobs = self.store.all()
        self.endResetModel()
        self.rows_changed.emit()

    def job_at(self, row: int) -> Job:
        """The job shown in a row."""
        return self._jobs[row]

    def row_of(self, job_id: str) -> int | None:
        """The row of a job, or None."""
        return next((row for row, job in enumerate(self._jobs) if job.id == job_id), None)

    def jobs(self) -> list[Job]:
        """The jobs in row order (newest first)."""
        return list(self._jobs)

    def update_job(self, job_id: str) -> None:
        """Show a job's new state (inserting it if it is new)."""
        job = self.store.find(job_id)
        if job is None:
            self.remove_job(job_id)
            return
        row = self.row_of(job_id)
        if row is not None:
            self._jobs[row] = job
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
            return
        keys = [(-j.created_at, j.id) for j in self._jobs]
        row = bisect.bisect_left(keys, (-job.created_at, job.id))
        self.beginInsertRows(QModelIndex(), row, row)
        self._jobs.insert(row, job)
        self.endInsertRows()
        self.rows_changed.emit()

    def remove_job(self, job_id: str) -> None:
        """Drop a deleted job's row."""
        row = self.row_of(job_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._jobs[row]
        self.endRemoveRows()
        self.rows_changed.emit()

    # -- progress ----------------------------------------------------------------------------------

    def set_progress_provider(self, provider: ProgressProvider | None) -> None:
        """Plug in what fills the Progress column (None: ``-`` everywhere)."""
        self._progress = provider
        self.progress_changed()

    def progress_changed(self, job_id: str | None = None) -> None:
        """Repaint the progress of one job (or all)."""
        rows = (
            range(len(self._jobs)) if job_id is None else [r for r in [self.row_of(job_id)] if r is not None]
        )
        for row in rows:
            index = self.index(row, PROGRESS_COLUMN)
            self.dataChanged.emit(index, index)

    def progress_of(self, job: Job) -> JobProgress | None:
        """What the provider says about a job."""
        return self._progress(job) if self._progress is not None else None

    def _on_tick(self) -> None:
        for row, job in enumerate(self._jobs):
            if job.status is JobStatus.RUNNING:
                index = self.index(row, DURATION_COLUMN)
                self.dataChanged.emit(index, index)

    # -- Qt model interface ------------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Number of jobs."""
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """One cell."""
        if not index.isValid():
            return None
        job = self._jobs[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(job, column)
        if role == SORT_ROLE:
            return self._sort_key(job, column)
        if role == JOB_ID_ROLE:
            return job.id
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS_COLUMN:
            return QColor(status_colour(job.status))
        if role == Qt.ItemDataRole.FontRole and column == STATUS_COLUMN:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return job.error_hint or job.job_dir
        if role == PROGRESS_FRACTION_ROLE and column == PROGRESS_COLUMN:
            progress = self.progress_of(job)
            return progress.fraction if progress else None
        return None

    def _text(self, job: Job, column: int) -> str:
        if column == ID_COLUMN:
            return job.id
        if column == SKILL_COLUMN:
            return skill_title(job.skill)
        if column == ACTION_COLUMN:
            return job.action
        if column == STATUS_COLUMN:
            return job.status.value
        if column == HOST_COLUMN:
            return job.host
        if column == DURATION_COLUMN:
            return format_duration(job.duration)
        if column == PROGRESS_COLUMN:
            progress = self.progress_of(job)
            return progress.text if progress else NO_PROGRESS
        if column == PARENT_COLUMN:
            return job.parent_id or "-"
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))

    def _sort_key(self, job: Job, column: int) -> Any:
        if column == DURATION_COLUMN:
            return job.duration or 0.0
        if column == CREATED_COLUMN:
            return job.created_at
        if column == PROGRESS_COLUMN:
            progress = self.progress_of(job)
            return progress.fraction if progress and progress.fraction is not None else -1.0
        return self._text(job, column)


class JobsFilterProxy(QSortFilterProxyModel):
    """Shows the jobs whose text matches the filter and whose status is among the chosen ones."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._statuses: set[JobStatus] | None = None
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        """Keep rows containing ``text`` (any column, case-insensitive)."""
        self._refilter(lambda: setattr(self, "_needle", text.strip().lower()))

    def set_statuses(self, statuses: set[JobStatus] | None) -> None:
        """Keep rows with these statuses (None: all)."""
        self._refilter(lambda: setattr(self, "_statuses", statuses))

    def _refilter(self, change: Callable[[], None]) -> None:
        """Apply a change of the filter rule (Qt 6.10 replaced invalidateFilter with a begin/end pair)."""
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        """The filter rule."""
        model = self.sourceModel()
        if not isinstance(model, JobsTableModel):
            return True
        job = model.job_at(source_row)
        if self._statuses is not None and job.status not in self._statuses:
            return False
        if not self._needle:
            return True
        haystack = " ".join(
            [
                job.id,
                job.skill,
                skill_title(job.skill),
                job.action,
                job.status.value,
                job.host,
                job.parent_id or "",
                job.image,
            ]
        ).lower()
        return all(word in haystack for word in self._needle.split())
