"""`ParentPicker`: the launch bar's choice of a finished train job and one of its exact checkpoints."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QWidget

from app.core.jobs.checkpoints import Checkpoint, checkpoints_in
from app.core.jobs.model import Job, JobStatus
from app.core.jobs.params import parent_checkpoint_folder
from app.ui.app_context import AppContext

PARENT_ACTION = "train"


def ordered_for_picking(found: list[Checkpoint]) -> list[Checkpoint]:
    """Exact checkpoints, highest epoch/step first, then the ``*_latest`` link (only if picked)."""
    exact = sorted((c for c in found if not c.is_latest_link), reverse=True)
    return exact + [c for c in found if c.is_latest_link]


class ParentPicker(QWidget):
    """Parent job (finished train jobs of the skill, newest first) and checkpoint combos.

    For an action that resumes training the first entry is "start a new training"; for one that
    runs from a checkpoint the newest completed training is chosen. The checkpoints of the chosen
    job are listed in a worker, the highest epoch/step first and chosen. Emits ``changed``.
    """

    changed = Signal()

    def __init__(
        self, context: AppContext, skill_name: str, resumes: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.skill_name = skill_name
        self.resumes = resumes
        self.checkpoints: list[Checkpoint] = []
        self.loading = False
        self.problem = ""
        self._pending_checkpoint: str | None = None
        self._token = 0
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.caption = QLabel("Resume from" if resumes else "From train job", self)
        self.caption.setObjectName("LaunchCaption")
        self.job_combo = QComboBox(self)
        self.job_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.job_combo.currentIndexChanged.connect(self._on_job_chosen)
        checkpoint_caption = QLabel("Checkpoint", self)
        checkpoint_caption.setObjectName("LaunchCaption")
        self.checkpoint_combo = QComboBox(self)
        self.checkpoint_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.checkpoint_combo.setPlaceholderText("choose a job first")
        self.checkpoint_combo.setMinimumContentsLength(30)
        self.checkpoint_combo.currentIndexChanged.connect(lambda _index: self._on_checkpoint_chosen())
        row.addWidget(self.caption)
        row.addWidget(self.job_combo, 1)
        row.addSpacing(10)
        row.addWidget(checkpoint_caption)
        row.addWidget(self.checkpoint_combo, 1)
        context.job_changed.connect(self._on_job_changed)
        context.job_removed.connect(self._on_job_removed)
        self.reload()

    # -- parent jobs -------------------------------------------------------------------------------

    def candidates(self) -> list[Job]:
        """Finished train jobs of the skill, newest first."""
        return [
            job
            for job in self.context.store.all()
            if job.skill == self.skill_name and job.action == PARENT_ACTION and job.status.is_final
        ]

    def reload(self, keep: str | None = None) -> None:
        """List the candidates again; ``keep`` ("" for none) is chosen, None means the default."""
        jobs = self.candidates()
        self.job_combo.blockSignals(True)
        self.job_combo.clear()
        none = "— start a new training —" if self.resumes else "— none: use the checkpoint in the spec —"
        self.job_combo.addItem(none, None)
        for job in jobs:
            self.job_combo.addItem(f"{job.id}  ·  {job.status.value}", job.id)
        index = self.job_combo.findData(keep) if keep else -1
        if index < 0 and keep is None and not self.resumes:
            index = next((i + 1 for i, job in enumerate(jobs) if job.status is JobStatus.COMPLETED), 0)
        self.job_combo.setCurrentIndex(max(index, 0))
        self.job_combo.blockSignals(False)
        self._on_job_chosen()

    def parent_id(self) -> str | None:
        """The chosen parent job, or None."""
        data = self.job_combo.currentData()
        return str(data) if data else None

    def select(self, job_id: str, checkpoint: str | None = None) -> None:
        """Choose a parent job and, once its checkpoints are listed, a checkpoint (path or name)."""
        self._pending_checkpoint = checkpoint
        if self.job_combo.findData(job_id) < 0:
            job = self.context.store.find(job_id)
            if job is not None:
                self.job_combo.addItem(f"{job.id}  ·  {job.status.value}", job.id)
        index = self.job_combo.findData(job_id)
        if index == self.job_combo.currentIndex():
            self._on_job_chosen()
        else:
            self.job_combo.setCurrentIndex(index)

    def _on_job_changed(self, job_id: str) -> None:
        job = self.context.store.find(job_id)
        if job is None or job.skill != self.skill_name or job.action != PARENT_ACTION:
            return
        if job.status.is_final and self.job_combo.findData(job.id) < 0:
            self.reload(keep=self.parent_id() or "")

    def _on_job_removed(self, job_id: str) -> None:
        if self.job_combo.findData(job_id) >= 0:
            keep = self.parent_id()
            self.reload(keep="" if keep == job_id else keep or "")

    # -- checkpoints -------------------------------------------------------------------------------

    def _on_job_chosen(self, _index: int = -1) -> None:
        self._token += 1
        self.checkpoint_combo.clear()
        self.checkpoints = []
        self.problem = ""
        parent = self.context.store.find(self.parent_id() or "")
        self.checkpoint_combo.setEnabled(False)
        self.loading = parent is not None
        if parent is not None:
            self.checkpoint_combo.addItem("looking for checkpoints…")
            self.context.run(
                self._checkpoints_of, parent,
                on_done=partial(self._on_listed, self._token, parent),
                on_error=partial(self._on_list_failed, self._token),
            )  # fmt: skip
        self.changed.emit()

    def _checkpoints_of(self, parent: Job) -> list[Checkpoint]:
        return checkpoints_in(self.context.manager.session(parent.host), parent_checkpoint_folder(parent))

    def _on_listed(self, token: int, parent: Job, found: list[Checkpoint]) -> None:
        if token != self._token:
            return
        self.checkpoints = ordered_for_picking(found)
        self.loading = False
        wanted, self._pending_checkpoint = self._pending_checkpoint, None
        self.checkpoint_combo.blockSignals(True)
        self.checkpoint_combo.clear()
        for checkpoint in self.checkpoints:
            self.checkpoint_combo.addItem(checkpoint.label, checkpoint.path)
        if self.checkpoints:
            matches = [i for i, c in enumerate(self.checkpoints) if wanted in (c.path, c.name)]
            self.checkpoint_combo.setCurrentIndex(matches[0] if matches else 0)
        else:
            self.problem = f"Job {parent.id} has no checkpoint in {parent_checkpoint_folder(parent)}."
            self.checkpoint_combo.addItem("no checkpoints")
        self.checkpoint_combo.setEnabled(bool(self.checkpoints))
        self.checkpoint_combo.blockSignals(False)
        self.changed.emit()

    def _on_list_failed(self, token: int, message: str) -> None:
        if token != self._token:
            return
        self.loading = False
        self.checkpoint_combo.clear()
        self.checkpoint_combo.addItem("cannot list checkpoints")
        self.problem = f"Cannot list the parent's checkpoints: {message}"
        self.changed.emit()

    def _on_checkpoint_chosen(self) -> None:
        if not self.loading:
            self.changed.emit()

    def selected_checkpoint(self) -> Checkpoint | None:
        """The chosen checkpoint, or None."""
        path = self.checkpoint_combo.currentData()
        return next((c for c in self.checkpoints if c.path == path), None)
