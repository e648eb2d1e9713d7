"""TAO's status.json: JSON Lines appended by the task, with TAO's key order and sticky KPIs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

STARTED = "STARTED"
RUNNING = "RUNNING"
FAILURE = "FAILURE"
SKIPPED = "SKIPPED"


def format_duration(seconds: float) -> str:
    """A duration as TAO writes it (`str(timedelta)`), e.g. "0:00:12.345678"."""
    return str(timedelta(seconds=max(0.0, seconds)))


def epoch_progress(
    epoch: int, step: int, num_epochs: int, max_step: int, seconds: float, steps: int
) -> dict[str, Any]:
    """Data of TAO's per-epoch "Training loop in progress" line (epoch 0-based, max_epoch num_epochs-1)."""
    return {
        "epoch": epoch,
        "step": step,
        "max_epoch": num_epochs - 1,
        "max_step": max_step,
        "time_per_epoch": format_duration(seconds),
        "time_per_step": format_duration(seconds / max(steps, 1)),
        "eta": format_duration(seconds * (num_epochs - 1 - epoch)),
    }


class StatusLogger:
    """Appends one JSON object per line to a status.json file.

    Keys come in TAO's order: the caller's data, date ("M/D/YYYY"), time ("H:M:S", both without zero
    padding), status, verbosity, message, then kpi. The kpi is sticky: once set, every later line
    repeats the last one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kpi: dict[str, Any] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(
        self,
        message: str | None = None,
        status: str = RUNNING,
        verbosity: str = "INFO",
        data: dict[str, Any] | None = None,
        kpi: dict[str, Any] | None = None,
    ) -> None:
        """Append one line; a given kpi replaces the sticky one."""
        if kpi is not None:
            self.kpi = dict(kpi)
        now = datetime.now()
        line: dict[str, Any] = dict(data or {})
        line["date"] = f"{now.month}/{now.day}/{now.year}"
        line["time"] = f"{now.hour}:{now.minute}:{now.second}"
        line["status"] = status
        line["verbosity"] = verbosity
        if message is not None:
            line["message"] = message
        if self.kpi:
            line["kpi"] = self.kpi
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(line) + "\n")
