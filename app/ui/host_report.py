"""The outcome of a host check, and the work behind it: which images a host needs, check, pull.

`HostReportView` shows the Docker version, the NVIDIA runtime, the free disk, the GPUs ("No NVIDIA
GPUs: CPU work only" is plain information, not an error) and each image with a Pull button.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
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
from app.ui.jobs_model import skill_title

STATUS_MARKS = {CheckStatus.OK: "✔", CheckStatus.WARN: "⚠", CheckStatus.FAIL: "✖"}
STATUS_COLOURS = {CheckStatus.OK: "#1e8449", CheckStatus.WARN: "#9a6700", CheckStatus.FAIL: "#c0392b"}
NO_GPU_TEXT = "No NVIDIA GPUs: CPU work only"
PULL_COLUMN_WIDTH = 260


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


def run_pull(config: HostConfig, image: str, report: Callable[[float, str], None]) -> str:
    """Pull one image onto a host, reporting (fraction or -1, text) as it goes (for a worker)."""

    def progress(done: int, total: int, text: str) -> None:
        report(done / total if total else -1.0, text)

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
