"""StatusReader on status.json files in TAO's format (written by the stand-in's TAO status logger)."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime
from pathlib import Path

import pytest

from app.core.telemetry.status import StatusReader, parse_duration, parse_status_timestamp
from tests.standin.tao_standin.status import FAILURE, STARTED, StatusLogger, epoch_progress

NUM_EPOCHS = 3
STEPS_PER_EPOCH = 53


def write_pose_training(path: Path, epochs_done: int = NUM_EPOCHS) -> list[dict[str, float]]:
    """The line sequence of a pose-classification train; returns the val kpis written."""
    logger = StatusLogger(path)
    logger.write("Starting Pose Classification train.", status=STARTED)
    logger.write("Starting Training Loop.", status=STARTED)
    val_kpis = []
    for epoch in range(epochs_done):
        step = (epoch + 1) * STEPS_PER_EPOCH
        logger.write(
            "Training loop in progress",
            data=epoch_progress(epoch, step, NUM_EPOCHS, NUM_EPOCHS * STEPS_PER_EPOCH, 12.5, STEPS_PER_EPOCH),
        )
        logger.write(
            "Train metrics generated.", kpi={"train_loss": 1.0 / (epoch + 1), "train_acc": 0.3 * epoch}
        )
        val = {"val_loss": math.nan if epoch == 0 else 0.9 / epoch, "val_acc": 0.25 * epoch}
        val_kpis.append(val)
        logger.write("Eval metrics generated.", kpi=val)
    if epochs_done == NUM_EPOCHS:
        logger.write("Training loop complete.")
        logger.write("Train finished successfully.")
    return val_kpis


def feed_in_pieces(reader: StatusReader, data: bytes, seed: int) -> int:
    rng = random.Random(seed)
    records = 0
    pos = 0
    while pos < len(data):
        size = rng.randint(1, 90)
        records += len(reader.feed(data[pos : pos + size]))
        pos += size
    return records


@pytest.mark.parametrize("seed", [0, 1])
def test_a_finished_training_read_in_random_pieces(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "train" / "status.json"
    val_kpis = write_pose_training(path)
    data = path.read_bytes()
    assert b"NaN" in data  # the bare token json.dumps writes

    reader = StatusReader(str(path))
    records = feed_in_pieces(reader, data, seed)

    progress = reader.progress
    assert records == data.count(b"\n") == 2 + 3 * NUM_EPOCHS + 2
    assert (progress.epoch, progress.max_epoch, progress.num_epochs) == (2, 2, 3)
    assert progress.step == progress.max_step == NUM_EPOCHS * STEPS_PER_EPOCH
    assert progress.fraction == 1.0 and progress.eta_seconds == 0.0
    assert progress.time_per_epoch_seconds == 12.5
    assert progress.time_per_step_seconds == pytest.approx(12.5 / STEPS_PER_EPOCH, abs=1e-6)
    assert (progress.last_status, progress.last_message) == ("RUNNING", "Train finished successfully.")
    assert not progress.failed
    assert reader.kpis == {"train_loss": 1 / 3, "train_acc": pytest.approx(0.6), **val_kpis[-1]}
    # The sticky block is repeated on every line but recorded once per change.
    assert len(reader.kpi_history) == 2 * NUM_EPOCHS
    first_val = reader.kpi_history[1]
    assert first_val.epoch == 0 and math.isnan(first_val.values["val_loss"])
    assert [snapshot.epoch for snapshot in reader.kpi_history] == [0, 0, 1, 1, 2, 2]
    assert reader.problems == []


def test_progress_in_the_middle_of_training(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    write_pose_training(path, epochs_done=1)
    reader = StatusReader()
    reader.feed(path.read_bytes())

    progress = reader.progress
    assert (progress.epoch, progress.num_epochs) == (0, 3)
    assert progress.fraction == pytest.approx(1 / 3)
    assert progress.eta_seconds == 25.0  # two epochs of 12.5 s left
    assert progress.last_message == "Eval metrics generated."


def test_a_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    write_pose_training(path, epochs_done=1)
    data = path.read_bytes()
    cut = data.rindex(b"\n", 0, len(data) - 1) + 1 + 40  # inside the last line
    reader = StatusReader()

    before = reader.feed(data[:cut])
    rest = reader.feed(data[cut:])

    assert len(before) == data.count(b"\n") - 1 and len(rest) == 1
    assert rest[0].message == "Eval metrics generated."


def test_a_last_line_without_newline_is_read_when_the_file_is_complete() -> None:
    reader = StatusReader()
    line = json.dumps(
        {
            "date": "6/19/2026",
            "time": "14:3:7",
            "status": "RUNNING",
            "verbosity": "INFO",
            "message": "Train finished successfully.",
        }
    )
    assert reader.feed(line.encode()) == []

    (record,) = reader.finish()

    assert record.message == "Train finished successfully."
    assert record.timestamp == datetime(2026, 6, 19, 14, 3, 7)


def test_a_failure_line_is_kept_as_the_failure_message(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    write_pose_training(path, epochs_done=1)
    StatusLogger(path).write(
        "Configuration error: dataset.train_dataset.data_path is missing", status=FAILURE, verbosity="ERROR"
    )
    reader = StatusReader()
    reader.feed(path.read_bytes())

    assert reader.progress.failed
    assert (
        reader.progress.failure_message == "Configuration error: dataset.train_dataset.data_path is missing"
    )
    assert reader.progress.last_status == "FAILURE"


def test_bad_lines_are_reported_with_their_line_number_and_skipped() -> None:
    good = json.dumps({"epoch": 1, "max_epoch": 9, "status": "RUNNING", "kpi": {"loss": 1.0}})
    infinite = '{"status": "RUNNING", "kpi": {"loss": Infinity, "acc": -Infinity}}'
    data = f"{good}\nnot json at all\n[1, 2]\n\n{infinite}\n".encode()
    reader = StatusReader("results/train/status.json")

    records = reader.feed(data)

    assert [record.line for record in records] == [1, 5]
    assert [(problem.source, problem.line) for problem in reader.problems] == [
        ("results/train/status.json", 2),
        ("results/train/status.json", 3),
    ]
    assert "line 2" in str(reader.problems[0])
    assert reader.kpis == {"loss": math.inf, "acc": -math.inf}
    assert reader.progress.epoch == 1 and reader.progress.num_epochs == 10


def test_tao_dates_times_and_durations() -> None:
    assert parse_status_timestamp("1/2/2026", "3:4:5") == datetime(2026, 1, 2, 3, 4, 5)
    assert parse_status_timestamp("12/31/2026", "23:59:59") == datetime(2026, 12, 31, 23, 59, 59)
    assert parse_status_timestamp("13/1/2026", "1:1:1") is None
    assert parse_status_timestamp(None, "1:1:1") is None
    assert parse_duration("0:13:00.000000") == 780.0
    assert parse_duration("0:00:12.345678") == pytest.approx(12.345678)
    assert parse_duration("1 day, 2:03:04.500000") == 93784.5
    assert parse_duration("3 days, 0:00:01") == 3 * 86400 + 1
    assert parse_duration(42) == 42.0
    assert parse_duration("soon") is None and parse_duration(math.nan) is None
