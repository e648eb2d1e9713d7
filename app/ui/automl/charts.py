"""The study's charts (pyqtgraph): history, intermediate values, parallel coordinates, importance.

Each chart draws the trials it is given, so the trial table's filter applies to every chart.
Values that span more than a decade and a half are drawn on a log scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.core.automl.snapshot import TrialRow
from app.core.automl.space import ParameterKind, SearchParameter
from app.ui.automl.space_table import format_number
from app.ui.automl.style import BASELINE_COLOUR, BEST_COLOUR, STATE_COLOURS
from app.ui.automl.trial_table import short_name
from app.ui.monitor.colours import RUN_PALETTE

AXIS_PEN = "#b3bcc6"
AXIS_TEXT = "#5d6d7e"
LOG_SPREAD = 30.0
BEST_LINE = "#1b4f72"
COMPLETE_DOT = "#2e86c1"
WORST_LINE = "#d6eaf8"


def trial_colour(number: int) -> str:
    """A trial's colour, the same on every chart."""
    return RUN_PALETTE[number % len(RUN_PALETTE)]


def wants_log(values: Sequence[float]) -> bool:
    """True when positive values span enough to read better on a log scale."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > LOG_SPREAD


class WholeNumberAxis(pg.AxisItem):
    """An axis for trial numbers and validation indices: whole-number ticks only."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        """pyqtgraph's ticks without the fractional ones."""
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing >= 1:
                levels.append((spacing, [v for v in values if float(v).is_integer()]))
        return levels or [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]


class StudyChart(pg.PlotWidget):
    """A white chart with quiet axes and a message when there is nothing to draw."""

    def __init__(self, left: str = "", bottom: str = "", parent: QWidget | None = None) -> None:
        axes = {"bottom": WholeNumberAxis("bottom")} if bottom in ("trial", "validation") else {}
        super().__init__(parent=parent, background="w", axisItems=axes)
        self.setMinimumHeight(200)
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(AXIS_PEN))
            axis.setTextPen(pg.mkPen(AXIS_TEXT))
        item.setLabel("left", left, color=AXIS_TEXT)
        item.setLabel("bottom", bottom, color=AXIS_TEXT)
        self.empty = pg.TextItem("", color=AXIS_TEXT, anchor=(0.5, 0.5))
        self.log_y = False

    def reset(self, message: str = "") -> None:
        """Remove everything; show ``message`` when there is nothing to draw."""
        item = self.getPlotItem()
        item.clear()
        self.empty.setText(message)
        if message:
            self.set_log_y(False)
            self.addItem(self.empty, ignoreBounds=True)
            self.empty.setPos(0.5, 0.5)
            item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        else:
            item.enableAutoRange()

    def set_log_y(self, on: bool) -> None:
        """Switch the y axis between linear and log."""
        self.log_y = on
        self.getPlotItem().setLogMode(x=False, y=on)

    def y(self, value: float) -> float:
        """A value in the chart's y units (log10 in log mode), for items that do not convert."""
        return math.log10(value) if self.log_y and value > 0 else value


