"""A running job's GPUs and container, sampled into bounded series for live plots.

`MetricsSampler(job, session).sample()` takes one reading: utilisation and memory of the job's GPUs
from `nvidia-smi` on the host, and the container's CPU and memory from the Docker engine, computed
as `docker stats` computes them (`container_sample`). A host without GPUs is a note, not an error.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from app.core.hosts.gpus import GpuSample, sample_gpus
from app.core.jobs.model import Job

if TYPE_CHECKING:
    from app.core.hosts.session import HostSession

DEFAULT_METRICS_CAPACITY = 3600
_FloatArray = npt.NDArray[np.float64]



@dataclass(frozen=True, slots=True)
class ContainerSample:
    """One reading of a container: CPU in percent of one core (200 = two cores busy), memory in bytes."""

    time: float
    cpu_percent: float | None
    memory_used_bytes: int | None
    memory_limit_bytes: int | None

    @property
    def memory_percent(self) -> float | None:
        """Memory used as a percentage of the limit."""
        if self.memory_used_bytes is None or not self.memory_limit_bytes:
            return None
        return 100.0 * self.memory_used_bytes / self.memory_limit_bytes


def _number(mapping: Mapping[str, Any] | None, *keys: str) -> float | None:
    value: Any = mapping
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _cpu_percent(current: Mapping[str, Any], previous: Mapping[str, Any] | None) -> float | None:
    """`docker stats`' formula: container CPU time over host CPU time, times the online CPUs."""
    if previous is None:
        return None
    readings = (
        _number(current, "cpu_usage", "total_usage"),
        _number(previous, "cpu_usage", "total_usage"),
        _number(current, "system_cpu_usage"),
        _number(previous, "system_cpu_usage"),
    )
    used, used_before, system, system_before = (value or 0.0 for value in readings)
    if None in readings or not system_before:
        return None
    per_cpu = (current.get("cpu_usage") or {}).get("percpu_usage") or []
    cpus = _number(current, "online_cpus") or len(per_cpu)
    system_delta = system - system_before
    if system_delta <= 0 or not cpus:
        return None
    return max(0.0, (used - used_before) / system_delta * cpus * 100.0)


def container_sample(
    stats: Mapping[str, Any], previous_cpu: Mapping[str, Any] | None = None, when: float | None = None
) -> ContainerSample:
    """CPU and memory from one `container.stats(stream=False)` answer, computed as `docker stats` does.

    CPU uses the answer's own `precpu_stats` when the engine filled it, else `previous_cpu` (the
    `cpu_stats` of an earlier answer). Memory is usage minus the inactive page cache
    (`total_inactive_file` on cgroup v1, `inactive_file` on v2), as the docker CLI shows it.
    """
    cpu = stats.get("cpu_stats") or {}
    pre = stats.get("precpu_stats") or {}
    reference = pre if _number(pre, "system_cpu_usage") else previous_cpu
    memory = stats.get("memory_stats") or {}
    usage = _number(memory, "usage")
    used: int | None = None
    if usage is not None:
        details = memory.get("stats") or {}
        cache = _number(details, "total_inactive_file")
        if cache is None:
            cache = _number(details, "inactive_file")
        used = int(usage - cache) if cache is not None and cache < usage else int(usage)
    limit = _number(memory, "limit")
    return ContainerSample(
        time.time() if when is None else when,
        _cpu_percent(cpu, reference),
        used,
        int(limit) if limit else None,
    )


class BoundedSeries:
    """The last `capacity` (time, value) samples."""

    def __init__(self, capacity: int = DEFAULT_METRICS_CAPACITY) -> None:
        self._points: deque[tuple[float, float]] = deque(maxlen=max(2, capacity))

    def __len__(self) -> int:
        return len(self._points)

    def append(self, when: float, value: float | None) -> None:
        """Add a sample (None is stored as NaN, drawn as a gap)."""
        self._points.append((when, math.nan if value is None else float(value)))

    def arrays(self) -> tuple[_FloatArray, _FloatArray]:
        """Times (seconds since the epoch) and values, as new arrays."""
        if not self._points:
            return np.empty(0), np.empty(0)
        data = np.array(self._points, dtype=np.float64)
        return data[:, 0].copy(), data[:, 1].copy()

    def last(self) -> float | None:
        """The latest value (None when empty or not a number)."""
        if not self._points:
            return None
        value = self._points[-1][1]
        return None if math.isnan(value) else value


@dataclass
class MetricsSnapshot:
    """Copies of everything sampled so far, for drawing on another thread."""

    gpu_utilisation: dict[int, tuple[_FloatArray, _FloatArray]]
    gpu_memory_mib: dict[int, tuple[_FloatArray, _FloatArray]]
    gpu_memory_total_mib: dict[int, int | None]
    cpu_percent: tuple[_FloatArray, _FloatArray]
    memory_bytes: tuple[_FloatArray, _FloatArray]
    memory_limit_bytes: int | None
    gpu_note: str
    container_note: str


