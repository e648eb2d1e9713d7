"""Incremental reader of container logs as Docker streams them with `timestamps=True`.

Each line starts with an RFC 3339 timestamp in nanoseconds and a space
(`2026-11-21T11:26:17.019898378Z text`). Progress bars (tqdm) redraw a line with carriage returns;
such a line is shown in its last state. Docker keeps a line longer than 16 KiB as 16 KiB pieces and
streams each piece with its own timestamp; the pieces are joined back into one line. Docker's
`since` has a granularity of one second, so a stream re-opened after a disconnect repeats the lines
of that second: `ResumeFilter` drops them against the tail of what was already stored, so resuming
leaves neither a gap nor a duplicate.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

_TIMESTAMP = re.compile(
    rb"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) ?"
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ERROR = re.compile(
    r"\b(?:ERROR|CRITICAL|FATAL)\b|Traceback \(most recent call last\)|^\w*(?:Error|Exception)\b:?"
    r"|^[EF]\d{4} \d{2}:\d{2}:\d{2}|^Error\b|\bSegmentation fault\b|\bKilled\b"
)
_WARNING = re.compile(r"\b(?:WARNING|WARN)\b|\b\w*Warning:|^W\d{4} \d{2}:\d{2}:\d{2}")
_DEBUG = re.compile(r"\bDEBUG\b|^D\d{4} \d{2}:\d{2}:\d{2}")
_LEVEL_WINDOW = 160
DOCKER_PIECE_BYTES = 16 * 1024  # moby's log copier buffer: a longer line is stored in pieces of this size


class LogLevel(IntEnum):
    """A guessed severity, for filtering (ordered: DEBUG < INFO < WARNING < ERROR)."""

    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40


@dataclass(frozen=True, slots=True)
class LogLine:
    """One complete log line: Docker's timestamp (ns since the epoch, UTC) or None, text, level."""

    timestamp_ns: int | None
    text: str
    level: LogLevel

    @property
    def key(self) -> tuple[int | None, str]:
        """What identifies a line when a stream is resumed: (timestamp, text)."""
        return self.timestamp_ns, self.text


def parse_docker_timestamp(stamp: bytes) -> int | None:
    """Nanoseconds since the epoch for an RFC 3339 timestamp ('...T11:26:17.019898378Z')."""
    match = _TIMESTAMP.match(stamp)
    return None if match is None else _timestamp_ns(match)


def _timestamp_ns(match: re.Match[bytes]) -> int | None:
    whole, fraction, zone = match.groups()
    try:
        seconds = calendar.timegm(
            (int(whole[0:4]), int(whole[5:7]), int(whole[8:10]),
             int(whole[11:13]), int(whole[14:16]), int(whole[17:19]), 0, 0, 0)
        )
    except (ValueError, OverflowError):
        return None
    if zone != b"Z":
        sign = -1 if zone[:1] == b"+" else 1
        seconds += sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    nanos = int(fraction.ljust(9, b"0")) if fraction else 0
    return seconds * 1_000_000_000 + nanos


def join_docker_pieces(content: bytes) -> bytes:
    """A long line's text without the timestamps Docker put before each 16 KiB piece after the first.

    ``content`` is the line after its own leading timestamp; a piece boundary that carries no
    timestamp (a stream without them) is left as it is.
    """
    if len(content) <= DOCKER_PIECE_BYTES:
        return content
    pieces = [content[:DOCKER_PIECE_BYTES]]
    rest = content[DOCKER_PIECE_BYTES:]
    while rest:
        match = _TIMESTAMP.match(rest)
        if match is None or not match.group(0).endswith(b" "):
            pieces.append(rest)
            break
        rest = rest[match.end() :]
        pieces.append(rest[:DOCKER_PIECE_BYTES])
        rest = rest[DOCKER_PIECE_BYTES:]
    return b"".join(pieces)


def collapse_carriage_returns(text: str) -> str:
    """The last drawn state of a line redrawn with '\\r' (tqdm progress bars)."""
    if "\r" not in text:
        return text
    parts = [part for part in text.split("\r") if part]
    return parts[-1] if parts else ""


def guess_level(text: str) -> LogLevel:
    """A severity guessed from common prefixes and words (Python logging, glog, tracebacks)."""
    head = _ANSI.sub("", text[:_LEVEL_WINDOW]).lstrip()
    if _ERROR.search(head):
        return LogLevel.ERROR
    if _WARNING.search(head):
        return LogLevel.WARNING
    if _DEBUG.search(head):
        return LogLevel.DEBUG
    return LogLevel.INFO