class HistoryChart(StudyChart):
    """Each trial's result by trial number, the best so far as a step line, the baseline as a dashed line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("value", "trial", parent)
        legend = self.getPlotItem().addLegend(offset=(-8, 8), brush=pg.mkBrush(255, 255, 255, 220))
        legend.setLabelTextColor(AXIS_TEXT)

    def show_trials(self, trials: Sequence[TrialRow], metric: str, direction: str) -> None:
        """Draw the trials (complete ones as dots, pruned ones at their last value)."""
        self.getPlotItem().setLabel("left", metric, color=AXIS_TEXT)
        shown = [t for t in trials if t.last_value is not None and math.isfinite(t.last_value)]
        if not shown:
            self.reset("No results yet")
            return
        self.reset()
        self.set_log_y(wants_log([t.last_value or 0.0 for t in shown]))
        for state, symbol in (("complete", "o"), ("pruned", "x"), ("running", "t")):
            group = [t for t in shown if t.state == state and not t.baseline]
            if group:
                colour = COMPLETE_DOT if state == "complete" else STATE_COLOURS[state]
                self.plot(
                    [t.number for t in group],
                    [t.last_value for t in group],
                    pen=None,
                    symbol=symbol,
                    symbolSize=9,
                    symbolBrush=colour,
                    symbolPen=colour,
                    name=state,
                )
        baseline = next((t for t in shown if t.baseline), None)
        if baseline is not None and baseline.last_value is not None:
            self.plot(
                [baseline.number],
                [baseline.last_value],
                pen=None,
                symbol="d",
                symbolSize=11,
                symbolBrush=BASELINE_COLOUR,
                symbolPen=BASELINE_COLOUR,
                name="baseline",
            )
            line = pg.InfiniteLine(
                pos=self.y(baseline.last_value),
                angle=0,
                pen=pg.mkPen(BASELINE_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                label="baseline",
                labelOpts={"color": BASELINE_COLOUR, "position": 0.5},
            )
            self.addItem(line)
        self._best_line([t for t in shown if t.state == "complete"], direction)

    def _best_line(self, complete: list[TrialRow], direction: str) -> None:
        xs: list[float] = []
        ys: list[float] = []
        best: float | None = None
        for trial in sorted(complete, key=lambda t: t.number):
            value = trial.last_value or 0.0
            if best is None or (value < best if direction == "minimize" else value > best):
                if best is not None:
                    xs.append(trial.number)
                    ys.append(best)
                best = value
            xs.append(trial.number)
            ys.append(best)
        if xs:
            self.plot(xs, ys, pen=pg.mkPen(BEST_COLOUR, width=2), name="best so far")


class IntermediateChart(StudyChart):
    """Each trial's value at every validation; pruned trials dashed, the selected trial bold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("value", "validation", parent)

    def show_trials(self, trials: Sequence[TrialRow], metric: str, selected: int | None = None) -> None:
        """Draw every trial's learning curve."""
        self.getPlotItem().setLabel("left", metric, color=AXIS_TEXT)
        curves = [t for t in trials if t.intermediate]
        if not curves:
            self.reset("No intermediate values yet")
            return
        self.reset()
        values = [v for t in curves for v in t.intermediate.values()]
        self.set_log_y(wants_log(values))
        for trial in curves:
            steps = sorted(trial.intermediate)
            colour = QColor(BASELINE_COLOUR if trial.baseline else trial_colour(trial.number))
            width = 3.0 if trial.number == selected else 1.6
            if selected is not None and trial.number != selected:
                colour.setAlpha(90)
            style = Qt.PenStyle.DashLine if trial.state in ("pruned", "failed") else Qt.PenStyle.SolidLine
            self.plot(
                steps,
                [trial.intermediate[s] for s in steps],
                pen=pg.mkPen(colour, width=width, style=style),
                symbol="o",
                symbolSize=4,
                symbolBrush=colour,
                symbolPen=colour,
            )


