"""Curve helpers that match TensorBoard's scalar dashboard: smoothing, x axes, y range.

- `smooth_ema`: TensorBoard's debiased exponential moving average (weight 0.6 by default);
  non-finite values pass through without updating the average, and a constant series is returned
  unchanged, as TensorBoard does.
- `x_values`: the three x axes (step, relative time, wall time).
- `y_range`: the y-axis range, optionally ignoring outliers (only values between the 5th and 95th
  percentiles count), padded by 5% and rounded to nice numbers as TensorBoard's charts do.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np
import numpy.typing as npt

DEFAULT_SMOOTHING_WEIGHT = 0.6
_PADDING_RATIO = 0.05
_MAX_BLOCK = 4096
_STEP_FACTORS = ((10, math.sqrt(50)), (5, math.sqrt(10)), (2, math.sqrt(2)))
_FloatArray = npt.NDArray[np.float64]


class XAxis(StrEnum):
    """TensorBoard's horizontal axes."""

    STEP = "step"
    RELATIVE = "relative"  # seconds since the series' first point
    WALL = "wall"  # seconds since the epoch


def smooth_ema(values: npt.ArrayLike, weight: float = DEFAULT_SMOOTHING_WEIGHT) -> _FloatArray:
    """TensorBoard's smoothing: `last = last * w + (1 - w) * v; smoothed = last / (1 - w ** count)`.

    `count` is the number of finite values so far; non-finite values are returned as they are and
    do not update `last`. The weight is clamped to [0, 1] (non-finite means 0). Vectorised in blocks,
    so a million points take milliseconds.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    result = data.copy()
    if data.size == 0 or bool(np.all(data == data[0])):
        return result
    weight = min(1.0, max(0.0, weight)) if math.isfinite(weight) else 0.0
    finite = np.isfinite(data)
    series = data[finite]
    if series.size == 0:
        return result
    if weight == 1.0:
        result[finite] = 0.0  # the average never moves from its zero start
        return result
    result[finite] = _ema_from_zero(series, weight) / _debias(weight, series.size)
    return result


def _debias(weight: float, count: int) -> _FloatArray:
    """1 - weight**n for n = 1..count; past the point where weight**n < 1e-18 it is exactly 1.0."""
    debias = np.ones(count, dtype=np.float64)
    if weight > 0.0:
        head = min(count, math.ceil(18.0 / -math.log10(weight)) + 1)
        debias[:head] = 1.0 - weight ** np.arange(1, head + 1, dtype=np.float64)
    return debias


def _ema_from_zero(series: _FloatArray, weight: float) -> _FloatArray:
    """`last` after each value, from last = 0, computed block by block.

    Inside a block, last_j = w^(j+1) * carry + (1 - w) * w^j * sum_{i<=j} x_i * w^-i; the block size
    keeps w^-i far from overflow.
    """
    if weight == 0.0:
        return series.copy()
    scale = float(np.max(np.abs(series)))  # work on values <= 1 so w^-i * x cannot overflow
    if scale == 0.0:
        return np.zeros_like(series)
    return _ema_blocks(series / scale, weight) * scale


def _ema_blocks(series: _FloatArray, weight: float) -> _FloatArray:
    block = int(min(_MAX_BLOCK, max(1, math.floor(150.0 / -math.log10(weight)))))
    blocks = -(-series.size // block)
    padded = np.zeros(blocks * block, dtype=np.float64)
    padded[: series.size] = series
    grid = padded.reshape(blocks, block)
    powers = weight ** np.arange(block, dtype=np.float64)
    local = np.cumsum(grid / powers, axis=1) * (powers * (1.0 - weight))
    carries = np.empty(blocks, dtype=np.float64)
    carry = 0.0
    block_weight = weight**block
    for index, block_last in enumerate(local[:, -1].tolist()):
        carries[index] = carry
        carry = carry * block_weight + block_last
    result = local + carries[:, None] * (powers * weight)
    return result.ravel()[: series.size]


def x_values(steps: npt.ArrayLike, wall_times: npt.ArrayLike, axis: XAxis | str) -> _FloatArray:
    """The x coordinates of a series for one of TensorBoard's axes."""
    mode = XAxis(axis)
    if mode is XAxis.STEP:
        return np.asarray(steps, dtype=np.float64).ravel()
    walls = np.asarray(wall_times, dtype=np.float64).ravel()
    if mode is XAxis.WALL or walls.size == 0:
        return walls.copy()
    return walls - walls[0]


def y_range(*series: npt.ArrayLike, ignore_outliers: bool = False) -> tuple[float, float] | None:
    """The y range TensorBoard would show for these series (None when no value is finite).

    With `ignore_outliers`, only values between the 5th and 95th percentiles (linear interpolation,
    as d3.quantile) are considered. The extent is padded by 5% on each side and rounded outwards
    to nice numbers.
    """
    arrays = [np.asarray(values, dtype=np.float64).ravel() for values in series]
    data = np.concatenate(arrays) if arrays else np.empty(0)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    if ignore_outliers:
        low, high = np.quantile(data, [0.05, 0.95])
        data = data[(data >= low) & (data <= high)]
    return nice_domain(float(data.min()), float(data.max()))


def nice_domain(low: float, high: float) -> tuple[float, float]:
    """TensorBoard's linear-scale domain: 5% padding, then d3's `nice()` rounding."""
    low, high = float(low), float(high)
    if high < low:
        low, high = high, low
    if high == low:
        if low == 0:
            return -1.0, 1.0
        return (2 * low, 0.0) if low < 0 else (0.0, 2 * low)
    padding = (high - low + np.finfo(np.float64).eps) * _PADDING_RATIO
    return _d3_nice(low - padding, high + padding)


def _d3_nice(start: float, stop: float, count: int = 10) -> tuple[float, float]:
    previous_step = None
    for _ in range(10):
        step = _tick_increment(start, stop, count)
        if step == previous_step:
            break
        if step > 0:
            start = math.floor(start / step) * step
            stop = math.ceil(stop / step) * step
        elif step < 0:
            start = math.ceil(start * step) / step
            stop = math.floor(stop * step) / step
        else:
            break
        previous_step = step
    return start + 0.0, stop + 0.0  # no negative zero


def _tick_increment(start: float, stop: float, count: int) -> float:
    """d3-array's tickIncrement: a 1-2-5 step, negative meaning 1/|step|."""
    step = (stop - start) / max(0, count)
    if not step > 0 or not math.isfinite(step):
        return 0.0
    power = math.floor(math.log10(step))
    error = step / 10**power
    factor = next((f for f, limit in _STEP_FACTORS if error >= limit), 1)
    return factor * 10.0**power if power >= 0 else -(10.0**-power) / factor
