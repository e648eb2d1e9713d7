"""``taodesk status JOB``: the job's state, progress, ETA and KPIs, from its container and status.json."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.jobs_common import format_duration, open_manager
from app.cli.scalars_cmd import find_job
from app.core.hosts.errors import HostError
from app.core.jobs.model import Job
from app.core.telemetry.job_monitor import (
    StatusFollower,
    describe_progress,
    format_kpi,
    format_seconds,
    status_file_candidates,
)


def register(sub: Any) -> None:
    """Add the ``status`` command."""
    parser = sub.add_parser("status", help="a job's state, progress, ETA and KPIs")
    parser.add_argument("job", help="job id (a unique prefix works)")
    parser.set_defaults(handler=run_status)


def read_status(manager: Any, job: Job) -> StatusFollower:
    """The job's status.json, read to its end on the job's host."""
    follower = StatusFollower(manager.session(job.host), status_file_candidates(job))
    follower.poll()
    if job.status.is_final:
        follower.finish()
    return follower


def status_lines(job: Job, follower: StatusFollower | None) -> list[str]:
    """What `taodesk status` prints."""
    state = job.status.value + (f" (exit code {job.exit_code})" if job.exit_code is not None else "")
    lines = [f"job       {job.id}", f"action    {job.skill} {job.action} on {job.host}",
             f"state     {state}", f"duration  {format_duration(job.duration)}"]
    if follower is None or not follower.found:
        places = ", ".join(status_file_candidates(job))
        lines.append(f"progress  no status.json yet (looked for {places})")
        return lines
    progress = follower.progress
    fraction = progress.fraction
    percent = f" ({fraction * 100:.0f}%)" if fraction is not None else ""
    lines.append(f"progress  {describe_progress(progress, job.status, with_step=True)}{percent}")
    if progress.eta_seconds is not None and not job.status.is_final:
        lines.append(f"eta       {format_seconds(progress.eta_seconds)}")
    if progress.time_per_epoch_seconds is not None:
        lines.append(f"epoch time {format_seconds(progress.time_per_epoch_seconds)}")
    if progress.last_message:
        lines.append(f"message   {progress.last_message}")
    if progress.failure_message:
        lines.append(f"failure   {progress.failure_message}")
    if job.error_hint:
        lines.append(f"hint      {job.error_hint}")
    if follower.kpis:
        width = max(len(key) for key in follower.kpis)
        lines.append("kpis")
        for key, value in sorted(follower.kpis.items()):
            lines.append(f"  {key.ljust(width)}  {format_kpi(value)}")
    for problem in follower.problems:
        lines.append(f"warning   {problem}")
    return lines


def run_status(args: argparse.Namespace) -> int:
    """Print the job's state (refreshed from its container while it runs), progress and KPIs."""
    manager = open_manager()
    try:
        job = find_job(manager, args.job)
        follower = None
        try:
            if not job.status.is_final:
                job = manager.refresh(job.id)
            follower = read_status(manager, job)
        except HostError as exc:
            print(f"(could not reach host '{job.host}': {exc})", file=sys.stderr)
        print("\n".join(status_lines(job, follower)))
        return 0
    finally:
        manager.close()
