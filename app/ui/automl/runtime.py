"""The GUI's study runner: one background scheduler per study, its events re-emitted as Qt signals.

Schedulers run in their own threads (``StudyScheduler.start``), so the window never waits for a
launch or a container stop. ``study_changed(study_id)`` arrives on the GUI thread after every step
that did something, and after controls; views then read a snapshot in a worker.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QCoreApplication, QObject, Signal

from app.core.automl.scheduler import StudyScheduler
from app.core.automl.study import StudyRequest, StudyStore
from app.ui.app_context import AppContext

POLL_SECONDS = 1.0
_RUNNER_ATTRIBUTE = "_automl_runner"


class StudyRunner(QObject):
    """Starts, controls and stops the schedulers of the studies this window runs."""

    study_changed = Signal(str)
    study_failed = Signal(str, str)

    def __init__(self, context: AppContext, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__(context)
        self.context = context
        self.poll_seconds = poll_seconds
        self.studies = StudyStore(context.store)
        self.schedulers: dict[str, StudyScheduler] = {}
        self.studies.changed.connect(self._relay)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    def _relay(self, study_id: str) -> None:
        with contextlib.suppress(RuntimeError):  # the window is being torn down
            self.study_changed.emit(study_id)

    def is_running(self, study_id: str) -> bool:
        """True while this window's scheduler runs the study."""
        scheduler = self.schedulers.get(study_id)
        return scheduler is not None and scheduler.alive

    def start(self, study_id: str) -> None:
        """Run a study in the background (nothing happens if it already runs here)."""
        if self.is_running(study_id):
            return
        scheduler = StudyScheduler(
            self.context.manager, self.studies, study_id, poll_seconds=self.poll_seconds
        )
        scheduler.changed.connect(self._relay)
        self.schedulers[study_id] = scheduler
        scheduler.start()

    def request(self, study_id: str, request: StudyRequest) -> None:
        """Pause, resume, stop or cancel; a resumed study nobody runs is started here."""
        record = self.studies.request(study_id, request)
        if request is StudyRequest.RESUME and not record.owner_alive():
            self.start(study_id)
        self._relay(study_id)

    def resume_unfinished(self) -> list[str]:
        """Start every unfinished study that no live scheduler holds (after the app restarts)."""
        started = []
        for record in self.studies.all():
            if not record.state.is_final and not record.owner_alive():
                self.start(record.id)
                started.append(record.id)
        return started

    def close(self) -> None:
        """Let go of every study (running trials keep running and are picked up next time)."""
        for scheduler in list(self.schedulers.values()):
            scheduler.halt(timeout=10)
        self.schedulers.clear()


def runner_for(context: AppContext) -> StudyRunner:
    """The window's study runner (created on first use)."""
    runner = getattr(context, _RUNNER_ATTRIBUTE, None)
    if runner is None:
        runner = StudyRunner(context)
        setattr(context, _RUNNER_ATTRIBUTE, runner)
    return runner
