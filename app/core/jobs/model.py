"""Jobs: one action run on one host, with its spec, lineage, container and status."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    """Where a job is in its life."""

    CREATED = "created"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """True once the job cannot change any more."""
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def new_job_id(action: str, now: float | None = None) -> str:
    """A readable, unique, container-name-safe id: ``20261121-115000-train-3f9a``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    return f"{stamp}-{action.replace('_', '-')}-{secrets.token_hex(2)}"


@dataclass
class Job:
    """A job as the store keeps it. ``job_dir`` is the job's folder on its host."""

    id: str
    skill: str
    action: str
    host: str
    spec_yaml: str
    job_dir: str
    image: str = ""
    parent_id: str | None = None
    container_id: str | None = None
    status: JobStatus = JobStatus.CREATED
    exit_code: int | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    error_hint: str = ""
    gpus: list[int] = field(default_factory=list)
    checkpoint: str = ""
    study_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def container_name(self) -> str:
        """The container's name on the host."""
        return f"taodesk-{self.id}"

    @property
    def spec_path(self) -> str:
        """Where the spec lives on the host."""
        return f"{self.job_dir}/spec.yaml"

    @property
    def results_dir(self) -> str:
        """TAO's ``results_dir`` for this job (each task writes ``results_dir/<task>``)."""
        return f"{self.job_dir}/results"

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (or to now while running)."""
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else time.time()
        return max(0.0, end - self.started_at)
