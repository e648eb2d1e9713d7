"""The Hosts page: the configured Docker hosts, adding and removing them, and checking one.

A check (in a worker) shows the Docker version, the GPUs, the NVIDIA runtime, the free disk in the
workspace and, for each image the bundled skills use, whether it is there, with a Pull button.
"""

from __future__ import annotations

import time
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.hosts.check import CheckStatus, HostReport, check_host
from app.core.hosts.gpus import GpuInfo
from app.core.hosts.pull import pull_image, registry_auth
from app.core.hosts.secrets import SecretStore
from app.core.hosts.session import open_session
from app.core.hosts.settings import HostConfig
from app.core.skills.bank import SkillBank
from app.ui.app_context import AppContext
from app.ui.host_dialog import HostDialog
from app.ui.jobs_model import skill_title

HOST_COLUMNS = ("Name", "Kind", "Address", "Workspace")
STATUS_MARKS = {CheckStatus.OK: "✔", CheckStatus.WARN: "⚠", CheckStatus.FAIL: "✖"}
NO_GPU_TEXT = "No NVIDIA GPUs: CPU work only"
PULL_COLUMN_WIDTH = 260
STATUS_COLOURS = {CheckStatus.OK: "#1e8449", CheckStatus.WARN: "#9a6700", CheckStatus.FAIL: "#c0392b"}


def images_used(bank: SkillBank, config: HostConfig) -> dict[str, list[str]]:
    """Every image this host would run for the bank's actions -> who uses it (one entry per skill)."""
    by_image: dict[str, dict[str, list[str]]] = {}
    for skill in sorted(bank.skills.values(), key=lambda s: s.name):
        for action in skill.actions.values():
            image = config.image_for(skill.name, action.image or skill.default_image or "")
            if image:
                by_image.setdefault(image, {}).setdefault(skill.name, []).append(action.name)
    used: dict[str, list[str]] = {}
    for image, skills in by_image.items():
        for name, actions in skills.items():
            every = len(actions) == len(bank.skills[name].actions)
            used.setdefault(image, []).append(
                f"{skill_title(name)} (all actions)"
                if every
                else f"{skill_title(name)}: {', '.join(actions)}"
            )
    return used


def run_check(config: HostConfig, images: list[str]) -> HostReport:
    """Connect to a host and check it (for a worker)."""
    with open_session(config) as session:
        return check_host(session, images)


def run_pull(config: HostConfig, image: str, report: object) -> str:
    """Pull one image onto a host, reporting (fraction or -1, text) as it goes (for a worker)."""

    def progress(done: int, total: int, text: str) -> None:
        report(done / total if total else -1.0, text)  # type: ignore[operator]

    with open_session(config) as session:
        return pull_image(session, image, progress, registry_auth(image, SecretStore()))


class ImageRow:
    """One image in the check report: its status cell, Pull button and progress bar."""

    def __init__(self, status: QTableWidgetItem, parent: QWidget) -> None:
        self.status = status
        self.holder = QWidget(parent)
        row = QHBoxLayout(self.holder)
        row.setContentsMargins(4, 2, 4, 2)
        self.pull_button = QPushButton("Pull", self.holder)
        self.pull_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.progress = QProgressBar(self.holder)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.hide()
        row.addWidget(self.pull_button)
        row.addWidget(self.progress, 1)
        row.addStretch(0)


