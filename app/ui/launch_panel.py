"""The launch bar under an action's form: host, GPUs, image, parent job and checkpoint, and Launch."""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.jobs.checkpoints import Checkpoint
from app.core.jobs.manager import LaunchRequest
from app.core.jobs.model import Job
from app.core.jobs.plan import MASK, SECRET_KEYS
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument, SpecParseError, has_path
from app.core.specs.form import ActionForm
from app.core.specs.validation import ERROR, NEEDS_INPUT
from app.ui.app_context import ActionRequest, AppContext
from app.ui.gpu_picker import GpuPicker
from app.ui.parent_picker import ParentPicker
from app.ui.requirements_panel import RequirementsPanel

FILLED_AT_LAUNCH = ("output_dir", "create_onnx_file", "create_inference_result_file_pose", "key",
                    "ptm_if_no_resume_model")  # fmt: skip
CHECKPOINT_RULES = ("parent_model", "resume_model")


def import_job_spec(form: ActionForm, text: str) -> None:
    """Load a job's stored spec into the form; masked secrets go back to the template's value."""
    form.import_yaml(text, "the job's spec")
    for key in SECRET_KEYS:
        if form.value(key) == MASK:
            form.reset(key)


def inherit_settings(form: ActionForm, skill: Skill, job: Job) -> None:
    """Copy the values the form's action shares with a job's spec (dataset, model ...).

    Keys the launch fills itself (results folder, checkpoints, keys) are left alone, for both
    actions, so an evaluation takes the trained model's settings but none of its paths.
    """
    try:
        source = SpecDocument.from_yaml(job.spec_yaml, f"job {job.id}")
    except SpecParseError:
        return
    skipped = set(form.action.spec_params)
    if job.action in skill.actions:
        skipped |= set(skill.action(job.action).spec_params)
    document = form.document.copy()
    for leaf in form.root.leaves():
        path = leaf.path
        if path in skipped or not source.has(path) or not has_path(form.template, path):
            continue
        if source.get(path) != MASK:
            document.set(path, copy.deepcopy(source.get(path)))
    form.replace(document)


