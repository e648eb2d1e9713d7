"""A study's live page: state and controls, the trial table, and the charts, all following the table's filter.

Snapshots are read in a worker whenever the study changes (and every two seconds, for studies run
by another process); the page never waits on the database or a host. Pause starts no new trials,
Stop lets the running ones finish, Cancel stops them. 'Promote best' launches a train job with the
best values. Run ``python -m app.ui.automl.study_view`` for a sample study.
"""

from __future__ import annotations

import html
import math
import sys

from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.automl.engine import ALGORITHMS
from app.core.automl.service import promote_best
from app.core.automl.snapshot import TRIAL_STATES, StudySnapshot, parameter_importances, read_snapshot
from app.core.automl.study import StudyRequest, StudyState
from app.ui.app_context import AppContext
from app.ui.automl.cards import card
from app.ui.automl.charts import HistoryChart, ImportanceChart, IntermediateChart, ParallelCoordinatesChart
from app.ui.automl.promote_dialog import PromoteDialog
from app.ui.automl.runtime import runner_for
from app.ui.automl.space_table import format_number
from app.ui.automl.style import AUTOML_STYLE, STUDY_STATE_COLOURS
from app.ui.automl.trial_table import TRIAL_ROLE, TrialFilter, TrialTableModel

REFRESH_MS = 2000


