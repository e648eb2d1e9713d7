"""LogStream and ResumeFilter on Docker's timestamped log stream (unit cases and a real container)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.telemetry.logs import (
    DOCKER_PIECE_BYTES,
    LogLevel,
    LogLine,
    LogStream,
    ResumeFilter,
    guess_level,
    parse_docker_timestamp,
    resume_since,
)

SECOND = 1_000_000_000


def stamp(second: int, nanos: int) -> bytes:
    moment = datetime.fromtimestamp(1_790_000_000 + second, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S").encode() + f".{nanos:09d}Z".encode()


SAMPLE = b"".join(
    [
        stamp(0, 1) + b" Starting Pose Classification train.\n",
        stamp(0, 2)
        + b" \rEpoch 0:   0%|          | 0/53\rEpoch 0:  50%|#####     | 26/53\r"
        + b"Epoch 0: 100%|##########| 53/53\n",
        stamp(1, 3) + b" WARNING: the learning rate is high \xc3\xa9t\xc3\xa9\n",
        stamp(1, 4) + b" Traceback (most recent call last):\n",
        stamp(1, 5) + b'   File "train.py", line 3, in <module>\n',
        stamp(1, 6) + b" ValueError: bad spec\n",
        stamp(1, 7) + b" Error executing job with overrides: []\n",
        stamp(2, 8) + b" done\r\n",
    ]
)


def test_docker_timestamps_to_nanoseconds() -> None:
    base = int(datetime(2026, 11, 21, 11, 26, 17, tzinfo=UTC).timestamp())
    assert parse_docker_timestamp(b"2026-11-21T11:26:17.019898378Z") == base * SECOND + 19_898_378
    assert parse_docker_timestamp(b"2026-11-21T11:26:17.5Z") == base * SECOND + 500_000_000
    assert parse_docker_timestamp(b"2026-11-21T12:26:17+01:00") == base * SECOND
    assert parse_docker_timestamp(b"2026-11-21T11:26:17Z") == base * SECOND
    assert parse_docker_timestamp(b"no timestamp here") is None


def test_lines_carriage_returns_and_levels() -> None:
    lines = LogStream().feed(SAMPLE)

    assert [line.text for line in lines] == [
        "Starting Pose Classification train.",
        "Epoch 0: 100%|##########| 53/53",
        "WARNING: the learning rate is high été",
        "Traceback (most recent call last):",
        '  File "train.py", line 3, in <module>',
        "ValueError: bad spec",
        "Error executing job with overrides: []",
        "done",
    ]
    assert [line.level for line in lines] == [
        LogLevel.INFO,
        LogLevel.INFO,
        LogLevel.WARNING,
        LogLevel.ERROR,
        LogLevel.ERROR,
        LogLevel.ERROR,
        LogLevel.ERROR,
        LogLevel.INFO,
    ]
    assert lines[1].timestamp_ns == parse_docker_timestamp(stamp(0, 2))
    assert (lines[-1].timestamp_ns or 0) - (lines[0].timestamp_ns or 0) == 2 * SECOND + 7


def test_any_split_of_the_stream_gives_the_same_lines() -> None:
    whole = LogStream().feed(SAMPLE)
    for cut in range(len(SAMPLE) + 1):  # mid-timestamp, mid-line, mid-\r, mid-UTF-8 character
        stream = LogStream()
        assert stream.feed(SAMPLE[:cut]) + stream.feed(SAMPLE[cut:]) == whole, cut


def test_a_line_still_being_drawn_is_pending_until_its_newline() -> None:
    stream = LogStream()
    assert stream.feed(stamp(0, 1) + b" \rtrain:  10%|#\rtrain:  20%|##") == []

    pending = stream.pending_line()
    assert pending is not None and pending.text == "train:  20%|##"
    assert stream.feed(b"\rtrain: 100%|##########\n")[0].text == "train: 100%|##########"
    assert stream.pending_line() is None
    stream.feed(stamp(0, 2) + b" last words")
    assert [line.text for line in stream.flush()] == ["last words"]


def as_docker_stores_it(timestamp: bytes, text: bytes) -> bytes:
    """One line as Docker streams it: pieces of 16 KiB, each after the line's timestamp."""
    pieces = [text[start : start + DOCKER_PIECE_BYTES] for start in range(0, len(text), DOCKER_PIECE_BYTES)]
    return b"".join(timestamp + b" " + piece for piece in pieces) + b"\n"


