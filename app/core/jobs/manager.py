"""The job manager: launch, follow, cancel, delete and reattach jobs on every host."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from app.core.hosts.errors import HostError
from app.core.hosts.gpus import list_gpus, nvidia_runtime_present
from app.core.hosts.session import HostSession, open_session
from app.core.hosts.settings import HostConfig, HostStore
from app.core.jobs.lifecycle import ContainerOutcome, failure_hint, status_from_container
from app.core.jobs.logstore import JobLog
from app.core.jobs.model import Job, JobStatus, new_job_id
from app.core.jobs.params import infer_spec_params
from app.core.jobs.plan import (
    LaunchError,
    LaunchPlan,
    MountSpec,
    build_plan,
    masked_spec,
    requested_gpu_count,
)
from app.core.skills.bank import SkillBank
from app.core.specs.document import SpecDocument
from app.core.telemetry.logs import LogLine, LogStream, ResumeFilter

LABEL_JOB = "taodesk.job"
STOP_GRACE_SECONDS = 10
MEMLOCK_WARNING = (
    "host '{host}': the Docker engine does not allow unlimited locked memory (memlock), so the job "
    "runs with the engine's limit; multi-GPU jobs may need dockerd started with LimitMEMLOCK=infinity"
)


@dataclass
class LaunchRequest:
    """What the user asked for: an action of a skill on a host, with its spec and options."""

    skill: str
    action: str
    host: str
    spec: SpecDocument
    gpus: list[int] = field(default_factory=list)
    image: str | None = None
    parent_id: str | None = None
    checkpoint: str | None = None
    resume: bool = False
    allow_latest_link: bool = False
    memory_limit: str | None = None
    network_mode: str | None = None
    study_id: str | None = None


def _engine_reason(error: Exception) -> str:
    explanation = getattr(error, "explanation", None)
    text = str(explanation or error)
    if "could not select device driver" in text and "gpu" in text:
        return (
            "the Docker engine cannot give GPUs to containers (no NVIDIA container runtime on this host); "
            f"engine said: {text}"
        )
    return text


def _close_when_stopped(stream: Any, stop: threading.Event, finished: threading.Event) -> None:
    """Close a log stream as soon as ``stop`` is set, so a quiet job's follower ends promptly."""
    while not finished.is_set():
        if stop.wait(0.2):
            with contextlib.suppress(Exception):
                stream.close()
            return


