"""A job's progress strip: a bar, epoch, step, ETA (counting down between status lines), time per epoch.

TAO reports `epoch` as the 0-based index of the last finished epoch; the strip shows finished epochs
out of the total ("Epoch 5 / 70" after TAO's `epoch: 4, max_epoch: 69`).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from app.core.jobs.model import JobStatus
from app.core.telemetry.job_monitor import format_seconds
from app.core.telemetry.status import JobProgress

BAR_STATES = {
    JobStatus.CREATED: "running",
    JobStatus.RUNNING: "running",
    JobStatus.COMPLETED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
}
TILES = ("Epoch", "Step", "ETA", "Time per epoch", "Time per step")
BAR_SCALE = 1000


class JobProgressView(QFrame):
    """Progress bar and figures of one job, from its status.json lines and its state."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProgressStrip")
        self.progress: JobProgress | None = None
        self.status: JobStatus | None = None
        self._eta_received: tuple[float, float] | None = None  # (eta seconds, monotonic time)
        self._build()
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._show_eta)
        self.show_progress(None, None)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(6)
        top = QHBoxLayout()
        top.setSpacing(16)
        tiles = QGridLayout()
        tiles.setHorizontalSpacing(26)
        tiles.setVerticalSpacing(0)
        self.values: dict[str, QLabel] = {}
        for column, name in enumerate(TILES):
            caption = QLabel(name.upper(), self)
            caption.setObjectName("TileCaption")
            value = QLabel("-", self)
            value.setObjectName("TileValue")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            tiles.addWidget(caption, 0, column)
            tiles.addWidget(value, 1, column)
            self.values[name] = value
        top.addLayout(tiles)
        top.addStretch(1)
        self.message = QLabel(self)
        self.message.setObjectName("ProgressMessage")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.message.setWordWrap(True)
        top.addWidget(self.message, 1)
        layout.addLayout(top)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("JobProgressBar")
        self.bar.setRange(0, BAR_SCALE)
        self.bar.setTextVisible(True)
        self.bar.setFixedHeight(16)
        layout.addWidget(self.bar)

    # -- showing -----------------------------------------------------------------------------------

    def show_progress(self, progress: JobProgress | None, status: JobStatus | None) -> None:
        """Show new figures (None: keep the last ones) and the job's state."""
        if progress is not None:
            self.progress = progress
            self._eta_received = (
                (progress.eta_seconds, time.monotonic()) if progress.eta_seconds is not None else None
            )
        if status is not None:
            self.status = status
        current = self.progress
        self._show_bar(current)
        self._show_tiles(current)
        self._show_message(current)
        self._show_eta()
        running = self.status in (None, JobStatus.RUNNING, JobStatus.CREATED)
        if running and self._eta_received is not None:
            self._ticker.start()
        else:
            self._ticker.stop()

    @property
    def fraction(self) -> float | None:
        """The fraction the bar shows (None when it is busy without a known fraction)."""
        if self.bar.maximum() == 0:
            return None
        return self.bar.value() / BAR_SCALE

    def _show_bar(self, progress: JobProgress | None) -> None:
        fraction = progress.fraction if progress is not None else None
        if self.status is JobStatus.COMPLETED:
            fraction = 1.0
        state = BAR_STATES.get(self.status, "running") if self.status is not None else "running"
        self.bar.setProperty("state", state)
        self.bar.style().unpolish(self.bar)
        self.bar.style().polish(self.bar)
        if fraction is None:
            if self.status in (JobStatus.RUNNING, JobStatus.CREATED):
                self.bar.setRange(0, 0)  # busy: started, no figures yet
            else:
                self.bar.setRange(0, BAR_SCALE)
                self.bar.setValue(0)
                self.bar.setFormat("no progress reported")
            return
        self.bar.setRange(0, BAR_SCALE)
        self.bar.setValue(round(fraction * BAR_SCALE))
        self.bar.setFormat(f"{fraction * 100:.0f}%")

    def _show_tiles(self, progress: JobProgress | None) -> None:
        empty = JobProgress()
        shown = progress or empty
        epoch = "-"
        if shown.epoch is not None and shown.num_epochs is not None:
            epoch = f"{shown.epoch + 1} / {shown.num_epochs}"
        elif shown.epoch is not None:
            epoch = str(shown.epoch + 1)
        step = "-"
        if shown.step is not None:
            step = f"{shown.step:,}" + (f" / {shown.max_step:,}" if shown.max_step else "")
        self.values["Epoch"].setText(epoch)
        self.values["Step"].setText(step)
        self.values["Time per epoch"].setText(format_seconds(shown.time_per_epoch_seconds))
        per_step = shown.time_per_step_seconds
        if per_step is None:
            step_time = "-"
        else:
            step_time = f"{per_step * 1000:.0f} ms" if per_step < 1 else format_seconds(per_step)
        self.values["Time per step"].setText(step_time)

    def _show_message(self, progress: JobProgress | None) -> None:
        if progress is not None and progress.failure_message:
            self.message.setProperty("state", "error")
            self.message.setText(progress.failure_message)
        else:
            self.message.setProperty("state", "")
            text = progress.last_message if progress is not None else None
            if text is None:
                text = "Waiting for the job's status.json…" if self.status is JobStatus.RUNNING else ""
            self.message.setText(text or "")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _show_eta(self) -> None:
        label = self.values["ETA"]
        if self.status is JobStatus.COMPLETED:
            label.setText("done")
            return
        if self.status in (JobStatus.FAILED, JobStatus.CANCELLED) or self._eta_received is None:
            label.setText("-")
            return
        eta, received = self._eta_received
        label.setText(format_seconds(max(0.0, eta - (time.monotonic() - received))))
