"""Bottom axes for the scalar charts: steps (`12k`), relative time (`1h05m`) and wall-clock time."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

from app.core.telemetry.smoothing import XAxis

AXIS_PEN = "#b3bcc6"
AXIS_TEXT = "#5d6d7e"
AXIS_TITLES = {XAxis.STEP: "Step", XAxis.RELATIVE: "Relative time", XAxis.WALL: "Wall time"}


def compact_number(value: float) -> str:
    """`950`, `12k`, `1.5M`: short labels for step ticks."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.4g}{suffix}"
    return f"{value:.4g}"


def compact_duration(seconds: float) -> str:
    """`45s`, `12m30s`, `3h05m`, `2d4h`: short labels for relative-time ticks."""
    whole = round(abs(seconds))
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m" if minutes else f"{sign}{hours}h"
    if minutes:
        return f"{sign}{minutes}m{secs:02d}s" if secs else f"{sign}{minutes}m"
    if whole == 0 and 0 < abs(seconds) < 1:
        return f"{seconds:.2g}s"
    return f"{sign}{secs}s"


class StepAxis(pg.AxisItem):
    """Steps with k/M suffixes."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Tick labels."""
        return [compact_number(value * scale) for value in values]


TIME_SPACINGS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
                 86400, 172800, 432000, 864000)
PIXELS_PER_TICK = 90


class DurationAxis(pg.AxisItem):
    """Seconds since the run's first point, as durations, with ticks on round times (30s, 5m, 1h)."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        """Major ticks every 1, 2, 5, 10, 15, 30 s, 1, 2, 5 ... min, 1, 2, 3, 6, 12 h or days."""
        span = maxVal - minVal
        if span < 4 * TIME_SPACINGS[0] or size <= 0:
            return list(super().tickSpacing(minVal, maxVal, size))
        wanted = span / max(2.0, size / PIXELS_PER_TICK)
        major = next((step for step in TIME_SPACINGS if step >= wanted), TIME_SPACINGS[-1])
        return [(float(major), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Tick labels."""
        if spacing * scale < 1:
            return [f"{value * scale:.{2 if spacing * scale < 0.1 else 1}f}s" for value in values]
        return [compact_duration(value * scale) for value in values]


class ValueAxis(pg.AxisItem):
    """The y axis: compact numbers, and powers of ten in log mode."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Tick labels."""
        if self.logMode:
            return [f"{10 ** value:.3g}" for value in values]
        return [_value_label(value * scale, spacing * scale) for value in values]


def _value_label(value: float, spacing: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.3g}"
    decimals = 0 if spacing >= 1 else min(6, len(f"{spacing:.10f}".rstrip("0").split(".")[1]))
    return f"{value:.{decimals}f}"


def make_axis(mode: XAxis | str, orientation: str = "bottom") -> pg.AxisItem:
    """A styled bottom axis for an x-axis mode."""
    kind = XAxis(mode)
    axis: pg.AxisItem
    if kind is XAxis.WALL:
        axis = pg.DateAxisItem(orientation=orientation)
    elif kind is XAxis.RELATIVE:
        axis = DurationAxis(orientation=orientation)
    else:
        axis = StepAxis(orientation=orientation)
    style_axis(axis)
    return axis


def style_axis(axis: Any) -> None:
    """Light axis lines and grey tick labels."""
    axis.setPen(pg.mkPen(AXIS_PEN))
    axis.setTextPen(pg.mkPen(AXIS_TEXT))
    axis.setStyle(tickLength=-4, tickTextOffset=4)
