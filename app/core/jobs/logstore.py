"""Job logs kept in the app's data folder, so they outlive the container; appended as they stream."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path

from app import paths
from app.core.telemetry.logs import LogLevel, LogLine


def logs_dir() -> Path:
    """Where job logs are kept."""
    folder = paths.data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _encode(line: LogLine) -> str:
    stamp = "" if line.timestamp_ns is None else str(line.timestamp_ns)
    return f"{stamp}\t{int(line.level)}\t{line.text.replace(chr(10), ' ')}\n"


def _decode(raw: str) -> LogLine | None:
    parts = raw.rstrip("\n").split("\t", 2)
    if len(parts) != 3:
        return None
    stamp, level, text = parts
    try:
        return LogLine(int(stamp) if stamp else None, text, LogLevel(int(level)))
    except ValueError:
        return None


class JobLog:
    """One job's stored log: append lines, read them back, know the last timestamp."""

    def __init__(self, job_id: str, folder: Path | None = None) -> None:
        self.path = (folder or logs_dir()) / f"{job_id}.log"
        self._lock = threading.Lock()

    def append(self, lines: list[LogLine]) -> None:
        """Add lines at the end."""
        if not lines:
            return
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.writelines(_encode(line) for line in lines)

    def lines(self) -> list[LogLine]:
        """Every stored line."""
        if not self.path.exists():
            return []
        with self._lock, self.path.open(encoding="utf-8", errors="replace") as handle:
            return [line for raw in handle if (line := _decode(raw)) is not None]

    def tail(self, count: int = 200) -> list[LogLine]:
        """The last lines (enough to resume a stream and to match error patterns)."""
        if not self.path.exists():
            return []
        with self._lock, self.path.open(encoding="utf-8", errors="replace") as handle:
            last = deque(handle, maxlen=count)
        return [line for raw in last if (line := _decode(raw)) is not None]

    def text(self, last: int | None = None) -> str:
        """The log as plain text (optionally only the last lines)."""
        lines = self.tail(last) if last else self.lines()
        return "\n".join(line.text for line in lines)

    def remove(self) -> None:
        """Delete the stored log."""
        self.path.unlink(missing_ok=True)
