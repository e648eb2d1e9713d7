"""The main window: skills on the left, the chosen skill's actions as tabs, more pages beside."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QSplitter, QStackedWidget, QTabWidget, QWidget

from app.core.settings import AppSettings, bank_folders
from app.core.skills import SkillBank, load_banks
from app.ui.app_context import ActionRequest, AppContext
from app.ui.hosts_page import HostsPage
from app.ui.jobs_page import JobsPage
from app.ui.monitor.progress_feed import JobProgressFeed
from app.ui.skill_list import SkillListPanel
from app.ui.skill_view import SkillView
from app.ui.viewers.results_page import ResultsPage


class MainWindow(QMainWindow):
    """TAO Desk's main window."""

    def __init__(self, extra_banks: list[str] | None = None) -> None:
        super().__init__()
        self.setWindowTitle("TAO Desk")
        self.settings = AppSettings.load()
        self.extra_banks = list(extra_banks or [])
        self.bank = SkillBank()
        self.context = AppContext(self.bank, parent=self)
        self.skill_views: dict[str, SkillView] = {}
        self.pages = QTabWidget(self)
        self.pages.setObjectName("MainPages")
        self.pages.setDocumentMode(True)
        self.setCentralWidget(self.pages)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.skill_list = SkillListPanel(self.splitter)
        self.skill_stack = QStackedWidget(self.splitter)
        self.empty = QLabel(
            "No skills loaded. Use File › Add skill bank… to add a folder of skill bundles.", self.skill_stack
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.skill_stack.addWidget(self.empty)
        self.splitter.addWidget(self.skill_list)
        self.splitter.addWidget(self.skill_stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([240, 1100])
        self.pages.addTab(self.splitter, "Skills")
        self.skill_list.skill_selected.connect(self.show_skill)
        self.jobs_page = JobsPage(self.context, self)
        self.hosts_page = HostsPage(self.context, self)
        self.add_page(self.jobs_page, "Jobs")
        self.add_page(self.hosts_page, "Hosts")
        self.context.job_open_requested.connect(lambda _job_id: self.pages.setCurrentWidget(self.jobs_page))
        self.context.action_requested.connect(self.open_action)
        self.context.hosts_page_requested.connect(lambda: self.pages.setCurrentWidget(self.hosts_page))
        self.context.notice.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self._build_menus()
        self.results_page = ResultsPage(self)
        self.add_page(self.results_page, "Results")
        self.results_page.install_menu(self.file_menu, lambda: self.pages.setCurrentWidget(self.results_page))
        self.reload_banks()
        self._restore_layout()
        self.context.reconciled.connect(self._resume_studies)
        self.context.results_requested.connect(self.open_job_results)
        self.progress_feed = JobProgressFeed(
            self.context, self.context.manager.session, parent=self.jobs_page
        )
        self.progress_feed.attach(self.jobs_page.model)
        self.context.resume_following()

    def open_job_results(self, job_id: str) -> None:
        """Show a finished job's outputs in the Results page (read on its host, in the background)."""
        job = self.context.store.find(job_id)
        if job is None:
            return

        def opened(session: object) -> None:
            self.results_page.open_job(job, session)  # type: ignore[arg-type]
            self.pages.setCurrentWidget(self.results_page)

        self.context.run(
            self.context.manager.session,
            job.host,
            on_done=opened,
            on_error=lambda message: self.statusBar().showMessage(
                f"Cannot open the results of {job_id}: {message}", 15000
            ),
        )

    def _resume_studies(self) -> None:
        """AutoML studies cut off by the last exit go on where they stopped."""
        from app.ui.automl.runtime import runner_for

        runner_for(self.context).resume_unfinished()

    def add_page(self, widget: QWidget, title: str) -> None:
        """Add a top-level page (hosts, jobs, viewers) beside the skills."""
        self.pages.addTab(widget, title)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        add_bank = QAction("Add skill bank…", self)
        add_bank.triggered.connect(self._on_add_bank)
        file_menu.addAction(add_bank)
        self.import_action = QAction("Import spec…", self)
        self.import_action.setShortcut(QKeySequence.StandardKey.Open)
        self.import_action.triggered.connect(lambda: self._current_page_call("_on_import_clicked"))
        file_menu.addAction(self.import_action)
        export = QAction("Export spec…", self)
        export.setShortcut(QKeySequence.StandardKey.Save)
        export.triggered.connect(lambda: self._current_page_call("_on_export_clicked"))
        file_menu.addAction(export)
        file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.file_menu = file_menu

    def reload_banks(self) -> None:
        """Load the bundled bank, the user's banks and the command line's, and show them."""
        self.bank = load_banks(bank_folders(self.extra_banks))
        self.context.bank = self.bank
        for view in self.skill_views.values():
            self.skill_stack.removeWidget(view)
            view.deleteLater()
        self.skill_views.clear()
        self.skill_list.set_bank(self.bank)
        self.skill_list.select(self.settings.last_skill)

    def show_skill(self, name: str) -> SkillView | None:
        """Show a skill's actions (the view is built the first time)."""
        skill = self.bank.skills.get(name)
        if skill is None:
            return None
        view = self.skill_views.get(name)
        if view is None:
            view = SkillView(skill, self.skill_stack, self.context)
            self.skill_views[name] = view
            self.skill_stack.addWidget(view)
        self.skill_stack.setCurrentWidget(view)
        self.settings.last_skill = name
        return view

    def current_skill_view(self) -> SkillView | None:
        """The skill view on screen."""
        widget = self.skill_stack.currentWidget()
        return widget if isinstance(widget, SkillView) else None

    def open_action(self, request: ActionRequest) -> None:
        """Show an action's page prepared for a launch (clone, resume, run from a checkpoint)."""
        if request.skill not in self.bank.skills:
            self.statusBar().showMessage(f"Skill '{request.skill}' is not loaded", 15000)
            return
        self.pages.setCurrentIndex(0)
        self.skill_list.select(request.skill)
        view = self.show_skill(request.skill)
        if view is None or request.action not in view.skill.actions:
            return
        page = view.page(request.action)
        if page.launch_panel is not None:
            page.launch_panel.apply_request(request)

    def _current_page_call(self, method: str) -> None:
        view = self.current_skill_view()
        page = view.current_page() if view else None
        if page is not None:
            self.pages.setCurrentIndex(0)
            getattr(page, method)()

    def _on_add_bank(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Add skill bank")
        if chosen:
            self.add_bank(Path(chosen))

    def add_bank(self, folder: Path) -> None:
        """Remember a bank folder and reload."""
        self.settings.add_bank(str(folder))
        self.settings.save()
        self.reload_banks()

    def _restore_layout(self) -> None:
        geometry = self.settings.window.get("geometry")
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        else:
            self.resize(1400, 860)
        splitter = self.settings.window.get("splitter")
        if splitter:
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode()))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Persist the window layout."""
        self.settings.window["geometry"] = bytes(self.saveGeometry().toBase64().data()).decode()
        self.settings.window["splitter"] = bytes(self.splitter.saveState().toBase64().data()).decode()
        self.settings.save()
        self.jobs_page.shutdown()
        self.context.close()
        super().closeEvent(event)