class MetricsSampler:
    """Samples a running job's GPUs and container into bounded series (one call to `sample()` each).

    GPUs: `nvidia-smi` on the host for the job's GPU indices (all the host's GPUs are asked once to
    tell "this job uses no GPU" from "this host has no GPUs"; both are notes, not errors).
    Container: one stats reading per sample; CPU is the share used since the previous sample, as
    `docker stats` shows it. Blocking calls: run them off the GUI thread.
    """

    def __init__(self, job: Job, session: HostSession, capacity: int = DEFAULT_METRICS_CAPACITY) -> None:
        self.job = job
        self.session = session
        self.capacity = capacity
        self.gpu_utilisation: dict[int, BoundedSeries] = {}
        self.gpu_memory_mib: dict[int, BoundedSeries] = {}
        self.gpu_memory_total_mib: dict[int, int | None] = {}
        self.cpu_percent = BoundedSeries(capacity)
        self.memory_bytes = BoundedSeries(capacity)
        self.memory_limit_bytes: int | None = None
        self.gpu_note = ""
        self.container_note = ""
        self._host_has_gpus: bool | None = None
        self._previous_cpu: Mapping[str, Any] | None = None
        self._one_shot = True

    def sample(self, when: float | None = None) -> MetricsSnapshot:
        """Take one reading of the GPUs and the container; return everything sampled so far."""
        now = time.time() if when is None else when
        self._sample_gpus(now)
        self._sample_container(now)
        return self.snapshot()

    def probe(self) -> None:
        """Only find out whether the host has GPUs (for a finished job: there is nothing to sample)."""
        if self._host_has_gpus is None:
            self._host_has_gpus = bool(sample_gpus(self.session, ()))
        if not self._host_has_gpus:
            self.gpu_note = self._no_gpu_note()
        elif not self.job.gpus:
            self.gpu_note = "This job uses no GPU."
        if not self.cpu_percent:
            self.container_note = "Container CPU and memory are sampled while the job runs."

    def snapshot(self) -> MetricsSnapshot:
        """Copies of the series sampled so far."""
        return MetricsSnapshot(
            {index: series.arrays() for index, series in self.gpu_utilisation.items()},
            {index: series.arrays() for index, series in self.gpu_memory_mib.items()},
            dict(self.gpu_memory_total_mib),
            self.cpu_percent.arrays(),
            self.memory_bytes.arrays(),
            self.memory_limit_bytes,
            self.gpu_note,
            self.container_note,
        )

    def _sample_gpus(self, now: float) -> None:
        self.probe()
        if not self._host_has_gpus or not self.job.gpus:
            return
        samples = sample_gpus(self.session, self.job.gpus)
        self.gpu_note = "" if samples else "nvidia-smi gave no reading for the job's GPUs."
        for gpu in samples:
            self._add_gpu(gpu, now)

    def _stats(self, container: Any) -> Any:
        """One stats reading: a one-shot answer (API 1.41+, immediate; CPU is then measured between
        samples), else the engine's own two readings a second apart."""
        import docker.errors

        if self._one_shot:
            try:
                return container.stats(stream=False, one_shot=True)
            except docker.errors.InvalidVersion:
                self._one_shot = False
        return container.stats(stream=False)

    def _no_gpu_note(self) -> str:
        return f"No GPUs on host '{self.session.name}': the job runs on the CPU."

    def _add_gpu(self, gpu: GpuSample, now: float) -> None:
        utilisation = self.gpu_utilisation.setdefault(gpu.index, BoundedSeries(self.capacity))
        memory = self.gpu_memory_mib.setdefault(gpu.index, BoundedSeries(self.capacity))
        utilisation.append(now, gpu.utilization_percent)
        memory.append(now, gpu.memory_used_mib)
        self.gpu_memory_total_mib[gpu.index] = gpu.memory_total_mib

    def _sample_container(self, now: float) -> None:
        if not self.job.container_id:
            self.container_note = "The job has no container."
            return
        import docker.errors

        try:
            container = self.session.docker.containers.get(self.job.container_id)
            stats = self._stats(container)
        except docker.errors.NotFound:
            self.container_note = "The job's container is gone."
            return
        if not isinstance(stats, Mapping) or not stats.get("memory_stats"):
            self.container_note = "The container is not running."
            return
        reading = container_sample(stats, self._previous_cpu, now)  # no CPU yet on a first one-shot
        self._previous_cpu = stats.get("cpu_stats")
        self.container_note = ""
        self.cpu_percent.append(now, reading.cpu_percent)
        self.memory_bytes.append(now, reading.memory_used_bytes)
        if reading.memory_limit_bytes:
            self.memory_limit_bytes = reading.memory_limit_bytes
