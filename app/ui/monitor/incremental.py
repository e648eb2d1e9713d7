"""TensorBoard's smoothing of a growing series, continued from the previous result instead of redone.

A live chart redraws each time points arrive; for a long series most of the work would be smoothing
the same prefix again. `IncrementalSmoother` keeps the last result and, when the new values start
with the old ones, smooths only the new tail, carrying the moving average over. The result equals
`smooth_ema` of the whole series (up to rounding).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from app.core.telemetry.smoothing import smooth_ema

FloatArray = npt.NDArray[np.float64]


class IncrementalSmoother:
    """`smooth(values, weight)` for one curve, reusing the work done for a prefix of `values`."""

    def __init__(self) -> None:
        self._values: FloatArray = np.empty(0)
        self._smoothed: FloatArray = np.empty(0)
        self._weight: float | None = None
        self._finite_count = 0
        self._last = 0.0  # the average before debiasing, after the last finite value
        self.reused = 0  # how many values the last call did not smooth again (for tests)

    def smooth(self, values: FloatArray, weight: float) -> FloatArray:
        """The smoothed values (the series as given, when weight is 0)."""
        if weight <= 0:
            self._weight = None
            self.reused = 0
            return values
        known = self._values.size
        if (weight == self._weight and 0 < known <= values.size
                and np.array_equal(values[:known], self._values, equal_nan=True)):
            tail = self._continue(values[known:], weight)
            smoothed = np.concatenate([self._smoothed, tail])
            self.reused = known
        else:
            smoothed = smooth_ema(values, weight)
            self._restart(values, smoothed, weight)
            self.reused = 0
        self._values, self._smoothed = values, smoothed
        return smoothed

    def _restart(self, values: FloatArray, smoothed: FloatArray, weight: float) -> None:
        finite = np.isfinite(values)
        self._weight = weight
        self._finite_count = int(finite.sum())
        if self._finite_count and weight < 1.0:
            last_smoothed = float(smoothed[finite][-1])
            self._last = last_smoothed * (1.0 - weight**self._finite_count)
        else:
            self._last = 0.0

    def _continue(self, tail: FloatArray, weight: float) -> FloatArray:
        result = tail.astype(np.float64, copy=True)
        finite = np.isfinite(tail)
        count = int(finite.sum())
        if count == 0 or weight >= 1.0:
            if weight >= 1.0:
                result[finite] = 0.0
            return result
        steps = np.arange(1, count + 1, dtype=np.float64)
        from_zero = smooth_ema(tail[finite], weight) * (1.0 - weight**steps)
        averages = weight**steps * self._last + from_zero
        result[finite] = averages / (1.0 - weight ** (self._finite_count + steps))
        self._finite_count += count
        self._last = float(averages[-1])
        return result
