"""GPU and container plots of a running job: utilisation and memory per GPU, container CPU and memory.

A host without GPUs (or a job without any) shows a plain note where the GPU plots would be.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core.telemetry.system_metrics import MetricsSnapshot
from app.ui.monitor.axes import style_axis
from app.ui.monitor.colours import RUN_PALETTE

MIB_PER_GIB = 1024.0
BYTES_PER_GIB = 1024.0**3
PLOT_HEIGHT = 150
CONTAINER_COLOUR = "#2874a6"
LIMIT_COLOUR = "#c0392b"
SAMPLED_WHILE_RUNNING = "Container CPU and memory are sampled while the job runs."


class MetricPlot(QFrame):
    """A small time plot card: a title with the latest value, and one curve per series."""

    def __init__(self, title: str, unit: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MetricCard")
        self.title_text = title
        self.unit = unit
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 2)
        layout.setSpacing(0)
        header = QHBoxLayout()
        self.title = QLabel(title, self)
        self.title.setObjectName("ChartTitle")
        self.latest = QLabel("", self)
        self.latest.setObjectName("MetricLatest")
        self.latest.setTextFormat(Qt.TextFormat.RichText)
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.latest)
        layout.addLayout(header)
        self.plot = pg.PlotWidget(
            parent=self, background="w", axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}
        )
        self.plot.setFixedHeight(PLOT_HEIGHT)
        item = self.plot.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.12)
        item.getAxis("left").setWidth(40)
        style_axis(item.getAxis("left"))
        style_axis(item.getAxis("bottom"))
        item.getViewBox().setMouseEnabled(x=False, y=False)
        layout.addWidget(self.plot)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.limit_line: pg.InfiniteLine | None = None

    def set_curve(self, name: str, times: np.ndarray, values: np.ndarray, colour: str) -> None:
        """Draw (or update) one named series."""
        curve = self.curves.get(name)
        if curve is None:
            curve = self.curves[name] = self.plot.plot(
                pen=pg.mkPen(colour, width=1.6), fillLevel=0, brush=pg.mkBrush(_faint(colour)), name=name
            )
            curve.setClipToView(True)
        curve.setData(times, values, connect="finite")

    def set_y_limits(self, low: float, high: float | None) -> None:
        """Fix the y range (`high` None: follow the data, from `low`)."""
        view = self.plot.getPlotItem().getViewBox()
        if high is None:
            view.enableAutoRange(axis="y")
            view.setLimits(yMin=low)
        else:
            view.setYRange(low, high, padding=0.02)

    def set_limit(self, value: float | None, text: str) -> None:
        """A dashed horizontal line (a memory limit), or none."""
        if value is None:
            if self.limit_line is not None:
                self.limit_line.setVisible(False)
            return
        if self.limit_line is None:
            pen = pg.mkPen(LIMIT_COLOUR, width=1, style=Qt.PenStyle.DashLine)
            self.limit_line = pg.InfiniteLine(angle=0, pen=pen, label=text,
                                              labelOpts={"color": LIMIT_COLOUR, "position": 0.08})
            self.plot.addItem(self.limit_line, ignoreBounds=True)
        self.limit_line.setPos(value)
        self.limit_line.label.setFormat(text)
        self.limit_line.setVisible(True)

    def set_latest(self, text: str) -> None:
        """The latest value(s) shown next to the title (rich text)."""
        self.latest.setText(text)


def _faint(colour: str) -> tuple[int, int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), 28


def _last_finite(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else None


class SystemMetricsView(QFrame):
    """GPU utilisation, GPU memory, container CPU and memory, side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SystemMetrics")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        caption = QLabel("System", self)
        caption.setObjectName("SectionCaption")
        self.note = QLabel("", self)
        self.note.setObjectName("MetricsNote")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        header.addWidget(caption)
        header.addWidget(self.note, 1)
        layout.addLayout(header)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.gpu_utilisation = MetricPlot("GPU utilisation", "%", self)
        self.gpu_memory = MetricPlot("GPU memory", "GiB", self)
        self.gpu_note = _note_card(self)
        self.cpu = MetricPlot("Container CPU", "%", self)
        self.memory = MetricPlot("Container memory", "GiB", self)
        self.container_note = _note_card(self)
        for widget in (self.gpu_utilisation, self.gpu_memory, self.gpu_note, self.cpu, self.memory,
                       self.container_note):
            row.addWidget(widget, 2 if widget in (self.gpu_note, self.container_note) else 1)
        self.gpu_utilisation.set_y_limits(0, 100)
        self.cpu.set_y_limits(0, None)
        self.memory.set_y_limits(0, None)
        self.gpu_note.hide()
        self.container_note.setText(SAMPLED_WHILE_RUNNING)
        self.cpu.hide()
        self.memory.hide()
        layout.addLayout(row)
        self.snapshot: MetricsSnapshot | None = None

    @property
    def gpu_plots_shown(self) -> bool:
        """False when the note replaces the GPU plots."""
        return not self.gpu_note.isVisibleTo(self)

    @property
    def container_plots_shown(self) -> bool:
        """False when the note replaces the container plots."""
        return not self.container_note.isVisibleTo(self)

    def set_note(self, text: str) -> None:
        """A line about the sampling itself (e.g. sampled only while the job runs)."""
        self.note.setText(text)

    def show_snapshot(self, snapshot: MetricsSnapshot) -> None:
        """Draw everything sampled so far."""
        self.snapshot = snapshot
        self._show_gpus(snapshot)
        self._show_container(snapshot)

    def _show_gpus(self, snapshot: MetricsSnapshot) -> None:
        absent = bool(snapshot.gpu_note) and not snapshot.gpu_utilisation
        self.gpu_note.setText(snapshot.gpu_note)
        self.gpu_note.setVisible(absent)
        self.gpu_utilisation.setVisible(not absent)
        self.gpu_memory.setVisible(not absent)
        if absent:
            return
        latest_util, latest_memory = [], []
        for position, index in enumerate(sorted(snapshot.gpu_utilisation)):
            colour = RUN_PALETTE[position % len(RUN_PALETTE)]
            times, values = snapshot.gpu_utilisation[index]
            self.gpu_utilisation.set_curve(f"GPU {index}", times, values, colour)
            memory_times, memory = snapshot.gpu_memory_mib.get(index, (np.empty(0), np.empty(0)))
            self.gpu_memory.set_curve(f"GPU {index}", memory_times, memory / MIB_PER_GIB, colour)
            util, used = _last_finite(values), _last_finite(memory)
            dot = f"<span style='color:{colour}'>●</span>"
            if util is not None:
                latest_util.append(f"{dot} {util:.0f}%")
            if used is not None:
                latest_memory.append(f"{dot} {used / MIB_PER_GIB:.1f} GiB")
        totals = [total for total in snapshot.gpu_memory_total_mib.values() if total]
        top = max(totals) / MIB_PER_GIB if totals else None
        self.gpu_memory.set_y_limits(0, top)
        self.gpu_memory.set_limit(top, f"{top:.0f} GiB" if top else "")
        self.gpu_utilisation.set_latest(" ".join(latest_util))
        self.gpu_memory.set_latest(" ".join(latest_memory))

    def _show_container(self, snapshot: MetricsSnapshot) -> None:
        times, cpu = snapshot.cpu_percent
        memory_times, memory = snapshot.memory_bytes
        sampled = bool(times.size)
        self.container_note.setText(snapshot.container_note or SAMPLED_WHILE_RUNNING)
        self.container_note.setVisible(not sampled)
        self.cpu.setVisible(sampled)
        self.memory.setVisible(sampled)
        if not sampled:
            return
        self.cpu.set_curve("cpu", times, cpu, CONTAINER_COLOUR)
        self.memory.set_curve("memory", memory_times, memory / BYTES_PER_GIB, CONTAINER_COLOUR)
        cpu_now, memory_now = _last_finite(cpu), _last_finite(memory)
        self.cpu.set_latest("" if cpu_now is None else f"{cpu_now:.0f}%")
        limit = snapshot.memory_limit_bytes
        self.memory.set_latest("" if memory_now is None else f"{memory_now / BYTES_PER_GIB:.2f} GiB")
        self.memory.setToolTip(f"Limit {limit / BYTES_PER_GIB:.1f} GiB" if limit else "")
        self.cpu.setToolTip("100% = one CPU core busy, as docker stats counts")
        if snapshot.container_note:
            self.cpu.set_latest(f"<span style='color:#7f8c8d'>{html.escape(snapshot.container_note)}</span>")


def _note_card(parent: QWidget) -> QLabel:
    """A dashed card with a plain sentence, standing where plots would be."""
    label = QLabel("", parent)
    label.setObjectName("MetricsAbsentNote")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setMinimumHeight(44)
    return label
