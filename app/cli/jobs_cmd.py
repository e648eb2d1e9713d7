"""``taodesk jobs list|show|logs|cancel|rm``."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from app.cli import UsageError
from app.cli.jobs_common import format_duration, job_line, open_manager
from app.core.hosts.errors import HostError
from app.core.jobs.model import Job


def register(sub: Any) -> None:
    """Add the ``jobs`` command."""
    parser = sub.add_parser("jobs", help="list, inspect, follow, cancel or delete jobs")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="every job, newest first")
    listing.add_argument("--host", metavar="NAME")
    listing.set_defaults(handler=run_list)
    show = verbs.add_parser("show", help="one job in detail")
    show.add_argument("job")
    show.set_defaults(handler=run_show)
    logs = verbs.add_parser("logs", help="a job's log")
    logs.add_argument("job")
    logs.add_argument("--follow", "-f", action="store_true", help="keep streaming until the job ends")
    logs.set_defaults(handler=run_logs)
    cancel = verbs.add_parser("cancel", help="stop a running job")
    cancel.add_argument("job")
    cancel.set_defaults(handler=run_cancel)
    remove = verbs.add_parser("rm", help="delete a job and its container")
    remove.add_argument("job")
    remove.add_argument("--files", action="store_true", help="also delete its folder on the host")
    remove.set_defaults(handler=run_rm)


def _job(manager: Any, job_id: str) -> Job:
    try:
        return manager.store.get(job_id)
    except KeyError as exc:
        raise UsageError(str(exc).strip("'\"")) from exc


def run_list(args: argparse.Namespace) -> int:
    """Print the jobs (after reconciling unfinished ones with their containers)."""
    manager = open_manager()
    manager.reconcile()
    jobs = manager.store.all(host=args.host)
    if not jobs:
        print("No jobs yet: taodesk run SKILL ACTION --host NAME")
    for job in jobs:
        print(job_line(job))
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print a job's details, lineage, hint and spec."""
    manager = open_manager()
    job = _job(manager, args.job)
    if not job.status.is_final:
        try:
            job = manager.refresh(job.id)
        except HostError as exc:
            print(f"(could not reach host: {exc})")
    print(f"job       {job.id}\nskill     {job.skill}\naction    {job.action}\nhost      {job.host}")
    print(
        f"status    {job.status.value}"
        + (f" (exit code {job.exit_code})" if job.exit_code is not None else "")
    )
    print(f"duration  {format_duration(job.duration)}\nimage     {job.image}\nfolder    {job.job_dir}")
    print(f"gpus      {', '.join(map(str, job.gpus)) or 'none'}")
    if job.checkpoint:
        print(f"checkpoint {job.checkpoint}")
    lineage = " -> ".join(f"{j.action}:{j.id}" for j in manager.store.lineage(job.id))
    print(f"lineage   {lineage}")
    children = manager.store.children(job.id)
    if children:
        print("children  " + ", ".join(f"{c.action}:{c.id}" for c in children))
    if job.error_hint:
        print(f"hint      {job.error_hint}")
    print("spec:\n" + job.spec_yaml)
    return 0


def run_logs(args: argparse.Namespace) -> int:
    """Print the stored log (fetching what is new); with --follow, stream until the job ends."""
    manager = open_manager()
    job = _job(manager, args.job)
    try:
        manager.collect_logs(job.id)
    except HostError as exc:
        print(f"(could not reach host '{job.host}': {exc}; showing the stored log)", file=sys.stderr)
    for line in manager.log(job.id).lines():
        print(line.text)
    if args.follow and not job.status.is_final:
        stop = threading.Event()
        try:
            manager.follow(
                job.id, on_lines=lambda lines: print("\n".join(x.text for x in lines), flush=True), stop=stop
            )
        except KeyboardInterrupt:
            stop.set()
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    """Cancel a job."""
    manager = open_manager()
    job = manager.cancel(_job(manager, args.job).id)
    print(f"Job {job.id} {job.status.value}")
    return 0


def run_rm(args: argparse.Namespace) -> int:
    """Delete a job (container, record, stored log; its folder with --files)."""
    manager = open_manager()
    job = _job(manager, args.job)
    manager.delete(job.id, remove_files=args.files)
    print(f"Deleted job {job.id}")
    return 0
