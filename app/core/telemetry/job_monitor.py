"""Follow one job's telemetry on its host: status.json, TensorBoard scalars, GPUs and its container.

- `JobMonitor(job, files).poll()` reads what TAO appended since the last poll (status lines and
  event records, through any `ByteSource`: a local or SSH `HostSession`) and returns a
  `MonitorUpdate` holding only what changed, as copies that can be handed to another thread.
- `progress_for(job, files)` reads a job's status.json once: what a jobs table shows.
- GPUs and the container are sampled by `app.core.telemetry.system_metrics.MetricsSampler`.

Where TAO writes (TAO_FACTS 1.7 and 3): a PyTorch task writes `status.json` and its event files to
`<task>.results_dir` when the spec sets it, else to `<results_dir>/<task>`; the data-services
converter writes `status.json` directly into `<results_dir>`. The monitor looks in that order and
keeps the first place where the file appears.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from app.core.jobs.model import Job, JobStatus
from app.core.telemetry.event_runs import EventRunReader, tao_event_dir
from app.core.telemetry.files import ByteSource, join_path
from app.core.telemetry.problems import ReadProblem
from app.core.telemetry.status import JobProgress, KpiSnapshot, StatusReader

STATUS_FILE = "status.json"
STATUS_READ_CHUNK = 1 << 20
_UNSET = "???"

_FloatArray = npt.NDArray[np.float64]


# -- where a job writes ----------------------------------------------------------------------------


def _spec_of(job: Job) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(job.spec_yaml or "")
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _set_path(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() and value.strip() != _UNSET else None


def job_results_dir(job: Job) -> str:
    """The spec's `results_dir` (the job's results folder when the spec does not set one)."""
    return _set_path(_spec_of(job).get("results_dir")) or job.results_dir


def task_results_dir(job: Job) -> str:
    """Where the job's task writes: `<action>.results_dir` if set, else `<results_dir>/<action>`."""
    spec = _spec_of(job)
    section = spec.get(job.action)
    override = _set_path(section.get("results_dir")) if isinstance(section, dict) else None
    top = _set_path(spec.get("results_dir")) or job.results_dir
    return override or join_path(top, job.action)


def status_file_candidates(job: Job) -> list[str]:
    """The places a job's status.json can be, most likely first."""
    places = [join_path(task_results_dir(job), STATUS_FILE), join_path(job_results_dir(job), STATUS_FILE)]
    return list(dict.fromkeys(places))


def job_event_dir(job: Job) -> str:
    """The folder TAO's TensorBoard logger writes the job's event files to."""
    return tao_event_dir(task_results_dir(job))


# -- status.json -----------------------------------------------------------------------------------


def _split(path: str) -> tuple[str, str]:
    folder, _, name = path.rstrip("/").rpartition("/")
    return folder or "/", name


class StatusFollower:
    """Reads a job's status.json incrementally from whichever candidate place it appears in.

    Each `poll()` lists the file's folder (one call) and reads only the bytes appended since; a
    file that shrank (replaced) is read again from its start. Errors are kept in `problems`.
    """

    def __init__(self, files: ByteSource, candidates: Sequence[str]) -> None:
        self.files = files
        self.candidates = list(candidates)
        self.path: str | None = None
        self.reader = StatusReader(self.candidates[0] if self.candidates else STATUS_FILE)
        self._offset = 0
        self._errors: list[ReadProblem] = []
        self._last_error = ""

    @property
    def progress(self) -> JobProgress:
        """Where the task is, from the lines read so far."""
        return self.reader.progress

    @property
    def kpis(self) -> dict[str, Any]:
        """The latest value of every KPI seen."""
        return self.reader.kpis

    @property
    def kpi_history(self) -> list[KpiSnapshot]:
        """Each distinct kpi block once, with its epoch and step."""
        return self.reader.kpi_history

    @property
    def problems(self) -> list[ReadProblem]:
        """Unreadable lines and read errors so far."""
        return self._errors + self.reader.problems

    @property
    def found(self) -> bool:
        """True once the file was seen."""
        return self.path is not None

    def poll(self) -> bool:
        """Read the new lines; True if any record was read."""
        size = self._locate()
        if size is None or self.path is None:
            return False
        if size < self._offset:
            self.reader = StatusReader(self.path)
            self._offset = 0
        changed = False
        while self._offset < size:
            try:
                want = min(STATUS_READ_CHUNK, size - self._offset)
                chunk = self.files.read_range(self.path, self._offset, want)
            except OSError as error:
                self._note(f"cannot read {self.path}: {error}")
                break
            if not chunk:
                break
            self._offset += len(chunk)
            changed = bool(self.reader.feed(chunk)) or changed
        return changed

    def finish(self) -> bool:
        """The task has ended: a last line without a newline is read too. True if it gave a record."""
        return bool(self.reader.finish())

    def _locate(self) -> int | None:
        """The file's size, finding which candidate exists first; None while none does."""
        for path in [self.path] if self.path else self.candidates:
            folder, name = _split(path)
            try:
                entries = self.files.list_dir(folder)
            except FileNotFoundError:
                continue
            except OSError as error:
                self._note(f"cannot list {folder}: {error}")
                return None
            size = next((entry.size for entry in entries if entry.name == name), None)
            if size is not None:
                if self.path is None:
                    self.path = path
                    self.reader.source_name = path
                return size
        return None

    def _note(self, message: str) -> None:
        if message != self._last_error:
            self._errors.append(ReadProblem(self.path or self.candidates[0], message))
        self._last_error = message


def progress_for(job: Job, files: ByteSource) -> JobProgress | None:
    """A job's progress from its status.json (read once), or None while the file does not exist.

    This does I/O on the job's host: call it off the GUI thread (the jobs table does, in a worker).
    """
    follower = StatusFollower(files, status_file_candidates(job))
    follower.poll()
    if not follower.found:
        return None
    if job.status.is_final:
        follower.finish()
    return follower.progress


