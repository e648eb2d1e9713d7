"""The GUI's shared state: skill bank, job store, hosts and job manager, and the jobs being followed.

Core events arrive on whatever thread caused them (a launch worker, a log follower); `AppContext`
re-emits them as Qt signals, which Qt delivers on the GUI thread. Pages never talk to each other:
they ask the context to open a job or an action, and the main window routes the request.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.core.hosts.gpus import GpuInventory
from app.core.hosts.settings import HostConfig, HostSettingsError, HostStore
from app.core.jobs.manager import JobManager
from app.core.jobs.store import JobStore
from app.core.skills.bank import SkillBank
from app.core.telemetry.logs import LogLine
from app.ui.workers import Task, run_in_background

LineSink = Callable[[Sequence[LogLine]], None]

@dataclass
class ActionRequest:
    """Open an action's page prepared for a launch: clone, resume, or run from a checkpoint.

    ``spec_yaml`` replaces the form's spec; ``inherit_from`` copies the settings an action shares
    with that job's spec (dataset, model ...) so an evaluation matches the model it evaluates.
    """

    skill: str
    action: str
    host: str | None = None
    parent_id: str | None = None
    checkpoint: str | None = None
    spec_yaml: str | None = None
    inherit_from: str | None = None
    gpus: list[int] | None = None
    image: str | None = None
    notes: list[str] = field(default_factory=list)


class LogFollower:
    """Streams one job's log in a background thread and hands the lines to subscribers.

    The follower counts the stored lines, then `JobManager.follow` continues from them. A
    subscriber that `attach`es gets the stored lines up to what was handed out so far, then every
    new line: each line exactly once, whenever it attaches.
    """

    def __init__(self, manager: JobManager, job_id: str) -> None:
        self.manager = manager
        self.job_id = job_id
        self.error = ""
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._sinks: list[LineSink] = []
        self._delivered = 0
        self._thread = threading.Thread(target=self._run, name=f"follow-{job_id}", daemon=True)

    def start(self) -> None:
        """Start following (once)."""
        if self._thread.ident is None and not self._done.is_set():
            self._thread.start()

    @property
    def finished(self) -> bool:
        """True once the job ended (or following was stopped)."""
        return self._done.is_set()

    def stop(self) -> None:
        """Ask the follower to stop at the next chance (the job keeps running)."""
        self._stop.set()
        if self._thread.ident is None:  # never started: nothing to wind down
            self._done.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the follower thread to end."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    def attach(self, sink: LineSink) -> None:
        """Give ``sink`` the stored lines, then every new one. Reads a file: call it off the GUI thread."""
        while not self._ready.wait(0.5):  # not started yet: jobs are being reconciled
            if self._stop.is_set():
                return
        log = self.manager.log(self.job_id)
        with self._lock:
            stored = log.lines()
            if not self._done.is_set():
                stored = stored[: self._delivered]
                self._sinks.append(sink)
            if stored:
                sink(stored)

    def detach(self, sink: LineSink) -> None:
        """Stop handing lines to ``sink``."""
        with self._lock, contextlib.suppress(ValueError):
            self._sinks.remove(sink)

    def _dispatch(self, lines: list[LogLine]) -> None:
        with self._lock:
            self._delivered += len(lines)
            sinks = list(self._sinks)
        for sink in sinks:
            sink(lines)

    def _run(self) -> None:
        log = self.manager.log(self.job_id)
        with self._lock:
            self._delivered = len(log.lines())
        self._ready.set()
        try:
            self.manager.follow(self.job_id, on_lines=self._dispatch, stop=self._stop)
        except Exception as error:  # the job was deleted, its host removed ...: stop quietly
            self.error = str(error) or type(error).__name__
        finally:
            self._finish(log.lines() if not self._stop.is_set() else [])

    def _finish(self, stored: list[LogLine]) -> None:
        """Hand out lines stored after the stream ended (the final log collection), then end."""
        with self._lock:
            tail = stored[self._delivered :] if stored else []
            self._delivered += len(tail)
            sinks = list(self._sinks)
            self._sinks.clear()
            self._done.set()
        if tail:
            for sink in sinks:
                sink(tail)


class AppContext(QObject):
    """What every page shares; core events re-emitted as Qt signals on the GUI thread."""

    hosts_changed = Signal()
    job_changed = Signal(str)
    job_removed = Signal(str)
    job_open_requested = Signal(str)
    action_requested = Signal(object)
    hosts_page_requested = Signal()
    notice = Signal(str)
    reconciled = Signal()
    results_requested = Signal(str)

    def __init__(
        self,
        bank: SkillBank,
        store: JobStore | None = None,
        hosts: HostStore | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store or JobStore()
        self.hosts = hosts or HostStore()
        self.manager = JobManager(self.store, bank, self.hosts)
        self.followers: dict[str, LogFollower] = {}
        self.gpu_inventories: dict[str, GpuInventory] = {}
        self.host_problem = ""
        self._reconciling = False
        self._closed = False
        self.store.changed.connect(self._relay_changed)
        self.store.removed.connect(self._relay_removed)

    @property
    def bank(self) -> SkillBank:
        """The skill bank jobs are launched from."""
        return self.manager.bank

    @bank.setter
    def bank(self, bank: SkillBank) -> None:
        self.manager.bank = bank

    def _relay_changed(self, job_id: str) -> None:
        with contextlib.suppress(RuntimeError):  # the window is being torn down
            self.job_changed.emit(job_id)

    def _relay_removed(self, job_id: str) -> None:
        with contextlib.suppress(RuntimeError):
            self.job_removed.emit(job_id)

    # -- hosts -------------------------------------------------------------------------------------

    def host_configs(self) -> list[HostConfig]:
        """The configured hosts; a broken hosts file gives none and sets ``host_problem``."""
        try:
            configs = self.hosts.load()
        except HostSettingsError as error:
            self.host_problem = str(error)
            return []
        self.host_problem = "; ".join(self.hosts.problems)
        return configs

    def host_config(self, name: str) -> HostConfig | None:
        """One host's settings, or None."""
        return next((config for config in self.host_configs() if config.name == name), None)

    def notify_hosts_changed(self, name: str | None = None) -> None:
        """Tell every page the hosts changed (a host's cached session and GPUs are dropped)."""
        if name is not None:
            self.gpu_inventories.pop(name, None)
            self.run(self.manager.drop_session, name)
        self.hosts_changed.emit()

    # -- background work ---------------------------------------------------------------------------

    def run(
        self,
        function: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        **kwargs: Any,
    ) -> Task:
        """Run ``function`` in the thread pool; the callbacks run on the GUI thread."""
        return run_in_background(
            function, *args, on_done=on_done, on_error=on_error, on_progress=on_progress, **kwargs
        )

    # -- jobs --------------------------------------------------------------------------------------

    def follow(self, job_id: str) -> LogFollower | None:
        """The follower of an unfinished job, started if needed; None for a finished job."""
        current = self.followers.get(job_id)
        if current is not None and not current.finished:
            return current
        job = self.store.find(job_id)
        if job is None or job.status.is_final or self._closed:
            return None
        follower = LogFollower(self.manager, job_id)
        self.followers[job_id] = follower
        if not self._reconciling:  # reconciliation writes the same logs: start after it
            follower.start()
        return follower

    def resume_following(self) -> None:
        """Bring unfinished jobs up to date with their containers (in a worker), then follow them."""
        self._reconciling = True
        self.run(self.manager.reconcile, on_done=self._on_reconciled, on_error=self._on_reconcile_failed)

    def _on_reconciled(self, _updated: object) -> None:
        self._reconciling = False
        if self._closed:
            return
        for job in self.store.all():
            if not job.status.is_final:
                self.follow(job.id)
        for follower in self.followers.values():
            follower.start()
        self.reconciled.emit()

    def _on_reconcile_failed(self, message: str) -> None:
        self.notice.emit(f"Could not bring the jobs up to date: {message}")
        self._on_reconciled(None)

    def open_job(self, job_id: str) -> None:
        """Ask for a job's page."""
        self.job_open_requested.emit(job_id)

    def request_action(self, request: ActionRequest) -> None:
        """Ask for an action's page prepared as ``request`` says."""
        self.action_requested.emit(request)

    def close(self) -> None:
        """Stop following (jobs keep running) and let go of the hosts."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.store.changed.disconnect(self._relay_changed)
            self.store.removed.disconnect(self._relay_removed)
        followers = list(self.followers.values())
        for follower in followers:
            follower.stop()
        try:
            self.manager.close()  # closing the clients ends streams that wait for output
        except Exception:
            traceback.print_exc()
        for follower in followers:
            follower.join(timeout=2)


def show_page_alone(make_page: Callable[[AppContext], QWidget]) -> None:
    """Open one page alone on the user's own hosts and jobs (``python -m app.ui.<page>``)."""
    from app.core.settings import bank_folders
    from app.core.skills import load_banks
    from app.ui.application import create_application

    app = create_application()
    context = AppContext(load_banks(bank_folders([])))
    page = make_page(context)
    page.resize(1200, 800)
    page.show()
    context.resume_following()
    app.exec()
    context.close()