def test_a_line_longer_than_docker_pieces_comes_back_whole() -> None:
    long_text = b"a" * 20_000 + b"b" * 20_000
    progress = b"\r".join(b"Epoch 0: %3d%%|" % i + b"#" * 200 for i in range(101))
    exact = b"c" * DOCKER_PIECE_BYTES
    stream_bytes = b"".join(
        [
            as_docker_stores_it(stamp(0, 1), long_text),
            as_docker_stores_it(stamp(0, 2), progress),
            stamp(0, 3) + b" " + exact + b"\n",
            stamp(0, 4) + b" short\n",
        ]
    )
    whole = LogStream().feed(stream_bytes)
    assert [line.text for line in whole] == [
        long_text.decode(),
        "Epoch 0: 100%|" + "#" * 200,
        exact.decode(),
        "short",
    ]
    assert whole[0].timestamp_ns == parse_docker_timestamp(stamp(0, 1))
    for cut in range(0, len(stream_bytes), 997):
        stream = LogStream()
        assert stream.feed(stream_bytes[:cut]) + stream.feed(stream_bytes[cut:]) == whole, cut


def test_a_line_that_never_ends_is_cut_instead_of_growing_without_bound() -> None:
    stream = LogStream(max_line_bytes=100)
    lines = stream.feed(stamp(0, 1) + b" " + b"x" * 60) + stream.feed(b"y" * 60)

    assert [len(line.text) for line in lines] == [120] and lines[0].timestamp_ns is not None
    assert stream.pending_line() is None


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("2026-01-01 10:00:00,123 - root - ERROR - out of memory", LogLevel.ERROR),
        ("[2026-01-01 10:00:00] CRITICAL: disk full", LogLevel.ERROR),
        ("RuntimeError: CUDA error: device-side assert triggered", LogLevel.ERROR),
        ("E1121 11:26:17.019 glog error", LogLevel.ERROR),
        ("/usr/lib/python3/warnings.py:1: UserWarning: deprecated", LogLevel.WARNING),
        ("WARN  the cache is cold", LogLevel.WARNING),
        ("\x1b[33mWARNING\x1b[0m colored", LogLevel.WARNING),
        ("DEBUG loading shard 3", LogLevel.DEBUG),
        ("Epoch 3: 100%|##########| 53/53 [00:12<00:00, loss=0.31]", LogLevel.INFO),
        ("error rate is not an error word at the start", LogLevel.INFO),
    ],
)
def test_level_guesses(text: str, level: LogLevel) -> None:
    assert guess_level(text) is level


def test_resuming_drops_the_repeated_second_and_keeps_what_was_missed() -> None:
    everything = LogStream().feed(SAMPLE + stamp(2, 8) + b" done\n" + stamp(3, 9) + b" next\n")
    stored = everything[:5]  # the connection dropped inside second 1
    since = resume_since(stored[-1].timestamp_ns or 0)
    resent = [line for line in everything if (line.timestamp_ns or 0) >= since * SECOND]

    resume = ResumeFilter(stored[-3:])
    kept = resume.filter(resent[:2]) + resume.filter(resent[2:])

    assert stored + kept == everything
    assert [line.text for line in kept] == [
        "ValueError: bad spec",
        "Error executing job with overrides: []",
        "done",
        "done",
        "next",
    ]


def test_resuming_keeps_identical_lines_that_were_never_stored() -> None:
    repeated = LogLine(5 * SECOND + 1, "loss=nan", LogLevel.INFO)
    newer = LogLine(5 * SECOND + 2, "step", LogLevel.INFO)
    resume = ResumeFilter([repeated])

    assert resume.filter([LogLine(4 * SECOND, "older", LogLevel.INFO), repeated, repeated, newer]) == [
        repeated,
        newer,
    ]
    assert ResumeFilter([]).filter([repeated]) == [repeated]