class HostReportView(QWidget):
    """The outcome of a host check."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.config: HostConfig | None = None
        self.image_rows: dict[str, ImageRow] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel("Choose a host and press Check.", self)
        self.title.setObjectName("ReportTitle")
        layout.addWidget(self.title)
        self.facts = QFormLayout()
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.docker_label, self.runtime_label, self.disk_label = (self._fact() for _ in range(3))
        self.facts.addRow("Docker", self.docker_label)
        self.facts.addRow("NVIDIA runtime", self.runtime_label)
        self.facts.addRow("Free disk", self.disk_label)
        layout.addLayout(self.facts)
        gpus_caption = QLabel("GPUs", self)
        gpus_caption.setObjectName("PaneCaption")
        layout.addWidget(gpus_caption)
        self.gpu_note = QLabel(self)
        self.gpu_note.setObjectName("GpuNote")
        self.gpu_note.setWordWrap(True)
        layout.addWidget(self.gpu_note)
        self.gpu_table = QTableWidget(0, 4, self)
        self.gpu_table.setHorizontalHeaderLabels(["GPU", "Name", "Memory used / total", "Utilisation"])
        self._tidy(self.gpu_table, stretch=1)
        layout.addWidget(self.gpu_table)
        images_caption = QLabel("Images", self)
        images_caption.setObjectName("PaneCaption")
        layout.addWidget(images_caption)
        self.image_table = QTableWidget(0, 4, self)
        self.image_table.setHorizontalHeaderLabels(["Image", "Used by", "Status", ""])
        self._tidy(self.image_table, stretch=2)
        self.image_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        self.image_table.setColumnWidth(3, PULL_COLUMN_WIDTH)
        layout.addWidget(self.image_table, 1)
        self.show_report(None)

    def _fact(self) -> QLabel:
        label = QLabel("-", self)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @staticmethod
    def _tidy(table: QTableWidget, stretch: int) -> None:
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setWordWrap(True)
        header = table.horizontalHeader()
        for column in range(table.columnCount()):
            mode = (
                QHeaderView.ResizeMode.Stretch
                if column == stretch
                else QHeaderView.ResizeMode.ResizeToContents
            )
            header.setSectionResizeMode(column, mode)

    def show_checking(self, config: HostConfig) -> None:
        """Say a check is running."""
        self.config = config
        self.title.setText(f"Checking '{config.name}' ({config.address})…")

    def show_failure(self, config: HostConfig, message: str) -> None:
        """Say the host could not be checked at all."""
        self.show_report(None)
        self.config = config
        self.title.setText(f"'{config.name}' could not be checked")
        self._set_fact(self.docker_label, CheckStatus.FAIL, message)

    def show_report(self, report: HostReport | None, config: HostConfig | None = None) -> None:
        """Show a check's outcome (None clears the view)."""
        self.config = config
        self.image_rows.clear()
        self.gpu_table.setRowCount(0)
        self.image_table.setRowCount(0)
        if report is None or config is None:
            for label in (self.docker_label, self.runtime_label, self.disk_label):
                label.setText("-")
            self.gpu_note.setText("-")
            self.gpu_table.hide()
            return
        self.title.setText(f"'{config.name}' ({config.address}), checked at {time.strftime('%H:%M:%S')}")
        for label, name in (
            (self.docker_label, "docker"),
            (self.runtime_label, "nvidia runtime"),
            (self.disk_label, "disk"),
        ):
            try:
                item = report.item(name)
            except KeyError:
                label.setText("not checked")
                continue
            self._set_fact(label, item.status, item.message)
        self._show_gpus(report.gpus.gpus if report.gpus else [], report.gpus.note if report.gpus else "")
        self._show_images(report, config)

    def _set_fact(self, label: QLabel, status: CheckStatus, message: str) -> None:
        label.setText(f"{STATUS_MARKS[status]} {message}")
        label.setProperty("status", status.value)
        label.style().unpolish(label)
        label.style().polish(label)

    def _show_gpus(self, gpus: list[GpuInfo], note: str) -> None:
        if not gpus:
            detail = note.split(": CPU work only")[0] if note else ""
            reason = detail[detail.find("(") :] if "(" in detail else ""
            self.gpu_note.setText(f"{NO_GPU_TEXT} {reason}".strip())
            self.gpu_table.hide()
            return
        self.gpu_note.setText(f"{len(gpus)} NVIDIA GPU(s)")
        self.gpu_table.show()
        self.gpu_table.setRowCount(len(gpus))
        for row, gpu in enumerate(gpus):
            used = "?" if gpu.memory_used_mib is None else f"{gpu.memory_used_mib / 1024:.1f}"
            total = "?" if gpu.memory_total_mib is None else f"{gpu.memory_total_mib / 1024:.1f}"
            busy = "?" if gpu.utilization_percent is None else f"{gpu.utilization_percent} %"
            for column, text in enumerate((str(gpu.index), gpu.name, f"{used} / {total} GiB", busy)):
                self.gpu_table.setItem(row, column, QTableWidgetItem(text))
        self.gpu_table.setFixedHeight(
            self.gpu_table.horizontalHeader().height()
            + 6
            + sum(self.gpu_table.rowHeight(r) for r in range(len(gpus)))
        )

    def _show_images(self, report: HostReport, config: HostConfig) -> None:
        used = images_used(self.context.bank, config)
        self.image_table.setRowCount(len(used))
        for row, (image, users) in enumerate(sorted(used.items())):
            self.image_table.setItem(row, 0, QTableWidgetItem(image))
            self.image_table.setItem(row, 1, QTableWidgetItem("\n".join(users)))
            status = QTableWidgetItem()
            self.image_table.setItem(row, 2, status)
            widgets = ImageRow(status, self.image_table)
            self.image_rows[image] = widgets
            self.image_table.setCellWidget(row, 3, widgets.holder)
            widgets.pull_button.clicked.connect(partial(self.pull, image))
            try:
                item = report.item(f"image {image}")
            except KeyError:
                widgets.pull_button.hide()
                self._set_image_state(image, CheckStatus.WARN, "not checked (Docker did not answer)")
                continue
            if item.status is CheckStatus.OK:
                self._set_image_state(image, item.status, "present")
            elif item.status is CheckStatus.WARN:
                self._set_image_state(image, item.status, "missing: pull it before running jobs with it")
            else:
                self._set_image_state(image, item.status, item.message)
            widgets.pull_button.setVisible(item.status is CheckStatus.WARN)
        self.image_table.resizeRowsToContents()

    def _set_image_state(self, image: str, status: CheckStatus, text: str) -> None:
        widgets = self.image_rows[image]
        widgets.status.setText(f"{STATUS_MARKS[status]} {text}")
        widgets.status.setForeground(QColor(STATUS_COLOURS[status]))
        widgets.status.setData(Qt.ItemDataRole.UserRole, status.value)
        self.image_table.resizeRowsToContents()

    def image_status(self, image: str) -> str:
        """The check status shown for an image (``ok``, ``warn`` or ``fail``)."""
        return str(self.image_rows[image].status.data(Qt.ItemDataRole.UserRole))

    def pull(self, image: str) -> None:
        """Pull a missing image onto the host shown, with a progress bar."""
        widgets, config = self.image_rows.get(image), self.config
        if widgets is None or config is None:
            return
        widgets.pull_button.setEnabled(False)
        widgets.progress.show()
        widgets.progress.setRange(0, 0)
        widgets.progress.setFormat("starting…")
        self._set_image_state(image, CheckStatus.WARN, "pulling…")
        self.context.run(
            run_pull,
            config,
            image,
            on_progress=partial(self._on_pull_progress, image),
            on_done=partial(self._on_pulled, image),
            on_error=partial(self._on_pull_failed, image),
        )

    def _on_pull_progress(self, image: str, fraction: float, text: str) -> None:
        widgets = self.image_rows.get(image)
        if widgets is None:
            return
        if fraction < 0:
            widgets.progress.setRange(0, 0)
        else:
            widgets.progress.setRange(0, 1000)
            widgets.progress.setValue(int(fraction * 1000))
        widgets.progress.setFormat(f"%p% · {text[:40]}" if fraction >= 0 else text[:48])

    def _on_pulled(self, image: str, _image_id: object) -> None:
        widgets = self.image_rows.get(image)
        if widgets is None:
            return
        widgets.progress.hide()
        widgets.pull_button.hide()
        self._set_image_state(image, CheckStatus.OK, "pulled, present")

    def _on_pull_failed(self, image: str, message: str) -> None:
        widgets = self.image_rows.get(image)
        if widgets is None:
            return
        widgets.progress.hide()
        widgets.pull_button.setEnabled(True)
        widgets.pull_button.setText("Retry")
        self._set_image_state(image, CheckStatus.FAIL, message)
        self.image_table.resizeRowsToContents()


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
