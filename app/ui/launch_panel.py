"""The launch bar under an action's form: host, GPUs, image, parent job and checkpoint, and Launch."""

from __future__ import annotations

import copy
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.hosts.gpus import GpuInventory, list_gpus
from app.core.jobs.checkpoints import Checkpoint, checkpoints_in
from app.core.jobs.manager import LaunchRequest
from app.core.jobs.model import Job, JobStatus
from app.core.jobs.params import parent_checkpoint_folder
from app.core.jobs.plan import MASK, SECRET_KEYS
from app.core.specs.document import SpecDocument, SpecParseError, has_path
from app.core.specs.form import ActionForm
from app.core.specs.validation import ERROR, NEEDS_INPUT
from app.ui.app_context import ActionRequest, AppContext

FILLED_AT_LAUNCH = (
    "output_dir",
    "create_onnx_file",
    "create_inference_result_file_pose",
    "key",
    "ptm_if_no_resume_model",
)
PARENT_ACTION = "train"


class StayOpenMenu(QMenu):
    """A menu whose checkable entries toggle without closing it (for picking several GPUs)."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Toggle a checkable entry in place."""
        action = self.activeAction()
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)


def gpu_label(index: int, name: str, used: int | None, total: int | None, utilisation: int | None) -> str:
    """``GPU 0 · A100 · 1.2/80.0 GiB · 3 %`` as the picker shows it."""
    parts = [f"GPU {index}", name]
    if used is not None and total:
        parts.append(f"{used / 1024:.1f}/{total / 1024:.1f} GiB")
    if utilisation is not None:
        parts.append(f"{utilisation} % busy")
    return " · ".join(parts)