def test_resuming_copes_with_stdout_and_stderr_out_of_timestamp_order() -> None:
    stdout_line = LogLine(7 * SECOND + 900, "stdout", LogLevel.INFO)
    stderr_line = LogLine(7 * SECOND + 100, "stderr", LogLevel.ERROR)
    missed = LogLine(7 * SECOND + 950, "missed", LogLevel.INFO)
    resume = ResumeFilter([stdout_line, stderr_line])

    assert resume.filter([stdout_line, missed, stderr_line]) == [missed]


def read_lines(stream: LogStream, chunks: Any) -> list[LogLine]:
    lines: list[LogLine] = []
    for chunk in chunks:
        lines.extend(stream.feed(chunk))
    return lines + stream.flush()


CONTAINER_SCRIPT = r"""
import sys, time
for i in range(5):
    sys.stdout.write("\rEpoch 0: %3d%%|%s" % (25 * i, "#" * i)); sys.stdout.flush(); time.sleep(0.02)
sys.stdout.write("\n")
print("INFO: step 1", flush=True)
print("WARNING: lr is high", flush=True)
time.sleep(0.3)  # stdout and stderr are copied separately: keep them apart in time
sys.stderr.write('Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad\n')
sys.stderr.flush()
time.sleep(0.3)
for i in range(40):
    print("line %d" % i, flush=True)
    time.sleep(0.03)
"""


LONG_LINES_SCRIPT = r"""
import sys
sys.stdout.write("a" * 20000 + "b" * 20000 + "\n")
sys.stdout.write("\r".join("Epoch 0: %3d%%|%s" % (i, "#" * 300) for i in range(101)) + "\n")
sys.stdout.write("done\n")
"""


@pytest.mark.docker
def test_a_real_container_long_lines_are_joined(docker_client: Any, standin_image: str) -> None:
    container = docker_client.containers.run(
        standin_image, ["python3", "-c", LONG_LINES_SCRIPT], entrypoint="", detach=True,
        network_mode="none", labels={"taodesk.test": "telemetry"},
    )  # fmt: skip
    try:
        container.wait(timeout=60)
        raw = container.logs(timestamps=True)
        lines = read_lines(LogStream(), [raw])
    finally:
        container.remove(force=True)
    assert raw.count(b"Z ") > 3, "Docker stored the long lines in pieces"
    assert [line.text for line in lines] == ["a" * 20000 + "b" * 20000, "Epoch 0: 100%|" + "#" * 300, "done"]


@pytest.mark.docker
def test_a_real_container_log_stream_and_its_resumption(docker_client: Any, standin_image: str) -> None:
    container = docker_client.containers.run(
        standin_image,
        ["python3", "-u", "-c", CONTAINER_SCRIPT],
        entrypoint="",
        detach=True,
        network_mode="none",
        labels={"taodesk.test": "telemetry"},
    )
    try:
        live = read_lines(LogStream(), container.logs(stream=True, follow=True, timestamps=True))
        container.wait(timeout=60)
        full = read_lines(LogStream(), [container.logs(timestamps=True)])
    finally:
        container.remove(force=True)

    texts = [line.text for line in live]
    assert texts[0] == "Epoch 0: 100%|####"
    assert texts[1:3] == ["INFO: step 1", "WARNING: lr is high"]
    assert [line.level for line in live if line.text in ('  File "x.py", line 1', "ValueError: bad")] == [
        LogLevel.ERROR,
        LogLevel.ERROR,
    ]
    assert texts[-1] == "line 39" and len(live) == 3 + 3 + 40
    stamps = [line.timestamp_ns or 0 for line in live]
    assert all(abs(stamp / SECOND - time.time()) < 120 for stamp in stamps)
    assert full == live

    cut = len(live) - 10  # as if the connection dropped here, then re-opened with `since`
    since = resume_since(live[cut - 1].timestamp_ns or 0)
    resent = [line for line in full if (line.timestamp_ns or 0) >= since * SECOND]
    assert len(resent) > 10  # the resumed stream repeats part of the stored second

    assert live[:cut] + ResumeFilter(live[:cut][-50:]).filter(resent) == live
