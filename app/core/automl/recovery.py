"""After a restart: was a trial's job really started, or did the app stop while launching it?

``JobManager.launch`` records the job, creates its container, starts it, then marks it running.
The app can die between any two of these. A job that never ran is closed here (its half-made
container removed) so the study can queue the trial's values again; a job whose container did
start is linked to it and followed like any other.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from app.core.hosts.errors import HostError
from app.core.jobs.manager import LABEL_JOB, JobManager
from app.core.jobs.model import Job, JobStatus

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
