"""The scalar dashboard: one chart per TensorBoard tag, grouped by prefix, every compared run overlaid.

Feed it with `set_run(job_id, label, colour)` and `update_series(job_id, {tag: SeriesData})` (what
`JobMonitor.poll()` returns); it repaints the changed charts on a 40 ms coalescing timer, so a burst
of updates costs one repaint. A toolbar sets the tag filter (a regular expression), TensorBoard's
smoothing (0 to 0.999, 0.6 by default), the x axis (step, relative or wall time), log scale and
whether outliers count in the y range.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.core.telemetry.job_monitor import SeriesData
from app.core.telemetry.smoothing import XAxis
from app.ui.monitor.chart import ChartSettings, ScalarChart, with_settings
from app.ui.monitor.groups import TagGroup, group_tags

REPAINT_INTERVAL_MS = 40
NEW_CHARTS_PER_REPAINT = 4
CARD_TARGET_WIDTH = 440
CARD_HEIGHT = 270
SMOOTHING_MAX = 0.999
X_AXIS_CHOICES = (("Step", XAxis.STEP), ("Relative", XAxis.RELATIVE), ("Wall", XAxis.WALL))



@dataclass
class _RunInfo:
    label: str
    colour: str


class ScalarChartsView(QWidget):
    """A toolbar over a scrolling grid of `ScalarChart`s, one per tag, grouped by prefix."""

    settings_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = ChartSettings()
        self.charts: dict[str, ScalarChart] = {}
        self.groups: dict[str, TagGroup] = {}
        self._runs: dict[str, _RunInfo] = {}
        self._data: dict[str, dict[str, SeriesData]] = {}
        self._dirty: set[str] = set()
        self._layout_dirty = False
        self._columns = 2
        self._pattern: re.Pattern[str] | None = None
        self._empty_text = "No scalars yet."
        self.repaint_count = 0
        self.repaint_timer = QTimer(self)
        self.repaint_timer.setSingleShot(True)
        self.repaint_timer.setInterval(REPAINT_INTERVAL_MS)
        self.repaint_timer.timeout.connect(self.flush)
        self._build()

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._toolbar())
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("ChartsScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.canvas = QWidget(self.scroll_area)
        self.canvas.setObjectName("ChartsCanvas")
        self.canvas_layout = QVBoxLayout(self.canvas)
        self.canvas_layout.setContentsMargins(2, 2, 8, 2)
        self.canvas_layout.setSpacing(6)
        self.empty_label = QLabel(self._empty_text, self.canvas)
        self.empty_label.setObjectName("ChartsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.canvas_layout.addWidget(self.empty_label)
        self.canvas_layout.addStretch(1)
        self.scroll_area.setWidget(self.canvas)
        layout.addWidget(self.scroll_area, 1)

    def _toolbar(self) -> QWidget:
        bar = QFrame(self)
        bar.setObjectName("ChartsToolbar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 5, 8, 5)
        row.setSpacing(10)
        self.filter_edit = QLineEdit(bar)
        self.filter_edit.setObjectName("TagFilter")
        self.filter_edit.setPlaceholderText("Filter tags (regular expression)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(200)
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        row.addWidget(self.filter_edit, 2)
        row.addWidget(_caption("Smoothing", bar))
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal, bar)
        self.smoothing_slider.setRange(0, round(SMOOTHING_MAX * 1000))
        self.smoothing_slider.setValue(round(self.settings.smoothing * 1000))
        self.smoothing_slider.setMinimumWidth(110)
        self.smoothing_slider.setToolTip("TensorBoard's smoothing: a debiased exponential moving average")
        row.addWidget(self.smoothing_slider, 1)
        self.smoothing_box = QDoubleSpinBox(bar)
        self.smoothing_box.setRange(0.0, SMOOTHING_MAX)
        self.smoothing_box.setDecimals(3)
        self.smoothing_box.setSingleStep(0.05)
        self.smoothing_box.setValue(self.settings.smoothing)
        self.smoothing_box.setFixedWidth(72)
        row.addWidget(self.smoothing_box)
        self.smoothing_slider.valueChanged.connect(lambda value: self.smoothing_box.setValue(value / 1000))
        self.smoothing_box.valueChanged.connect(self.set_smoothing)
        row.addWidget(_caption("X axis", bar))
        self.x_axis_combo = QComboBox(bar)
        for title, mode in X_AXIS_CHOICES:
            self.x_axis_combo.addItem(title, mode.value)
        self.x_axis_combo.currentIndexChanged.connect(
            lambda _index: self.set_x_axis(XAxis(self.x_axis_combo.currentData()))
        )
        row.addWidget(self.x_axis_combo)
        self.log_check = QCheckBox("Log scale", bar)
        self.log_check.toggled.connect(lambda on: self._change(log_y=on))
        row.addWidget(self.log_check)
        self.outliers_check = QCheckBox("Ignore outliers", bar)
        self.outliers_check.setToolTip("Fit the y axis to the 5th–95th percentile of the values")
        self.outliers_check.toggled.connect(lambda on: self._change(ignore_outliers=on))
        row.addWidget(self.outliers_check)
        self.reset_button = QPushButton("Reset zoom", bar)
        self.reset_button.setToolTip("Fit every chart to its data again")
        self.reset_button.clicked.connect(self.reset_zoom)
        row.addWidget(self.reset_button)
        return bar

    # -- runs and data -----------------------------------------------------------------------------

    def set_run(self, job_id: str, label: str, colour: str) -> None:
        """Add a run (or change its label or colour)."""
        self._runs[job_id] = _RunInfo(label, colour)
        self._data.setdefault(job_id, {})
        self._mark(set(self._data[job_id]))

    def remove_run(self, job_id: str) -> None:
        """Stop showing a run; charts left without any run disappear."""
        self._runs.pop(job_id, None)
        tags = set(self._data.pop(job_id, {}))
        for tag in tags:
            chart = self.charts.get(tag)
            if chart is not None:
                chart.remove_run(job_id)
        self._layout_dirty = True
        self._mark(tags)

    def update_series(self, job_id: str, series: Mapping[str, SeriesData]) -> None:
        """New points for some of a run's tags (whole series, as `MonitorUpdate.series` holds)."""
        if job_id not in self._runs or not series:
            return
        known = self._data.setdefault(job_id, {})
        if not set(series) <= set(self.charts):
            self._layout_dirty = True
        known.update(series)
        self._mark(set(series))

    def tags(self) -> list[str]:
        """Every tag of every run."""
        return sorted({tag for tags in self._data.values() for tag in tags})

    def visible_tags(self) -> list[str]:
        """The tags the filter lets through."""
        pattern = self._pattern
        return [tag for tag in self.tags() if pattern is None or pattern.search(tag)]

    def chart(self, tag: str) -> ScalarChart | None:
        """The chart of a tag (None before the tag's first repaint)."""
        return self.charts.get(tag)

    def set_empty_text(self, text: str) -> None:
        """What to say while there is no chart to show."""
        self._empty_text = text
        self._update_empty_label()

    # -- settings ----------------------------------------------------------------------------------

    def set_smoothing(self, weight: float) -> None:
        """TensorBoard's smoothing weight, 0 (none) to 0.999."""
        weight = min(SMOOTHING_MAX, max(0.0, float(weight)))
        if abs(self.smoothing_box.value() - weight) > 1e-9:
            self.smoothing_box.setValue(weight)
        self.smoothing_slider.blockSignals(True)
        self.smoothing_slider.setValue(round(weight * 1000))
        self.smoothing_slider.blockSignals(False)
        self._change(smoothing=weight)

    def set_x_axis(self, mode: XAxis) -> None:
        """Step, relative time or wall time."""
        index = self.x_axis_combo.findData(mode.value)
        if index != self.x_axis_combo.currentIndex():
            self.x_axis_combo.setCurrentIndex(index)
        self._change(x_axis=mode)

    def set_tag_filter(self, pattern: str) -> None:
        """Show only the tags matching a regular expression (case-insensitive)."""
        self.filter_edit.setText(pattern)

    def reset_zoom(self) -> None:
        """Fit every chart to its data again."""
        for chart in self.charts.values():
            chart.reset_zoom()

    def _change(self, **changes: object) -> None:
        settings = with_settings(self.settings, **changes)
        if settings == self.settings:
            return
        self.settings = settings
        for chart in self.charts.values():
            chart.set_settings(settings)
        self._mark(set(self.charts))
        self.settings_changed.emit(settings)

    def _on_filter_changed(self, text: str) -> None:
        try:
            self._pattern = re.compile(text, re.IGNORECASE) if text.strip() else None
            valid = True
        except re.error as error:
            valid = False
            self.filter_edit.setToolTip(f"Not a valid regular expression: {error}")
        self.filter_edit.setProperty("invalid", not valid)
        self.filter_edit.style().unpolish(self.filter_edit)
        self.filter_edit.style().polish(self.filter_edit)
        if valid:
            self.filter_edit.setToolTip("")
            self._layout_dirty = True
            self._schedule()

    # -- repainting --------------------------------------------------------------------------------

    def _mark(self, tags: set[str]) -> None:
        self._dirty |= tags
        self._schedule()

    def _schedule(self) -> None:
        if not self.repaint_timer.isActive():
            self.repaint_timer.start(REPAINT_INTERVAL_MS)

    def flush(self) -> None:
        """Repaint what changed now (the timer calls this; tests may too).

        New charts are built a few per repaint (a chart costs tens of milliseconds to build), so a
        run with many tags fills the view progressively while the window stays responsive.
        """
        self.repaint_timer.stop()
        dirty, self._dirty = self._dirty, set()
        built = 0
        for tag in sorted(dirty, key=lambda name: (name not in self.charts, name)):
            if tag not in self.charts and self._holders(tag):
                if built >= NEW_CHARTS_PER_REPAINT:
                    self._dirty.add(tag)
                    continue
                built += 1
            self._redraw(tag)
        if self._layout_dirty:
            self._layout_dirty = False
            self._relayout()
        self.repaint_count += 1
        if self._dirty:
            self.repaint_timer.start(0)

    def _holders(self, tag: str) -> list[str]:
        return [job_id for job_id in self._runs if tag in self._data.get(job_id, {})]

    def _redraw(self, tag: str) -> None:
        holders = self._holders(tag)
        chart = self.charts.get(tag)
        if not holders:
            if chart is not None:
                self._drop_chart(tag)
            return
        if chart is None:
            chart = self.charts[tag] = ScalarChart(tag, self.settings, self.canvas)
            chart.setFixedHeight(CARD_HEIGHT)
            chart.setVisible(False)
            self._layout_dirty = True
        for job_id in holders:
            info = self._runs[job_id]
            chart.set_run(job_id, info.label, info.colour, self._data[job_id][tag])
        for job_id in set(chart.job_ids) - set(holders):
            chart.remove_run(job_id)
        chart.redraw()

    def _drop_chart(self, tag: str) -> None:
        chart = self.charts.pop(tag)
        chart.setParent(None)
        chart.deleteLater()
        self._layout_dirty = True

    def _relayout(self) -> None:
        self._columns = self._columns_for_width()
        visible = set(self.visible_tags()) & set(self.charts)
        by_group = {
            name: [self.charts[tag] for tag in tags] for name, tags in group_tags(sorted(visible)).items()
        }
        for tag, chart in self.charts.items():
            if tag not in visible:
                chart.setVisible(False)
        for name in list(self.groups):
            if name not in by_group:
                group = self.groups.pop(name)
                group.place([], 1)
                for chart in self.charts.values():
                    if chart.parent() is group.body:  # keep the charts a filter hides
                        chart.setParent(self.canvas)
                        chart.hide()
                group.setParent(None)
                group.deleteLater()
        for position, name in enumerate(by_group):
            if name not in self.groups:
                self.groups[name] = TagGroup(name, self.canvas)
            group = self.groups[name]
            self.canvas_layout.removeWidget(group)
            self.canvas_layout.insertWidget(position, group)
            group.place(by_group[name], self._columns)
            group.setVisible(True)
        self.groups = {name: self.groups[name] for name in by_group}
        self._update_empty_label()

    def _update_empty_label(self) -> None:
        shown = bool(self.groups)
        if shown:
            self.empty_label.hide()
            return
        if self.tags() and self._pattern is not None:
            self.empty_label.setText(f"No tag matches “{self.filter_edit.text()}”.")
        else:
            self.empty_label.setText(self._empty_text)
        self.empty_label.show()

    def _columns_for_width(self) -> int:
        margins = self.canvas_layout.contentsMargins()
        scroll_bar = self.scroll_area.verticalScrollBar().sizeHint().width()
        usable = self.width() - margins.left() - margins.right() - scroll_bar
        return max(1, usable // CARD_TARGET_WIDTH)

    def resizeEvent(self, event: object) -> None:
        """Re-flow the grid when the width allows more or fewer columns."""
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self._columns_for_width() != self._columns:
            self._layout_dirty = True
            self._schedule()


def _caption(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("ToolbarCaption")
    return label
