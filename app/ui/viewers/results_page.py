"""The Results page of the main window: open samples, files (dialog or drag and drop) and job
results, each in its own closable tab."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.hosts.session import HostSession
from app.core.jobs.model import Job
from app.ui.viewers.chrome import VIEWER_STYLE, MessageBanner
from app.ui.viewers.open_results import open_files, open_job_results, open_sample

FILE_FILTER = "Result files (*.json *.pkl *.pickle *.npy *.txt *.yaml *.yml);;All files (*)"
WELCOME = """
<h2 style='color:#1b2631'>Look at inference results</h2>
<p><b>Sparse4D</b>: open <code>results_nusc.json</code>, with the converted infos
<code>.pkl</code> to see the cameras and compare against ground truth
(and <code>metrics_summary.json</code> if you have it).</p>
<p><b>Pose classification</b>: open the skeleton <code>.npy</code> with the inference output
<code>.txt</code>, the label <code>.pkl</code> and the label map <code>.yaml</code>.</p>
<p>Drop the files on this page, use <i>Open files…</i>, or open a finished job's results from its page.</p>
<p style='color:#5d6d7e'>New here? The samples need no Docker and no GPU.</p>
"""
WELCOME_STYLE = """
QFrame#WelcomeCard { background: white; border: 1px solid #dde3e9; border-radius: 8px; }
QPushButton#WelcomeButton { padding: 8px 16px; font-weight: bold; }
"""


class ResultsPage(QWidget):
    """Opened results as tabs, with buttons to open more; accepts dropped files."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ResultsPage")
        self.setStyleSheet(VIEWER_STYLE)
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        bar = QHBoxLayout()
        self.sample_tracks_button = self._button(
            bar, "Open sample: tracks", lambda: self.open_sample("tracks")
        )
        self.sample_poses_button = self._button(bar, "Open sample: poses", lambda: self.open_sample("poses"))
        self.open_button = self._button(bar, "Open files…", self._on_open_clicked)
        hint = QLabel("or drop result files on this page", self)
        hint.setObjectName("ViewerHint")
        bar.addWidget(hint)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.banner = MessageBanner(self)
        layout.addWidget(self.banner)
        self.stack = QStackedWidget(self)
        self.welcome = self._welcome(self.stack)
        self.tabs = QTabWidget(self.stack)
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.tabs)
        layout.addWidget(self.stack, 1)

    def _from_menu(self, show_page: Callable[[], None], then: Callable[[], object]) -> None:
        show_page()
        then()

    def _welcome(self, parent: QWidget) -> QWidget:
        page = QWidget(parent)
        page.setStyleSheet(WELCOME_STYLE)
        outer = QVBoxLayout(page)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        card = QFrame(page)
        card.setObjectName("WelcomeCard")
        card.setMaximumWidth(760)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 20, 28, 24)
        text = QLabel(WELCOME, card)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        inner.addWidget(text)
        buttons = QHBoxLayout()
        for caption, handler in (
            ("Try the Sparse4D sample", lambda: self.open_sample("tracks")),
            ("Try the pose sample", lambda: self.open_sample("poses")),
            ("Open files…", self._on_open_clicked),
        ):
            button = QPushButton(caption, card)
            button.setObjectName("WelcomeButton")
            button.clicked.connect(handler)
            buttons.addWidget(button)
        inner.addLayout(buttons)
        row.addWidget(card, 1)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        return page

    def _button(self, bar: QHBoxLayout, text: str, handler: Callable[[], object]) -> QPushButton:
        button = QPushButton(text, self)
        button.clicked.connect(handler)
        bar.addWidget(button)
        return button

    def install_menu(self, file_menu: QMenu, show_page: Callable[[], None]) -> None:
        """Add "Open results…" and "Open sample" to the File menu, before its last separator."""
        separators = [action for action in file_menu.actions() if action.isSeparator()]
        before = separators[-1] if separators else file_menu.addSeparator()
        open_action = QAction("Open results…", file_menu)
        open_action.triggered.connect(lambda: self._from_menu(show_page, self._on_open_clicked))
        samples = QMenu("Open sample", file_menu)
        for text, kind in (("Sparse4D tracks", "tracks"), ("Pose classification", "poses")):
            action = QAction(text, samples)
            action.triggered.connect(
                lambda _checked=False, k=kind: self._from_menu(show_page, lambda: self.open_sample(k))
            )
            samples.addAction(action)
        file_menu.insertSeparator(before)
        file_menu.insertAction(before, open_action)
        file_menu.insertMenu(before, samples)
        self.menu_actions = [open_action, samples.menuAction()]

    # -- opening ---------------------------------------------------------------------------------

    def add_viewer(self, viewer: QWidget, title: str) -> None:
        """Show a viewer in a new tab and bring it forward."""
        index = self.tabs.addTab(viewer, title)
        self.tabs.setTabToolTip(index, title)
        self.tabs.setCurrentIndex(index)
        self.stack.setCurrentWidget(self.tabs)
        self.banner.clear_message()

    def open_sample(self, kind: str) -> QWidget:
        """Open a bundled sample (``"tracks"`` or ``"poses"``)."""
        viewer = open_sample(kind, self.tabs)
        self.add_viewer(viewer, "Sample tracks" if kind == "tracks" else "Sample poses")
        return viewer

    def open_paths(self, paths: list[str]) -> QWidget | None:
        """Open local files as one result; a message if they do not make one."""
        try:
            viewer = open_files(paths, self.tabs)
        except ValueError as exc:
            self.banner.show_message(str(exc), "error")
            return None
        self.add_viewer(
            viewer, ", ".join(Path(path).name for path in paths[:2]) + ("…" if len(paths) > 2 else "")
        )
        return viewer

    def open_job(self, job: Job, session: HostSession) -> QWidget:
        """Open a job's results from its host."""
        viewer = open_job_results(job, session, self.tabs)
        self.add_viewer(viewer, f"{job.action} · {job.id}")
        return viewer

    def close_tab(self, index: int) -> None:
        """Close a viewer."""
        widget = self.tabs.widget(index)
        self.tabs.removeTab(index)
        if widget is not None:
            widget.deleteLater()
        if self.tabs.count() == 0:
            self.stack.setCurrentWidget(self.welcome)

    def _on_open_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open results", "", FILE_FILTER)
        if paths:
            self.open_paths(paths)

    # -- drag and drop -------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept local files."""
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the dropped files as one result."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)
