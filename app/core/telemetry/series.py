"""Growable numpy-backed scalar series (steps, wall times, values)."""

from __future__ import annotations

from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

_Array = TypeVar("_Array", bound=np.ndarray)


class ScalarPoint(NamedTuple):
    """One scalar sample as TensorBoard shows it."""

    tag: str
    step: int
    wall_time: float
    value: float


class ScalarSeries:
    """One tag's points in three parallel arrays that grow in bulk.

    `steps` (int64), `wall_times` (float64, seconds since the epoch) and `values` (float64) are
    read-only views of the filled part; they stay valid until the next change. `revision` grows on
    every change so a view can tell whether to redraw.
    """

    def __init__(self, tag: str = "", capacity: int = 256) -> None:
        self.tag = tag
        capacity = max(16, capacity)
        self._steps = np.empty(capacity, dtype=np.int64)
        self._wall_times = np.empty(capacity, dtype=np.float64)
        self._values = np.empty(capacity, dtype=np.float64)
        self._length = 0
        self.revision = 0

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return f"ScalarSeries({self.tag!r}, {self._length} points)"

    @property
    def steps(self) -> npt.NDArray[np.int64]:
        """Steps of the stored points."""
        return _read_only(self._steps[: self._length])

    @property
    def wall_times(self) -> npt.NDArray[np.float64]:
        """Wall times (seconds since the epoch) of the stored points."""
        return _read_only(self._wall_times[: self._length])

    @property
    def values(self) -> npt.NDArray[np.float64]:
        """Values of the stored points."""
        return _read_only(self._values[: self._length])

    @property
    def last_step(self) -> int | None:
        """The step of the last point, or None when empty."""
        return int(self._steps[self._length - 1]) if self._length else None

    def points(self) -> list[ScalarPoint]:
        """The points as tuples (for tests and small exports; use the arrays for plotting)."""
        return [
            ScalarPoint(self.tag, int(s), float(w), float(v))
            for s, w, v in zip(self.steps, self.wall_times, self.values, strict=True)
        ]

    def extend(self, steps: npt.ArrayLike, wall_times: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Append points in bulk, in the given order."""
        steps_arr = np.asarray(steps, dtype=np.int64).ravel()
        walls_arr = np.asarray(wall_times, dtype=np.float64).ravel()
        values_arr = np.asarray(values, dtype=np.float64).ravel()
        count = steps_arr.size
        if not count:
            return
        if walls_arr.size != count or values_arr.size != count:
            raise ValueError("steps, wall_times and values must have the same length")
        self._reserve(self._length + count)
        end = self._length + count
        self._steps[self._length : end] = steps_arr
        self._wall_times[self._length : end] = walls_arr
        self._values[self._length : end] = values_arr
        self._length = end
        self.revision += 1

    def extend_purging_rewinds(
        self, steps: npt.ArrayLike, wall_times: npt.ArrayLike, values: npt.ArrayLike
    ) -> None:
        """Append points; a point whose step is below the previous one first drops every stored
        point at or after its step.

        This is TensorBoard's rule for a restarted run that rewrites its history from a checkpoint,
        and it keeps the stored steps non-decreasing when they start that way.
        """
        steps_arr = np.asarray(steps, dtype=np.int64).ravel()
        walls_arr = np.asarray(wall_times, dtype=np.float64).ravel()
        values_arr = np.asarray(values, dtype=np.float64).ravel()
        if not steps_arr.size:
            return
        previous = np.empty_like(steps_arr)
        previous[1:] = steps_arr[:-1]
        last = self.last_step
        previous[0] = steps_arr[0] if last is None else last
        rewinds = np.flatnonzero(steps_arr < previous)
        start = 0
        for rewind in rewinds.tolist():
            self.extend(steps_arr[start:rewind], walls_arr[start:rewind], values_arr[start:rewind])
            self.truncate(int(np.searchsorted(self.steps, steps_arr[rewind], side="left")))
            start = rewind
        self.extend(steps_arr[start:], walls_arr[start:], values_arr[start:])

    def insert_sorted(self, steps: npt.ArrayLike, wall_times: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Insert points at their step's place, before stored points of the same step (the stored
        steps must be non-decreasing; the new ones are sorted first)."""
        steps_arr = np.asarray(steps, dtype=np.int64).ravel()
        if not steps_arr.size:
            return
        order = np.argsort(steps_arr, kind="stable")
        steps_arr = steps_arr[order]
        walls_arr = np.asarray(wall_times, dtype=np.float64).ravel()[order]
        values_arr = np.asarray(values, dtype=np.float64).ravel()[order]
        places = np.searchsorted(self.steps, steps_arr, side="left")
        merged_steps = np.insert(self.steps, places, steps_arr)
        merged_walls = np.insert(self.wall_times, places, walls_arr)
        merged_values = np.insert(self.values, places, values_arr)
        self._length = 0
        self.extend(merged_steps, merged_walls, merged_values)

    def truncate(self, length: int) -> None:
        """Keep only the first `length` points."""
        length = max(0, min(length, self._length))
        if length != self._length:
            self._length = length
            self.revision += 1

    def clear(self) -> None:
        """Drop every point."""
        self.truncate(0)

    def _reserve(self, needed: int) -> None:
        capacity = self._steps.size
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        self._steps = _grown(self._steps, capacity, self._length)
        self._wall_times = _grown(self._wall_times, capacity, self._length)
        self._values = _grown(self._values, capacity, self._length)


def _grown(array: npt.NDArray[Any], capacity: int, used: int) -> npt.NDArray[Any]:
    bigger = np.empty(capacity, dtype=array.dtype)
    bigger[:used] = array[:used]
    return bigger


def _read_only(view: _Array) -> _Array:
    view.flags.writeable = False
    return view
