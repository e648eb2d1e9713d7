"""The parts of the requirements panel: the requirement table, the findings list and two small dialogs."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app.core.datasets.findings import ERROR, INFO, WARNING, Finding, worst_severity
from app.core.datasets.resolve import Origin, ResolvedRow, describe_files

COLOURS = {ERROR: "#c0392b", WARNING: "#9a6700", INFO: "#5d6d7e", "ok": "#1e8449", "unset": "#b9770e"}
ORIGIN_COLOURS = {Origin.TYPED: "#2874a6", Origin.UNSET: "#b9770e", Origin.TEMPLATE: "#5d6d7e"}
_ICONS = {
    ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
    WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    "ok": QStyle.StandardPixmap.SP_DialogApplyButton,
}


def severity_icon(widget: QWidget, severity: str) -> QIcon:
    """The standard icon for a severity (``ok`` for a clean row)."""
    return widget.style().standardIcon(_ICONS.get(severity, QStyle.StandardPixmap.SP_MessageBoxQuestion))


def _item(text: str, tip: str = "", colour: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    item.setToolTip(tip or text)
    if colour:
        item.setForeground(QBrush(QColor(colour)))
    return item


def _shown_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


class RequirementTable(QTableWidget):
    """The action's dataset-requirement table with each row's resolved value, origin and status."""

    COLUMNS = ("Spec key", "Source", "Files", "List?", "Value", "From", "Status")
    row_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setObjectName("RequirementTable")
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.horizontalHeader()
        for column in range(len(self.COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(5, 190)
        self.cellDoubleClicked.connect(self._on_double_clicked)

    def show_rows(self, rows: list[ResolvedRow], findings: list[Finding] | None) -> None:
        """Fill the table; ``findings`` None means "not checked yet"."""
        self.setRowCount(len(rows))
        for index, row in enumerate(rows):
            requirement = row.requirement
            folder_of_files = (
                requirement.from_convert_job and requirement.kind == "file" and not requirement.files
            )
            kind = describe_files(requirement) + ("" if folder_of_files else f"  [{requirement.kind}]")
            source = requirement.source + (" (optional)" if requirement.optional else "")
            value = _shown_value(row.value) or "—"
            self.setItem(index, 0, _item(row.spec_key))
            self.setItem(index, 1, _item(source))
            self.setItem(index, 2, _item(kind, requirement.format or ""))
            self.setItem(index, 3, _item("yes" if requirement.is_list else "no"))
            self.setItem(index, 4, _item(value, "\n".join(filter(None, [value, row.note]))))
            origin = _item(
                row.origin_label,
                "\n".join(filter(None, [row.origin_label, row.note])),
                ORIGIN_COLOURS.get(row.origin),
            )
            self.setItem(index, 5, origin)
            self.setItem(index, 6, self._status_item(row, findings))
        self.resizeRowsToContents()

    def _status_item(self, row: ResolvedRow, findings: list[Finding] | None) -> QTableWidgetItem:
        if not row.is_set:
            severity, text = (INFO, "optional") if row.requirement.optional else (ERROR, "missing")
        elif findings is None:
            severity, text = "", "not checked"
        else:
            mine = [f for f in findings if f.concerns(row.spec_key) and f.severity != INFO]
            severity = worst_severity(mine) or "ok"
            text = {ERROR: "error", WARNING: "warning", "ok": "ok"}[severity]
        item = _item(text, colour=COLOURS.get(severity))
        if severity:
            item.setIcon(severity_icon(self, severity))
        return item

    def _on_double_clicked(self, row: int, _column: int) -> None:
        key = self.item(row, 0)
        if key is not None:
            self.row_activated.emit(key.text())


class FindingList(QTableWidget):
    """Findings, errors first: severity, key, message, fix, and a Fix button where the app can fix it."""

    COLUMNS = ("", "Key", "Message", "Fix", "")
    fix_requested = Signal(object)
    finding_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setObjectName("FindingList")
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)
        self.setColumnWidth(0, 28)
        self.setColumnWidth(3, 300)
        self.cellDoubleClicked.connect(self._on_double_clicked)
        self.findings: list[Finding] = []

    def show_findings(self, findings: list[Finding]) -> None:
        """Fill the list (sorted by the caller)."""
        self.findings = list(findings)
        self.setRowCount(len(findings))
        for index, finding in enumerate(findings):
            icon = _item("")
            icon.setIcon(severity_icon(self, finding.severity))
            icon.setToolTip(finding.severity)
            self.setItem(index, 0, icon)
            self.setItem(index, 1, _item(finding.spec_key or "(host)"))
            self.setItem(index, 2, _item(finding.message, colour=COLOURS.get(finding.severity)))
            self.setItem(index, 3, _item(finding.fix))
            self.removeCellWidget(index, 4)
            if finding.fix_action:
                self.setCellWidget(index, 4, self._fix_button(finding))
        self.resizeRowsToContents()

    def _fix_button(self, finding: Finding) -> QWidget:
        holder = QWidget(self)
        layout = QHBoxLayout(holder)
        layout.setContentsMargins(4, 2, 4, 2)
        button = QPushButton("Fix…" if finding.fix_action != "set_value" else "Fix", holder)
        button.setObjectName("FindingFixButton")
        button.setToolTip(finding.fix or "apply the fix")
        button.clicked.connect(lambda: self.fix_requested.emit(finding))
        layout.addWidget(button)
        return holder

    def fix_buttons(self) -> list[QPushButton]:
        """The Fix buttons, in row order (for tests and keyboard users)."""
        buttons = []
        for row in range(self.rowCount()):
            holder = self.cellWidget(row, 4)
            if holder is not None:
                buttons.extend(holder.findChildren(QPushButton))
        return buttons

    def _on_double_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.findings) and self.findings[row].spec_key:
            self.finding_activated.emit(self.findings[row].spec_key)