class JobManager:
    """Everything that happens to jobs, on top of host sessions and the job store."""

    def __init__(
        self,
        store: Any,
        bank: SkillBank,
        hosts: HostStore | None = None,
        session_factory: Callable[[HostConfig], HostSession] | None = None,
    ) -> None:
        self.store = store
        self.bank = bank
        self.hosts = hosts or HostStore()
        self._open = session_factory or open_session
        self._sessions: dict[str, HostSession] = {}
        self._lock = threading.Lock()
        self._memlock_refused: set[str] = set()

    def session(self, host: str) -> HostSession:
        """An open session to a host (reused)."""
        with self._lock:
            current = self._sessions.get(host)
            if current is None:
                current = self._open(self.hosts.get(host))
                self._sessions[host] = current
            return current

    def drop_session(self, host: str) -> None:
        """Forget a broken session so the next call reconnects."""
        with self._lock:
            session = self._sessions.pop(host, None)
        if session is not None:
            with contextlib.suppress(HostError):
                session.close()

    def close(self) -> None:
        """Close every session."""
        for host in list(self._sessions):
            self.drop_session(host)

    def log(self, job_id: str) -> JobLog:
        """A job's stored log."""
        return JobLog(job_id)

    # -- launching ---------------------------------------------------------------------------------

    def prepare(self, request: LaunchRequest) -> LaunchPlan:
        """Check the request against the host and build the container plan (nothing created yet)."""
        skill = self.bank.skill(request.skill)
        action = skill.action(request.action)
        config = self.hosts.get(request.host)
        session = self.session(request.host)
        image = request.image or config.image_for(skill.name, action.image or skill.default_image or "")
        if not image:
            raise LaunchError(
                f"no container image for {skill.name}/{request.action}: set one for host '{config.name}'"
            )
        parent = self.store.get(request.parent_id) if request.parent_id else None
        job_id = new_job_id(request.action)
        job = Job(
            id=job_id,
            skill=skill.name,
            action=request.action,
            host=config.name,
            spec_yaml="",
            job_dir=f"{config.workspace.rstrip('/')}/{job_id}",
            image=image,
            parent_id=parent.id if parent else None,
            gpus=list(request.gpus),
            study_id=request.study_id,
        )
        spec = request.spec.copy()
        inferred = infer_spec_params(
            skill,
            request.action,
            spec,
            job,
            files=session,
            parent=parent,
            checkpoint=request.checkpoint,
            resume=request.resume,
            allow_latest_link=request.allow_latest_link,
        )
        job.checkpoint = next((v for k, v in inferred.values.items() if v.endswith((".pth", ".tlt"))), "")
        self._check_gpus(session, config, request)
        self._check_image(session, config, image)
        uid, gid = session.uid_gid()
        user = self._host_user(session, config)
        extra_mounts = [MountSpec(m.split(":")[0], m.endswith(":ro")) for m in config.extra_mounts]
        plan = build_plan(
            skill,
            job,
            spec,
            uid=uid,
            gid=gid,
            host_user=user,
            host_gpus=request.gpus,
            shm_size=config.shm_size,
            extra_env=config.extra_env,
            extra_mounts=extra_mounts,
            parent=parent,
            memory_limit=request.memory_limit,
            network_mode=request.network_mode,
        )
        job.spec_yaml = masked_spec(plan.spec).to_yaml(order=action.template)
        return plan

    def _host_user(self, session: HostSession, config: HostConfig) -> str:
        if config.kind == "ssh" and config.ssh_user:
            return config.ssh_user
        home = session.home.rstrip("/")
        return home.rsplit("/", 1)[-1] or "user"

    def _check_gpus(self, session: HostSession, config: HostConfig, request: LaunchRequest) -> None:
        if not request.gpus:
            return
        inventory = list_gpus(session)
        known = [g.index for g in inventory.gpus]
        missing = [g for g in request.gpus if g not in known]
        if missing:
            have = ", ".join(map(str, known)) if known else "none"
            raise LaunchError(
                f"GPU(s) {', '.join(map(str, missing))} are not on host '{config.name}' (it has: {have})"
            )
        if len(set(request.gpus)) != len(request.gpus):
            raise LaunchError("each GPU can be chosen once")

    def _check_image(self, session: HostSession, config: HostConfig, image: str) -> None:
        from docker.errors import DockerException, ImageNotFound

        try:
            session.docker.images.get(image)
        except ImageNotFound:
            raise LaunchError(
                f"image '{image}' is not on host '{config.name}': pull it from the Hosts page "
                f"(taodesk hosts check {config.name} --pull)"
            ) from None
        except DockerException as exc:
            raise LaunchError(f"cannot ask host '{config.name}' for image '{image}': {exc}") from exc

    def launch(self, request: LaunchRequest) -> Job:
        """Create the job folder and spec on the host, record the job, create and start its container."""
        plan = self.prepare(request)
        job = plan.job
        session = self.session(job.host)
        if requested_gpu_count(job.action, plan.spec) and not plan.device_ids:
            plan.warnings.append("no GPUs chosen: the job runs without GPUs")
        if plan.device_ids and not nvidia_runtime_present(session.docker.info()):
            plan.warnings.append(
                "the engine lists no NVIDIA runtime; starting will tell whether GPUs are available"
            )
        for folder in (job.job_dir, job.results_dir, f"{job.job_dir}/.home", f"{job.job_dir}/.cache"):
            session.make_dirs(folder)
        session.write_bytes(job.spec_path, plan.spec_text.encode("utf-8"))
        job.extra["warnings"] = plan.warnings
        self.store.add(job)
        self._create_and_start(session, plan)
        return self.store.get(job.id)

    def _create_and_start(self, session: HostSession, plan: LaunchPlan) -> None:
        from docker.errors import DockerException

        job = plan.job
        if job.host in self._memlock_refused:
            self._without_unlimited_memlock(plan)
        try:
            self._start_container(session, plan)
        except DockerException as exc:
            if "error setting rlimit" not in str(exc) or not plan.unlimited_memlock:
                self._start_failed(job, exc)
            self._memlock_refused.add(job.host)
            self._without_unlimited_memlock(plan)
            try:
                self._start_container(session, plan)
            except DockerException as again:
                self._start_failed(job, again)
        self.store.update(job.id, status=JobStatus.RUNNING, started_at=time.time())

    def _without_unlimited_memlock(self, plan: LaunchPlan) -> None:
        plan.unlimited_memlock = False
        plan.warnings.append(MEMLOCK_WARNING.format(host=plan.job.host))
        self.store.update(plan.job.id, extra={**plan.job.extra, "warnings": plan.warnings})

    def _start_container(self, session: HostSession, plan: LaunchPlan) -> None:
        """Create and start; a container that fails to start is removed before the error goes on."""
        from docker.errors import DockerException

        container = session.docker.containers.create(plan.job.image, **plan.container_options())
        self.store.update(plan.job.id, container_id=container.id)
        try:
            container.start()
        except DockerException:
            with contextlib.suppress(DockerException):
                container.remove(force=True)
            self.store.update(plan.job.id, container_id=None)
            raise

    def _start_failed(self, job: Job, error: Exception) -> NoReturn:
        reason = _engine_reason(error)
        self.store.update(
            job.id,
            status=JobStatus.FAILED,
            error_hint=f"Could not start: {reason}",
            container_id=None,
            finished_at=time.time(),
        )
        raise LaunchError(f"host '{job.host}' could not start the job: {reason}") from error

    # -- following and finishing -------------------------------------------------------------------

    def _container(self, job: Job) -> Any:
        from docker.errors import NotFound

        if not job.container_id:
            return None
        try:
            return self.session(job.host).docker.containers.get(job.container_id)
        except NotFound:
            return None

    def refresh(self, job_id: str) -> Job:
        """Update a job's status from its container; a finished job gets exit code and error hint."""
        job = self.store.get(job_id)
        if job.status.is_final:
            return job
        container = self._container(job)
        if container is None:
            return self.store.update(
                job.id,
                status=JobStatus.FAILED,
                finished_at=job.finished_at or time.time(),
                error_hint=job.error_hint or "The container is gone (removed outside TAO Desk).",
            )
        container.reload()
        outcome = ContainerOutcome.from_attrs(container.attrs)
        status = status_from_container(outcome, cancel_requested=bool(job.extra.get("cancel_requested")))
        if status == job.status:
            return job
        if not status.is_final:
            return self.store.update(job.id, status=status)
        self.collect_logs(job.id)
        skill = self.bank.skills.get(job.skill)
        hint = (
            ""
            if status is JobStatus.COMPLETED
            else failure_hint(skill, job.action, outcome, self.log(job.id).text(last=400))
        )
        if status is JobStatus.CANCELLED:
            hint = "Cancelled by the user."
        return self.store.update(
            job.id, status=status, exit_code=outcome.exit_code, error_hint=hint, finished_at=time.time()
        )

    def _stream_lines(
        self,
        job: Job,
        follow: bool,
        on_lines: Callable[[list[LogLine]], None] | None,
        stop: threading.Event | None,
    ) -> bool:
        """One pass over the container's log from the last stored line; True when the stream ended cleanly."""
        container = self._container(job)
        if container is None:
            return True
        log = self.log(job.id)
        resume = ResumeFilter(log.tail(400))
        since = resume.last_timestamp_ns / 1e9 if resume.last_timestamp_ns is not None else None
        kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": True}
        if since is not None:
            kwargs["since"] = int(since)
        parser = LogStream()
        if follow:
            stream = container.logs(stream=True, follow=True, **kwargs)
            finished = threading.Event()
            if stop is not None:
                closer = threading.Thread(
                    target=_close_when_stopped, args=(stream, stop, finished), daemon=True
                )
                closer.start()
            try:
                for chunk in stream:
                    lines = resume.filter(parser.feed(chunk))
                    log.append(lines)
                    if on_lines and lines:
                        on_lines(lines)
                    if stop is not None and stop.is_set():
                        return False
            except Exception:
                if stop is not None and stop.is_set():
                    return False  # the stream was closed to stop following
                raise
            finally:
                finished.set()
                with contextlib.suppress(Exception):
                    stream.close()
            if stop is not None and stop.is_set():
                return False
        else:
            lines = resume.filter(parser.feed(container.logs(**kwargs)))
            log.append(lines)
            if on_lines and lines:
                on_lines(lines)
        tail = resume.filter(parser.flush())
        log.append(tail)
        if on_lines and tail:
            on_lines(tail)
        return True

    def collect_logs(self, job_id: str) -> None:
        """Fetch whatever the container logged since the last stored line (no follow)."""
        job = self.store.get(job_id)
        try:
            self._stream_lines(job, follow=False, on_lines=None, stop=None)
        except (HostError, OSError) as exc:
            job.extra["log_error"] = str(exc)

    def follow(
        self,
        job_id: str,
        on_lines: Callable[[list[LogLine]], None] | None = None,
        stop: threading.Event | None = None,
        retry_seconds: float = 2.0,
    ) -> Job:
        """Stream a job's log until it finishes (reconnecting after drops, no gap, no duplicate)."""
        from docker.errors import DockerException

        while True:
            job = self.store.get(job_id)
            try:
                self._stream_lines(job, follow=True, on_lines=on_lines, stop=stop)
            except (DockerException, HostError, OSError):
                self.drop_session(job.host)
                if (stop or threading.Event()).wait(retry_seconds):
                    return self.store.get(job_id)  # stopped while waiting to reconnect
                continue
            if stop is not None and stop.is_set():
                return self.store.get(job_id)
            job = self.refresh(job_id)
            if job.status.is_final:
                return job

    def wait(self, job_id: str, poll_seconds: float = 1.0, timeout: float | None = None) -> Job:
        """Block until the job is final (polling), returning it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.refresh(job_id)
            if job.status.is_final:
                return job
            if deadline is not None and time.monotonic() > deadline:
                return job
            time.sleep(poll_seconds)

    def cancel(self, job_id: str, grace_seconds: int = STOP_GRACE_SECONDS) -> Job:
        """Stop the container (SIGTERM, then SIGKILL after the grace period) and mark the job cancelled."""
        from docker.errors import DockerException

        job = self.store.get(job_id)
        if job.status.is_final:
            return job
        job.extra["cancel_requested"] = True
        self.store.save(job)
        container = self._container(job)
        if container is not None:
            try:
                container.stop(timeout=grace_seconds)
            except DockerException as exc:
                raise HostError(f"host '{job.host}' could not stop job {job.id}: {exc}", job.host) from exc
        return self.refresh(job_id)

    def delete(self, job_id: str, remove_files: bool = False) -> None:
        """Remove the job's container and record (and, when asked, its folder on the host)."""
        from docker.errors import DockerException

        job = self.store.get(job_id)
        if not job.status.is_final:
            self.cancel(job_id, grace_seconds=2)
        container = self._container(job)
        if container is not None:
            try:
                container.remove(force=True)
            except DockerException as exc:
                raise HostError(
                    f"host '{job.host}' could not remove job {job.id}'s container: {exc}", job.host
                ) from exc
        if remove_files:
            self.session(job.host).run(["rm", "-rf", "--", job.job_dir])
        self.log(job_id).remove()
        self.store.remove(job_id)

    # -- reattach ----------------------------------------------------------------------------------

    def reconcile(self) -> list[Job]:
        """On start: bring every unfinished job up to date from the containers labelled on its host."""
        updated: list[Job] = []
        pending = [j for j in self.store.all() if not j.status.is_final]
        for host in sorted({j.host for j in pending}):
            try:
                session = self.session(host)
                labelled = {
                    c.labels.get(LABEL_JOB): c
                    for c in session.docker.containers.list(all=True, filters={"label": LABEL_JOB})
                }
            except Exception as exc:
                for job in pending:
                    if job.host == host:
                        self.store.update(job.id, extra={**job.extra, "reconcile_error": str(exc)})
                continue
            for job in (j for j in pending if j.host == host):
                if job.container_id is None and job.id in labelled:
                    self.store.update(job.id, container_id=labelled[job.id].id)
                self.collect_logs(job.id)
                updated.append(self.refresh(job.id))
        return updated
