"""After a restart: match the trials Optuna shows as running with their jobs, without re-running any.

``JobManager.launch`` records the job, creates its container, starts it, then marks it running,
and the scheduler then links the job to its trial. The app can die between any two of these. A
job recorded but not linked is linked now (launches are one at a time, so there is at most one);
a job still running is followed again and a finished one is recorded by the scheduler; a job that
never ran is closed (its half-made container removed) and the trial's values are queued again,
as are those of a trial whose job was never created. Such a re-queued trial does not count.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from app.core.automl.engine import StudyEngine
from app.core.automl.metrics import TrialMetricReader
from app.core.hosts.errors import HostError
from app.core.jobs.manager import LABEL_JOB, JobManager
from app.core.jobs.model import Job, JobStatus


@dataclass
class RunningTrial:
    """A trial whose job is on its host."""

    number: int
    job_id: str
    gpus: list[int]
    baseline: bool
    reader: TrialMetricReader | None = None
    stop_reason: str = ""


INTERRUPTED_HINT = "Launch interrupted: the app stopped while starting this job, so it never ran."
START_FAILURE_PREFIX = "Could not start"


def _labelled_container(manager: JobManager, job: Job) -> Any:
    from docker.errors import DockerException, NotFound

    docker = manager.session(job.host).docker
    try:
        if job.container_id:
            return docker.containers.get(job.container_id)
        found = docker.containers.list(all=True, filters={"label": f"{LABEL_JOB}={job.id}"})
    except NotFound:
        return None
    except DockerException as error:
        raise HostError(
            f"host '{job.host}': cannot look for job {job.id}'s container: {error}", job.host
        ) from error
    return found[0] if found else None


def launch_was_interrupted(manager: JobManager, job: Job) -> bool:
    """True when ``job`` never ran because its launch was cut short (the job is then closed).

    A job whose container exists and started is brought up to date instead, and False is returned.
    """
    if job.started_at is not None:
        return False
    if job.status.is_final:
        return (
            job.status is JobStatus.FAILED
            and not job.error_hint.startswith(START_FAILURE_PREFIX)
            and (job.container_id is None)
        )
    container = _labelled_container(manager, job)
    if container is not None and container.status not in ("created", ""):
        manager.store.update(
            job.id, container_id=container.id, status=JobStatus.RUNNING, started_at=time.time()
        )
        return False
    if container is not None:
        from docker.errors import DockerException

        with contextlib.suppress(DockerException):
            container.remove(force=True)
    manager.store.update(
        job.id,
        status=JobStatus.FAILED,
        container_id=None,
        error_hint=INTERRUPTED_HINT,
        finished_at=time.time(),
    )
    return True


def reconcile_trials(
    engine: StudyEngine, manager: JobManager, study_job_ids: list[str]
) -> list[RunningTrial]:
    """The running trials of a study being opened again, each with its job (see the module's notes)."""
    trials = engine.trials()
    linked = {str(t.user_attrs["job_id"]) for t in trials if t.user_attrs.get("job_id")}
    orphans = [job_id for job_id in study_job_ids if job_id not in linked]
    running = []
    for frozen in trials:
        if frozen.state.name != "RUNNING":
            continue
        job_id = frozen.user_attrs.get("job_id")
        if not job_id and orphans:
            job_id = orphans.pop(0)
            engine.set_attrs(frozen.number, job_id=job_id)
        if not job_id:
            requeue(engine, frozen, "interrupted before its job was created")
            continue
        job = manager.store.find(job_id)
        if job is None:
            engine.fail(frozen.number, f"its job {job_id} is no longer in the job store")
            continue
        with contextlib.suppress(HostError):
            if launch_was_interrupted(manager, job):
                requeue(engine, frozen, f"interrupted while its job {job_id} was being started")
                continue
        attrs = frozen.user_attrs
        running.append(
            RunningTrial(
                frozen.number, str(job_id), list(attrs.get("gpus") or []), bool(attrs.get("baseline"))
            )
        )
    return running


def requeue(engine: StudyEngine, frozen: Any, why: str) -> None:
    """Close a trial that never ran and queue its values again (it does not count)."""
    engine.set_attrs(frozen.number, requeued=True)
    engine.fail(frozen.number, f"{why}; its values were queued again")
    attrs: dict[str, Any] = {"requeued_from": frozen.number}
    if frozen.user_attrs.get("baseline"):
        attrs["baseline"] = True
    engine.study.enqueue_trial(dict(frozen.params), user_attrs=attrs)
