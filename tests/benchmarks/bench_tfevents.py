"""Benchmark: scalar ingest of a 1M-scalar event file, ours vs TensorBoard's EventAccumulator.

Run: .venv/bin/python -m tests.benchmarks.bench_tfevents [--scalars N] [--dir PATH] [--poll-ms MS]

The event file is written once by tensorboardX (a real writer) and cached in the temp folder.
Prints events/s for TensorBoard's `EventAccumulator(size_guidance={"scalars": 0}).Reload()` and for
our readers on the same file in the same run, their ratio, and a check that both read the same
points. Then measures written -> parsed latency while a file grows under a polling reader.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from app.core.telemetry.event_runs import EventRunReader
from app.core.telemetry.files import LocalFiles
from app.core.telemetry.tfevents import read_event_file

TAGS_PER_STEP = ("train_loss_step", "lr")
VAL_TAG = "val_loss"
VAL_EVERY = 20


def write_run(folder: Path, scalars: int, first_step: int = 0) -> None:
    """Write `scalars` scalars with tensorboardX: train_loss_step and lr per step, val_loss every
    VAL_EVERY steps."""
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(7)
    writer = SummaryWriter(str(folder), flush_secs=30)
    written = 0
    step = first_step
    noise = rng.normal(0.0, 0.05, size=scalars + 8).tolist()
    while written < scalars:
        writer.add_scalar("train_loss_step", 2.0 / (1.0 + step * 1e-4) + noise[written], step)
        written += 1
        if written < scalars:
            writer.add_scalar("lr", 1e-3 * 0.5 ** (step / 100_000), step)
            written += 1
        if written < scalars and step % VAL_EVERY == 0:
            writer.add_scalar(VAL_TAG, 1.5 / (1.0 + step * 1e-4), step)
            written += 1
        step += 1
    writer.close()


def cached_run(base: Path, scalars: int) -> Path:
    """The cached run folder holding one event file of `scalars` scalars (written if missing)."""
    folder = base / f"run_{scalars}"
    if (folder / "COMPLETE").exists():
        return folder
    staging = base / f"staging_{scalars}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    print(f"writing {scalars:,} scalars with tensorboardX into {folder} (once) ...", flush=True)
    started = time.perf_counter()
    write_run(staging, scalars)
    print(f"  written in {time.perf_counter() - started:.1f} s", flush=True)
    (staging / "COMPLETE").write_text("ok\n")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def time_event_accumulator(folder: Path) -> tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Seconds for EventAccumulator(size_guidance={'scalars': 0}).Reload(), and its points."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    started = time.perf_counter()
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    accumulator.Reload()
    seconds = time.perf_counter() - started
    points = {}
    for tag in accumulator.Tags()["scalars"]:
        events = accumulator.Scalars(tag)
        points[tag] = (
            np.array([event.step for event in events], dtype=np.int64),
            np.array([event.value for event in events], dtype=np.float64),
        )
    return seconds, points


def time_run_reader(folder: Path, repeats: int) -> tuple[list[float], EventRunReader]:
    """Seconds of a fresh EventRunReader's first poll (CRC-checked), `repeats` times."""
    times = []
    reader = EventRunReader(LocalFiles(), str(folder))
    for _ in range(repeats):
        gc.collect()
        reader = EventRunReader(LocalFiles(), str(folder))
        started = time.perf_counter()
        reader.poll()
        times.append(time.perf_counter() - started)
    return times, reader


def time_file_reader(folder: Path, repeats: int) -> list[float]:
    """Seconds of read_event_file on the run's event file, `repeats` times."""
    path = next(folder.glob("events.out.tfevents.*"))
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        read_event_file(path)
        times.append(time.perf_counter() - started)
    return times


def same_points(reference: dict[str, tuple[np.ndarray, np.ndarray]], reader: EventRunReader) -> bool:
    """True when both readers hold the same (tag, step, value) sequences."""
    if sorted(reference) != reader.tags():
        return False
    for tag, (steps, values) in reference.items():
        series = reader.series(tag)
        if not np.array_equal(steps, series.steps):
            return False
        if not np.array_equal(values, series.values, equal_nan=True):
            return False
    return True