def format_seconds(seconds: float | None) -> str:
    """`1:02:03` (or `2d 1:02:03`), `-` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    whole = max(0, round(seconds))
    days, rest = divmod(whole, 86400)
    text = f"{rest // 3600}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {text}" if days else text


def format_kpi(value: Any) -> str:
    """A KPI value as a user reads it: 4 significant digits for numbers, text as it is."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}" if value == 0 or 1e-3 <= abs(value) < 1e6 else f"{value:.3e}"
    return str(value)


def describe_progress(
    progress: JobProgress | None, status: JobStatus | None = None, *, with_step: bool = True
) -> str:
    """One line for a table or a terminal: `epoch 5/70 · step 265/3710 · ETA 0:13:00`.

    `epoch` is TAO's index of the last finished epoch, so the line counts finished epochs (+1).
    """
    if progress is None:
        return "-"
    parts = []
    if progress.max_epoch is not None and progress.epoch is not None:
        parts.append(f"epoch {progress.epoch + 1}/{progress.num_epochs}")
    if progress.step is not None and (with_step or not parts):
        parts.append(f"step {progress.step}" + (f"/{progress.max_step}" if progress.max_step else ""))
    if (status is None or status is JobStatus.RUNNING) and progress.eta_seconds is not None:
        parts.append(f"ETA {format_seconds(progress.eta_seconds)}")
    if not parts:
        parts.append(progress.last_message or progress.last_status or "started")
    return " · ".join(parts)


# -- the monitor -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesData:
    """A copy of one tag's points (read-only arrays), safe to hand to another thread."""

    tag: str
    steps: npt.NDArray[np.int64]
    wall_times: _FloatArray
    values: _FloatArray

    def __len__(self) -> int:
        return int(self.steps.size)


@dataclass
class MonitorUpdate:
    """What one poll found: the changed series (whole copies), and status facts when they changed."""

    job_id: str
    series: dict[str, SeriesData] = field(default_factory=dict)
    progress: JobProgress | None = None
    kpis: dict[str, Any] | None = None
    kpi_history: list[KpiSnapshot] | None = None
    problems: list[ReadProblem] = field(default_factory=list)
    status_found: bool = False
    event_dir: str = ""

    @property
    def changed(self) -> bool:
        """True when anything new was read."""
        return bool(self.series) or self.progress is not None or bool(self.problems)


def _frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    copied = np.array(array, copy=True)
    copied.flags.writeable = False
    return copied


class JobMonitor:
    """Follows one job's status.json and TensorBoard event folder; each `poll()` reads only new bytes.

    Not thread-safe: poll from one thread at a time (e.g. one background worker at a time); the
    `MonitorUpdate` it returns holds copies, so the GUI thread may keep and draw them freely.
    """

    def __init__(self, job: Job, files: ByteSource, *, max_event_bytes: int | None = None) -> None:
        self.job = job
        self.files = files
        self.max_event_bytes = max_event_bytes
        self.status = StatusFollower(files, status_file_candidates(job))
        self.events = EventRunReader(files, job_event_dir(job))
        self._problem_count = 0
        self._finished = False

    @property
    def event_dir(self) -> str:
        """The folder the monitor reads event files from."""
        return self.events.run_dir

    @property
    def finished(self) -> bool:
        """True once `finish()` was called (the job ended and everything was read)."""
        return self._finished

    def tags(self) -> list[str]:
        """The scalar tags seen so far."""
        return self.events.tags()

    def series(self, tag: str) -> SeriesData:
        """A copy of a tag's points (KeyError for an unknown tag)."""
        source = self.events.series(tag)
        return SeriesData(tag, _frozen(source.steps), _frozen(source.wall_times), _frozen(source.values))

    @property
    def progress(self) -> JobProgress:
        """The task's progress so far."""
        return self.status.progress

    def poll(self) -> MonitorUpdate:
        """Read what is new; return what changed."""
        status_changed = self.status.poll()
        tags = self.events.poll(self.max_event_bytes)
        return self._update(status_changed, tags)

    def poll_all(self, max_rounds: int = 1000) -> MonitorUpdate:
        """Poll until nothing more is read (a finished job, or a first look at a long run)."""
        merged = self.poll()
        for _ in range(max_rounds):
            more = self.poll()
            if not more.changed:
                break
            merged.series.update(more.series)
            merged.problems.extend(more.problems)
            if more.progress is not None:
                merged.progress, merged.kpis, merged.kpi_history = more.progress, more.kpis, more.kpi_history
        return merged

    def finish(self) -> MonitorUpdate:
        """The job ended: read the rest, report partial records left at the ends of files, stop."""
        update = self.poll_all()
        self.events.finish()
        if self.status.finish():
            update.progress = copy.deepcopy(self.status.progress)
            update.kpis, update.kpi_history = dict(self.status.kpis), list(self.status.kpi_history)
        update.problems.extend(self._new_problems())
        self._finished = True
        return update

    def _update(self, status_changed: bool, tags: set[str]) -> MonitorUpdate:
        update = MonitorUpdate(self.job.id, status_found=self.status.found, event_dir=self.event_dir)
        update.series = {tag: self.series(tag) for tag in sorted(tags)}
        if status_changed:
            update.progress = copy.deepcopy(self.status.progress)
            update.kpis = dict(self.status.kpis)
            update.kpi_history = list(self.status.kpi_history)
        update.problems = self._new_problems()
        return update

    def _new_problems(self) -> list[ReadProblem]:
        problems = self.status.problems + self.events.problems
        new = problems[self._problem_count :]
        self._problem_count = len(problems)
        return new
