"""The Jobs page: every job in a filterable table, and one closable tab per opened job."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.jobs.model import JobStatus
from app.ui.app_context import AppContext, show_page_alone
from app.ui.job_page import JobPage
from app.ui.jobs_model import (
    CREATED_COLUMN,
    ID_COLUMN,
    JOB_ID_ROLE,
    JobsFilterProxy,
    JobsTableModel,
)

STATUS_FILTERS: tuple[tuple[str, set[JobStatus] | None], ...] = (
    ("All statuses", None),
    ("Unfinished", {JobStatus.CREATED, JobStatus.RUNNING}),
    ("Running", {JobStatus.RUNNING}),
    ("Completed", {JobStatus.COMPLETED}),
    ("Failed", {JobStatus.FAILED}),
    ("Cancelled", {JobStatus.CANCELLED}),
)


class JobsList(QWidget):
    """The table of jobs with a text filter and a status filter; double click opens a job."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model = JobsTableModel(context, self)
        self.proxy = JobsFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        bar = QHBoxLayout()
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter jobs by id, skill, action, host, parent…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.status_combo = QComboBox(self)
        for title, _statuses in STATUS_FILTERS:
            self.status_combo.addItem(title)
        self.status_combo.currentIndexChanged.connect(self._on_status_filter_changed)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("JobsCount")
        self.open_button = QPushButton("Open", self)
        self.open_button.clicked.connect(self._on_open_clicked)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.count_label)
        bar.addWidget(self.open_button)
        layout.addLayout(bar)
        self.table = QTableView(self)
        self.table.setObjectName("JobsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(CREATED_COLUMN, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ID_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.setColumnWidth(ID_COLUMN, 250)
        self.table.doubleClicked.connect(self._on_double_clicked)
        layout.addWidget(self.table, 1)
        self.model.rows_changed.connect(self._update_count)
        self.proxy.rowsInserted.connect(lambda *_args: self._update_count())
        self.proxy.dataChanged.connect(lambda *_args: self._update_count())
        self._update_count()

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_count()

    def _on_status_filter_changed(self, index: int) -> None:
        self.proxy.set_statuses(STATUS_FILTERS[index][1])
        self._update_count()

    def _update_count(self) -> None:
        jobs = self.model.jobs()
        running = sum(1 for job in jobs if job.status is JobStatus.RUNNING)
        shown = self.proxy.rowCount()
        noun = "job" if len(jobs) == 1 else "jobs"
        total = f"{shown} of {len(jobs)} {noun}" if shown != len(jobs) else f"{len(jobs)} {noun}"
        self.count_label.setText(f"{total} · {running} running")

    def job_id_at(self, row: int) -> str:
        """The job id in a row of the (filtered, sorted) table."""
        return str(self.proxy.index(row, 0).data(JOB_ID_ROLE))

    def selected_job_id(self) -> str | None:
        """The job chosen in the table."""
        rows = self.table.selectionModel().selectedRows()
        return self.job_id_at(rows[0].row()) if rows else None

    def _on_double_clicked(self, index: QModelIndex) -> None:
        self.context.open_job(str(index.data(JOB_ID_ROLE)))

    def _on_open_clicked(self) -> None:
        job_id = self.selected_job_id()
        if job_id:
            self.context.open_job(job_id)


class JobsPage(QWidget):
    """The jobs list as the first tab, opened jobs as closable tabs beside it."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.job_pages: dict[str, JobPage] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("JobTabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self._on_tab_close_requested)
        self.list = JobsList(context, self.tabs)
        self.tabs.addTab(self.list, "All jobs")
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.RightSide, None)
        layout.addWidget(self.tabs)
        context.job_open_requested.connect(self.open_job)
        context.job_removed.connect(self.close_job)

    @property
    def model(self) -> JobsTableModel:
        """The jobs table model (plug a progress provider in here)."""
        return self.list.model

    def open_job(self, job_id: str) -> JobPage | None:
        """Show a job's page (created the first time); None if there is no such job."""
        page = self.job_pages.get(job_id)
        if page is None:
            job = self.context.store.find(job_id)
            if job is None:
                return None
            page = JobPage(self.context, job.id, self.tabs)
            page.close_requested.connect(self.close_job)
            self.job_pages[job.id] = page
            self.tabs.addTab(page, f"{job.action} {job.id[-4:]}")
            self.tabs.setTabToolTip(self.tabs.indexOf(page), job.id)
        self.tabs.setCurrentWidget(page)
        return page

    def close_job(self, job_id: str) -> None:
        """Close a job's tab (the job itself is not touched)."""
        page = self.job_pages.pop(job_id, None)
        if page is None:
            return
        page.shutdown()
        self.tabs.removeTab(self.tabs.indexOf(page))
        page.deleteLater()

    def _on_tab_close_requested(self, index: int) -> None:
        page = self.tabs.widget(index)
        if isinstance(page, JobPage):
            self.close_job(page.job_id)

    def shutdown(self) -> None:
        """Stop every job page listening (the window is closing)."""
        for job_id in list(self.job_pages):
            page = self.job_pages[job_id]
            page.shutdown()


def main() -> None:
    """Open the page alone on the user's own hosts and jobs (``python -m app.ui.jobs_page``)."""
    show_page_alone(JobsPage)


if __name__ == "__main__":
    main()
