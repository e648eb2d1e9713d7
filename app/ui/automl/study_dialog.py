"""Setting up an AutoML study: search space, algorithm, budget, metric, GPUs, and a preview.

Entry point for the launch panel: ``open_study_setup(parent, form, host_name, context)`` opens the
dialog (without blocking) for the form's spec on that host; "Start study" records the study, runs
it in the background and shows its live page. The first configurations the study will run are
previewed before anything is launched: the baseline (the spec's own values) and the first draws,
which are exactly those of the study because the seed is fixed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.automl.engine import (
    ALGORITHMS,
    PRUNERS,
    algorithm_problem,
    exact_preview_count,
    preview_proposals,
)
from app.core.automl.service import (
    CreatedStudy,
    check_config,
    create_study,
    default_config,
    suggested_direction,
)
from app.core.automl.study import StudyConfig, StudyStore
from app.core.hosts.gpus import GpuInventory, list_gpus
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument
from app.core.specs.form import ActionForm
from app.core.specs.service import default_spec
from app.ui.app_context import AppContext
from app.ui.automl.cards import card
from app.ui.automl.runtime import runner_for
from app.ui.automl.space_table import SearchSpaceTable, format_number
from app.ui.automl.style import AUTOML_STYLE
from app.ui.automl.trial_table import short_name

DEFAULT_TRIALS = 10
PREVIEW_ROWS = 8
DIRECTION_LABELS = {"minimize": "Minimise", "maximize": "Maximise"}


def _evaluate(config: StudyConfig, context: AppContext, count: int) -> tuple[list[str], list[Any], int]:
    """Problems and preview for a copy of the config (runs in a worker)."""
    problems = check_config(config, context.bank)
    if problems:
        return problems, [], 0
    settings = config.engine_settings()
    exact = exact_preview_count(settings, config.trials + (1 if config.baseline else 0))
    spec = SpecDocument.from_yaml(config.spec_yaml)
    return [], preview_proposals(config.space, settings, spec, min(count, exact)), exact


class StudySetupDialog(QDialog):
    """Configure and start a study; ``study_started(study_id)`` once it runs."""

    study_started = Signal(str)

    def __init__(
        self,
        context: AppContext,
        skill: Skill,
        spec: SpecDocument,
        host: str,
        image: str | None = None,
        gpus: list[int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("StudySetupDialog")
        self.setStyleSheet(AUTOML_STYLE)
        self.setWindowTitle(f"AutoML study · {skill.name}")
        self.context = context
        self.skill = skill
        self.config = default_config(skill, host, spec, trials=DEFAULT_TRIALS)
        self.config.image = image
        self.problems: list[str] = []
        self.inventory: GpuInventory | None = None
        self._wanted_gpus = list(gpus or [])
        self._token = 0
        self.created: CreatedStudy | None = None
        self._closed = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(250)
        self._refresh_timer.timeout.connect(self._refresh)
        self._build()
        self._load_gpus()
        self.schedule_refresh()

    # -- layout ------------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        title = QLabel(f"AutoML study of <b>{self.skill.name}</b> · train on <b>{self.config.host}</b>", self)
        title.setObjectName("StudyTitle")
        layout.addWidget(title)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        space_card, space_layout = card(
            "Search space",
            splitter,
            "From the schema's AutoML parameters. Narrow or widen a range within the schema's limits; "
            "unticked parameters keep the spec's value.",
        )
        self.space_table = SearchSpaceTable(self.config.space, space_card)
        self.space_table.space_changed.connect(self.schedule_refresh)
        self.space_table.problems_changed.connect(lambda _p: self.schedule_refresh())
        space_layout.addWidget(self.space_table)
        splitter.addWidget(space_card)
        splitter.addWidget(self._settings_card(splitter))
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 3)
        preview_card, preview_layout = card(
            "First configurations",
            self,
            "What the study runs first, before any result comes in: the baseline with the spec's own "
            "values, then the first draws (the seed is fixed, so these are exact).",
        )
        self.preview = QTableWidget(0, 1, preview_card)
        self.preview.setObjectName("PreviewTable")
        self.preview.verticalHeader().setVisible(False)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setAlternatingRowColors(True)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.preview.horizontalHeader().setStretchLastSection(True)
        preview_layout.addWidget(self.preview)
        layout.addWidget(preview_card, 2)
        self.message = QLabel(self)
        self.message.setObjectName("SetupProblems")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.summary = QLabel(self)
        self.summary.setObjectName("SetupNote")
        buttons.addWidget(self.summary, 1)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        self.start_button = QPushButton("Start study", self)
        self.start_button.setObjectName("StartStudyButton")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._on_start_clicked)
        buttons.addWidget(cancel)
        buttons.addWidget(self.start_button)
        layout.addLayout(buttons)
        self.resize(1180, 780)

    def _settings_card(self, parent: QWidget) -> QFrame:
        frame, layout = card("Study", parent)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.name_edit = QLineEdit(frame)
        self.name_edit.setPlaceholderText("optional, e.g. lr sweep")
        form.addRow("Name", self.name_edit)
        self.algorithm = QComboBox(frame)
        for key, label in ALGORITHMS.items():
            self.algorithm.addItem(label, key)
            problem = algorithm_problem(key)
            if problem:
                index = self.algorithm.count() - 1
                self.algorithm.model().item(index).setEnabled(False)  # type: ignore[attr-defined]
                self.algorithm.setItemData(index, problem, Qt.ItemDataRole.ToolTipRole)
        form.addRow("Algorithm", self.algorithm)
        self.pruner = QComboBox(frame)
        for key, label in PRUNERS.items():
            self.pruner.addItem(label, key)
        self.pruner.setToolTip(
            "Stop trials early whose intermediate values are poor (their container is stopped)"
        )
        form.addRow("Early stopping", self.pruner)
        self.trials = QSpinBox(frame)
        self.trials.setRange(1, 1000)
        self.trials.setValue(self.config.trials)
        form.addRow("Trials", self.trials)
        self.baseline = QCheckBox("Run the spec's own values first", frame)
        self.baseline.setChecked(True)
        form.addRow("Baseline", self.baseline)
        self.metric_box = QComboBox(frame)
        self.metric_box.setEditable(True)
        self.metric_box.addItem(self.config.metric)
        form.addRow("Metric", self.metric_box)
        self.direction = QComboBox(frame)
        for key, label in DIRECTION_LABELS.items():
            self.direction.addItem(label, key)
        self.direction.setCurrentIndex(list(DIRECTION_LABELS).index(self.config.direction))
        form.addRow("Direction", self.direction)
        self.seed = QSpinBox(frame)
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(self.config.seed or 0)
        form.addRow("Seed", self.seed)
        self.gpu_box = QWidget(frame)
        self.gpu_layout = QVBoxLayout(self.gpu_box)
        self.gpu_layout.setContentsMargins(0, 0, 0, 0)
        self.gpu_note = QLabel("Looking for GPUs…", self.gpu_box)
        self.gpu_note.setObjectName("CardHint")
        self.gpu_note.setWordWrap(True)
        self.gpu_layout.addWidget(self.gpu_note)
        self.gpu_checks: list[QCheckBox] = []
        form.addRow("GPUs", self.gpu_box)
        self.per_trial = QSpinBox(frame)
        self.per_trial.setRange(1, 64)
        self.per_trial.setValue(self.config.gpus_per_trial)
        form.addRow("GPUs per trial", self.per_trial)
        self.parallel = QSpinBox(frame)
        self.parallel.setRange(1, 64)
        self.parallel.setValue(1)
        self.parallel.setToolTip("Trials run at once on a host without GPUs")
        form.addRow("Parallel trials", self.parallel)
        layout.addLayout(form)
        layout.addStretch(1)
        for spin in (self.trials, self.seed, self.per_trial, self.parallel):
            spin.valueChanged.connect(self.schedule_refresh)
        for combo in (self.algorithm, self.pruner, self.direction):
            combo.currentIndexChanged.connect(self.schedule_refresh)
        self.metric_box.currentTextChanged.connect(self._on_metric_changed)
        self.baseline.toggled.connect(self.schedule_refresh)
        return frame

    # -- GPUs --------------------------------------------------------------------------------------

    def _load_gpus(self) -> None:
        cached = self.context.gpu_inventories.get(self.config.host)
        if cached is not None:
            self._show_gpus(cached)
            return
        probe = [self.config.image] if self.config.image else []
        self.context.run(
            lambda: list_gpus(self.context.manager.session(self.config.host), probe),
            on_done=self._on_gpus_found,
            on_error=lambda message: (
                None if self._closed else self._show_gpus(GpuInventory([], f"GPUs unknown: {message}"))
            ),
        )

    def _on_gpus_found(self, inventory: GpuInventory) -> None:
        self.context.gpu_inventories[self.config.host] = inventory
        if not self._closed:
            self._show_gpus(inventory)

    def _show_gpus(self, inventory: GpuInventory) -> None:
        self.inventory = inventory
        for check in self.gpu_checks:
            check.deleteLater()
        self.gpu_checks = []
        if not inventory.gpus:
            self.gpu_note.setText(
                f"No GPUs on '{self.config.host}': trials run on the CPU, 'Parallel trials' at a time."
            )
            self.gpu_note.setToolTip(inventory.note)

        else:
            self.gpu_note.setText("Trials take disjoint groups of the ticked GPUs, one group each.")
            for gpu in inventory.gpus:
                check = QCheckBox(f"{gpu.index}: {gpu.name}", self.gpu_box)
                check.setChecked(not self._wanted_gpus or gpu.index in self._wanted_gpus)
                check.setProperty("gpu", gpu.index)
                check.toggled.connect(self.schedule_refresh)
                self.gpu_layout.addWidget(check)
                self.gpu_checks.append(check)
        has_gpus = bool(inventory.gpus)
        self.per_trial.setEnabled(has_gpus)
        self.parallel.setEnabled(not has_gpus)
        self.schedule_refresh()

    def chosen_gpus(self) -> list[int]:
        """The ticked GPU indices."""
        return [int(c.property("gpu")) for c in self.gpu_checks if c.isChecked()]

    # -- settings -> config ------------------------------------------------------------------------

    def _on_metric_changed(self, text: str) -> None:
        direction = suggested_direction(text)
        if direction:
            self.direction.setCurrentIndex(list(DIRECTION_LABELS).index(direction))
        self.schedule_refresh()

    def collect(self) -> StudyConfig:
        """The config as the dialog shows it."""
        config = self.config
        config.name = self.name_edit.text().strip()
        config.algorithm = str(self.algorithm.currentData())
        config.pruner = str(self.pruner.currentData())
        config.trials = self.trials.value()
        config.baseline = self.baseline.isChecked()
        config.metric = self.metric_box.currentText().strip()
        config.direction = str(self.direction.currentData())
        config.seed = self.seed.value()
        config.startup_trials = max(2, min(10, config.trials // 3))
        config.gpus = self.chosen_gpus()
        config.gpus_per_trial = self.per_trial.value()
        config.parallel = self.parallel.value()
        return config

    def schedule_refresh(self) -> None:
        """Check and preview shortly after the last change."""
        self._refresh_timer.start()

    def _refresh(self) -> None:
        config = self.collect()
        self._token += 1
        token = self._token
        if self.space_table.problems:
            self._show_result(token, (list(self.space_table.problems.values()), [], 0))
            return
        snapshot = StudyConfig.from_json(config.to_json())  # the worker gets its own copy
        self.context.run(
            _evaluate,
            snapshot,
            self.context,
            PREVIEW_ROWS,
            on_done=lambda result: self._show_result(token, result),
            on_error=lambda message: self._show_result(token, ([message], [], 0)),
        )

    def done(self, result: int) -> None:
        """Close the dialog; answers from workers still under way are then ignored."""
        self._closed = True
        self._refresh_timer.stop()
        super().done(result)

    def _show_result(self, token: int, result: tuple[list[str], list[Any], int]) -> None:
        if token != self._token or self._closed:
            return
        problems, proposals, exact = result
        self.problems = problems
        self.message.setText("The study cannot start yet:\n• " + "\n• ".join(problems) if problems else "")
        self.message.setVisible(bool(problems))
        self.start_button.setEnabled(not problems and self.created is None)
        self._show_preview(proposals)
        config = self.config
        budget = config.trials + (1 if config.baseline else 0)
        later = f"; the rest follow the results of the first {exact}" if 0 < exact < budget else ""
        self.summary.setText(f"{budget} train jobs, {config.slots} at a time on '{config.host}'{later}")

    def _show_preview(self, proposals: list[Any]) -> None:
        paths = [p.path for p in self.config.space.searched]
        self.preview.clear()
        self.preview.setColumnCount(len(paths) + 1)
        self.preview.setHorizontalHeaderLabels(["Trial", *map(short_name, paths)])
        for column, path in enumerate(paths, start=1):
            header = self.preview.horizontalHeaderItem(column)
            if header is not None:
                header.setToolTip(path)
        self.preview.setRowCount(len(proposals))
        for row, proposal in enumerate(proposals):
            label = "baseline" if proposal.baseline else str(proposal.number)
            self.preview.setItem(row, 0, QTableWidgetItem(label))
            for column, path in enumerate(paths, start=1):
                value = proposal.values.get(path)
                text = format_number(value) if isinstance(value, float) else str(value)
                self.preview.setItem(row, column, QTableWidgetItem(text))

    # -- start -------------------------------------------------------------------------------------

    def _on_start_clicked(self) -> None:
        config = self.collect()
        self.start_button.setEnabled(False)
        self.summary.setText("Starting the study…")
        studies = StudyStore(self.context.store)
        self.context.run(
            create_study,
            self.context.manager,
            studies,
            config,
            on_done=self._on_created,
            on_error=self._on_create_failed,
        )

    def _on_created(self, created: CreatedStudy) -> None:
        self.created = created
        runner_for(self.context).start(created.record.id)
        self.study_started.emit(created.record.id)
        self.accept()

    def _on_create_failed(self, message: str) -> None:
        if self._closed:
            return
        self.start_button.setEnabled(True)
        self.message.setText(f"The study cannot start:\n{message}")
        self.message.setVisible(True)


def show_study_view(parent: QWidget | None, context: AppContext, study_id: str) -> QWidget:
    """Show a study's live page: a page of the main window when there is one, else its own window."""
    from app.ui.automl.study_view import StudyView

    window = parent.window() if parent is not None else None
    view = StudyView(context, study_id)
    add_page = getattr(window, "add_page", None)
    pages = getattr(window, "pages", None)
    if add_page is not None:
        add_page(view, f"AutoML · {view.title_text()}")
        if pages is not None:
            pages.setCurrentWidget(view)
    else:
        view.setWindowFlag(Qt.WindowType.Window, True)
        view.resize(1400, 900)
        view.show()
    return view


def open_study_setup(
    parent: QWidget | None,
    form: ActionForm,
    host_name: str,
    context: AppContext,
    image: str | None = None,
    gpus: list[int] | None = None,
) -> StudySetupDialog:
    """Open the study set-up for the form's spec on ``host_name`` (the launch panel calls this when
    the AutoML switch is on). Returns at once; on "Start study" the study runs in the background and
    its live page opens. ``image`` and ``gpus`` pre-fill the launch panel's choices."""
    dialog = StudySetupDialog(context, form.skill, form.document.copy(), host_name, image, gpus, parent)
    dialog.study_started.connect(lambda study_id: show_study_view(parent, context, study_id))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.open()
    return dialog


def main() -> int:
    """Open the dialog alone: the pose train template on the local host."""
    from app.ui.application import create_application
    from app.ui.automl.sample import POSE, sample_context

    app = create_application()
    context = sample_context()
    dialog = StudySetupDialog(
        context, context.bank.skill(POSE), default_spec(context.bank.skill(POSE), "train"), "local"
    )
    dialog.show()
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
