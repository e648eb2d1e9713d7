"""The data part of an action's launch panel: the requirement table, preflight findings and their fixes.

`RequirementsPanel` is a self-contained widget for one `ActionForm`. Embed it and tell it the host,
the parent job and the chosen GPUs; it does the rest.

API:
    panel = RequirementsPanel(form, host=config, parent_job=job, find_job=store.find,
                              open_host=lambda config: manager.session(config.name), close_sessions=False)
    panel.set_host(config)            # HostConfig or None; reloads the host's registered datasets
    panel.set_parent_job(job)         # Job or None; a dataset_convert job is found up its lineage
    panel.set_gpus([0, 1])            # host GPUs the job would get (preflight checks them)
    panel.set_plans_export(True)      # also warn about settings ONNX export would not accept
    panel.check()                     # run preflight in a worker (the "Check" button does this)
    panel.launch_allowed              # no errors, and warnings (if any) accepted, for the current spec
    panel.launch_allowed_changed      # Signal(bool)
    panel.report_ready                # Signal(PreflightReport)
    panel.report                      # the last PreflightReport (findings, resolved rows, checked spec)
    panel.options                     # PreflightOptions: size limits, GPU probing (constructor option)
    panel.field_requested             # Signal(str): the user double-clicked a row or finding of a key
    panel.push_findings_to_form()     # findings at their fields (done after every check)

Resolved values are written into the form (what the user typed is never overwritten). Once checked,
an edit of the spec or the data choice makes the last check stale: launching is blocked and the check
runs again by itself a moment after the last edit. Warnings once accepted stay accepted while a new
check finds the same ones.
``open_host`` defaults to opening a new session per check (closed afterwards).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.core.datasets.context import PreflightOptions
from app.core.datasets.findings import NORMALIZE_DEPTH_PATHS, SET_VALUE, Finding, findings_to_issues
from app.core.datasets.preflight import PreflightReport, run_preflight
from app.core.datasets.registry import Dataset, DatasetRegistry, DatasetRegistryError
from app.core.datasets.resolve import CONVERT_PLACEHOLDER, Resolution, find_convert_job, resolve_requirements
from app.core.hosts.session import HostSession, open_session
from app.core.hosts.settings import HostConfig
from app.core.jobs.model import Job
from app.core.specs.document import get_path
from app.core.specs.form import ActionForm
from app.core.specs.validation import NEEDS_INPUT
from app.ui.dataset_choice import DatasetChoiceBar
from app.ui.preflight_tasks import DepthFixDialog, DepthFixFlow, HostTasks
from app.ui.preflight_views import COLOURS, FindingList, RequirementTable
from app.ui.workers import run_in_background

EXPORT_RULE_PREFIX = "export_"
AUTO_RECHECK_MS = 1000  # after the last edit
VERDICTS = {
    "error": "launch is blocked until the errors are fixed",
    "warning": "accept the warnings to launch",
    "ok": "ready to launch",
}


class RequirementsPanel(QWidget):
    """Requirement table, dataset choice, preflight check and findings for one action (see module doc)."""

    launch_allowed_changed = Signal(bool)
    report_ready = Signal(object)
    field_requested = Signal(str)

    def __init__(
        self,
        form: ActionForm,
        host: HostConfig | None = None,
        parent_job: Job | None = None,
        *,
        find_job: Callable[[str], Job | None] | None = None,
        open_host: Callable[[HostConfig], HostSession] | None = None,
        close_sessions: bool = True,
        registry: DatasetRegistry | None = None,
        options: PreflightOptions | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("RequirementsPanel")
        self.form = form
        self.host = host
        self.parent_job = parent_job
        self.find_job = find_job or (lambda _job_id: None)
        self.registry = registry or DatasetRegistry()
        self.options = options or PreflightOptions()
        self.tasks = HostTasks(open_host or open_session, close_sessions if open_host is not None else True)
        self.resolution: Resolution | None = None
        self._report: PreflightReport | None = None
        self._stale = False
        self._busy = False
        self._generation = 0
        self._filling = False
        self._filled: dict[str, Any] = {}
        self._datasets: list[Dataset] = []
        self._gpus: list[int] = []
        self._allowed = False
        self._accepted_warnings: set[tuple[str, str]] = set()
        self._edits = 0  # edits of the spec or data choice so far; a check covers those before it started
        self._edits_checked = 0
        self.recheck_timer = QTimer(self)
        self.recheck_timer.setSingleShot(True)
        self.recheck_timer.setInterval(AUTO_RECHECK_MS)
        self.recheck_timer.timeout.connect(self._recheck)
        self._build()
        self.depth_fix = DepthFixFlow(self.tasks, self)
        self.depth_fix.status.connect(self._set_status)
        self.depth_fix.fixed.connect(lambda _plan: self.check())
        form.value_changed.connect(self._on_form_changed)
        form.document_replaced.connect(self._on_form_replaced)
        self._reload_datasets()
        self._invalidate()

    # -- building -----------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Data</b>", self))
        self.choices = DatasetChoiceBar(self.registry, self)
        self.choices.choice_changed.connect(self._invalidate)
        self.choices.registered.connect(self._on_registered)
        self.register_button = self.choices.register_button
        bar.addWidget(self.choices)
        bar.addStretch(1)
        self.export_box = QCheckBox("I plan to export this model", self)
        self.export_box.setToolTip("Also warn about settings an ONNX export would not accept")
        self.export_box.setVisible(self._has_export_rules())
        self.export_box.toggled.connect(self._invalidate)
        bar.addWidget(self.export_box)
        self.check_button = QPushButton("Check", self)
        self.check_button.setObjectName("PreflightCheckButton")
        self.check_button.setToolTip("Check the spec and the data on the host (preflight)")
        self.check_button.clicked.connect(self.check)
        bar.addWidget(self.check_button)
        layout.addLayout(bar)
        self.convert_label = QLabel(self)
        self.convert_label.setObjectName("ConvertJobLabel")
        self.convert_label.setWordWrap(True)
        layout.addWidget(self.convert_label)
        self.table = RequirementTable(self)
        self.table.row_activated.connect(self.field_requested)
        layout.addWidget(self.table)
        layout.addLayout(self._status_row())
        self.findings = FindingList(self)
        self.findings.fix_requested.connect(self._on_fix_requested)
        self.findings.finding_activated.connect(self.field_requested)
        layout.addWidget(self.findings, 1)

    def _status_row(self) -> QHBoxLayout:
        status = QHBoxLayout()
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        status.addWidget(self.progress)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("PreflightStatus")
        self.status_label.setWordWrap(True)
        status.addWidget(self.status_label, 1)
        self.accept_box = QCheckBox("I accept the warnings", self)
        self.accept_box.hide()
        self.accept_box.toggled.connect(self._on_accept_toggled)
        status.addWidget(self.accept_box)
        return status

    def _has_export_rules(self) -> bool:
        action = self.form.action.name
        return action != "export" and any(
            rule.id.startswith(EXPORT_RULE_PREFIX) and rule.applies_to(action)
            for rule in self.form.skill.rules
        )

    # -- public API -----------------------------------------------------------------------------------

    @property
    def report(self) -> PreflightReport | None:
        """The last check's report (None before the first check)."""
        return self._report

    @property
    def launch_allowed(self) -> bool:
        """True when the current spec was checked: no errors, and any warnings accepted."""
        return self._allowed

    @property
    def depth_fix_dialog(self) -> DepthFixDialog | None:
        """The depth-path fix preview while it is open."""
        return self.depth_fix.dialog

    def set_host(self, config: HostConfig | None) -> None:
        """Check against another host; its registered datasets fill the table."""
        self.host = config
        self._reload_datasets()
        self._invalidate()

    def set_parent_job(self, job: Job | None) -> None:
        """The parent job (a dataset_convert job, or a job whose lineage has one)."""
        self.parent_job = job
        self._invalidate()

    def set_gpus(self, gpus: list[int]) -> None:
        """The host GPUs the job would get."""
        if list(gpus) != self._gpus:
            self._gpus = list(gpus)
            self._invalidate()

    def set_plans_export(self, on: bool) -> None:
        """Whether export-compatibility warnings apply to this train spec."""
        self.export_box.setChecked(on)

    def check(self) -> None:
        """Run preflight in the background for the current spec, host and jobs."""
        if self.host is None:
            self._set_status("Choose a host to check the data on.", "unset")
            return
        self.recheck_timer.stop()
        self.refresh()
        self._edits_checked = self._edits
        self._generation += 1
        self._busy = True
        self._update_allowed()
        self.check_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self._set_status(f"Checking on '{self.host.name}'…", "")
        skill, action, resolution = self.form.skill, self.form.action.name, self.resolution
        spec = self.form.document.copy()
        options = dataclasses.replace(
            self.options, plans_export=self.export_box.isChecked(), gpus=list(self._gpus)
        )

        def preflight(session: HostSession, report: Callable[[float, str], None]) -> PreflightReport:
            return run_preflight(
                skill, action, spec, session, resolution=resolution, options=options, report=report
            )

        run_in_background(
            self.tasks.bind_reporting(self.host, preflight),
            on_done=partial(self._on_checked, self._generation),
            on_error=partial(self._on_check_failed, self._generation),
            on_progress=partial(self._on_progress, self._generation),
        )

    def push_findings_to_form(self) -> None:
        """Show the last check's errors and warnings at their fields in the form."""
        if self._report is None:
            self.form.set_external_issues([])
            return
        issues = self.form.validator.validate(self.form.document.data)
        already = {i.path for i in issues if i.severity == NEEDS_INPUT}
        shown = [
            f
            for f in self._report.findings
            if f.check != "spec" and not (f.check == "mandatory" and f.spec_key in already)
        ]
        self.form.set_external_issues(findings_to_issues(shown))

    # -- resolving ------------------------------------------------------------------------------------

    def _convert_job(self) -> Job | None:
        return find_convert_job(self.parent_job, self.find_job)

    def refresh(self) -> None:
        """Resolve the table again and fill the form with what the datasets and jobs give."""
        form = self.form
        self.resolution = resolve_requirements(
            form.skill,
            form.action.name,
            form.document,
            host=self.host.name if self.host else "",
            datasets=self._datasets,
            chosen=list(self.choices.chosen.values()),
            parent=self.parent_job,
            convert_job=self._convert_job(),
            filled=self._filled,
        )
        values = self.resolution.values_to_fill()
        self._filling = True
        try:
            for key, value in values.items():
                if form.value(key) != value:
                    form.set_value(key, value)
            for key, old in self._filled.items():
                if key not in values and form.value(key) == old:
                    form.set_value(key, get_path(form.template, key, ""))
        finally:
            self._filling = False
        self._filled = values
        fresh = self._report if (self._report is not None and not self._stale) else None
        self.table.show_rows(self.resolution.rows, fresh.findings if fresh else None)
        self.table.setFixedHeight(self._table_height())
        self._show_convert_job()

    def _table_height(self) -> int:
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        return rows + self.table.horizontalHeader().height() + 2 * self.table.frameWidth() + 2

    def _show_convert_job(self) -> None:
        requirements = self.form.action.requirements
        needs_job = any(r.from_convert_job or CONVERT_PLACEHOLDER in r.files for r in requirements)
        job = self._convert_job()
        self.convert_label.setVisible(needs_job)
        if job is not None:
            self.convert_label.setText(f"Converted data: dataset_convert job {job.id}")
            self.convert_label.setStyleSheet("")
        else:
            self.convert_label.setText(
                "Converted data: none — choose the dataset_convert job as the parent job "
                "(or a job trained from it)"
            )
            self.convert_label.setStyleSheet(f"color: {COLOURS['unset']};")

    def _reload_datasets(self) -> None:
        try:
            self._datasets = self.registry.load() if self.host is not None else []
        except DatasetRegistryError as error:
            self._datasets = []
            self._set_status(str(error), "error")
        host = self.host.name if self.host else ""
        self.choices.show_choices(host, self.form.skill.name, self.form.action.requirements, self._datasets)

    # -- events ---------------------------------------------------------------------------------------

    def _on_registered(self, _dataset: Dataset) -> None:
        self._reload_datasets()
        self._invalidate()

    def _on_form_changed(self, _path: str) -> None:
        if not self._filling:
            self._invalidate()

    def _on_form_replaced(self) -> None:
        self._filled = {}
        self._invalidate()

    def _invalidate(self, *_args: object) -> None:
        self._edits += 1
        if self._report is not None:
            self._stale = True
        self.refresh()
        if self._report is not None:
            self._set_status("The spec or the data choice changed: checking again…", "unset")
            self.recheck_timer.start()
        else:
            self._set_status("Not checked yet: press Check to look at the data on the host.", "")
        self._update_allowed()

    def _on_progress(self, generation: int, fraction: float, message: str) -> None:
        if generation == self._generation:
            self.progress.setValue(int(fraction * 100))
            self._set_status(message, "")

    def _on_checked(self, generation: int, report: PreflightReport) -> None:
        if generation != self._generation:
            return
        self._busy = False
        self._report = report
        self._stale = self._edits != self._edits_checked  # edited while the check ran
        self.progress.hide()
        self.check_button.setEnabled(True)
        self.findings.show_findings(report.findings)
        self.table.show_rows(report.resolution.rows, report.findings)
        self.accept_box.blockSignals(True)
        self.accept_box.setChecked(bool(report.warnings) and _warning_keys(report) <= self._accepted_warnings)
        self.accept_box.blockSignals(False)
        self.accept_box.setVisible(bool(report.warnings) and not report.errors)
        severity = "error" if report.errors else ("warning" if report.warnings else "ok")
        text = f"{report.summary()} on '{report.host}' ({report.seconds:.1f} s): {VERDICTS[severity]}"
        self._set_status(text, severity)
        self.push_findings_to_form()
        self._update_allowed()
        self.report_ready.emit(report)

    def _on_check_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._busy = False
        self.progress.hide()
        self.check_button.setEnabled(True)
        self._set_status(f"The check could not run: {message}", "error")
        self._update_allowed()

    def _recheck(self) -> None:
        if self._report is not None and self.host is not None and not self._busy:
            self.check()
        elif self._busy:
            self.recheck_timer.start()  # the edit came during a check: check again after it

    def _on_accept_toggled(self, checked: bool) -> None:
        report = self._report
        self._accepted_warnings = _warning_keys(report) if checked and report is not None else set()
        self._update_allowed()

    def _set_status(self, text: str, severity: str) -> None:
        self.status_label.setText(text)
        colour = COLOURS.get(severity)
        self.status_label.setStyleSheet(f"color: {colour};" if colour else "")

    def _update_allowed(self, *_args: object) -> None:
        report = self._report
        allowed = (
            report is not None
            and not self._stale
            and not self._busy
            and not report.errors
            and (not report.warnings or self.accept_box.isChecked())
        )
        if allowed != self._allowed:
            self._allowed = allowed
            self.launch_allowed_changed.emit(allowed)

    def _on_fix_requested(self, finding: Finding) -> None:
        if finding.fix_action == SET_VALUE:
            self.form.set_value(finding.spec_key, finding.fix_value)
            self.check()
        elif finding.fix_action == NORMALIZE_DEPTH_PATHS and self.host is not None:
            self.depth_fix.start(self.host, finding, self.options.max_infos_bytes)


