"""The Hosts page: the configured Docker hosts, adding, editing and removing them, and checking one.

A check runs in a worker; its outcome is shown by `HostReportView` (app.ui.host_report).
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.hosts.check import HostReport
from app.core.hosts.settings import HostConfig
from app.ui.app_context import AppContext, show_page_alone
from app.ui.host_dialog import HostDialog
from app.ui.host_report import HostReportView, images_used, run_check

HOST_COLUMNS = ("Name", "Kind", "Address", "Workspace")


class HostsPage(QWidget):
    """Hosts list with Add, Edit, Check and Remove, and the last check of the chosen host."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.dialog: HostDialog | None = None
        self.reports: dict[str, HostReport] = {}
        self._checking: set[str] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        caption = QLabel("Docker hosts", self)
        caption.setObjectName("PaneCaption")
        bar.addWidget(caption)
        self.problem_label = QLabel(self)
        self.problem_label.setObjectName("BankProblems")
        self.problem_label.setWordWrap(True)
        bar.addWidget(self.problem_label, 1)
        self.add_button = QPushButton("Add…", self)
        self.edit_button = QPushButton("Edit…", self)
        self.check_button = QPushButton("Check", self)
        self.check_button.setObjectName("PrimaryButton")
        self.remove_button = QPushButton("Remove", self)
        for button, handler in (
            (self.add_button, self.add_host),
            (self.edit_button, self._on_edit_clicked),
            (self.check_button, self.check_selected),
            (self.remove_button, self._on_remove_clicked),
        ):
            button.clicked.connect(handler)
            bar.addWidget(button)
        layout.addLayout(bar)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableWidget(0, len(HOST_COLUMNS), splitter)
        self.table.setObjectName("HostsTable")
        self.table.setHorizontalHeaderLabels(HOST_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.check_selected())
        self.report_view = HostReportView(context)
        scroller = QScrollArea(splitter)
        scroller.setWidgetResizable(True)
        scroller.setWidget(self.report_view)
        splitter.addWidget(self.table)
        splitter.addWidget(scroller)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([170, 600])
        layout.addWidget(splitter, 1)
        context.hosts_changed.connect(self.reload)
        context.hosts_page_requested.connect(self._on_page_requested)
        self.reload()

    def reload(self) -> None:
        """Show the hosts again, keeping the selection."""
        current = self.selected_name()
        configs = self.context.host_configs()
        self.table.setRowCount(len(configs))
        for row, config in enumerate(configs):
            kind = "local" if config.kind == "local" else "SSH"
            for column, text in enumerate((config.name, kind, config.address, config.workspace)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.problem_label.setText(f"⚠ {self.context.host_problem}" if self.context.host_problem else "")
        names = [config.name for config in configs]
        if names:
            self.table.selectRow(names.index(current) if current in names else 0)
        self._on_selection_changed()

    def selected_name(self) -> str | None:
        """The host chosen in the table."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def select(self, name: str) -> None:
        """Choose a host by name."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.text() == name:
                self.table.selectRow(row)

    def _on_selection_changed(self) -> None:
        name = self.selected_name()
        for button in (self.edit_button, self.check_button, self.remove_button):
            button.setEnabled(name is not None)
        self.check_button.setEnabled(name is not None and name not in self._checking)
        config = self.context.host_config(name) if name else None
        if config is None:
            self.report_view.show_report(None)
        elif name in self._checking:
            self.report_view.show_checking(config)
        else:
            self.report_view.show_report(self.reports.get(config.name), config)
            if config.name not in self.reports:
                self.report_view.title.setText(f"'{config.name}' ({config.address}): not checked yet.")

    def _on_page_requested(self) -> None:
        if not self.context.host_configs():
            self.add_host()

    def add_host(self) -> HostDialog:
        """Open the dialog for a new host (not modal for the rest of the app)."""
        self.dialog = HostDialog(self.context, parent=self)
        self.dialog.saved.connect(self._on_saved)
        self.dialog.open()
        return self.dialog

    def _on_edit_clicked(self) -> None:
        config = self.context.host_config(self.selected_name() or "")
        if config is None:
            return
        self.dialog = HostDialog(self.context, existing=config, parent=self)
        self.dialog.saved.connect(self._on_saved)
        self.dialog.open()

    def _on_saved(self, name: str) -> None:
        self.reports.pop(name, None)
        self.reload()
        self.select(name)

    def check_selected(self) -> None:
        """Check the chosen host in a worker."""
        config = self.context.host_config(self.selected_name() or "")
        if config is None or config.name in self._checking:
            return
        self._checking.add(config.name)
        self._on_selection_changed()
        images = list(images_used(self.context.bank, config))
        self.context.run(
            run_check,
            config,
            images,
            on_done=partial(self._on_checked, config),
            on_error=partial(self._on_check_failed, config),
        )

    def _on_checked(self, config: HostConfig, report: HostReport) -> None:
        self._checking.discard(config.name)
        self.reports[config.name] = report
        if report.gpus is not None:
            self.context.gpu_inventories[config.name] = report.gpus
        self._on_selection_changed()

    def _on_check_failed(self, config: HostConfig, message: str) -> None:
        self._checking.discard(config.name)
        self._on_selection_changed()
        if self.selected_name() == config.name:
            self.report_view.show_failure(config, message)

    def _on_remove_clicked(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        answer = QMessageBox.question(
            self,
            "Remove host",
            f"Forget the host '{name}'? Its jobs stay in the list; nothing on the host is deleted.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.context.hosts.remove(name)
            self.reports.pop(name, None)
            self.context.notify_hosts_changed(name)


def main() -> None:
    """Open the page alone on the user's own hosts and jobs (``python -m app.ui.hosts_page``)."""
    show_page_alone(HostsPage)


if __name__ == "__main__":
    main()