class LaunchPanel(QFrame):
    """Where an action is launched; emits ``launched(job_id)`` and asks the context to open the job."""

    launched = Signal(str)
    checks_requested = Signal()

    def __init__(self, context: AppContext, form: ActionForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LaunchPanel")
        self.context = context
        self.form = form
        self.skill = form.skill
        self.action = form.action.name
        rules = set(form.action.spec_params.values())
        self.can_resume = "resume_model" in rules
        self.picks_parent = bool(rules & set(CHECKPOINT_RULES))
        self.last_job_id: str | None = None
        self._busy = False
        self._launch_error = ""
        self._note = ""
        self._image_edited = False
        self._written_checkpoints: dict[str, str] = {}
        self._launch_after_check = False
        self.requirements = RequirementsPanel(
            form, find_job=context.store.find, open_host=lambda config: context.manager.session(config.name),
            close_sessions=False,
        )
        self.requirements.launch_allowed_changed.connect(lambda _allowed: self._update_state())
        self.requirements.report_ready.connect(self._on_preflight_done)
        self._build()
        context.hosts_changed.connect(self._reload_hosts)
        form.issues_changed.connect(lambda _issues: self._update_state())
        form.automl_changed.connect(self._on_automl_changed)
        self._reload_hosts()
        self._on_parent_changed()
        self._on_automl_changed(form.automl_on)

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
        self.gpus = GpuPicker(self.context, self)
        self.gpus.changed.connect(self._on_gpus_changed)
        self.image_edit = QLineEdit(self)
        self.image_edit.setPlaceholderText("container image")
        self.image_edit.textEdited.connect(self._on_image_edited)
        for widget, stretch in ((self._caption("Host"), 0), (self.host_combo, 0), (self.add_host_button, 0),
                                (None, 0), (self._caption("GPUs"), 0), (self.gpus, 0), (None, 0),
                                (self._caption("Image"), 0), (self.image_edit, 1)):  # fmt: skip
            if widget is None:
                first.addSpacing(10)
            else:
                first.addWidget(widget, stretch)
        rows.addLayout(first)
        self.parents = ParentPicker(self.context, self.skill.name, self.can_resume, self)
        self.parents.changed.connect(self._on_parent_changed)
        self.parents.setVisible(self.picks_parent)
        rows.addWidget(self.parents)
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

    # -- host and image ----------------------------------------------------------------------------

    def _reload_hosts(self) -> None:
        current = self.host_name()
        configs = self.context.host_configs()
        self.host_combo.blockSignals(True)
        self.host_combo.clear()
        for config in configs:
            self.host_combo.addItem(config.name, config.name)
            index = self.host_combo.count() - 1
            self.host_combo.setItemData(
                index, f"{config.kind}: {config.address}", Qt.ItemDataRole.ToolTipRole
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

    def _on_gpus_changed(self) -> None:
        self.requirements.set_gpus(self.gpus.selected())
        self._update_state()

    def _on_host_changed(self, _index: int = -1) -> None:
        self._launch_error = ""
        self.requirements.set_host(self.context.host_config(self.host_name() or ""))
        if not self._image_edited:
            self.image_edit.setText(self.default_image())
        image = self.image_edit.text().strip()
        self.gpus.load(self.host_name(), [image] if image else [])
        self._update_state()

    # -- parent job and checkpoint -----------------------------------------------------------------

    def parent_id(self) -> str | None:
        """The chosen parent job, or None."""
        return self.parents.parent_id() if self.picks_parent else None

    def selected_checkpoint(self) -> Checkpoint | None:
        """The chosen checkpoint of the parent job, or None."""
        return self.parents.selected_checkpoint() if self.parent_id() else None

    def _on_parent_changed(self) -> None:
        parent = self.parent_id()
        self.requirements.set_parent_job(self.context.store.find(parent) if parent else None)
        if not self.parents.loading:
            self._write_checkpoint_into_spec()
        self._update_state()

    def _write_checkpoint_into_spec(self) -> None:
        """Show the chosen checkpoint in the spec's checkpoint key(s); undo that when no job is chosen."""
        keys = [key for key, rule in self.form.action.spec_params.items() if rule in CHECKPOINT_RULES]
        checkpoint = self.selected_checkpoint()
        for key in keys:
            if checkpoint is not None:
                self._written_checkpoints[key] = checkpoint.path
                self.form.set_value(key, checkpoint.path)
                continue
            written = self._written_checkpoints.pop(key, None)
            if written is not None and self.form.value(key) == written:
                self.form.reset(key)

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
            if self.parents.loading:
                return "Looking for the parent's checkpoints…"
            if self.parents.problem:
                return self.parents.problem
            if self.selected_checkpoint() is None:
                return "Choose a checkpoint."
        return ""

    def _keys_filled_at_launch(self) -> set[str]:
        filled = set()
        for key, rule in self.form.action.spec_params.items():
            if rule in FILLED_AT_LAUNCH or (rule in CHECKPOINT_RULES and self.parent_id()):
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
            self._set_message(f"{self._note} {self._ready_text()}".strip(), "ready")

    def _ready_text(self) -> str:
        gpus = self.gpus.selected()
        where = f"GPU {', '.join(map(str, gpus))}" if gpus else "CPU only"
        text = f"Ready to run {self.action} on '{self.host_name()}' ({where})"
        checkpoint = self.selected_checkpoint()
        if checkpoint is not None:
            text += f", {'resuming from' if self.can_resume else 'using'} {checkpoint.name}"
        return text + "."

    def _set_message(self, text: str, state: str) -> None:
        self.message.setText(text)
        self.message.setProperty("state", state)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def launch_request(self) -> LaunchRequest:
        """What Launch would ask the job manager for."""
        checkpoint = self.selected_checkpoint()
        host = self.host_name()
        assert host is not None, "Launch is disabled without a host"
        return LaunchRequest(
            skill=self.skill.name,
            action=self.action,
            host=host,
            spec=self.form.document.copy(),
            gpus=self.gpus.selected(),
            image=self.image_edit.text().strip() or None,
            parent_id=self.parent_id(),
            checkpoint=checkpoint.path if checkpoint else None,
            resume=self.can_resume and self.parent_id() is not None,
            allow_latest_link=bool(checkpoint and checkpoint.is_latest_link),
        )

    def _on_launch_clicked(self) -> None:
        if self.blocking_reason():
            return
        if not self.requirements.launch_allowed:
            self._launch_after_check = True
            self._set_message("Checking the data and the spec on the host before launching…", "busy")
            self.checks_requested.emit()
            self.requirements.check()
            return
        self._start_launch()

    def _on_preflight_done(self, _report: object) -> None:
        if not self._launch_after_check:
            return
        self._launch_after_check = False
        if self.requirements.launch_allowed:
            self._start_launch()
        else:
            self._set_message("The checks found problems: fix the errors (or accept the warnings) under "
                              "'Data & checks', then launch again.", "blocked")

    def _start_launch(self) -> None:
        if self.form.automl_on:
            self._open_study_setup()
            return
        request = self.launch_request()
        self._busy = True
        self._launch_error = ""
        self._note = ""
        self._update_state()
        self.context.run(
            self.context.manager.launch, request, on_done=self._on_launched, on_error=self._on_launch_failed
        )

    def _open_study_setup(self) -> None:
        """With the AutoML switch on, Launch opens a study instead of one job."""
        from app.ui.automl.study_dialog import open_study_setup

        host = self.host_name()
        assert host is not None, "Launch is disabled without a host"
        open_study_setup(self, self.form, host, self.context, image=self.image_edit.text().strip() or None,
                         gpus=self.gpus.selected())
        self._set_message("AutoML: review the search space and start the study in the dialog.", "ready")

    def _on_automl_changed(self, on: bool) -> None:
        self.launch_button.setText("AutoML study…" if on else "Launch")
        self.launch_button.setToolTip("Search the AutoML parameters with several train jobs" if on else "")

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
        source = self.context.store.find(request.inherit_from) if request.inherit_from else None
        try:
            if request.spec_yaml:
                import_job_spec(self.form, request.spec_yaml)
            elif source is not None:
                inherit_settings(self.form, self.skill, source)
        except SpecParseError as error:
            self._launch_error = f"The job's spec could not be read: {error}"
        if request.host:
            self.select_host(request.host)
        if request.image:
            self.image_edit.setText(request.image)
            self._image_edited = True
        if request.gpus is not None:
            self.gpus.set_selected(request.gpus)
        self._note = " ".join(request.notes)
        if request.parent_id and self.picks_parent:
            self.parents.select(request.parent_id, request.checkpoint)
        self._update_state()