class StudyView(QWidget):
    """Everything about one study, live."""

    def __init__(self, context: AppContext, study_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StudyView")
        self.setStyleSheet(AUTOML_STYLE)
        self.context = context
        self.runner = runner_for(context)
        self.studies = self.runner.studies
        self.study_id = self.studies.get(study_id).id
        self.snapshot: StudySnapshot | None = None
        self.importances: dict[str, float] = {}
        self._importance_for = -1
        self._busy = False
        self._dirty = False
        self._closed = False
        self._build()
        self.destroyed.connect(self._on_destroyed)
        self.runner.study_changed.connect(self._on_study_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def title_text(self) -> str:
        """The study's name, else its id."""
        return self.studies.get(self.study_id).label

    # -- layout ------------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self._header())
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        charts, charts_layout = card("", splitter)
        grid = QGridLayout()
        self.history = HistoryChart(charts)
        self.curves = IntermediateChart(charts)
        self.parallel = ParallelCoordinatesChart(charts)
        self.importance = ImportanceChart(charts)
        for index, (title, chart) in enumerate(
            (
                ("Optimisation history", self.history),
                ("Intermediate values", self.curves),
                ("Parallel coordinates", self.parallel),
                ("Parameter importance", self.importance),
            )
        ):
            caption = QLabel(title, charts)
            caption.setObjectName("CardHint")
            grid.addWidget(caption, (index // 2) * 2, index % 2)
            grid.addWidget(chart, (index // 2) * 2 + 1, index % 2)
        charts_layout.addLayout(grid)
        splitter.addWidget(charts)
        splitter.addWidget(self._table_card(splitter))
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

    def _header(self) -> QWidget:
        frame, layout = card("", self)
        top = QHBoxLayout()
        self.title = QLabel(self)
        self.title.setObjectName("StudyTitle")
        self.badge = QLabel(self)
        self.badge.setObjectName("StudyBadge")
        top.addWidget(self.title)
        top.addWidget(self.badge)
        top.addStretch(1)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setToolTip("Start no new trials; running trials go on")
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Start no new trials; let the running ones finish")
        self.stop_button.clicked.connect(lambda: self._request(StudyRequest.STOP))
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("DangerButton")
        self.cancel_button.setToolTip("Stop the running trials' containers too")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.promote_button = QPushButton("Promote best…", self)
        self.promote_button.setObjectName("PromoteButton")
        self.promote_button.setToolTip(
            "A normal train job with the best values, to evaluate, export or train longer"
        )
        self.promote_button.clicked.connect(self._on_promote_clicked)
        for button in (self.pause_button, self.stop_button, self.cancel_button, self.promote_button):
            top.addWidget(button)
        layout.addLayout(top)
        self.facts = QLabel(self)
        self.facts.setObjectName("StudyFacts")
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setWordWrap(True)
        layout.addWidget(self.facts)
        self.message = QLabel(self)
        self.message.setObjectName("SetupProblems")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        layout.addWidget(self.message)
        return frame

    def _table_card(self, parent: QWidget) -> QWidget:
        frame, layout = card("Trials", parent)
        bar = QHBoxLayout()
        self.state_filter = QComboBox(frame)
        self.state_filter.addItem("All states", "")
        for state in TRIAL_STATES:
            self.state_filter.addItem(state.capitalize(), state)
        self.text_filter = QLineEdit(frame)
        self.text_filter.setPlaceholderText("Filter trials (parameter value, job, note)…")
        self.shown = QLabel(frame)
        self.shown.setObjectName("CardHint")
        bar.addWidget(self.state_filter)
        bar.addWidget(self.text_filter, 1)
        bar.addWidget(self.shown)
        layout.addLayout(bar)
        self.model = TrialTableModel()
        self.proxy = TrialFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(frame)
        self.table.setObjectName("TrialTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(self._on_trial_opened)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        layout.addWidget(self.table)
        self.state_filter.currentIndexChanged.connect(self._on_filter_changed)
        self.text_filter.textChanged.connect(self._on_filter_changed)
        return frame

    # -- data --------------------------------------------------------------------------------------

    def _on_destroyed(self) -> None:
        self._closed = True

    def _on_study_changed(self, study_id: str) -> None:
        if study_id == self.study_id and not self._closed:
            self.refresh()

    def refresh(self) -> None:
        """Read the study again (in a worker; a refresh asked meanwhile runs right after)."""
        if self._busy:
            self._dirty = True
            return
        self._busy = True
        self.context.run(
            read_snapshot,
            self.studies,
            self.study_id,
            on_done=self._on_snapshot,
            on_error=self._on_snapshot_failed,
        )

    def _on_snapshot(self, snapshot: StudySnapshot) -> None:
        self._busy = False
        if self._closed:
            return
        self.show_snapshot(snapshot)
        if self._dirty:
            self._dirty = False
            self.refresh()

    def _on_snapshot_failed(self, message: str) -> None:
        self._busy = False
        self.message.setText(f"Cannot read the study: {message}")
        self.message.setVisible(True)

    def show_snapshot(self, snapshot: StudySnapshot) -> None:
        """Show a snapshot: header, table, charts."""
        self.snapshot = snapshot
        self._show_header(snapshot)
        selected = self.selected_trial()
        self.model.set_snapshot(snapshot)
        self._select(selected)
        self._show_charts()
        complete = len(snapshot.completed)
        if complete != self._importance_for:
            self._importance_for = complete
            self.context.run(parameter_importances, self.studies, self.study_id, on_done=self._on_importances)

    def _show_header(self, snapshot: StudySnapshot) -> None:
        record, config = snapshot.record, snapshot.record.config
        self.title.setText(f"AutoML · <b>{html.escape(record.label)}</b>")
        colour = STUDY_STATE_COLOURS.get(record.state.value, "#5d6d7e")
        self.badge.setText(record.state.value)
        self.badge.setStyleSheet(f"background: {colour};")
        counts = snapshot.counts
        parts = [
            f"{html.escape(config.skill)} on <b>{html.escape(config.host)}</b>",
            f"{ALGORITHMS.get(config.algorithm, config.algorithm)}",
            f"{html.escape(config.metric)} ({'min' if config.direction == 'minimize' else 'max'})",
            f"<b>{snapshot.done}/{snapshot.budget}</b> done",
            f"{counts['running']} running",
        ]
        best, baseline = snapshot.best, snapshot.baseline
        if best is not None:
            parts.append(
                f"best <b style='color:#1e8449'>{format_number(best.value)}</b> (trial {best.number})"
            )
        if baseline is not None and baseline.value is not None:
            parts.append(f"baseline {format_number(baseline.value)}")
            if best is not None and best.value is not None and baseline.value and not best.baseline:
                change = (best.value - baseline.value) / abs(baseline.value)
                if math.isfinite(change):
                    parts.append(f"{change:+.0%} vs baseline")
        self.facts.setText(" · ".join(parts))
        self.message.setText(html.escape(record.message))
        self.message.setVisible(bool(record.message))
        final = record.state.is_final
        resumable = record.state in (StudyState.PAUSED, StudyState.STOPPED, StudyState.CANCELLED)
        self.pause_button.setText("Resume" if resumable else "Pause")
        self.pause_button.setEnabled(resumable or record.state is StudyState.RUNNING)
        self.stop_button.setEnabled(not final and record.state is not StudyState.STOPPING)
        self.cancel_button.setEnabled(not final and record.state is not StudyState.CANCELLING)
        self.promote_button.setEnabled(best is not None)

    def _show_charts(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        config = snapshot.record.config
        trials = self.proxy.visible_trials()
        self.shown.setText(f"{len(trials)} of {self.model.rowCount()} trials")
        self.history.show_trials(trials, config.metric, config.direction)
        selected = self.selected_trial()
        self.curves.show_trials(trials, config.metric, selected)
        self.parallel.show_trials(trials, config.space.searched, config.metric, config.direction)
        self.importance.show_importances(self.importances)

    def _on_importances(self, importances: dict[str, float]) -> None:
        if self._closed:
            return
        self.importances = importances
        self.importance.show_importances(importances)

    # -- table -------------------------------------------------------------------------------------

    def selected_trial(self) -> int | None:
        """The number of the selected trial, if any."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        trial = rows[0].data(TRIAL_ROLE)
        return None if trial is None else int(trial.number)

    def _select(self, number: int | None) -> None:
        if number is None:
            return
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(TRIAL_ROLE).number == number:
                self.table.selectRow(row)
                return

    def _on_filter_changed(self) -> None:
        self.proxy.set_filter(str(self.state_filter.currentData() or ""), self.text_filter.text())
        self._show_charts()

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self.snapshot is not None:
            self.curves.show_trials(
                self.proxy.visible_trials(), self.snapshot.record.config.metric, self.selected_trial()
            )

    def _on_trial_opened(self, index: object) -> None:
        trial = self.proxy.data(index, TRIAL_ROLE)  # type: ignore[arg-type]
        if trial is not None and trial.job_id:
            self.context.open_job(trial.job_id)

    # -- controls ----------------------------------------------------------------------------------

    def _request(self, request: StudyRequest) -> None:
        self.context.run(self.runner.request, self.study_id, request, on_error=self._on_control_failed)

    def _on_control_failed(self, message: str) -> None:
        QMessageBox.warning(self, "AutoML", message)

    def _on_pause_clicked(self) -> None:
        resume = self.pause_button.text() == "Resume"
        self.pause_button.setEnabled(False)
        self._request(StudyRequest.RESUME if resume else StudyRequest.PAUSE)

    def _on_cancel_clicked(self) -> None:
        answer = QMessageBox.question(
            self, "Cancel the study", "Stop the running trials' containers and start no new trials?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._request(StudyRequest.CANCEL)

    def _on_promote_clicked(self) -> None:
        if self.snapshot is None or self.snapshot.best is None:
            return
        dialog = PromoteDialog(self.snapshot, self)
        if dialog.exec() != PromoteDialog.DialogCode.Accepted:
            return
        self.promote_button.setEnabled(False)
        self.context.run(
            promote_best,
            self.context.manager,
            self.studies,
            self.study_id,
            epochs=dialog.epochs.value(),
            resume=dialog.resume.isChecked(),
            on_done=self._on_promoted,
            on_error=self._on_promote_failed,
        )

    def _on_promoted(self, job: object) -> None:
        self.promote_button.setEnabled(True)
        self.context.open_job(str(getattr(job, "id", "")))

    def _on_promote_failed(self, message: str) -> None:
        self.promote_button.setEnabled(True)
        QMessageBox.warning(self, "Promote best", message)


def main() -> int:
    """Open the page on a sample study (synthetic trials, no jobs)."""
    from app.ui.application import create_application
    from app.ui.automl.sample import sample_context_and_study

    app = create_application()
    context, study_id = sample_context_and_study()
    view = StudyView(context, study_id)
    view.resize(1400, 900)
    view.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
