"""The job's KPIs (status.json's sticky `kpi` blocks): each one's latest value and the epoch it came with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from app.core.telemetry.job_monitor import format_kpi
from app.core.telemetry.status import KpiSnapshot

COLUMNS = ("Metric", "Value", "Epoch")
ROW_HEIGHT = 24
MAX_VISIBLE_ROWS = 12


class KpiTable(QTableWidget):
    """Metric, latest value and the epoch (1-based, as the progress strip counts) it was reported at."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("KpiTable")
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setHighlightSections(False)
        self.set_placeholder("No KPIs reported yet")

    def set_placeholder(self, text: str) -> None:
        """What the empty table says (shown as its tooltip and single greyed row)."""
        self._placeholder = text
        if self.rowCount() == 0 or self._showing_placeholder():
            self._show_placeholder()

    def show_kpis(self, kpis: Mapping[str, Any], history: Sequence[KpiSnapshot] = ()) -> None:
        """Show the latest KPIs; `history` gives the epoch each one was last reported at."""
        if not kpis:
            self._show_placeholder()
            return
        epochs: dict[str, int | None] = {}
        for snapshot in history:
            for key in snapshot.values:
                epochs[key] = snapshot.epoch
        self.setRowCount(len(kpis))
        for row, key in enumerate(sorted(kpis)):
            epoch = epochs.get(key)
            cells = (key, format_kpi(kpis[key]), "-" if epoch is None else str(epoch + 1))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(f"{key} = {kpis[key]!r}")
                self.setItem(row, column, item)
        self._fit_height()

    def values(self) -> dict[str, str]:
        """Metric -> value text, as shown."""
        if self._showing_placeholder():
            return {}
        shown = {}
        for row in range(self.rowCount()):
            key, value = self.item(row, 0), self.item(row, 1)
            if key is not None and value is not None:
                shown[key.text()] = value.text()
        return shown

    def _show_placeholder(self) -> None:
        self.setRowCount(1)
        item = QTableWidgetItem(self._placeholder)
        item.setForeground(Qt.GlobalColor.gray)
        item.setData(Qt.ItemDataRole.UserRole, "placeholder")
        self.setItem(0, 0, item)
        for column in (1, 2):
            self.setItem(0, column, QTableWidgetItem(""))
        self._fit_height()

    def _fit_height(self) -> None:
        """Tall enough for the rows (up to MAX_VISIBLE_ROWS, then it scrolls)."""
        rows = min(self.rowCount(), MAX_VISIBLE_ROWS)
        header = self.horizontalHeader().sizeHint().height()
        self.setFixedHeight(header + rows * ROW_HEIGHT + 2 * self.frameWidth())

    def _showing_placeholder(self) -> bool:
        first = self.item(0, 0)
        return first is not None and first.data(Qt.ItemDataRole.UserRole) == "placeholder"
