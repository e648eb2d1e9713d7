"""The metrics of the run (``metrics_summary.json``), grouped by section."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.results.metrics import MetricsSummary


class MetricsTable(QWidget):
    """A two-column table of metric rows with a bold line per section."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.note = QLabel(self)
        self.note.setObjectName("ViewerHint")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("MetricsTable")
        self.table.setHorizontalHeaderLabels(["Metric", "Value"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.set_metrics(None)

    def set_metrics(self, metrics: MetricsSummary | None) -> None:
        """Show a summary, or say there is none."""
        self.table.setRowCount(0)
        if metrics is None or not metrics.rows:
            self.note.setText(
                "No metrics for this run. TAO writes metrics_summary.json next to results_nusc.json "
                "when it evaluates."
            )
            self.table.hide()
            return
        self.note.setText(metrics.source)
        self.table.show()
        bold = QFont()
        bold.setBold(True)
        section = None
        for row in metrics.rows:
            if row.section != section:
                section = row.section
                header = QTableWidgetItem(section)
                header.setFont(bold)
                position = self.table.rowCount()
                self.table.insertRow(position)
                self.table.setItem(position, 0, header)
                self.table.setSpan(position, 0, 1, 2)
            position = self.table.rowCount()
            self.table.insertRow(position)
            self.table.setItem(position, 0, QTableWidgetItem("   " + row.label))
            value = QTableWidgetItem(row.text)
            value.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(position, 1, value)
        self.table.resizeRowsToContents()
