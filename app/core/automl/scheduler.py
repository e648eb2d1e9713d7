"""The study loop: propose, launch a child train job on a free GPU group, watch, report, prune, finish.

A ``StudyScheduler`` is a plain object. ``step()`` does one round; ``run()`` repeats it until the
study ends (the CLI runs it in the foreground); ``start()`` runs it in a background thread (the
GUI). Each trial is an ordinary train job with ``study_id`` set and its trial number in
``extra``; its metric comes from the job's scalars or status KPIs. A pruned trial's container is
stopped. Trials never share a GPU: each takes one disjoint group of the study's GPUs, and a
group another job is using is skipped. On a host without GPUs, ``parallel`` trials run at once.

When the scheduler opens a study that was interrupted, trials Optuna still shows as running are
matched with their jobs: a job still running is followed again, a finished one is recorded, and a
trial whose job was never created is queued again with the same values (nothing is re-run).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field

from psygnal import Signal

from app.core.automl.engine import Proposal, StudyEngine, open_storage
from app.core.automl.metrics import TrialMetricReader, task_dir
from app.core.automl.recovery import RunningTrial, reconcile_trials
from app.core.automl.study import StudyRecord, StudyRequest, StudyState, StudyStore, owner_name
from app.core.hosts.errors import HostError
from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.model import Job, JobStatus
from app.core.jobs.params import ParentCheckpointError
from app.core.jobs.plan import LaunchError
from app.core.specs.document import SpecDocument
from app.core.specs.validation import ERROR, SpecValidator

PRUNE_GRACE_SECONDS = 5
MAX_LAUNCH_FAILURES_IN_A_ROW = 3
MAX_JOB_FAILURES_IN_A_ROW = 4


class StudyBusy(RuntimeError):
    """Another live scheduler runs the study."""


@dataclass
class StepReport:
    """What one step did (for logs, tests and the benchmark)."""

    launched: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    pruned: list[int] = field(default_factory=list)


class StudyScheduler:
    """Runs one study; ``changed(study_id)`` comes from the scheduler's thread when something happened."""

    changed = Signal(str)

    def __init__(
        self,
        manager: JobManager,
        studies: StudyStore,
        study_id: str,
        poll_seconds: float = 1.0,
        owner: str | None = None,
    ) -> None:
        self.manager = manager
        self.studies = studies
        self.record = studies.get(study_id)
        self.study_id = self.record.id
        self.poll_seconds = poll_seconds
        self.owner = owner or owner_name()
        self.running: dict[int, RunningTrial] = {}
        self.engine: StudyEngine | None = None
        self._launch_failures = 0
        self._job_failures = 0
        self._launched_any = False
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self.error = ""

    # -- opening and closing -----------------------------------------------------------------------

    def open(self) -> None:
        """Claim the study (StudyBusy if another live scheduler holds it) and reconcile its trials."""
        if not self.studies.claim(self.study_id, self.owner):
            raise StudyBusy(f"study {self.study_id} is being run by {self.studies.get(self.study_id).owner}")
        self.record = self.studies.get(self.study_id)
        config = self.record.config
        base = SpecDocument.from_yaml(config.spec_yaml, f"study {self.study_id} spec")
        self.base_spec = base
        self.validator = SpecValidator(self.manager.bank.skill(config.skill), config.action)
        self.engine = StudyEngine(
            self.study_id, config.space, config.engine_settings(), open_storage(self.studies.path), base
        )
        self._launched_any = any(t.user_attrs.get("job_id") for t in self.engine.trials())
        self._reconcile()

    def close(self) -> None:
        """Let go of the study (running trials keep running; a later scheduler picks them up)."""
        self.studies.release(self.study_id, self.owner)

    def _engine(self) -> StudyEngine:
        if self.engine is None:
            raise RuntimeError("the scheduler is not open")
        return self.engine

    # -- the loop ----------------------------------------------------------------------------------

    def step(self) -> StepReport:
        """One round: controls, running trials, new trials, end of study."""
        report = StepReport()
        self.record = self.studies.heartbeat(self.study_id, self.owner)
        self._apply_request()
        self._watch(report)
        if self.record.state is StudyState.RUNNING:
            self._launch_free_slots(report)
        self._settle()
        if report.launched or report.finished or report.pruned:
            self.changed.emit(self.study_id)
        return report

    @property
    def finished(self) -> bool:
        """True once the study reached a final state."""
        return self.record.state.is_final

    def run(self, halt: threading.Event | None = None) -> StudyRecord:
        """Step until the study ends or ``halt`` is set (the study is released either way)."""
        halt = halt or self._halt
        try:
            if self.engine is None:
                self.open()
            while not halt.is_set():
                self.step()
                if self.finished:
                    break
                halt.wait(self.poll_seconds)
        finally:
            self.close()
        return self.record

    def refresh_once(self) -> StudyRecord:
        """Record what happened to the trials of a study nobody runs (no new trial is started)."""
        self.open()
        try:
            self.record = self.studies.heartbeat(self.study_id, self.owner)
            self._apply_request()
            self._watch(StepReport())
            self._settle()
        finally:
            self.close()
        return self.record

    def start(self) -> None:
        """Run in a background thread (errors end up in ``error`` and the study's message)."""
        self._thread = threading.Thread(target=self._run_guarded, name=f"automl-{self.study_id}", daemon=True)
        self._thread.start()

    def _run_guarded(self) -> None:
        try:
            self.run()
        except StudyBusy as error:
            self.error = str(error)
        except Exception as error:
            self.error = str(error) or type(error).__name__
            with contextlib.suppress(Exception):
                self.studies.update(self.study_id, message=f"scheduler stopped: {self.error}")
            self.changed.emit(self.study_id)

    @property
    def alive(self) -> bool:
        """True while the background thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def halt(self, timeout: float | None = None) -> None:
        """Stop the loop (trials keep running) and wait for the thread."""
        self._halt.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)

    # -- controls ----------------------------------------------------------------------------------

    def _apply_request(self) -> None:
        record = self.record
        request, state = record.request, record.state
        if request is StudyRequest.NONE:
            return
        new_state = state
        if request is StudyRequest.PAUSE and state is StudyState.RUNNING:
            new_state = StudyState.PAUSED
        elif request is StudyRequest.RESUME and state in (
            StudyState.PAUSED,
            StudyState.STOPPING,
            StudyState.STOPPED,
            StudyState.FINISHED,
        ):
            new_state = StudyState.RUNNING
        elif request is StudyRequest.STOP and not state.is_final:
            new_state = StudyState.STOPPING
        elif request is StudyRequest.CANCEL and not state.is_final:
            new_state = StudyState.CANCELLING
        self.record = self.studies.update(
            self.study_id,
            state=new_state,
            request=StudyRequest.NONE,
            finished_at=None if not new_state.is_final else record.finished_at,
        )
        if new_state is StudyState.CANCELLING:
            for trial in list(self.running.values()):
                self._stop_trial(trial, "cancelled with the study")

    def _settle(self) -> None:
        state = self.record.state
        final: StudyState | None = None
        if state is StudyState.CANCELLING and not self.running:
            final = StudyState.CANCELLED
        elif state is StudyState.STOPPING and not self.running:
            final = StudyState.FAILED if self.record.extra.get("failing") else StudyState.STOPPED
        elif state is StudyState.RUNNING and not self.running and self._budget_left() <= 0:
            final = StudyState.FINISHED
        if final is not None:
            self.record = self.studies.update(self.study_id, state=final, finished_at=time.time())
            self.changed.emit(self.study_id)

    def _fail_study(self, message: str) -> None:
        """The study cannot go on: no new trials; it ends as failed once the running ones end."""
        extra = {**self.record.extra, "failing": True}
        self.record = self.studies.update(
            self.study_id, state=StudyState.STOPPING, message=message, extra=extra
        )

    # -- running trials ----------------------------------------------------------------------------

    def _watch(self, report: StepReport) -> None:
        engine = self._engine()
        for trial in list(self.running.values()):
            try:
                job = self.manager.refresh(trial.job_id)
            except KeyError:
                engine.fail(trial.number, f"job {trial.job_id} was deleted")
                self.running.pop(trial.number, None)
                report.finished.append(trial.number)
                continue
            except HostError as error:
                self.record = self.studies.update(self.study_id, message=str(error))
                self.manager.drop_session(self.record.config.host)
                continue
            if self._read_metric(trial, job) and not job.status.is_final:
                self._stop_trial(trial, "pruned: its intermediate values were poor")
                engine.prune(trial.number, trial.stop_reason)
                self.running.pop(trial.number, None)
                report.pruned.append(trial.number)
                continue
            if job.status.is_final:
                self._finish_trial(trial, job)
                report.finished.append(trial.number)

    def _reader(self, trial: RunningTrial, job: Job) -> TrialMetricReader:
        if trial.reader is None:
            session = self.manager.session(job.host)
            trial.reader = TrialMetricReader(
                session, task_dir(job.results_dir, job.action), self.record.config.metric
            )
        return trial.reader

    def _read_metric(self, trial: RunningTrial, job: Job) -> bool:
        """Report new values; True when the pruner says to stop the trial."""
        try:
            points = self._reader(trial, job).poll()
        except (HostError, OSError):
            return False
        may_prune = (
            not trial.baseline and not trial.stop_reason and self.record.state is not StudyState.CANCELLING
        )
        prune = False
        for point in points:
            prune = self._engine().report(trial.number, point.step, point.value, may_prune) or prune
        return prune

    def _stop_trial(self, trial: RunningTrial, reason: str) -> None:
        trial.stop_reason = reason
        try:
            self.manager.cancel(trial.job_id, grace_seconds=PRUNE_GRACE_SECONDS)
        except (HostError, KeyError) as error:
            self.studies.update(self.study_id, message=f"trial {trial.number}: {error}")

    def _finish_trial(self, trial: RunningTrial, job: Job) -> None:
        engine = self._engine()
        self.running.pop(trial.number, None)
        reader = self._reader(trial, job)
        with contextlib.suppress(HostError, OSError):
            self._read_metric(trial, job)
        if job.status is JobStatus.COMPLETED:
            value = reader.last
            if value is None:
                seen = ", ".join(reader.names_seen()) or "nothing"
                message = (
                    f"the job finished but never reported '{self.record.config.metric}' in its scalars "
                    f"or status KPIs (it reported: {seen})"
                )
                engine.fail(trial.number, message)
                self._fail_study(f"trial {trial.number}: {message}; check the study's metric")
            else:
                engine.complete(trial.number, value)
                self._job_failures = 0
        elif job.status is JobStatus.CANCELLED and trial.stop_reason.startswith("pruned"):
            engine.prune(trial.number, trial.stop_reason)
        elif job.status is JobStatus.CANCELLED:
            engine.fail(trial.number, trial.stop_reason or "its job was cancelled")
        else:
            hint = job.error_hint or f"exit code {job.exit_code}"
            engine.fail(trial.number, f"job {job.id} failed: {hint}")
            self._job_failures += 1
            if trial.baseline:
                self._fail_study(f"the baseline (the spec's own values) failed; fix the spec: {hint}")
            elif self._job_failures >= MAX_JOB_FAILURES_IN_A_ROW:
                self._fail_study(f"{self._job_failures} trials failed in a row; the last one: {hint}")

    # -- new trials --------------------------------------------------------------------------------

    def _budget_left(self) -> int:
        engine = self._engine()
        config = self.record.config
        budget = config.trials + (1 if config.baseline else 0)
        used = sum(
            1 for t in engine.trials() if t.state.name != "WAITING" and not t.user_attrs.get("requeued")
        )
        return budget - used

    def _free_gpu_groups(self) -> list[list[int]]:
        config = self.record.config
        if not config.gpus:
            return [[] for _ in range(max(0, config.slots - len(self.running)))]
        taken = {g for t in self.running.values() for g in t.gpus}
        own = {t.job_id for t in self.running.values()}
        for job in self.manager.store.all(host=config.host, status=JobStatus.RUNNING):
            if job.id not in own:
                taken.update(job.gpus)
        return [group for group in config.gpu_groups() if not taken.intersection(group)]

    def _launch_free_slots(self, report: StepReport) -> None:
        attempts = 0
        for group in self._free_gpu_groups():
            while self._budget_left() > 0 and attempts < 2 * self.record.config.slots + 2:
                attempts += 1
                if self._launch_one(group, report):
                    break
                if self.record.state is not StudyState.RUNNING:
                    return

    def _launch_one(self, gpus: list[int], report: StepReport) -> bool:
        """Propose and launch one trial on ``gpus``; False when the proposal could not run."""
        engine = self._engine()
        config = self.record.config
        asked_at = time.time()
        proposal: Proposal = engine.propose()
        if proposal.infeasible:
            report.finished.append(proposal.number)
            return False
        spec = engine.space.apply(self.base_spec, proposal.values)
        problems = [i for i in self.validator.validate(spec.data) if i.severity == ERROR]
        if problems:
            engine.fail(
                proposal.number, "the drawn values break the spec: " + "; ".join(map(str, problems[:3]))
            )
            report.finished.append(proposal.number)
            return False
        proposed_at = time.time()
        before = set(self.studies.job_ids(self.study_id))
        request = LaunchRequest(
            skill=config.skill,
            action=config.action,
            host=config.host,
            spec=spec,
            gpus=list(gpus),
            image=config.image,
            study_id=self.study_id,
        )
        try:
            job = self.manager.launch(request)
        except (LaunchError, ParentCheckpointError, HostError, KeyError, OSError) as error:
            created = sorted(set(self.studies.job_ids(self.study_id)) - before)
            if created:
                engine.set_attrs(proposal.number, job_id=created[0])
            engine.fail(proposal.number, f"could not launch: {error}")
            report.finished.append(proposal.number)
            self._launch_failures += 1
            if not self._launched_any or self._launch_failures >= MAX_LAUNCH_FAILURES_IN_A_ROW:
                self._fail_study(f"trials cannot be launched on '{config.host}': {error}")
            return True
        running_at = time.time()
        self._launch_failures = 0
        self._launched_any = True
        engine.set_attrs(
            proposal.number,
            job_id=job.id,
            gpus=list(gpus),
            host=config.host,
            asked_at=asked_at,
            running_at=running_at,
            sampling_seconds=proposed_at - asked_at,
            launch_seconds=running_at - proposed_at,
        )
        self.manager.store.update(
            job.id, extra={**job.extra, "automl_trial": proposal.number, "automl_baseline": proposal.baseline}
        )
        self.running[proposal.number] = RunningTrial(proposal.number, job.id, list(gpus), proposal.baseline)
        report.launched.append(proposal.number)
        return True

    def _reconcile(self) -> None:
        for trial in reconcile_trials(self._engine(), self.manager, self.studies.job_ids(self.study_id)):
            self.running[trial.number] = trial
