"""The confusion matrix (rows: true class, columns: predicted class) with per-class accuracy.

Counts or row percentages; the diagonal is shaded green and errors red by their share of the row, so
the big confusions stand out. Clicking a cell lists its sequences.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.results.poses import PoseResults

_WHITE = np.array([255, 255, 255])
_CORRECT = np.array([30, 132, 73])
_WRONG = np.array([192, 57, 43])
ModelIndex = QModelIndex | QPersistentModelIndex


def shade(fraction: float, correct: bool) -> QColor:
    """White blended toward green (correct) or red (wrong) by ``fraction`` (0..1)."""
    target = _CORRECT if correct else _WRONG
    weight = 0.0 if not np.isfinite(fraction) else min(max(fraction, 0.0), 1.0) ** 0.7
    red, green, blue = (_WHITE + (target - _WHITE) * weight).astype(int)
    return QColor(int(red), int(green), int(blue))


class ConfusionModel(QAbstractTableModel):
    """K x (K + 1) cells: the matrix and an accuracy column."""

    def __init__(self) -> None:
        super().__init__()
        self.class_names: list[str] = []
        self.counts = np.zeros((0, 0), dtype=np.int64)
        self.fractions = np.zeros((0, 0))
        self.accuracy = np.zeros(0)
        self.show_percent = False

    def set_matrix(
        self, class_names: list[str], counts: np.ndarray, fractions: np.ndarray, accuracy: np.ndarray
    ) -> None:
        """Replace the matrix."""
        self.beginResetModel()
        self.class_names = list(class_names)
        self.counts, self.fractions, self.accuracy = counts, fractions, accuracy
        self.endResetModel()

    def set_percent(self, percent: bool) -> None:
        """Show row percentages instead of counts."""
        self.show_percent = percent
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """One row per true class."""
        return 0 if parent.isValid() else len(self.class_names)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """One column per predicted class, plus accuracy."""
        return 0 if parent.isValid() or not self.class_names else len(self.class_names) + 1

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """Text, colours and tooltips of one cell."""
        row, column = index.row(), index.column()
        accuracy_column = column == len(self.class_names)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if accuracy_column:
            value = float(self.accuracy[row])
            if role == Qt.ItemDataRole.DisplayRole:
                return "–" if np.isnan(value) else f"{100 * value:.1f} %"
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(shade(value, True) if value >= 0.5 else shade(1 - value, False))
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{self.class_names[row]}: {int(self.counts[row].sum())} sequences; click to list them"
            return None
        count, fraction = int(self.counts[row, column]), float(self.fractions[row, column])
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{100 * fraction:.0f} %" if self.show_percent else str(count)
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(shade(fraction, row == column))
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("white") if fraction > 0.5 else QColor("#1b2631" if count else "#aab4be"))
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"true {self.class_names[row]} → predicted {self.class_names[column]}: {count} sequences "
                f"({100 * fraction:.1f} % of {self.class_names[row]}); click to list them"
            )
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        """Class names on both sides; 'Accuracy' over the last column."""
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and section == len(self.class_names):
            return "Accuracy"
        return self.class_names[section] if section < len(self.class_names) else None


class ConfusionView(QWidget):
    """The matrix with a counts / row % switch. ``cell_clicked(true, predicted or None)``."""

    cell_clicked = Signal(int, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        title = QLabel("Confusion matrix", self)
        title.setObjectName("PaneTitle")
        header.addWidget(title)
        header.addStretch(1)
        self.counts_button = QRadioButton("Counts", self)
        self.percent_button = QRadioButton("Row %", self)
        self.counts_button.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.counts_button, self.percent_button):
            group.addButton(button)
            header.addWidget(button)
        self.percent_button.toggled.connect(self._on_percent_toggled)
        layout.addLayout(header)
        self.hint = QLabel(
            "Rows: true class · columns: predicted class · click a cell to list its sequences", self
        )
        self.hint.setObjectName("ViewerHint")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.model = ConfusionModel()
        self.table = QTableView(self)
        self.table.setObjectName("ConfusionTable")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setMinimumSectionSize(64)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.clicked.connect(self._on_clicked)
        layout.addWidget(self.table, 1)
        self.notice = QLabel(self)
        self.notice.setObjectName("ViewerHint")
        self.notice.setWordWrap(True)
        layout.addWidget(self.notice)
        self.notice.hide()

    def set_results(self, results: PoseResults) -> None:
        """Show the matrix of ``results`` (or why there is none)."""
        if results.true_labels is None:
            self.model.set_matrix([], np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0))
            self.table.hide()
            self.hint.hide()
            self.notice.setText(
                "No true labels: open the label .pkl with the results to see the confusion matrix."
            )
            self.notice.show()
            return
        self.notice.hide()
        self.table.show()
        self.hint.show()
        self.model.set_matrix(
            results.class_names,
            results.confusion_matrix(),
            results.confusion_matrix(normalize=True),
            results.per_class_accuracy(),
        )

    def _on_percent_toggled(self, percent: bool) -> None:
        self.model.set_percent(percent)

    def _on_clicked(self, index: QModelIndex) -> None:
        predicted = None if index.column() == len(self.model.class_names) else index.column()
        self.cell_clicked.emit(index.row(), predicted)
