"""A trial's metric, read as the job writes it: TensorBoard scalars first, TAO status KPIs otherwise.

Each validation gives one intermediate value; its step is the validation's index (0, 1, 2 ...),
which is the epoch when validation runs every epoch. The scalar tag and the KPI key are the
metric's name (``val_loss`` for pose classification, ``val_mAP`` for Sparse4D). The reader locks
onto whichever source gives the metric first, so a value is never counted twice.

Status KPIs are sticky in TAO (the last block is repeated on later lines), so from status.json a
new value is a KPI block holding the metric whose (epoch, value) differs from the previous one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.core.telemetry.event_runs import EventRunReader, tao_event_dir
from app.core.telemetry.files import ByteSource, join_path
from app.core.telemetry.status import StatusReader

STATUS_FILE = "status.json"
_READ_CHUNK = 1 << 20
SCALARS = "scalars"
STATUS = "status"


@dataclass(frozen=True)
class MetricPoint:
    """One intermediate value: validation index, value, and the epoch when it is known."""

    step: int
    value: float
    epoch: int | None = None


def task_dir(results_dir: str, action: str = "train") -> str:
    """Where a TAO task writes its status.json and TensorBoard folder."""
    return join_path(results_dir, action)


class TrialMetricReader:
    """Follows one trial job's metric on its host; ``poll()`` returns the values new since last time."""

    def __init__(self, source: ByteSource, task_folder: str, metric: str) -> None:
        self.source = source
        self.metric = metric
        self.task_folder = task_folder
        self.points: list[MetricPoint] = []
        self.origin: str | None = None
        self._events = EventRunReader(source, tao_event_dir(task_folder))
        self._status = StatusReader(source_name=join_path(task_folder, STATUS_FILE))
        self._status_offset = 0
        self._status_seen = 0
        self._last_kpi: tuple[int | None, float] | None = None
        self._status_values: list[MetricPoint] = []

    @property
    def last(self) -> float | None:
        """The latest value, or None before the first validation."""
        return self.points[-1].value if self.points else None

    def names_seen(self) -> list[str]:
        """Every scalar tag and KPI key seen so far (for a message when the metric never shows up)."""
        return sorted(set(self._events.tags()) | set(self._status.kpis))

    def poll(self) -> list[MetricPoint]:
        """Read what the job wrote since the previous poll; the new intermediate values."""
        self._read_status()
        self._events.poll()
        candidates = {SCALARS: self._scalar_points(), STATUS: self._status_points()}
        if self.origin is None:
            self.origin = next((name for name, points in candidates.items() if points), None)
        if self.origin is None:
            return []
        known = candidates[self.origin]
        fresh = known[len(self.points) :]
        self.points.extend(fresh)
        return fresh

    def _scalar_points(self) -> list[MetricPoint]:
        series = self._events.scalars.get(self.metric)
        if series is None or not len(series):
            return []
        values = series.values
        return [MetricPoint(index, float(values[index])) for index in range(len(values))]

    def _status_points(self) -> list[MetricPoint]:
        history = self._status.kpi_history
        for snapshot in history[self._status_seen :]:
            raw = snapshot.values.get(self.metric)
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                continue
            key = (snapshot.epoch, float(raw))
            if self._last_kpi is not None and _same(key, self._last_kpi):
                continue
            self._last_kpi = key
            self._status_values.append(MetricPoint(len(self._status_values), float(raw), snapshot.epoch))
        self._status_seen = len(history)
        return self._status_values

    def _read_status(self) -> None:
        path = join_path(self.task_folder, STATUS_FILE)
        while True:
            try:
                chunk = self.source.read_range(path, self._status_offset, _READ_CHUNK)
            except OSError:
                return
            if not chunk:
                return
            self._status_offset += len(chunk)
            self._status.feed(chunk)
            if len(chunk) < _READ_CHUNK:
                return


def _same(a: tuple[int | None, float], b: tuple[int | None, float]) -> bool:
    both_nan = math.isnan(a[1]) and math.isnan(b[1])
    return a[0] == b[0] and (a[1] == b[1] or both_nan)
