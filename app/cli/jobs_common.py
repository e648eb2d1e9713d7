"""Shared set-up of the job commands: the store, the manager, readable job lines."""

from __future__ import annotations

import time

from app.cli.common import load_bank
from app.core.jobs.manager import JobManager
from app.core.jobs.model import Job
from app.core.jobs.store import JobStore


def open_manager(banks: list[str] | None = None) -> JobManager:
    """A job manager over the user's store, hosts and skill banks."""
    import argparse

    return JobManager(JobStore(), load_bank(argparse.Namespace(bank=banks or [])))


def format_duration(seconds: float | None) -> str:
    """``1:02:03`` style, or ``-``."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def job_line(job: Job) -> str:
    """One line per job for listings."""
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
    parent = job.parent_id or "-"
    return (
        f"{job.id}\t{job.skill.removeprefix('tao-train-')}\t{job.action}\t{job.status.value}\t{job.host}\t"
        f"{format_duration(job.duration)}\t{created}\tparent {parent}"
    )
