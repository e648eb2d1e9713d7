"""The trial table: state, metric, duration, GPUs, job and parameters of each trial; sortable, filterable."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.core.automl.snapshot import StudySnapshot, TrialRow
from app.ui.automl.space_table import format_number
from app.ui.automl.style import STATE_COLOURS

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
TRIAL_ROLE = Qt.ItemDataRole.UserRole + 2
FIXED_COLUMNS = ("#", "State", "Metric", "Duration", "GPUs", "Job")
ModelIndex = QModelIndex | QPersistentModelIndex


def duration_text(seconds: float | None) -> str:
    """``42 s``, ``3 min 05 s`` or ``1 h 02 min``."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def short_name(path: str) -> str:
    """The last two parts of a dotted key (``optim.lr``)."""
    return ".".join(path.split(".")[-2:])


class TrialTableModel(QAbstractTableModel):
    """One row per trial of a snapshot (trials queued again after an interruption are left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TrialRow] = []
        self.parameters: list[str] = []
        self.metric = "value"
        self.best_number: int | None = None

    def set_snapshot(self, snapshot: StudySnapshot) -> None:
        """Show a new snapshot (the columns follow the searched parameters)."""
        self.beginResetModel()
        self.rows = [t for t in snapshot.trials if t.counted]
        self.parameters = [p.path for p in snapshot.record.config.space.searched]
        self.metric = snapshot.record.config.metric
        best = snapshot.best
        self.best_number = best.number if best is not None else None
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Trials."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        """Fixed columns, then one per parameter, then the note."""
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self.parameters) + 1

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            titles = [
                *FIXED_COLUMNS[:2],
                self.metric,
                *FIXED_COLUMNS[3:],
                *map(short_name, self.parameters),
                "Note",
            ]
            return titles[section] if section < len(titles) else None
        if role == Qt.ItemDataRole.ToolTipRole and len(FIXED_COLUMNS) <= section < self.columnCount() - 1:
            return self.parameters[section - len(FIXED_COLUMNS)]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, sort keys, colours and the trial itself."""
        if not index.isValid():
            return None
        trial = self.rows[index.row()]
        column = index.column()
        if role == TRIAL_ROLE:
            return trial
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(trial, column)
        if role == SORT_ROLE:
            return self._sort_key(trial, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QBrush(QColor(STATE_COLOURS.get(trial.state, "#34495e")))
        if role == Qt.ItemDataRole.FontRole and trial.number == self.best_number:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and trial.note:
            return trial.note
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, trial: TrialRow, column: int) -> str:
        if column == 0:
            star = " ★" if trial.number == self.best_number else ""
            return f"{trial.number} baseline{star}" if trial.baseline else f"{trial.number}{star}"
        if column == 1:
            return trial.state
        if column == 2:
            value = trial.last_value
            if value is None:
                return "-"
            text = format_number(value) if math.isfinite(value) else str(value)
            return text if trial.state == "complete" else f"({text})"
        if column == 3:
            return duration_text(trial.duration)
        if column == 4:
            return ",".join(map(str, trial.gpus)) or "CPU"
        if column == 5:
            return trial.job_id or "-"
        if column == self.columnCount() - 1:
            return trial.note
        value = trial.params.get(self.parameters[column - len(FIXED_COLUMNS)])
        return format_number(value) if isinstance(value, float) else ("-" if value is None else str(value))

    def _sort_key(self, trial: TrialRow, column: int) -> Any:
        if column == 0:
            return trial.number
        if column == 2:
            value = trial.last_value
            return value if value is not None and math.isfinite(value) else math.inf
        if column == 3:
            return trial.duration or 0.0
        if len(FIXED_COLUMNS) <= column < self.columnCount() - 1:
            value = trial.params.get(self.parameters[column - len(FIXED_COLUMNS)])
            return value if isinstance(value, int | float) else str(value)
        return self._text(trial, column)


class TrialFilter(QSortFilterProxyModel):
    """Keeps the trials of one state (or all) whose text matches the filter."""

    def __init__(self) -> None:
        super().__init__()
        self.state = ""
        self.text = ""
        self.setSortRole(SORT_ROLE)

    def set_filter(self, state: str, text: str) -> None:
        """Filter by state ('' for all) and by text in any column."""
        if hasattr(self, "beginFilterChange"):  # Qt 6.10 replaced invalidateFilter with a begin/end pair
            self.beginFilterChange()
            self.state, self.text = state, text.strip().lower()
            self.endFilterChange()
        else:
            self.state, self.text = state, text.strip().lower()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        """State first, then the text in any cell."""
        model = self.sourceModel()
        assert isinstance(model, TrialTableModel)
        trial = model.rows[source_row]
        if self.state and trial.state != self.state:
            return False
        if not self.text:
            return True
        cells = (model._text(trial, c) for c in range(model.columnCount()))
        return any(self.text in cell.lower() for cell in cells)

    def visible_trials(self) -> list[TrialRow]:
        """The trials that pass the filter, in table order."""
        return [self.data(self.index(r, 0), TRIAL_ROLE) for r in range(self.rowCount())]
