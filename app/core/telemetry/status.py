"""Incremental reader of TAO's `status.json` (JSON Lines, appended while the task runs).

TAO writes one `json.dumps` object per line, in append mode: the caller's keys (epoch, step,
max_epoch, max_step, time_per_epoch, eta, ...), then `date` ("M/D/YYYY"), `time` ("H:M:S", no zero
padding), `status` (STARTED, RUNNING, SUCCESS, FAILURE, SKIPPED), `verbosity`, an optional
`message` and optional `categorical`, `graphical` and `kpi` blocks. Values may be the bare tokens
`NaN` / `Infinity`. The `kpi` block is sticky: once set it is repeated on every later line.

What this reader does NOT decide is whether the job succeeded: the model container never writes
`SUCCESS` itself (TAO's service adds that line), so the job's final state comes from the
container's exit code, together with any `FAILURE` line seen here (`JobProgress.failure_message`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.telemetry.problems import ReadProblem, report

MAX_LINE_BYTES = 16 << 20
STATUS_VALUES = ("STARTED", "RUNNING", "SUCCESS", "FAILURE", "SKIPPED")
_META_KEYS = frozenset({"date", "time", "status", "verbosity", "message", "categorical", "graphical", "kpi"})
_DURATION = re.compile(r"^\s*(?:(-?\d+) days?, )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)\s*$")


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """One line of status.json."""

    line: int
    status: str | None
    verbosity: str | None
    message: str | None
    timestamp: datetime | None
    data: dict[str, Any]
    kpi: dict[str, Any] | None
    categorical: dict[str, Any] | None = None
    graphical: dict[str, Any] | None = None


@dataclass
class JobProgress:
    """Where the task is, from the latest lines.

    `epoch` is TAO's 0-based epoch of the last finished epoch and `max_epoch` is num_epochs - 1, so
    "epoch 4 of 70" is `epoch=4, max_epoch=69`. `fraction` is step/max_step when both are known,
    else (epoch + 1) / (max_epoch + 1). Times are in seconds.
    """

    epoch: int | None = None
    max_epoch: int | None = None
    step: int | None = None
    max_step: int | None = None
    eta_seconds: float | None = None
    time_per_epoch_seconds: float | None = None
    time_per_step_seconds: float | None = None
    last_status: str | None = None
    last_message: str | None = None
    last_timestamp: datetime | None = None
    failure_message: str | None = None

    @property
    def num_epochs(self) -> int | None:
        """The number of epochs the task will run (max_epoch + 1)."""
        return None if self.max_epoch is None else self.max_epoch + 1

    @property
    def fraction(self) -> float | None:
        """Fraction of the work done, 0..1, or None when the lines say nothing about it."""
        if self.step is not None and self.max_step:
            return _clamp(self.step / self.max_step)
        if self.epoch is not None and self.max_epoch is not None and self.max_epoch >= 0:
            return _clamp((self.epoch + 1) / (self.max_epoch + 1))
        return None

    @property
    def failed(self) -> bool:
        """True once a FAILURE line was seen."""
        return self.failure_message is not None


@dataclass(frozen=True, slots=True)
class KpiSnapshot:
    """A kpi block as it was when it changed (the sticky repeats are not recorded)."""

    line: int
    timestamp: datetime | None
    epoch: int | None
    step: int | None
    values: dict[str, Any]


class StatusReader:
    """Bytes of status.json in, records out; keeps `progress`, the latest `kpis` and their history.

    `feed(chunk)` accepts any cut of the file: a partial last line is kept until its newline comes.
    A line that is not a JSON object is reported in `problems` (file and line number) and skipped.
    `kpis` holds the latest value of every KPI key seen (train and validation blocks alternate);
    `kpi_history` holds each distinct kpi block once, with the epoch and step it came with.
    """

    def __init__(self, source_name: str = "status.json") -> None:
        self.source_name = source_name
        self.progress = JobProgress()
        self.kpis: dict[str, Any] = {}
        self.kpi_history: list[KpiSnapshot] = []
        self.problems: list[ReadProblem] = []
        self._partial = b""
        self._line_count = 0
        self._last_kpi_key: str | None = None

    def feed(self, chunk: bytes) -> list[StatusRecord]:
        """Add the next bytes of the file; return the records of the lines they complete."""
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        if len(self._partial) > MAX_LINE_BYTES:
            self._line_count += 1
            self._problem(f"a line longer than {MAX_LINE_BYTES} bytes; skipped")
            self._partial = b""
        return [record for raw in lines if (record := self._parse_line(raw)) is not None]

    def finish(self) -> list[StatusRecord]:
        """The file is complete: parse a last line that has no newline."""
        raw, self._partial = self._partial, b""
        record = self._parse_line(raw) if raw.strip() else None
        return [] if record is None else [record]

    def _parse_line(self, raw: bytes) -> StatusRecord | None:
        self._line_count += 1
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            return None
        try:
            obj = json.loads(text)
        except ValueError as error:
            self._problem(f"not valid JSON ({error.args[0] if error.args else error}); line skipped")
            return None
        if not isinstance(obj, dict):
            self._problem("not a JSON object; line skipped")
            return None
        record = StatusRecord(
            line=self._line_count,
            status=_text(obj.get("status")),
            verbosity=_text(obj.get("verbosity")),
            message=_text(obj.get("message")),
            timestamp=parse_status_timestamp(obj.get("date"), obj.get("time")),
            data={key: value for key, value in obj.items() if key not in _META_KEYS},
            kpi=_mapping(obj.get("kpi")),
            categorical=_mapping(obj.get("categorical")),
            graphical=_mapping(obj.get("graphical")),
        )
        self._apply(record)
        return record

    def _apply(self, record: StatusRecord) -> None:
        progress = self.progress
        data = record.data
        progress.epoch = _integer(data.get("epoch"), progress.epoch)
        progress.max_epoch = _integer(data.get("max_epoch"), progress.max_epoch)
        progress.step = _integer(data.get("step", data.get("cur_iter")), progress.step)
        progress.max_step = _integer(data.get("max_step", data.get("max_iter")), progress.max_step)
        progress.eta_seconds = _duration(data.get("eta"), progress.eta_seconds)
        progress.time_per_epoch_seconds = _duration(
            data.get("time_per_epoch"), progress.time_per_epoch_seconds
        )
        progress.time_per_step_seconds = _duration(
            data.get("time_per_step", data.get("time_per_iter")), progress.time_per_step_seconds
        )
        if record.status:
            progress.last_status = record.status
        if record.message:
            progress.last_message = record.message
        if record.timestamp:
            progress.last_timestamp = record.timestamp
        if record.status == "FAILURE":
            progress.failure_message = record.message or "the task reported FAILURE"
        if record.kpi is not None:
            key = json.dumps(record.kpi, sort_keys=True, default=str)
            if key != self._last_kpi_key:
                self._last_kpi_key = key
                self.kpis.update(record.kpi)
                snapshot = KpiSnapshot(
                    record.line, record.timestamp, progress.epoch, progress.step, dict(record.kpi)
                )
                self.kpi_history.append(snapshot)

    def _problem(self, message: str) -> None:
        report(self.problems, ReadProblem(self.source_name, message, line=self._line_count))


def parse_status_timestamp(date: object, time: object) -> datetime | None:
    """TAO's "M/D/YYYY" and "H:M:S" (no zero padding) as a naive datetime in the container's clock."""
    if not isinstance(date, str) or not isinstance(time, str):
        return None
    try:
        return datetime.strptime(f"{date.strip()} {time.strip()}", "%m/%d/%Y %H:%M:%S")
    except ValueError:
        return None


def parse_duration(text: object) -> float | None:
    """Seconds in a Python timedelta string ("H:MM:SS.ffffff", "2 days, 1:02:03") or a number."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text) if math.isfinite(text) else None
    if not isinstance(text, str):
        return None
    match = _DURATION.match(text)
    if not match:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _duration(value: object, previous: float | None) -> float | None:
    parsed = parse_duration(value)
    return previous if parsed is None else parsed


def _integer(value: object, previous: int | None) -> int | None:
    if isinstance(value, bool):
        return previous
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return previous


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _mapping(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _clamp(fraction: float) -> float:
    return min(1.0, max(0.0, fraction))
