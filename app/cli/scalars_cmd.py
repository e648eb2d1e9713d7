"""``taodesk scalars JOB [--tag REGEX] [--csv FILE]``: a job's TensorBoard scalars, read from its host."""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from typing import Any

import numpy as np

from app.cli import UsageError
from app.cli.jobs_common import open_manager
from app.core.hosts.errors import HostError
from app.core.jobs.model import Job
from app.core.telemetry.job_monitor import JobMonitor, SeriesData


def register(sub: Any) -> None:
    """Add the ``scalars`` command."""
    parser = sub.add_parser("scalars", help="a job's TensorBoard scalars: last value per tag, or all as CSV")
    parser.add_argument("job", help="job id (a unique prefix works)")
    parser.add_argument("--tag", metavar="REGEX", help="only tags matching this regular expression")
    parser.add_argument("--csv", metavar="FILE", help="write every point (tag, step, wall_time, value) here")
    parser.set_defaults(handler=run_scalars)


def find_job(manager: Any, job_id: str) -> Job:
    """The job, or a usage error naming the id."""
    try:
        job: Job = manager.store.get(job_id)
    except KeyError as exc:
        raise UsageError(str(exc.args[0]) if exc.args else f"no job '{job_id}'") from exc
    return job


def tag_pattern(text: str | None) -> re.Pattern[str] | None:
    """The --tag filter (case-insensitive), or a usage error for a bad expression."""
    if not text:
        return None
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise UsageError(f"--tag '{text}' is not a valid regular expression: {exc}") from exc


def read_scalars(manager: Any, job: Job) -> tuple[JobMonitor, dict[str, SeriesData]]:
    """Every scalar the job wrote so far, read from its host."""
    monitor = JobMonitor(job, manager.session(job.host))
    update = monitor.finish() if job.status.is_final else monitor.poll_all()
    for problem in update.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return monitor, {tag: monitor.series(tag) for tag in monitor.tags()}


def _number(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def summary_table(series: dict[str, SeriesData]) -> list[str]:
    """One line per tag: points, first and last step, last value, min and max."""
    rows = [("TAG", "POINTS", "FIRST STEP", "LAST STEP", "LAST VALUE", "MIN", "MAX")]
    for tag, data in series.items():
        finite = data.values[np.isfinite(data.values)]
        rows.append((
            tag,
            str(len(data)),
            str(int(data.steps[0])) if len(data) else "-",
            str(int(data.steps[-1])) if len(data) else "-",
            _number(float(data.values[-1])) if len(data) else "-",
            _number(float(finite.min())) if finite.size else "-",
            _number(float(finite.max())) if finite.size else "-",
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def write_csv(path: str, series: dict[str, SeriesData]) -> int:
    """Write every point; returns how many."""
    count = 0
    try:
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["tag", "step", "wall_time", "value"])
            for tag, data in series.items():
                for step, wall, value in zip(
                    data.steps.tolist(), data.wall_times.tolist(), data.values.tolist(), strict=True
                ):
                    writer.writerow([tag, step, repr(wall), repr(value)])
                    count += 1
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return count


def run_scalars(args: argparse.Namespace) -> int:
    """Print the job's scalars (or write them all as CSV)."""
    pattern = tag_pattern(args.tag)
    manager = open_manager()
    try:
        job = find_job(manager, args.job)
        try:
            monitor, series = read_scalars(manager, job)
        except HostError as exc:
            print(f"taodesk: cannot read job {job.id}'s scalars: {exc}", file=sys.stderr)
            return 1
        if not series:
            print(f"No scalars yet in {monitor.event_dir} on host '{job.host}'.")
            return 0
        chosen = {tag: data for tag, data in series.items() if pattern is None or pattern.search(tag)}
        if not chosen:
            print(f"No tag matches '{args.tag}' (tags: {', '.join(series)}).")
            return 1
        if args.csv:
            count = write_csv(args.csv, chosen)
            print(f"Wrote {count} points of {len(chosen)} tag(s) to {args.csv}")
            return 0
        print("\n".join(summary_table(chosen)))
        return 0
    finally:
        manager.close()
