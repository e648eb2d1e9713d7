"""One scalar tag's chart: every compared run's curve, smoothed over its faint raw curve.

The chart ranges itself over the data (TensorBoard's padded, "nice" y domain, optionally ignoring
outliers) until the user zooms or pans; from then on new points never move the view, until
"Reset zoom" (or a double-click). Long curves are drawn with pyqtgraph's peak downsampling and
clip-to-view. Each chart exports its curves as CSV and itself as PNG.
"""

from __future__ import annotations

import csv
import html
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.core.telemetry.job_monitor import SeriesData
from app.core.telemetry.smoothing import DEFAULT_SMOOTHING_WEIGHT, XAxis, nice_domain, smooth_ema, x_values
from app.ui.monitor.axes import AXIS_TITLES, ValueAxis, compact_duration, make_axis, style_axis
from app.ui.monitor.incremental import IncrementalSmoother

FloatArray = npt.NDArray[np.float64]
RAW_ALPHA = 0.28
MARKER_LIMIT = 40
X_PADDING = 0.02
CHART_MIN_HEIGHT = 250
DENSE_POINTS = 10_000


@dataclass(frozen=True)
class ChartSettings:
    """How every chart draws: smoothing weight, x axis, log y, outliers ignored in the y range."""

    smoothing: float = DEFAULT_SMOOTHING_WEIGHT
    x_axis: XAxis = XAxis.STEP
    log_y: bool = False
    ignore_outliers: bool = False


@dataclass
class _Run:
    label: str
    colour: str
    data: SeriesData
    raw: pg.PlotDataItem
    smooth: pg.PlotDataItem
    x: FloatArray
    y: FloatArray
    smoothed: FloatArray
    smoother: IncrementalSmoother


def _curve(width: float, z: int) -> pg.PlotDataItem:
    item = pg.PlotDataItem(antialias=True)
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    item.setZValue(z)
    item.setPen(pg.mkPen(width=width))
    return item


def _finite_extent(arrays: list[FloatArray]) -> tuple[float, float] | None:
    lows, highs = [], []
    for array in arrays:
        finite = array[np.isfinite(array)]
        if finite.size:
            lows.append(float(finite.min()))
            highs.append(float(finite.max()))
    return (min(lows), max(highs)) if lows else None


def y_domain(values: list[FloatArray], log_y: bool, ignore_outliers: bool) -> tuple[float, float] | None:
    """The y range to show (in log10 units when `log_y`): TensorBoard's padded nice domain."""
    data = np.concatenate(values) if values else np.empty(0)
    data = data[np.isfinite(data)]
    if log_y:
        data = np.log10(data[data > 0])
    if data.size == 0:
        return None
    if ignore_outliers and data.size > 2:
        low, high = np.quantile(data, [0.05, 0.95])
        data = data[(data >= low) & (data <= high)]
    if log_y:
        low, high = float(data.min()), float(data.max())
        pad = max((high - low) * 0.05, 0.05)
        return low - pad, high + pad
    return nice_domain(float(data.min()), float(data.max()))


