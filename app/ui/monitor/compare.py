"""The runs shown on the charts: the job itself, and other jobs the user ticks to overlay and compare."""

from __future__ import annotations

import time
from collections.abc import Iterable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.core.jobs.model import Job

JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SWATCH = 12
MAX_VISIBLE_RUNS = 8


def run_title(job: Job) -> str:
    """Two lines for the list: action and short id, then state and start time."""
    started = time.strftime("%m-%d %H:%M", time.localtime(job.started_at or job.created_at))
    return f"{job.action} · {job.id[-4:]}\n{job.status.value} · {started}"


def swatch(colour: str | None) -> QIcon:
    """A round colour dot (hollow grey when the run is not shown)."""
    pixmap = QPixmap(SWATCH, SWATCH)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if colour is None:
        painter.setPen(QColor("#b3bcc6"))
        painter.setBrush(Qt.BrushStyle.NoBrush)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(colour)))
    painter.drawEllipse(1, 1, SWATCH - 2, SWATCH - 2)
    painter.end()
    return QIcon(pixmap)


class RunList(QWidget):
    """A checkable list of runs: the job (always shown) first, then the jobs it can be compared with."""

    run_toggled = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        caption = QLabel("Runs", self)
        caption.setObjectName("SectionCaption")
        hint = QLabel("Tick other runs to overlay them.", self)
        hint.setObjectName("SectionHint")
        layout.addWidget(caption)
        layout.addWidget(hint)
        self.list = QListWidget(self)
        self.list.setObjectName("RunList")
        self.list.setIconSize(QSize(SWATCH, SWATCH))
        self.list.setUniformItemSizes(False)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.itemChanged.connect(self._on_item_changed)
        layout.addWidget(self.list)
        self._colours: dict[str, str] = {}
        self._primary: str | None = None

    def set_runs(self, primary: Job, others: Iterable[Job], shown: Iterable[str] = ()) -> None:
        """List the job first, then the others (newest first); `shown` ones are ticked."""
        ticked = set(shown) | self.shown()
        self._primary = primary.id
        self.list.blockSignals(True)
        self.list.clear()
        for job in [primary, *others]:
            item = QListWidgetItem(run_title(job))
            item.setData(JOB_ID_ROLE, job.id)
            item.setToolTip(f"{job.id}\n{job.skill} {job.action} on {job.host}\n{job.job_dir}")
            if job.id == primary.id:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
                item.setCheckState(Qt.CheckState.Checked)
            else:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if job.id in ticked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._paint_swatches()
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the runs (up to MAX_VISIBLE_RUNS, then it scrolls)."""
        rows = min(max(self.list.count(), 1), MAX_VISIBLE_RUNS)
        row_height = self.list.sizeHintForRow(0) if self.list.count() else 40
        self.list.setFixedHeight(rows * row_height + 2 * self.list.frameWidth() + 6)

    def set_colours(self, colours: dict[str, str]) -> None:
        """The colour each shown run is drawn in."""
        self._colours = dict(colours)
        self._paint_swatches()

    def shown(self) -> set[str]:
        """The ticked runs other than the job itself."""
        found = set()
        for row in range(self.list.count()):
            item = self.list.item(row)
            job_id = item.data(JOB_ID_ROLE)
            if job_id != self._primary and item.checkState() == Qt.CheckState.Checked:
                found.add(job_id)
        return found

    def set_shown(self, job_id: str, on: bool) -> None:
        """Tick or untick a run (as a click does)."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(JOB_ID_ROLE) == job_id:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _paint_swatches(self) -> None:
        self.list.blockSignals(True)
        for row in range(self.list.count()):
            item = self.list.item(row)
            job_id = item.data(JOB_ID_ROLE)
            shown = job_id == self._primary or item.checkState() == Qt.CheckState.Checked
            item.setIcon(swatch(self._colours.get(job_id) if shown else None))
        self.list.blockSignals(False)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        job_id = item.data(JOB_ID_ROLE)
        if job_id == self._primary:
            return
        self.run_toggled.emit(job_id, item.checkState() == Qt.CheckState.Checked)
