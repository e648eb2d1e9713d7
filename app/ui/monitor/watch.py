"""What the monitor panel's background worker does: poll every watched job's telemetry on its host.

Runs off the GUI thread. A watch's monitor is created on its first poll (opening the host's session
may take a moment over SSH); a finished job is read to its end once and then left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.core.hosts.errors import HostError
from app.core.jobs.model import Job
from app.core.telemetry.job_monitor import JobMonitor, MonitorUpdate
from app.core.telemetry.system_metrics import MetricsSampler, MetricsSnapshot

if TYPE_CHECKING:
    from app.core.hosts.session import HostSession

SessionOpener = Callable[[str], "HostSession"]


@dataclass
class Watch:
    """One job followed by the panel; `job` is replaced by the GUI when the job's record changes."""

    job: Job
    monitor: JobMonitor | None = None
    done: bool = False


@dataclass
class PollResult:
    """What one round found: updates per job, and a message per job whose host could not be read."""

    updates: list[MonitorUpdate] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def poll_watches(watches: list[Watch], open_session: SessionOpener) -> PollResult:
    """Poll each unfinished watch once (a finished job: read to the end, then marked done)."""
    result = PollResult()
    for watch in watches:
        if watch.done:
            continue
        job = watch.job
        try:
            if watch.monitor is None:
                watch.monitor = JobMonitor(job, open_session(job.host))
            if job.status.is_final:
                result.updates.append(watch.monitor.finish())
                watch.done = True
            else:
                result.updates.append(watch.monitor.poll())
        except (HostError, OSError) as error:
            result.errors[job.id] = str(error) or type(error).__name__
    return result


@dataclass
class MetricsWatch:
    """The primary job's sampler (created on the first sample, in the worker)."""

    job: Job
    sampler: MetricsSampler | None = None


def sample_metrics(watch: MetricsWatch, open_session: SessionOpener, running: bool) -> MetricsSnapshot:
    """One reading of the job's GPUs and container while it runs; only the host's GPU note after."""
    if watch.sampler is None:
        watch.sampler = MetricsSampler(watch.job, open_session(watch.job.host))
    watch.sampler.job = watch.job
    if running:
        return watch.sampler.sample()
    watch.sampler.probe()
    return watch.sampler.snapshot()
