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
    panel.options                     # PreflightOptions: size limits, GPU probing (constructor option)
    panel.field_requested             # Signal(str): the user double-clicked a row or finding of a key
    panel.push_findings_to_form()     # findings at their fields (done after every check)

Resolved values are written into the form (what the user typed is never overwritten); editing the
spec afterwards makes the last check stale, and launching is blocked until the next check.
``open_host`` defaults to opening a new session per check (closed afterwards).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.datasets.context import PreflightOptions
from app.core.datasets.depth_paths import DepthFixPlan, apply_depth_fix, preview_depth_fix
from app.core.datasets.findings import NORMALIZE_DEPTH_PATHS, SET_VALUE, Finding, findings_to_issues
from app.core.datasets.preflight import PreflightReport, run_preflight
from app.core.datasets.registry import Dataset, DatasetRegistry, DatasetRegistryError
from app.core.datasets.resolve import (
    CONVERT_PLACEHOLDER,
    SOURCE_ROLES,
    Resolution,
    find_convert_job,
    only_from_convert_job,
    resolve_requirements,
)
from app.core.hosts.session import HostSession, open_session
from app.core.hosts.settings import HostConfig
from app.core.jobs.model import Job
from app.core.specs.document import get_path
from app.core.specs.form import ActionForm
from app.core.specs.validation import NEEDS_INPUT
from app.ui.preflight_views import (
    COLOURS,
    DepthFixDialog,
    FindingList,
    RegisterDatasetDialog,
    RequirementTable,
)
from app.ui.workers import Worker, run_in_background

