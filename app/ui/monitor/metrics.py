"""GPU and container plots of a running job: utilisation and memory per GPU, container CPU and memory.

Times are shown relative to the job's start. A host without GPUs (or a job without any) shows a plain
note where the GPU plots would be; a job that was not sampled while it ran shows a note likewise.
"""

from __future__ import annotations

import html

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core.telemetry.system_metrics import MetricsSnapshot
from app.ui.monitor.axes import DurationAxis, style_axis
from app.ui.monitor.colours import RUN_PALETTE

FloatArray = npt.NDArray[np.float64]
MIB = 1024.0**2
GIB = 1024.0**3
PLOT_HEIGHT = 140
CONTAINER_COLOUR = "#2874a6"
LIMIT_COLOUR = "#c0392b"
SAMPLED_WHILE_RUNNING = "Container CPU and memory are sampled while the job runs."


def memory_unit(largest_bytes: float) -> tuple[str, float]:
    """MiB for small figures, GiB from 1 GiB up."""
    return ("GiB", GIB) if largest_bytes >= GIB else ("MiB", MIB)


def format_percent(value: float) -> str:
    """`0.4%`, `12%`."""
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


class MetricPlot(QFrame):
    """A small time plot card: a title with the latest value, and one curve per series."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MetricCard")
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
        self.plot = pg.PlotWidget(parent=self, background="w", axisItems={"bottom": DurationAxis("bottom")})
        self.plot.setFixedHeight(PLOT_HEIGHT)
        item = self.plot.getPlotItem()
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.12)
        item.getAxis("left").setWidth(40)
        style_axis(item.getAxis("left"))
        style_axis(item.getAxis("bottom"))
        self.view_box = item.getViewBox()
        self.view_box.setMouseEnabled(x=False, y=False)
        layout.addWidget(self.plot)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.limit_line: pg.InfiniteLine | None = None

    def set_curve(self, name: str, times: FloatArray, values: FloatArray, colour: str) -> None:
        """Draw (or update) one named series; `times` are seconds since the job started."""
        curve = self.curves.get(name)
        if curve is None:
            curve = self.curves[name] = self.plot.plot(
                pen=pg.mkPen(colour, width=1.6), fillLevel=0, brush=pg.mkBrush(_faint(colour)), name=name
            )
        curve.setData(times, values, connect="finite")

    def set_y_range(self, high: float) -> None:
        """Show 0..high."""
        self.view_box.setYRange(0, high, padding=0.02)

    def set_limit(self, value: float | None, text: str) -> None:
        """A dashed horizontal line (the GPUs' memory), or none."""
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


def _last_finite(values: FloatArray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else None


def _largest(values: FloatArray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


def _note_card(parent: QWidget) -> QLabel:
    """A dashed card with a plain sentence, standing where plots would be."""
    label = QLabel("", parent)
    label.setObjectName("MetricsAbsentNote")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setMinimumHeight(44)
    return label


def _area(parent: QWidget, *widgets: QWidget) -> QWidget:
    area = QWidget(parent)
    row = QHBoxLayout(area)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(8)
    for widget in widgets:
        widget.setParent(area)
        row.addWidget(widget, 1)
    return area


class SystemMetricsView(QFrame):
    """GPU utilisation and memory next to the container's CPU and memory."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SystemMetrics")
        self.origin: float | None = None
        self.snapshot: MetricsSnapshot | None = None
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
        self.gpu_utilisation = MetricPlot("GPU utilisation (%)", self)
        self.gpu_memory = MetricPlot("GPU memory (GiB)", self)
        self.gpu_note = _note_card(self)
        self.cpu = MetricPlot("Container CPU (%)", self)
        self.memory = MetricPlot("Container memory", self)
        self.container_note = _note_card(self)
        self.row = QHBoxLayout()
        self.row.setSpacing(8)
        self.row.addWidget(_area(self, self.gpu_utilisation, self.gpu_memory, self.gpu_note), 1)
        self.row.addWidget(_area(self, self.cpu, self.memory, self.container_note), 1)
        layout.addLayout(self.row)
        self.gpu_utilisation.set_y_range(100)
        self.gpu_note.setText("Looking for the job's GPUs…")
        self.container_note.setText(SAMPLED_WHILE_RUNNING)
        for plot in (self.gpu_utilisation, self.gpu_memory, self.cpu, self.memory):
            plot.hide()

    @property
    def gpu_plots_shown(self) -> bool:
        """False when the note replaces the GPU plots."""
        return not self.gpu_note.isVisibleTo(self)

    @property
    def container_plots_shown(self) -> bool:
        """False when the note replaces the container plots."""
        return not self.container_note.isVisibleTo(self)

    def set_note(self, text: str) -> None:
        """A line about the sampling itself (e.g. why nothing could be sampled)."""
        self.note.setText(text)

    def set_origin(self, started_at: float | None) -> None:
        """The time the job started (x = 0); by default the first sample's time."""
        self.origin = started_at

    def show_snapshot(self, snapshot: MetricsSnapshot) -> None:
        """Draw everything sampled so far."""
        self.snapshot = snapshot
        self._show_gpus(snapshot)
        self._show_container(snapshot)
        gpu_plots, container_plots = self.gpu_plots_shown, self.container_plots_shown
        self.row.setStretch(0, 2 if gpu_plots and not container_plots else 1)
        self.row.setStretch(1, 2 if container_plots and not gpu_plots else 1)

    def _relative(self, times: FloatArray) -> FloatArray:
        if self.origin is None and times.size:
            self.origin = float(times[0])
        return times - (self.origin or 0.0)

    def _show_gpus(self, snapshot: MetricsSnapshot) -> None:
        sampled = bool(snapshot.gpu_utilisation)
        self.gpu_note.setText(snapshot.gpu_note or "No GPU reading yet.")
        self.gpu_note.setVisible(not sampled)
        self.gpu_utilisation.setVisible(sampled)
        self.gpu_memory.setVisible(sampled)
        if not sampled:
            return
        latest_util, latest_memory = [], []
        for position, index in enumerate(sorted(snapshot.gpu_utilisation)):
            colour = RUN_PALETTE[position % len(RUN_PALETTE)]
            times, values = snapshot.gpu_utilisation[index]
            self.gpu_utilisation.set_curve(f"GPU {index}", self._relative(times), values, colour)
            memory_times, memory = snapshot.gpu_memory_mib.get(index, (np.empty(0), np.empty(0)))
            self.gpu_memory.set_curve(f"GPU {index}", self._relative(memory_times), memory / 1024.0, colour)
            util, used = _last_finite(values), _last_finite(memory)
            dot = f"<span style='color:{colour}'>●</span>"
            if util is not None:
                latest_util.append(f"{dot} {format_percent(util)}")
            if used is not None:
                latest_memory.append(f"{dot} {used / 1024.0:.1f} GiB")
        totals = [total for total in snapshot.gpu_memory_total_mib.values() if total]
        top = max(totals) / 1024.0 if totals else None
        if top:
            self.gpu_memory.set_y_range(top * 1.05)
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
        self.cpu.set_curve("cpu", self._relative(times), cpu, CONTAINER_COLOUR)
        self.cpu.set_y_range(max(100.0, _largest(cpu) * 1.1))
        unit, scale = memory_unit(_largest(memory))
        self.memory.set_curve("memory", self._relative(memory_times), memory / scale, CONTAINER_COLOUR)
        self.memory.set_y_range(max(_largest(memory) / scale * 1.2, 1.0))
        self.memory.title.setText(f"Container memory ({unit})")
        cpu_now, memory_now = _last_finite(cpu), _last_finite(memory)
        self.cpu.set_latest("" if cpu_now is None else format_percent(cpu_now))
        self.memory.set_latest("" if memory_now is None else f"{memory_now / scale:.1f} {unit}")
        limit = snapshot.memory_limit_bytes
        self.memory.setToolTip(f"Limit {limit / GIB:.1f} GiB" if limit else "")
        self.cpu.setToolTip("100% = one CPU core busy, as docker stats counts")
        if snapshot.container_note:
            self.cpu.set_latest(f"<span style='color:#7f8c8d'>{html.escape(snapshot.container_note)}</span>")