class ScalarChart(QFrame):
    """A card: the tag, a hover readout, tool buttons, and the plot of every run's curve."""

    zoom_changed = Signal(bool)

    def __init__(
        self, tag: str, settings: ChartSettings | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tag = tag
        self.settings = settings or ChartSettings()
        self.setObjectName("ChartCard")
        self.setMinimumHeight(CHART_MIN_HEIGHT)
        self._runs: dict[str, _Run] = {}
        self._user_zoomed = False
        self._build()

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 4)
        layout.setSpacing(2)
        header = QHBoxLayout()
        header.setSpacing(2)
        self.title = QLabel(html.escape(self.tag), self)
        self.title.setObjectName("ChartTitle")
        self.title.setToolTip(self.tag)
        header.addWidget(self.title)
        header.addStretch(1)
        self.readout = QLabel(self)
        self.readout.setObjectName("ChartReadout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        header.addWidget(self.readout)
        self.reset_button = self._tool(header, "⟲", "Reset zoom (or double-click the chart)", self.reset_zoom)
        self.reset_button.setVisible(False)
        self._tool(header, "CSV", "Export this chart's points as CSV", self._on_export_csv_clicked)
        self._tool(header, "PNG", "Save this chart as a PNG image", self._on_export_png_clicked)
        layout.addLayout(header)
        self.plot = pg.PlotWidget(
            parent=self,
            background="w",
            axisItems={"bottom": make_axis(self.settings.x_axis), "left": ValueAxis(orientation="left")},
        )
        item = self.plot.getPlotItem()
        # The plot item hands its own modes to every curve added to it, so they are set here.
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.12)
        item.setMenuEnabled(True)
        style_axis(item.getAxis("left"))
        item.getAxis("left").setWidth(48)
        self.view_box = item.getViewBox()
        self.view_box.disableAutoRange()
        self.view_box.setMouseMode(pg.ViewBox.RectMode)
        self.view_box.sigRangeChangedManually.connect(self._on_range_changed_by_user)
        self.plot.setToolTip("Drag: zoom to a box · wheel: zoom · middle-drag: pan · double-click: reset")
        self.plot.scene().sigMouseClicked.connect(self._on_clicked)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._add_menu_actions()
        hover_pen = pg.mkPen("#95a5a6", width=1, style=Qt.PenStyle.DashLine)
        self.hover_line = pg.InfiniteLine(angle=90, pen=hover_pen)
        self.hover_line.setVisible(False)
        self.hover_line.setZValue(30)
        self.plot.addItem(self.hover_line, ignoreBounds=True)
        layout.addWidget(self.plot, 1)

    def _tool(self, bar: QHBoxLayout, text: str, tip: str, handler: Any) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName("ChartTool")
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.clicked.connect(handler)
        bar.addWidget(button)
        return button

    def _add_menu_actions(self) -> None:
        menu = self.view_box.menu
        menu.addSeparator()
        menu.addAction("Reset zoom", self.reset_zoom)
        menu.addAction("Export CSV…", self._on_export_csv_clicked)
        menu.addAction("Export PNG…", self._on_export_png_clicked)

    # -- data --------------------------------------------------------------------------------------

    @property
    def job_ids(self) -> list[str]:
        """The runs drawn, in drawing order."""
        return list(self._runs)

    @property
    def user_zoomed(self) -> bool:
        """True after the user zoomed or panned (the view then stays where they put it)."""
        return self._user_zoomed

    def set_run(self, job_id: str, label: str, colour: str, data: SeriesData) -> None:
        """Show (or update) one run's points; call `redraw()` after a batch of changes."""
        run = self._runs.get(job_id)
        if run is None:
            order = len(self._runs)
            raw, smooth = _curve(1.0, 10 + order), _curve(1.8, 20 + order)
            self.plot.addItem(raw)
            self.plot.addItem(smooth)
            empty = np.empty(0)
            run = self._runs[job_id] = _Run(
                label, colour, data, raw, smooth, empty, empty, empty, IncrementalSmoother()
            )
        run.label, run.colour, run.data = label, colour, data

    def remove_run(self, job_id: str) -> None:
        """Stop showing a run."""
        run = self._runs.pop(job_id, None)
        if run is not None:
            self.plot.removeItem(run.raw)
            self.plot.removeItem(run.smooth)

    def set_settings(self, settings: ChartSettings) -> None:
        """Apply new drawing settings (a new x axis or log mode resets the zoom)."""
        previous, self.settings = self.settings, settings
        item = self.plot.getPlotItem()
        if settings.x_axis != previous.x_axis:
            item.setAxisItems({"bottom": make_axis(settings.x_axis)})
            self._user_zoomed = False
        if settings.log_y != previous.log_y:
            item.setLogMode(x=False, y=settings.log_y)
            self._user_zoomed = False
        if settings.ignore_outliers != previous.ignore_outliers:
            self._user_zoomed = False
        self.reset_button.setVisible(self._user_zoomed)

    def redraw(self) -> None:
        """Recompute every curve from its points and the settings, and range the view unless zoomed."""
        weight = self.settings.smoothing
        for run in self._runs.values():
            data = run.data
            run.x = x_values(data.steps, data.wall_times, self.settings.x_axis)
            run.y = np.asarray(data.values, dtype=np.float64)
            run.smoothed = run.smoother.smooth(run.y, weight)
            colour = QColor(run.colour)
            faint = QColor(colour)
            faint.setAlphaF(RAW_ALPHA)
            run.raw.setPen(pg.mkPen(faint, width=1.0))
            # Qt draws 1-pixel lines on a fast path; wider ones cost several times more per point.
            run.smooth.setPen(pg.mkPen(colour, width=1.8 if run.y.size <= DENSE_POINTS else 1.0))
            markers = run.y.size <= MARKER_LIMIT
            run.smooth.setSymbol("o" if markers else None)
            run.smooth.setSymbolSize(5)
            run.smooth.setSymbolPen(pg.mkPen(colour))
            run.smooth.setSymbolBrush(pg.mkBrush("w"))
            run.smooth.setData(run.x, run.smoothed)
            run.raw.setVisible(weight > 0)
            run.raw.setData(run.x, run.y) if weight > 0 else run.raw.setData([], [])
        if not self._user_zoomed:
            self._apply_auto_range()

    def displayed(self, job_id: str) -> tuple[FloatArray, FloatArray]:
        """The x and y of a run's main (smoothed) curve as last drawn."""
        run = self._runs[job_id]
        return run.x, run.smoothed

    def raw_points(self, job_id: str) -> tuple[FloatArray, FloatArray]:
        """The x and y of a run's raw points as last drawn."""
        run = self._runs[job_id]
        return run.x, run.y

    def curve_items(self, job_id: str) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        """The (raw, smoothed) plot items of a run."""
        run = self._runs[job_id]
        return run.raw, run.smooth

    # -- range -------------------------------------------------------------------------------------

    def reset_zoom(self) -> None:
        """Go back to following the data."""
        self._user_zoomed = False
        self.reset_button.setVisible(False)
        self._apply_auto_range()
        self.zoom_changed.emit(False)

    def _on_range_changed_by_user(self, *_args: object) -> None:
        if not self._user_zoomed:
            self._user_zoomed = True
            self.reset_button.setVisible(True)
            self.zoom_changed.emit(True)

    def _apply_auto_range(self) -> None:
        x_extent = _finite_extent([run.x for run in self._runs.values()])
        y_range = y_domain(
            [run.y for run in self._runs.values()], self.settings.log_y, self.settings.ignore_outliers
        )
        if x_extent is None or y_range is None:
            return
        low, high = x_extent
        pad = (high - low) * X_PADDING if high > low else 1.0
        self.view_box.setRange(xRange=(low - pad, high + pad), yRange=y_range, padding=0)

    # -- interaction -------------------------------------------------------------------------------

    def _on_clicked(self, event: Any) -> None:
        if event.double() and event.button() == Qt.MouseButton.LeftButton:
            self.reset_zoom()

    def _on_mouse_moved(self, position: QPointF) -> None:
        if not self.plot.sceneBoundingRect().contains(position) or not self._runs:
            self._hide_readout()
            return
        x = float(self.view_box.mapSceneToView(position).x())
        parts, nearest_x = [], None
        for run in self._runs.values():
            index = _nearest(run.x, x)
            if index is None:
                continue
            nearest_x = float(run.x[index]) if nearest_x is None else nearest_x
            value = _format_value(run.smoothed[index])
            raw = f" ({_format_value(run.y[index])})" if self.settings.smoothing > 0 else ""
            parts.append(f"<span style='color:{run.colour}'>●</span> {value}{raw}")
        if nearest_x is None:
            self._hide_readout()
            return
        where = f"{AXIS_TITLES[self.settings.x_axis].lower()} {_format_x(nearest_x, self.settings.x_axis)}"
        self.readout.setText(f"<span style='color:#7f8c8d'>{where}</span>  " + "  ".join(parts))
        self.hover_line.setPos(nearest_x)
        self.hover_line.setVisible(True)

    def _hide_readout(self) -> None:
        self.readout.setText("")
        self.hover_line.setVisible(False)

    def leaveEvent(self, event: Any) -> None:
        """Hide the hover readout when the mouse leaves the card."""
        self._hide_readout()
        super().leaveEvent(event)

    # -- export ------------------------------------------------------------------------------------

    def export_csv(self, path: str | Path) -> int:
        """Write every run's points (raw and smoothed) as CSV; returns the number of rows."""
        rows = 0
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["run", "job", "tag", "step", "wall_time", "value", "smoothed"])
            for job_id, run in self._runs.items():
                data = run.data
                smoothed = smooth_ema(data.values, self.settings.smoothing)
                for step, wall, value, smooth in zip(
                    data.steps.tolist(), data.wall_times.tolist(), data.values.tolist(), smoothed.tolist(),
                    strict=True,
                ):
                    writer.writerow([run.label, job_id, self.tag, step, repr(wall), repr(value),
                                     repr(smooth)])
                    rows += 1
        return rows

    def export_png(self, path: str | Path) -> bool:
        """Save the chart (title and plot, without the tool buttons) as a PNG image."""
        self._hide_readout()
        tools = [button for button in self.findChildren(QToolButton) if button.isVisible()]
        for button in tools:
            button.setVisible(False)
        try:
            return bool(self.grab().save(str(path), "PNG"))
        finally:
            for button in tools:
                button.setVisible(True)

    def _on_export_csv_clicked(self) -> None:
        suggested = f"{_file_stem(self.tag)}.csv"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.tag}", suggested, "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def _on_export_png_clicked(self) -> None:
        suggested = f"{_file_stem(self.tag)}.png"
        path, _ = QFileDialog.getSaveFileName(self, f"Save {self.tag}", suggested, "PNG (*.png)")
        if path:
            self.export_png(path)


def with_settings(settings: ChartSettings, **changes: Any) -> ChartSettings:
    """A copy of the settings with some fields changed."""
    return replace(settings, **changes)


def _nearest(xs: FloatArray, x: float) -> int | None:
    if xs.size == 0:
        return None
    index = int(np.searchsorted(xs, x))
    if index >= xs.size:
        return xs.size - 1
    if index > 0 and abs(xs[index - 1] - x) <= abs(xs[index] - x):
        return index - 1
    return index


def _format_value(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def _format_x(x: float, mode: XAxis) -> str:
    if mode is XAxis.STEP:
        return f"{round(x):,}"
    if mode is XAxis.RELATIVE:
        return compact_duration(x)
    return time.strftime("%H:%M:%S", time.localtime(x))


def _file_stem(tag: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in tag) or "chart"