SOURCE_LABELS = {
    "train_datasets": "Train data",
    "eval_dataset": "Evaluation data",
    "inference_dataset": "Inference data",
    "calibration_dataset": "Calibration data",
    "id": "Data",
}
EXPORT_RULE_PREFIX = "export_"


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
        self.open_host = open_host or open_session
        self.close_sessions = close_sessions if open_host is not None else True
        self.registry = registry or DatasetRegistry()
        self.options = options or PreflightOptions()
        self.resolution: Resolution | None = None
        self.depth_fix_dialog: DepthFixDialog | None = None
        self._report: PreflightReport | None = None
        self._stale = False
        self._busy = False
        self._generation = 0
        self._filling = False
        self._filled: dict[str, Any] = {}
        self._chosen: dict[str, str] = {}
        self._datasets: list[Dataset] = []
        self._gpus: list[int] = []
        self._allowed = False
        self._workers: set[Worker] = set()
        self._build()
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
        title = QLabel("<b>Data</b>", self)
        bar.addWidget(title)
        self.source_bar = QHBoxLayout()
        self.source_bar.setSpacing(6)
        bar.addLayout(self.source_bar)
        self.register_button = QPushButton("Register dataset…", self)
        self.register_button.setToolTip(
            "Register a folder on this host as a train, eval or inference dataset"
        )
        self.register_button.clicked.connect(self._on_register_clicked)
        bar.addWidget(self.register_button)
        bar.addStretch(1)
        self.export_box = QCheckBox("I plan to export this model", self)
        self.export_box.setToolTip("Also warn about settings an ONNX export would not accept")
        self.export_box.setVisible(self._has_export_rules())
        self.export_box.toggled.connect(self._on_export_toggled)
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
        self.accept_box.toggled.connect(self._update_allowed)
        status.addWidget(self.accept_box)
        layout.addLayout(status)
        self.findings = FindingList(self)
        self.findings.fix_requested.connect(self._on_fix_requested)
        self.findings.finding_activated.connect(self.field_requested)
        layout.addWidget(self.findings, 1)

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
        self.refresh()
        self._generation += 1
        self._busy = True
        self._update_allowed()
        self.check_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self._set_status(f"Checking on '{self.host.name}'…", "")
        form, config, resolution = self.form, self.host, self.resolution
        spec = form.document.copy()
        options = dataclasses.replace(
            self.options, plans_export=self.export_box.isChecked(), gpus=list(self._gpus)
        )
        opener, close = self.open_host, self.close_sessions

        def work(report: Callable[[float, str], None]) -> PreflightReport:
            session = opener(config)
            try:
                return run_preflight(
                    form.skill,
                    form.action.name,
                    spec,
                    session,
                    resolution=resolution,
                    options=options,
                    report=report,
                )
            finally:
                if close:
                    session.close()

        self._start(
            work,
            on_done=partial(self._on_checked, self._generation),
            on_error=partial(self._on_check_failed, self._generation),
            on_progress=partial(self._on_progress, self._generation),
        )

    def _start(
        self,
        work: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
        on_progress: Callable[[float, str], None] | None = None,
    ) -> None:
        """Run ``work`` in the pool, keeping the worker alive until it reports back."""
        worker = run_in_background(work, on_done=on_done, on_error=on_error, on_progress=on_progress)
        self._workers.add(worker)
        worker.signals.finished.connect(lambda _result: self._workers.discard(worker))
        worker.signals.failed.connect(lambda _message: self._workers.discard(worker))

    def push_findings_to_form(self) -> None:
        """Show the last check's errors and warnings at their fields in the form."""
        if self._report is None:
            self.form.set_external_issues([])
            return
        already = {
            i.path for i in self.form.validator.validate(self.form.document.data) if i.severity == NEEDS_INPUT
        }
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
        host = self.host.name if self.host else ""
        self.resolution = resolve_requirements(
            form.skill,
            form.action.name,
            form.document,
            host=host,
            datasets=self._datasets,
            chosen=list(self._chosen.values()),
            parent=self.parent_job,
            convert_job=self._convert_job(),
            filled=self._filled,
        )
        values = self.resolution.values_to_fill()
        template = form.template
        self._filling = True
        try:
            for key, value in values.items():
                if form.value(key) != value:
                    form.set_value(key, value)
            for key, old in self._filled.items():
                if key not in values and form.value(key) == old:
                    form.set_value(key, get_path(template, key, ""))
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
        needs_job = any(
            r.from_convert_job or CONVERT_PLACEHOLDER in r.files for r in self.form.action.requirements
        )
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
        self._rebuild_source_bar()

    def _rebuild_source_bar(self) -> None:
        while self.source_bar.count():
            item = self.source_bar.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        host = self.host.name if self.host else ""
        sources = list(
            dict.fromkeys(r.source for r in self.form.action.requirements if not only_from_convert_job(r))
        )
        for source in sources:
            roles = SOURCE_ROLES.get(source, ())
            fitting = [d for d in self._datasets if d.fits(host, self.form.skill.name) and d.role in roles]
            self.source_bar.addWidget(QLabel(f"{SOURCE_LABELS.get(source, source)}:", self))
            combo = QComboBox(self)
            combo.setObjectName(f"DatasetChoice_{source}")
            combo.setMinimumContentsLength(12)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            for dataset in sorted(fitting, key=lambda d: d.name):
                combo.addItem(dataset.name, dataset.name)
                combo.setItemData(
                    combo.count() - 1,
                    f"{dataset.host}:{dataset.path} ({dataset.role})",
                    Qt.ItemDataRole.ToolTipRole,
                )
            if not fitting:
                combo.addItem(f"none on '{host}'" if host else "no host", None)
                combo.setEnabled(False)
            elif self._chosen.get(source) in [d.name for d in fitting]:
                combo.setCurrentIndex(combo.findData(self._chosen[source]))
            combo.currentIndexChanged.connect(partial(self._on_dataset_chosen, source, combo))
            self.source_bar.addWidget(combo)

    # -- events ---------------------------------------------------------------------------------------

    def _on_dataset_chosen(self, source: str, combo: QComboBox, _index: int) -> None:
        name = combo.currentData()
        if name:
            self._chosen[source] = str(name)
        self._invalidate()

    def _on_form_changed(self, _path: str) -> None:
        if not self._filling:
            self._invalidate()

    def _on_form_replaced(self) -> None:
        self._filled = {}
        self._invalidate()

    def _on_export_toggled(self, _on: bool) -> None:
        self._invalidate()

    def _invalidate(self) -> None:
        if self._report is not None:
            self._stale = True
        self.refresh()
        if self._report is not None:
            self._set_status(
                "The spec or the data choice changed since the last check: check again.", "unset"
            )
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
        self._stale = False
        self.progress.hide()
        self.check_button.setEnabled(True)
        self.findings.show_findings(report.findings)
        self.table.show_rows(report.resolution.rows, report.findings)
        self.accept_box.blockSignals(True)
        self.accept_box.setChecked(False)
        self.accept_box.blockSignals(False)
        self.accept_box.setVisible(bool(report.warnings) and not report.errors)
        severity = "error" if report.errors else ("warning" if report.warnings else "ok")
        verdict = {
            "error": "launch is blocked until the errors are fixed",
            "warning": "accept the warnings to launch",
            "ok": "ready to launch",
        }[severity]
        self._set_status(
            f"{report.summary()} on '{report.host}' ({report.seconds:.1f} s): {verdict}", severity
        )
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

    def _set_status(self, text: str, severity: str) -> None:
        self.status_label.setText(text)
        colour = COLOURS.get(severity)
        self.status_label.setStyleSheet(f"color: {colour};" if colour else "")

    def _update_allowed(self) -> None:
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

    # -- fixes ----------------------------------------------------------------------------------------

    def _on_fix_requested(self, finding: Finding) -> None:
        if finding.fix_action == SET_VALUE:
            self.form.set_value(finding.spec_key, finding.fix_value)
            self.check()
        elif finding.fix_action == NORMALIZE_DEPTH_PATHS:
            self._preview_depth_fix(finding)

    def _depth_fix_args(self, finding: Finding) -> tuple[list[str], str, int]:
        value = finding.fix_value if isinstance(finding.fix_value, dict) else {}
        return (
            list(value.get("pickles", [])),
            str(value.get("data_root", "")),
            self.options.max_infos_bytes,
        )

    def _with_session(self, action: Callable[[HostSession], Any]) -> Callable[[], Any]:
        config, opener, close = self.host, self.open_host, self.close_sessions

        def work() -> Any:
            if config is None:
                raise ValueError("no host chosen")
            session = opener(config)
            try:
                return action(session)
            finally:
                if close:
                    session.close()

        return work

    def _preview_depth_fix(self, finding: Finding) -> None:
        pickles, data_root, limit = self._depth_fix_args(finding)
        self._set_status(f"Looking at {len(pickles)} pickle(s) for the depth-path fix…", "")
        work = self._with_session(lambda s: preview_depth_fix(s, pickles, data_root, max_bytes=limit))
        self._start(work, on_done=self._show_depth_fix, on_error=self._on_fix_failed)

    def _show_depth_fix(self, plan: DepthFixPlan) -> None:
        dialog = DepthFixDialog(plan, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(partial(self._on_depth_dialog_finished, dialog, plan))
        self.depth_fix_dialog = dialog
        dialog.open()

    def _on_depth_dialog_finished(self, dialog: DepthFixDialog, plan: DepthFixPlan, result: int) -> None:
        self.depth_fix_dialog = None
        dialog.deleteLater()
        if result != QDialog.DialogCode.Accepted:
            self._set_status("The depth paths were left as they are.", "")
            return
        limit = self.options.max_infos_bytes
        self._set_status(f"Rewriting {len([f for f in plan.files if f.changes])} pickle(s)…", "")
        work = self._with_session(lambda s: apply_depth_fix(s, plan, max_bytes=limit))
        self._start(work, on_done=self._on_depth_fixed, on_error=self._on_fix_failed)

    def _on_depth_fixed(self, plan: DepthFixPlan) -> None:
        self._set_status(f"Rewrote {plan.total} depth path(s); the originals are kept as .bak files.", "ok")
        self.check()

    def _on_fix_failed(self, message: str) -> None:
        self._set_status(f"The fix could not be applied: {message}", "error")

    def _on_register_clicked(self) -> None:
        if self.host is None:
            return
        role = (
            SOURCE_ROLES.get(self.form.action.requirements[0].source, ("train",))[0]
            if self.form.action.requirements
            else "train"
        )
        dialog = RegisterDatasetDialog(self.host.name, role, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            self.registry.add(dialog.dataset())
        except DatasetRegistryError as error:
            QMessageBox.warning(self, "Register a dataset", str(error))
            return
        self._reload_datasets()
        self._invalidate()


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