class LogStream:
    """Bytes of `docker logs --timestamps` in, complete `LogLine`s out.

    A partial line is kept until its newline arrives (`pending_line()` shows its current state,
    e.g. a progress bar still being drawn); one that grows past `max_line_bytes` without a newline
    is cut there. The indented lines of a Python traceback share its ERROR level (as long as no
    line of the other output stream comes in between).
    """

    def __init__(self, *, timestamps: bool = True, max_line_bytes: int = 1 << 20) -> None:
        self.timestamps = timestamps
        self.max_line_bytes = max_line_bytes
        self._partial = b""
        self._in_traceback = False

    def feed(self, chunk: bytes) -> list[LogLine]:
        """Add the next bytes of the stream; return the lines they complete."""
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        if len(self._partial) > self.max_line_bytes:
            lines.append(self._partial)
            self._partial = b""
        return [self._line(raw) for raw in lines]

    def flush(self) -> list[LogLine]:
        """The stream ended: return a last line that had no newline."""
        raw, self._partial = self._partial, b""
        return [self._line(raw)] if raw else []

    def pending_line(self) -> LogLine | None:
        """The line being written (no newline yet) in its current state, without consuming it."""
        if not self._partial:
            return None
        timestamp, text = self._split(self._partial)
        return LogLine(timestamp, text, guess_level(text))

    def _line(self, raw: bytes) -> LogLine:
        timestamp, text = self._split(raw)
        return LogLine(timestamp, text, self._level(text))

    def _split(self, raw: bytes) -> tuple[int | None, str]:
        timestamp = None
        if self.timestamps:
            match = _TIMESTAMP.match(raw)
            if match is not None:
                timestamp = _timestamp_ns(match)
                raw = join_docker_pieces(raw[match.end() :])
        return timestamp, collapse_carriage_returns(raw.decode("utf-8", "replace"))

    def _level(self, text: str) -> LogLevel:
        if text.startswith("Traceback (most recent call last)"):
            self._in_traceback = True
            return LogLevel.ERROR
        if self._in_traceback:
            if text[:1].isspace() or not text:
                return LogLevel.ERROR
            self._in_traceback = False  # the exception line ("ValueError: ...") ends it
        return guess_level(text)


def resume_since(last_timestamp_ns: int) -> int:
    """The `since` (whole seconds) to re-open a stream whose last stored line has this timestamp."""
    return last_timestamp_ns // 1_000_000_000


class ResumeFilter:
    """Drops the lines a resumed stream repeats.

    Give it the tail of the stored lines (it must include every stored line stamped in or after
    the resume second; a few hundred last lines are plenty) and pass the lines of the re-opened
    stream through `filter()`. A line older than the resume second is dropped (it is stored
    already). A line up to the last stored timestamp is dropped when an identical
    (timestamp, text) line is stored, each stored line cancelling one repeat, and kept otherwise
    (it was missed). Newer lines are kept. Docker interleaves stdout and stderr, so timestamps are
    not assumed to be in order.
    """

    def __init__(self, stored_tail: Sequence[LogLine]) -> None:
        stamps = [line.timestamp_ns for line in stored_tail if line.timestamp_ns is not None]
        self.last_timestamp_ns = max(stamps) if stamps else None
        self._since_ns = 0
        self._stored: Counter[tuple[int | None, str]] = Counter()
        if self.last_timestamp_ns is not None:
            self._since_ns = resume_since(self.last_timestamp_ns) * 1_000_000_000
            self._stored.update(
                line.key
                for line in stored_tail
                if line.timestamp_ns is not None and line.timestamp_ns >= self._since_ns
            )

    def filter(self, lines: Sequence[LogLine]) -> list[LogLine]:
        """The lines that were not stored before."""
        last = self.last_timestamp_ns
        if last is None:
            return list(lines)
        kept: list[LogLine] = []
        for line in lines:
            stamp = line.timestamp_ns
            if stamp is not None and stamp <= last:
                if stamp < self._since_ns:
                    continue
                if self._stored[line.key] > 0:
                    self._stored[line.key] -= 1
                    continue
            kept.append(line)
        return kept