def measure_growing_file(big_run: Path, work: Path, poll_seconds: float, appended: int) -> None:
    """Append tensorboardX-written records to a copy of the big file, record by record, while a
    reader polls; report written -> parsed latency and the cost of each poll."""
    extra = work / "extra"
    shutil.rmtree(extra, ignore_errors=True)
    extra.mkdir(parents=True)
    reference = read_event_file(next(big_run.glob("events.out.tfevents.*")))[0]
    last_step = int(max(series.steps[-1] for series in reference.values()))
    write_run(extra, appended, first_step=last_step + 1)
    records = _split_records((next(extra.glob("events.out.tfevents.*"))).read_bytes())[1:]

    growing = work / "growing"
    shutil.rmtree(growing, ignore_errors=True)
    growing.mkdir(parents=True)
    target = growing / next(big_run.glob("events.out.tfevents.*")).name
    shutil.copyfile(next(big_run.glob("events.out.tfevents.*")), target)
    reader = EventRunReader(LocalFiles(), str(growing))
    started = time.perf_counter()
    reader.poll()
    initial = time.perf_counter() - started
    base_count = sum(len(series) for series in reader.scalars.values())

    written_at: list[float] = []
    done = threading.Event()

    def append_records() -> None:
        with open(target, "ab") as handle:
            for record in records:
                cut = len(record) // 2  # a write cut mid-record, completed shortly after
                handle.write(record[:cut])
                handle.flush()
                time.sleep(0.002)
                handle.write(record[cut:])
                handle.flush()
                written_at.append(time.perf_counter())
                time.sleep(0.008)
        done.set()

    thread = threading.Thread(target=append_records)
    seen_at: list[float] = []
    poll_costs: list[float] = []
    thread.start()
    while not done.is_set() or len(seen_at) < len(records):
        time.sleep(poll_seconds)
        before = time.perf_counter()
        reader.poll()
        after = time.perf_counter()
        poll_costs.append(after - before)
        total = sum(len(series) for series in reader.scalars.values()) - base_count
        seen_at.extend([after] * (total - len(seen_at)))
        if done.is_set() and total >= len(records):
            break
    thread.join()
    latencies_ms = [1000 * (seen - wrote) for seen, wrote in zip(seen_at, written_at, strict=False)]
    print(f"\ngrowing file: {base_count:,} points already in the file, first poll {initial:.2f} s")
    print(
        f"  appended {len(records)} records (each written in two halves), polling every "
        f"{poll_seconds * 1000:.0f} ms"
    )
    print(
        f"  written -> parsed latency: median {statistics.median(latencies_ms):.1f} ms, "
        f"p95 {np.percentile(latencies_ms, 95):.1f} ms, max {max(latencies_ms):.1f} ms"
    )
    print(
        f"  cost of one poll: median {1000 * statistics.median(poll_costs):.2f} ms, "
        f"max {1000 * max(poll_costs):.2f} ms (only new bytes are read)"
    )
    started = time.perf_counter()
    for _ in range(100):
        reader.poll()
    print(f"  cost of a poll with nothing new: {10 * (time.perf_counter() - started):.3f} ms")
    final = sum(len(series) for series in reader.scalars.values())
    print(f"  points after growth: {final:,} (expected {base_count + len(records):,})")


def _split_records(data: bytes) -> list[bytes]:
    records = []
    pos = 0
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 8], "little")
        records.append(data[pos : pos + 16 + length])
        pos += 16 + length
    return records


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalars", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "taodesk-bench-tfevents")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--poll-ms", type=float, default=50.0)
    parser.add_argument("--appended", type=int, default=300)
    args = parser.parse_args()

    run = cached_run(args.dir, args.scalars)
    size_mb = sum(path.stat().st_size for path in run.glob("events.out.tfevents.*")) / 1e6
    print(f"event file: {run} ({size_mb:.1f} MB)")

    accumulator_seconds, reference = time_event_accumulator(run)
    reference_count = sum(steps.size for steps, _ in reference.values())
    run_times, reader = time_run_reader(run, args.repeats)
    ours_count = sum(len(series) for series in reader.scalars.values())
    file_times = time_file_reader(run, args.repeats)
    run_median, file_median = statistics.median(run_times), statistics.median(file_times)

    print(f"\n{'reader':<56}{'scalars':>10}{'seconds':>10}{'scalars/s':>13}   best of {args.repeats}")
    print(
        f"{'EventAccumulator(size_guidance={scalars: 0}).Reload()':<56}{reference_count:>10,}"
        f"{accumulator_seconds:>10.2f}{reference_count / accumulator_seconds:>13,.0f}   (one run)"
    )
    for label, times in (
        ("EventRunReader.poll() (CRC-checked, merged)", run_times),
        ("read_event_file() (CRC-checked)", file_times),
    ):
        median = statistics.median(times)
        print(
            f"{label:<56}{ours_count:>10,}{median:>10.3f}{ours_count / median:>13,.0f}"
            f"   {ours_count / min(times):,.0f}/s"
        )
    print(
        f"\nspeed-up vs EventAccumulator (medians): {accumulator_seconds / run_median:.1f}x (run reader), "
        f"{accumulator_seconds / file_median:.1f}x (file reader); best runs: "
        f"{accumulator_seconds / min(run_times):.1f}x, {accumulator_seconds / min(file_times):.1f}x"
    )
    print(
        f"same count: {reference_count == ours_count}; "
        f"same (tag, step, value) sequences: {same_points(reference, reader)}"
    )

    measure_growing_file(run, args.dir, args.poll_ms / 1000.0, args.appended)


if __name__ == "__main__":
    main()