class LaunchPanel(QFrame):
    """Where an action is launched; emits ``launched(job_id)`` and asks the context to open the job."""

    launched = Signal(str)

    def __init__(self, context: AppContext, form: ActionForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LaunchPanel")
        self.context = context
        self.form = form
        self.skill = form.skill
        self.action = form.action.name
        rules = set(form.action.spec_params.values())
        self.uses_parent = "parent_model" in rules
        self.can_resume = "resume_model" in rules
        self.inventory: GpuInventory | None = None
        self.checkpoints: list[Checkpoint] = []
        self.checkpoints_loading = False
        self.last_job_id: str | None = None
        self._busy = False
        self._launch_error = ""
        self._image_edited = False
        self._pending_gpus: list[int] | None = None
        self._pending_checkpoint: str | None = None
        self._inventory_token = 0
        self._checkpoint_token = 0
        self._checkpoint_error = ""
        self._written_checkpoints: dict[str, str] = {}
        self._build()
        context.hosts_changed.connect(self._reload_hosts)
        context.job_changed.connect(self._on_job_changed)
        context.job_removed.connect(self._on_job_removed)
        form.issues_changed.connect(lambda _issues: self._update_state())
        self._reload_hosts()
        self._reload_parents()

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(10, 8, 10, 8)
        outer.setSpacing(12)
        rows = QVBoxLayout()
        rows.setSpacing(6)
        first = QHBoxLayout()
        first.setSpacing(6)
        self.host_combo = QComboBox(self)
        self.host_combo.setMinimumContentsLength(12)
        self.host_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.host_combo.currentIndexChanged.connect(self._on_host_changed)
        self.add_host_button = QPushButton("Add a host…", self)
        self.add_host_button.clicked.connect(self.context.hosts_page_requested.emit)
        self.gpu_button = QToolButton(self)
        self.gpu_button.setObjectName("GpuPicker")
        self.gpu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.gpu_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.gpu_button.setMinimumWidth(130)
        self.gpu_menu = StayOpenMenu(self.gpu_button)
        self.gpu_button.setMenu(self.gpu_menu)
        self.image_edit = QLineEdit(self)
        self.image_edit.setPlaceholderText("container image")
        self.image_edit.textEdited.connect(self._on_image_edited)
        first.addWidget(self._caption("Host"))
        first.addWidget(self.host_combo)
        first.addWidget(self.add_host_button)
        first.addSpacing(10)
        first.addWidget(self._caption("GPUs"))
        first.addWidget(self.gpu_button)
        first.addSpacing(10)
        first.addWidget(self._caption("Image"))
        first.addWidget(self.image_edit, 1)
        rows.addLayout(first)
        self.parent_row = QWidget(self)
        second = QHBoxLayout(self.parent_row)
        second.setContentsMargins(0, 0, 0, 0)
        second.setSpacing(6)
        self.parent_caption = self._caption("Resume from" if self.can_resume else "From train job")
        self.parent_combo = QComboBox(self)
        self.parent_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.parent_combo.currentIndexChanged.connect(self._on_parent_changed)
        self.checkpoint_combo = QComboBox(self)
        self.checkpoint_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.checkpoint_combo.setPlaceholderText("choose a job first")
        self.checkpoint_combo.setMinimumContentsLength(30)
        self.checkpoint_combo.currentIndexChanged.connect(self._on_checkpoint_changed)
        second.addWidget(self.parent_caption)
        second.addWidget(self.parent_combo, 1)
        second.addSpacing(10)
        second.addWidget(self._caption("Checkpoint"))
        second.addWidget(self.checkpoint_combo, 1)
        self.parent_row.setVisible(self.uses_parent or self.can_resume)
        rows.addWidget(self.parent_row)
        self.message = QLabel(self)
        self.message.setObjectName("LaunchMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rows.addWidget(self.message)
        outer.addLayout(rows, 1)
        self.launch_button = QPushButton("Launch", self)
        self.launch_button.setObjectName("LaunchButton")
        self.launch_button.setMinimumSize(120, 40)
        self.launch_button.clicked.connect(self._on_launch_clicked)
        outer.addWidget(self.launch_button, 0, Qt.AlignmentFlag.AlignVCenter)

    def _caption(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName("LaunchCaption")
        return label

    # -- hosts, GPUs, image ------------------------------------------------------------------------

    def _reload_hosts(self) -> None:
        current = self.host_name()
        configs = self.context.host_configs()
        self.host_combo.blockSignals(True)
        self.host_combo.clear()
        for config in configs:
            self.host_combo.addItem(config.name, config.name)
            self.host_combo.setItemData(
                self.host_combo.count() - 1, f"{config.kind}: {config.address}", Qt.ItemDataRole.ToolTipRole
            )
        names = [config.name for config in configs]
        self.host_combo.setCurrentIndex(names.index(current) if current in names else 0 if names else -1)
        self.host_combo.blockSignals(False)
        self.host_combo.setEnabled(bool(configs))
        self.add_host_button.setVisible(not configs)
        self._on_host_changed()

    def host_name(self) -> str | None:
        """The chosen host."""
        data = self.host_combo.currentData()
        return str(data) if data else None

    def select_host(self, name: str) -> bool:
        """Choose a host by name (False if there is none by that name)."""
        index = self.host_combo.findData(name)
        if index >= 0:
            self.host_combo.setCurrentIndex(index)
        return index >= 0

    def default_image(self) -> str:
        """The image the chosen host runs for this action (its override, else the skill's)."""
        config = self.context.host_config(self.host_name() or "")
        skill_image = self.form.action.image or self.skill.default_image or ""
        return config.image_for(self.skill.name, skill_image) if config else skill_image

    def _on_image_edited(self, _text: str) -> None:
        self._image_edited = True

    def _on_host_changed(self, _index: int = -1) -> None:
        self._launch_error = ""
        if not self._image_edited:
            self.image_edit.setText(self.default_image())
        self._load_inventory()
        self._update_state()

    def _load_inventory(self) -> None:
        host = self.host_name()
        self._inventory_token += 1
        self.inventory = None
        if host is None:
            self._show_inventory(None)
            return
        cached = self.context.gpu_inventories.get(host)
        if cached is not None:
            self._show_inventory(cached)
            return
        self.gpu_button.setText("Looking for GPUs…")
        self.gpu_menu.clear()
        token = self._inventory_token
        image = self.image_edit.text().strip()
        self.context.run(
            self._inventory_of,
            host,
            [image] if image else [],
            on_done=partial(self._on_inventory, token, host),
            on_error=partial(self._on_inventory_failed, token),
        )

    def _inventory_of(self, host: str, probe_images: list[str]) -> GpuInventory:
        return list_gpus(self.context.manager.session(host), probe_images)

    def _on_inventory(self, token: int, host: str, inventory: GpuInventory) -> None:
        self.context.gpu_inventories[host] = inventory
        if token == self._inventory_token:
            self._show_inventory(inventory)

    def _on_inventory_failed(self, token: int, message: str) -> None:
        if token == self._inventory_token:
            self._show_inventory(GpuInventory([], f"GPUs unknown: {message}"))

    def _show_inventory(self, inventory: GpuInventory | None) -> None:
        self.inventory = inventory
        self.gpu_menu.clear()
        wanted = set(self._pending_gpus or [])
        self._pending_gpus = None
        if inventory is None or not inventory.gpus:
            note = inventory.note if inventory is not None else "Choose a host first"
            entry = self.gpu_menu.addAction(note or "No NVIDIA GPUs: CPU work only")
            entry.setEnabled(False)
        else:
            for gpu in inventory.gpus:
                label = gpu_label(
                    gpu.index, gpu.name, gpu.memory_used_mib, gpu.memory_total_mib, gpu.utilization_percent
                )
                entry = self.gpu_menu.addAction(label)
                entry.setCheckable(True)
                entry.setData(gpu.index)
                entry.setChecked(gpu.index in wanted)
                entry.toggled.connect(lambda _on: self._on_gpus_changed())
            self.gpu_menu.addSeparator()
            self.gpu_menu.addAction("CPU only (no GPU)", self._clear_gpus)
        self._on_gpus_changed()

    def _clear_gpus(self) -> None:
        for entry in self.gpu_menu.actions():
            if entry.isCheckable():
                entry.setChecked(False)

    def selected_gpus(self) -> list[int]:
        """The host GPU indices chosen (empty: CPU only)."""
        return [int(a.data()) for a in self.gpu_menu.actions() if a.isCheckable() and a.isChecked()]

    def set_gpus(self, indices: list[int]) -> None:
        """Choose GPUs by index (applied when the host's inventory arrives if it is not there yet)."""
        if self.inventory is None:
            self._pending_gpus = list(indices)
            return
        for entry in self.gpu_menu.actions():
            if entry.isCheckable():
                entry.setChecked(int(entry.data()) in indices)

    def _on_gpus_changed(self) -> None:
        chosen = self.selected_gpus()
        if self.inventory is None and self.host_name():
            return
        self.gpu_button.setText(f"GPU {', '.join(map(str, chosen))}" if chosen else "CPU only")
        self._update_state()

    # -- parent job and checkpoint -----------------------------------------------------------------

    def _parent_candidates(self) -> list[Job]:
        return [
            job
            for job in self.context.store.all()
            if job.skill == self.skill.name and job.action == PARENT_ACTION and job.status.is_final
        ]

    def _reload_parents(self, keep: str | None = None) -> None:
        if not (self.uses_parent or self.can_resume):
            return
        keep = keep if keep is not None else self.parent_id()
        jobs = self._parent_candidates()
        self.parent_combo.blockSignals(True)
        self.parent_combo.clear()
        none_text = (
            "— start a new training —" if self.can_resume else "— none: use the checkpoint in the spec —"
        )
        self.parent_combo.addItem(none_text, None)
        for job in jobs:
            self.parent_combo.addItem(f"{job.id}  ·  {job.status.value}", job.id)
        index = self.parent_combo.findData(keep) if keep else -1
        if index < 0 and not self.can_resume and keep is None:
            index = next((i + 1 for i, job in enumerate(jobs) if job.status is JobStatus.COMPLETED), 0)
        self.parent_combo.setCurrentIndex(max(index, 0))
        self.parent_combo.blockSignals(False)
        self._on_parent_changed()

    def parent_id(self) -> str | None:
        """The chosen parent job, or None."""
        if not (self.uses_parent or self.can_resume):
            return None
        data = self.parent_combo.currentData()
        return str(data) if data else None

    def select_parent(self, job_id: str, checkpoint: str | None = None) -> None:
        """Choose a parent job (and, once its checkpoints are listed, a checkpoint by path or name)."""
        self._pending_checkpoint = checkpoint
        if self.parent_combo.findData(job_id) < 0:
            job = self.context.store.find(job_id)
            if job is not None:
                self.parent_combo.addItem(f"{job.id}  ·  {job.status.value}", job.id)
        index = self.parent_combo.findData(job_id)
        if index == self.parent_combo.currentIndex():
            self._on_parent_changed()
        else:
            self.parent_combo.setCurrentIndex(index)

    def _on_job_changed(self, job_id: str) -> None:
        job = self.context.store.find(job_id)
        if job is None or job.skill != self.skill.name or job.action != PARENT_ACTION:
            return
        listed = {self.parent_combo.itemData(i) for i in range(self.parent_combo.count())}
        if job.status.is_final and job.id not in listed:
            self._reload_parents(keep=self.parent_id() or "")

    def _on_job_removed(self, job_id: str) -> None:
        if self.parent_combo.findData(job_id) >= 0:
            keep = self.parent_id()
            self._reload_parents(keep="" if keep == job_id else keep or "")

    def _on_parent_changed(self, _index: int = -1) -> None:
        self._checkpoint_token += 1
        self.checkpoint_combo.clear()
        self.checkpoints = []
        self._checkpoint_error = ""
        parent = self.context.store.find(self.parent_id() or "")
        if parent is None:
            self.checkpoints_loading = False
            self.checkpoint_combo.setEnabled(False)
            self._write_checkpoint_into_spec()
            self._update_state()
            return
        self.checkpoints_loading = True
        self.checkpoint_combo.setEnabled(False)
        self.checkpoint_combo.addItem("looking for checkpoints…")
        token = self._checkpoint_token
        self.context.run(
            self._checkpoints_of,
            parent,
            on_done=partial(self._on_checkpoints, token),
            on_error=partial(self._on_checkpoints_failed, token),
        )
        self._update_state()

    def _checkpoints_of(self, parent: Job) -> list[Checkpoint]:
        return checkpoints_in(self.context.manager.session(parent.host), parent_checkpoint_folder(parent))

    def _on_checkpoints(self, token: int, found: list[Checkpoint]) -> None:
        if token != self._checkpoint_token:
            return
        exact = sorted((c for c in found if not c.is_latest_link), reverse=True)
        self.checkpoints = exact + [c for c in found if c.is_latest_link]
        self.checkpoints_loading = False
        self.checkpoint_combo.clear()
        for checkpoint in self.checkpoints:
            self.checkpoint_combo.addItem(checkpoint.label, checkpoint.path)
        wanted = self._pending_checkpoint
        self._pending_checkpoint = None
        index = (
            next((i for i, c in enumerate(self.checkpoints) if wanted in (c.path, c.name)), 0)
            if wanted
            else 0
        )
        self.checkpoint_combo.setCurrentIndex(index if self.checkpoints else -1)
        self.checkpoint_combo.setEnabled(bool(self.checkpoints))
        if not self.checkpoints:
            parent = self.context.store.find(self.parent_id() or "")
            folder = parent_checkpoint_folder(parent) if parent else "its results"
            self._checkpoint_error = f"No checkpoint in {folder}"
            self.checkpoint_combo.addItem("no checkpoints")
        self._write_checkpoint_into_spec()
        self._update_state()

    def _on_checkpoint_changed(self, _index: int) -> None:
        if not self.checkpoints_loading:
            self._write_checkpoint_into_spec()
        self._update_state()

    def _write_checkpoint_into_spec(self) -> None:
        """Show the chosen checkpoint in the spec's checkpoint key(s); undo it when no job is chosen."""
        rules = ("parent_model", "resume_model")
        keys = [key for key, rule in self.form.action.spec_params.items() if rule in rules]
        checkpoint = self.selected_checkpoint() if self.parent_id() else None
        for key in keys:
            if checkpoint is not None:
                self._written_checkpoints[key] = checkpoint.path
                self.form.set_value(key, checkpoint.path)
            elif key in self._written_checkpoints and self.form.value(key) == self._written_checkpoints.pop(
                key
            ):
                self.form.reset(key)

    def _on_checkpoints_failed(self, token: int, message: str) -> None:
        if token != self._checkpoint_token:
            return
        self.checkpoints_loading = False
        self.checkpoint_combo.clear()
        self.checkpoint_combo.addItem("cannot list checkpoints")
        self._checkpoint_error = f"Cannot list the parent's checkpoints: {message}"
        self._update_state()

    def selected_checkpoint(self) -> Checkpoint | None:
        """The chosen checkpoint, or None."""
        path = self.checkpoint_combo.currentData()
        return next((c for c in self.checkpoints if c.path == path), None)

    # -- readiness and launching -------------------------------------------------------------------

    def blocking_reason(self) -> str:
        """Why Launch is disabled right now (empty when it is enabled)."""
        if self._busy:
            return "Launching…"
        if self.host_name() is None:
            return self.context.host_problem or "Add a host to launch on."
        errors = [issue for issue in self.form.issues if issue.severity == ERROR]
        if errors:
            first = errors[0]
            return f"Fix {len(errors)} error(s) in the form first ({first.path}: {first.message})."
        filled = self._keys_filled_at_launch()
        missing = [i.path for i in self.form.issues if i.severity == NEEDS_INPUT and i.path not in filled]
        if missing:
            return "Fill in " + ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "") + "."
        if self.parent_id():
            if self.checkpoints_loading:
                return "Looking for the parent's checkpoints…"
            if self._checkpoint_error:
                return self._checkpoint_error
            if self.selected_checkpoint() is None:
                return "Choose a checkpoint."
        return ""

    def _keys_filled_at_launch(self) -> set[str]:
        filled = set()
        for key, rule in self.form.action.spec_params.items():
            if rule in FILLED_AT_LAUNCH or (rule in ("parent_model", "resume_model") and self.parent_id()):
                filled.add(key)
        return filled

    def _update_state(self) -> None:
        reason = self.blocking_reason()
        self.launch_button.setEnabled(not reason)
        if self._launch_error:
            self._set_message(self._launch_error, "error")
        elif reason:
            self._set_message(reason, "busy" if self._busy else "blocked")
        else:
            self._set_message(self._ready_text(), "ready")

    def _ready_text(self) -> str:
        gpus = self.selected_gpus()
        where = f"GPU {', '.join(map(str, gpus))}" if gpus else "CPU only"
        text = f"Ready to run {self.action} on '{self.host_name()}' ({where})"
        checkpoint = self.selected_checkpoint()
        if checkpoint is not None:
            verb = "resuming from" if self.can_resume else "using"
            text += f", {verb} {checkpoint.name}"
        return text + "."

    def _set_message(self, text: str, state: str) -> None:
        self.message.setText(text)
        self.message.setProperty("state", state)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def launch_request(self) -> LaunchRequest:
        """What Launch would ask the job manager for."""
        checkpoint = self.selected_checkpoint() if self.parent_id() else None
        host = self.host_name()
        assert host is not None, "Launch is disabled without a host"
        image = self.image_edit.text().strip()
        return LaunchRequest(
            skill=self.skill.name,
            action=self.action,
            host=host,
            spec=self.form.document.copy(),
            gpus=self.selected_gpus(),
            image=image or None,
            parent_id=self.parent_id(),
            checkpoint=checkpoint.path if checkpoint else None,
            resume=self.can_resume and self.parent_id() is not None,
            allow_latest_link=bool(checkpoint and checkpoint.is_latest_link),
        )

    def _on_launch_clicked(self) -> None:
        if self.blocking_reason():
            return
        request = self.launch_request()
        self._busy = True
        self._launch_error = ""
        self._update_state()
        self.context.run(
            self.context.manager.launch, request, on_done=self._on_launched, on_error=self._on_launch_failed
        )

    def _on_launched(self, job: Job) -> None:
        self._busy = False
        self.last_job_id = job.id
        self._update_state()
        warnings = job.extra.get("warnings") or []
        if warnings:
            self._set_message(f"Launched {job.id}. Note: " + "; ".join(warnings), "ready")
        self.context.follow(job.id)
        self.launched.emit(job.id)
        self.context.open_job(job.id)

    def _on_launch_failed(self, message: str) -> None:
        self._busy = False
        self._launch_error = "Could not launch: " + message.strip("'\"")
        self._update_state()

    # -- prepared launches (clone, resume, from a checkpoint) --------------------------------------

    def apply_request(self, request: ActionRequest) -> None:
        """Prepare the form and this bar as ``request`` says."""
        if request.spec_yaml:
            self._import_spec(request.spec_yaml)
        elif request.inherit_from:
            self._inherit_settings(request.inherit_from)
        if request.host:
            self.select_host(request.host)
        if request.image:
            self.image_edit.setText(request.image)
            self._image_edited = True
        if request.gpus is not None:
            self.set_gpus(request.gpus)
        if request.parent_id and (self.uses_parent or self.can_resume):
            self.select_parent(request.parent_id, request.checkpoint)
        if request.notes:
            self._set_message(" ".join(request.notes), "ready")

    def _import_spec(self, text: str) -> None:
        try:
            self.form.import_yaml(text, "the job's spec")
        except SpecParseError as error:
            self._launch_error = f"The job's spec could not be read: {error}"
            return
        for key in SECRET_KEYS:
            if self.form.value(key) == MASK:
                self.form.reset(key)

    def _inherit_settings(self, job_id: str) -> None:
        """Copy the values this action shares with a job's spec (dataset, model ...), not its paths."""
        job = self.context.store.find(job_id)
        if job is None:
            return
        try:
            source = SpecDocument.from_yaml(job.spec_yaml, f"job {job.id}")
        except SpecParseError:
            return
        skipped = set(self.form.action.spec_params)
        if job.action in self.skill.actions:
            skipped |= set(self.skill.action(job.action).spec_params)
        document = self.form.document.copy()
        for leaf in self.form.root.leaves():
            path = leaf.path
            if path in skipped or not source.has(path) or not has_path(self.form.template, path):
                continue
            if source.get(path) != MASK:
                document.set(path, copy.deepcopy(source.get(path)))
        self.form.replace(document)