class ParallelCoordinatesChart(StudyChart):
    """One line per completed trial across the searched parameters and the metric, coloured by the metric."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", "", parent)
        item = self.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.showGrid(x=False, y=False)
        self.setMouseEnabled(x=False, y=False)

    def show_trials(
        self, trials: Sequence[TrialRow], parameters: Sequence[SearchParameter], metric: str, direction: str
    ) -> None:
        """Draw the completed trials."""
        complete = [
            t for t in trials if t.state == "complete" and t.value is not None and math.isfinite(t.value)
        ]
        if len(complete) < 2 or not parameters:
            self.reset("Needs two completed trials")
            return
        self.reset()
        values = np.array([t.value for t in complete], dtype=float)
        low, high = float(values.min()), float(values.max())
        span = (high - low) or 1.0
        colours = pg.ColorMap([0.0, 1.0], [QColor(WORST_LINE), QColor(BEST_LINE)])
        axes = len(parameters) + 1
        for index, parameter in enumerate(parameters):
            self._axis(index, short_name(parameter.path), *_ends(parameter))
        best, worst = (low, high) if direction == "minimize" else (high, low)
        self._axis(axes - 1, metric, format_number(worst), format_number(best))
        ranked = sorted(complete, key=lambda t: t.value or 0.0, reverse=direction == "minimize")
        for rank, trial in enumerate(ranked):  # the best last, on top
            ys = [_position(p, trial.params.get(p.path)) for p in parameters]
            height = ((trial.value or 0.0) - low) / span
            ys.append(1.0 - height if direction == "minimize" else height)
            goodness = rank / max(1, len(ranked) - 1)
            colour = colours.map(goodness, mode="qcolor")
            self.plot(list(range(axes)), ys, pen=pg.mkPen(colour, width=1.2 + 1.8 * goodness))
        self.getPlotItem().setRange(xRange=(-0.45, axes - 0.55), yRange=(-0.2, 1.12), padding=0)

    def _axis(self, x: int, title: str, bottom: str, top: str) -> None:
        self.plot([x, x], [0.0, 1.0], pen=pg.mkPen(AXIS_PEN, width=1))
        ends = (
            (title, -0.09, (0.5, 0.0), "#1b2631"),
            (bottom, -0.01, (0.5, 0.0), AXIS_TEXT),
            (top, 1.01, (0.5, 1.0), AXIS_TEXT),
        )
        for text, y, anchor, colour in ends:
            label = pg.TextItem(text, color=colour, anchor=anchor)
            label.setPos(x, y)
            self.addItem(label)


def _ends(parameter: SearchParameter) -> tuple[str, str]:
    if parameter.kind is ParameterKind.CHOICE:
        return str(parameter.choices[0]), str(parameter.choices[-1])
    return format_number(parameter.low), format_number(parameter.high)


def _position(parameter: SearchParameter, value: object) -> float:
    """Where a value sits on its axis, 0..1."""
    if parameter.kind is ParameterKind.CHOICE:
        choices = parameter.choices
        index = choices.index(value) if value in choices else 0
        return index / max(1, len(choices) - 1)
    if not isinstance(value, int | float) or parameter.low is None or parameter.high is None:
        return 0.5
    low, high, number = float(parameter.low), float(parameter.high), float(value)
    if parameter.log and low > 0 and number > 0:
        low, high, number = math.log(low), math.log(high), math.log(number)
    return min(1.0, max(0.0, (number - low) / ((high - low) or 1.0)))


class ImportanceChart(StudyChart):
    """How much each parameter explains the metric, as horizontal bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", "share of the metric's variation explained", parent)
        self.setMouseEnabled(x=False, y=False)
        self.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)

    def show_importances(self, importances: dict[str, float]) -> None:
        """Draw the bars (largest on top)."""
        if not importances:
            self.reset("Needs three completed trials")
            return
        self.reset()
        ordered = sorted(importances.items(), key=lambda item: item[1])
        ys = list(range(len(ordered)))
        bars = pg.BarGraphItem(
            x0=0, y=ys, height=0.6, width=[v for _, v in ordered], brush="#5dade2", pen=pg.mkPen("#2e86c1")
        )
        self.addItem(bars)
        total = sum(v for _, v in ordered) or 1.0
        for y, (_, value) in zip(ys, ordered, strict=True):
            label = pg.TextItem(f"{value / total:.0%}", color=AXIS_TEXT, anchor=(0.0, 0.5))
            label.setPos(value, y)
            self.addItem(label)
        self.getPlotItem().getAxis("left").setTicks(
            [[(y, short_name(name)) for y, (name, _) in zip(ys, ordered, strict=True)]]
        )
        self.getPlotItem().setRange(
            xRange=(0, max(1e-9, max(v for _, v in ordered)) * 1.18),
            yRange=(-0.6, len(ordered) - 0.4),
            padding=0,
        )