def _warning_keys(report: PreflightReport) -> set[tuple[str, str]]:
    return {(finding.spec_key, finding.message) for finding in report.warnings}


def main(argv: list[str] | None = None) -> int:
    """Open the panel alone on the shipped pose sample: ``python -m app.ui.requirements_panel``."""
    import tempfile
    from pathlib import Path

    import yaml

    from app.core.skills import load_banks
    from app.paths import bundled_bank_dir, resources_dir
    from app.ui.application import create_application

    app = create_application()
    sample = resources_dir() / "samples" / "pose"
    folder = Path(tempfile.mkdtemp(prefix="taodesk-sample-"))
    registry = DatasetRegistry(folder / "datasets.yaml")
    registry.add(Dataset("pose-sample", "local", "train", str(sample)))
    skill = load_banks([bundled_bank_dir()]).skill("tao-train-pose-classification")
    form = ActionForm(skill, "inference")
    label_map = yaml.safe_load((sample / "label_map.yaml").read_text(encoding="utf-8")) or {}
    if isinstance(label_map, dict):
        form.set_value("dataset.label_map", label_map)
        form.set_value("dataset.num_classes", len(label_map))
    panel = RequirementsPanel(form, HostConfig(name="local", workspace=str(folder)), registry=registry)
    panel.resize(1200, 560)
    panel.show()
    panel.check()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
