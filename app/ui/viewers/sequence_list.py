"""The list of sequences, filtered by true class, predicted class and correct/wrong.

The table is virtual: its model holds only the array of matching indices, so 10,000 rows cost no
more to show than 10.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.results.poses import PoseResults

COLUMNS = ("#", "Sample", "True", "Predicted", "")
ModelIndex = QModelIndex | QPersistentModelIndex


class SequenceModel(QAbstractTableModel):
    """Rows are ``indices`` into the results, in input order."""

    def __init__(self) -> None:
        super().__init__()
        self.results: PoseResults | None = None
        self.indices = np.zeros(0, dtype=np.int64)
        self._correct = np.zeros(0, dtype=bool)

    def set_rows(self, results: PoseResults, indices: np.ndarray) -> None:
        """Show these sequences."""
        self.beginResetModel()
        self.results = results
        self.indices = np.asarray(indices, dtype=np.int64)
        self._correct = results.correct_mask() if results.true_labels is not None else np.zeros(0, dtype=bool)
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """How many sequences pass the filter."""
        return 0 if parent.isValid() else len(self.indices)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Index, name, true, predicted, verdict."""
        return 0 if parent.isValid() else len(COLUMNS)

    def _class(self, index: int) -> str:
        assert self.results is not None
        return (
            self.results.class_names[index] if 0 <= index < self.results.num_classes else "(not in label map)"
        )

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """Cell text and verdict colours."""
        if self.results is None:
            return None
        sequence = int(self.indices[index.row()])
        column = index.column()
        labelled = self.results.true_labels is not None
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return str(sequence)
            if column == 1:
                return self.results.sample_names[sequence]
            if column == 2:
                return self._class(int(self.results.true_labels[sequence])) if labelled else "–"  # type: ignore[index]
            if column == 3:
                return self._class(int(self.results.predicted_labels[sequence]))
            if column == 4 and labelled:
                return "✓" if self._correct[sequence] else "✗"
        if role == Qt.ItemDataRole.ForegroundRole and column == 4 and labelled:
            return QBrush(QColor("#1e8449" if self._correct[sequence] else "#c0392b"))
        if role == Qt.ItemDataRole.UserRole:
            return sequence
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        """Column titles."""
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


class SequenceList(QWidget):
    """Filters above a table of sequences; ``sequence_selected(index)`` when a row is chosen."""

    sequence_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: PoseResults | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        title = QLabel("Sequences", self)
        title.setObjectName("PaneTitle")
        header.addWidget(title)
        header.addStretch(1)
        self.count = QLabel(self)
        self.count.setObjectName("ViewerHint")
        header.addWidget(self.count)
        layout.addLayout(header)
        filters = QHBoxLayout()
        self.true_filter = self._combo(filters, "True")
        self.predicted_filter = self._combo(filters, "Predicted")
        self.verdict_filter = self._combo(filters, "Show")
        for text, value in (("all", None), ("correct", True), ("wrong", False)):
            self.verdict_filter.addItem(text, value)
        layout.addLayout(filters)
        self.model = SequenceModel()
        self.table = QTableView(self)
        self.table.setObjectName("SequenceTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        header_view = self.table.horizontalHeader()
        header_view.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header_view.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 52), (2, 110), (3, 110), (4, 28)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_changed)
        layout.addWidget(self.table, 1)
        for combo in (self.true_filter, self.predicted_filter, self.verdict_filter):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())

    def _combo(self, row: QHBoxLayout, caption: str) -> QComboBox:
        row.addWidget(QLabel(caption, self))
        combo = QComboBox(self)
        row.addWidget(combo, 1)
        return combo

    def set_results(self, results: PoseResults) -> None:
        """Fill the class filters and show every sequence."""
        self.results = results
        labelled = results.true_labels is not None
        for combo in (self.true_filter, self.predicted_filter):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("all", None)
            for index, name in enumerate(results.class_names):
                combo.addItem(name, index)
            combo.blockSignals(False)
        self.verdict_filter.blockSignals(True)
        self.verdict_filter.setCurrentIndex(0)
        self.verdict_filter.blockSignals(False)
        self.true_filter.setEnabled(labelled)
        self.verdict_filter.setEnabled(labelled)
        self.refresh()

    def set_filter(
        self, true_class: int | None, predicted_class: int | None, correct: bool | None = None
    ) -> None:
        """Set all three filters at once (one refresh)."""
        for combo, value in (
            (self.true_filter, true_class),
            (self.predicted_filter, predicted_class),
            (self.verdict_filter, correct),
        ):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            combo.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Apply the filters."""
        if self.results is None:
            return
        labelled = self.results.true_labels is not None
        indices = self.results.filter_indices(
            true_class=self.true_filter.currentData() if labelled else None,
            predicted_class=self.predicted_filter.currentData(),
            correct=self.verdict_filter.currentData() if labelled else None,
        )
        self.model.set_rows(self.results, indices)
        self.count.setText(f"{len(indices):,} of {self.results.num_sequences:,}")

    def select_row(self, row: int) -> None:
        """Select (and emit) the row-th listed sequence."""
        if 0 <= row < self.model.rowCount():
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 0))

    def _on_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.sequence_selected.emit(int(self.model.indices[current.row()]))
