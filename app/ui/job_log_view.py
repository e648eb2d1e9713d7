"""`JobLogView`: a job's live log, fed from any thread and painted in batches on a ~40 ms timer.

`feed` may be called from a follower thread: it classifies the lines there (level, error pattern)
and puts them on a thread-safe queue. The GUI thread drains the queue on a timer, appending many
lines per `appendPlainText` within a time budget, so a flood of output never freezes the window.
The view keeps at most ``max_lines`` lines; the full log stays in the job's stored log file.
"""

from __future__ import annotations

import html
import queue
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.skills.model import ErrorPattern
from app.core.telemetry.logs import LogLevel, LogLine

DEFAULT_MAX_LINES = 200_000
DRAIN_INTERVAL_MS = 40
DRAIN_BUDGET_SECONDS = 0.012
TARGET_CHUNK_SECONDS = 0.005
MIN_CHUNK, MAX_CHUNK = 100, 3000
TRIMMING_CHUNK = 300  # once full, every appended line also removes one: about 5x dearer
LEVEL_FILTERS = (
    ("All lines", LogLevel.DEBUG),
    ("Warnings and errors", LogLevel.WARNING),
    ("Errors only", LogLevel.ERROR),
)
LEVEL_COLOURS = {LogLevel.WARNING: "#9a6700", LogLevel.ERROR: "#c0392b"}
PATTERN_BACKGROUND = "#fde2e1"
SEARCH_BACKGROUND = "#ffe66d"


@dataclass(frozen=True, slots=True)
class ShownLine:
    """A log line as the view keeps it: text, level and the index of the error pattern it matches."""

    text: str
    level: LogLevel
    pattern: int = -1


@dataclass(frozen=True, slots=True)
class PatternHit:
    """An error pattern seen in the log: where first, and how often."""

    pattern: ErrorPattern
    first_line: int
    count: int


class JobLogView(QWidget):
    """Search, level filter, follow toggle, error-pattern hints and the log text itself."""

    pattern_matched = Signal(str)

    def __init__(
        self,
        patterns: Sequence[ErrorPattern] = (),
        max_lines: int = DEFAULT_MAX_LINES,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.patterns = list(patterns)
        self.max_lines = max_lines
        self._incoming: queue.SimpleQueue[list[ShownLine]] = queue.SimpleQueue()
        self._backlog: deque[ShownLine] = deque()
        self._kept: deque[ShownLine] = deque(maxlen=max_lines)
        self._received = 0
        self._painted_start = 0
        self._appended = 0
        self._blocks = 0
        self._following = True
        self._chunk = 1000
        self._min_level = LogLevel.DEBUG
        self._hits: dict[int, PatternHit] = {}
        self._compact_hints = False
        self._formats = self._make_formats()
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setObjectName("LogSearch")
        self.search.setPlaceholderText("Search the log…  (Enter: next, Shift+Enter: previous)")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.find_next)
        QShortcut(QKeySequence("Shift+Return"), self.search, self.find_previous)
        self.previous_button = QToolButton(self)
        self.previous_button.setText("▲")
        self.previous_button.setToolTip("Previous match")
        self.previous_button.clicked.connect(self.find_previous)
        self.next_button = QToolButton(self)
        self.next_button.setText("▼")
        self.next_button.setToolTip("Next match")
        self.next_button.clicked.connect(self.find_next)
        self.level_filter = QComboBox(self)
        for title, _level in LEVEL_FILTERS:
            self.level_filter.addItem(title)
        self.level_filter.currentIndexChanged.connect(self._on_level_filter_changed)
        self.follow_toggle = QCheckBox("Follow", self)
        self.follow_toggle.setToolTip("Keep the newest line in view")
        self.follow_toggle.setChecked(True)
        self.follow_toggle.toggled.connect(self._on_follow_toggled)
        self.count_label = QLabel("0 lines", self)
        self.count_label.setObjectName("LogCount")
        bar.addWidget(self.search, 1)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.next_button)
        bar.addSpacing(12)
        bar.addWidget(self.level_filter)
        bar.addWidget(self.follow_toggle)
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        self.hints = QLabel(self)
        self.hints.setObjectName("LogHints")
        self.hints.setWordWrap(True)
        self.hints.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.hints.linkActivated.connect(self._on_hint_link)
        self.hints.hide()
        layout.addWidget(self.hints)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("JobLogText")
        self.text.setReadOnly(True)
        self.text.setUndoRedoEnabled(False)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMaximumBlockCount(self.max_lines)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._document = self.text.document()
        self._bar = self.text.verticalScrollBar()
        self._bar.actionTriggered.connect(self._on_user_scrolled)
        layout.addWidget(self.text, 1)

    def _make_formats(self) -> dict[tuple[LogLevel, bool], QTextCharFormat]:
        formats: dict[tuple[LogLevel, bool], QTextCharFormat] = {}
        for level in LogLevel:
            for matched in (False, True):
                char_format = QTextCharFormat()
                if level in LEVEL_COLOURS:
                    char_format.setForeground(QColor(LEVEL_COLOURS[level]))
                if matched:
                    char_format.setBackground(QColor(PATTERN_BACKGROUND))
                    char_format.setFontWeight(QFont.Weight.Bold)
                formats[(level, matched)] = char_format
        return formats

    # -- feeding (any thread) ----------------------------------------------------------------------

    def feed(self, lines: Iterable[LogLine]) -> None:
        """Queue lines for display; safe to call from any thread (classification happens here)."""
        batch = [ShownLine(line.text, line.level, self._match(line.text)) for line in lines]
        if batch:
            self._incoming.put(batch)

    def _match(self, text: str) -> int:
        for position, pattern in enumerate(self.patterns):
            if pattern.regex.search(text):
                return position
        return -1

    # -- painting (GUI thread) ---------------------------------------------------------------------

    def drain(self) -> None:
        """Move queued lines onto the screen, in chunks, until the time budget for this tick is spent.

        Few Qt calls per chunk on purpose: each one may hand the interpreter lock to a busy
        follower thread and wait to get it back.
        """
        self._take_incoming()
        if not self._backlog:
            return
        deadline = time.perf_counter() + DRAIN_BUDGET_SECONDS
        while self._backlog and time.perf_counter() < deadline:
            count = min(self._chunk, len(self._backlog))
            if self._blocks + count > self.max_lines:
                count = min(count, max(TRIMMING_CHUNK, self._chunk // 4))
            chunk = [self._backlog.popleft() for _ in range(count)]
            started = time.perf_counter()
            self._append([line for line in chunk if line.level >= self._min_level])
            spent = max(time.perf_counter() - started, 1e-4)
            self._chunk = int(min(MAX_CHUNK, max(MIN_CHUNK, count * TARGET_CHUNK_SECONDS / spent)))
        if self._following:
            self._bar.setValue(self._bar.maximum())
        self.count_label.setText(f"{self._received:,} lines")

    def _take_incoming(self) -> None:
        while True:
            try:
                batch = self._incoming.get_nowait()
            except queue.Empty:
                return
            first = self._received
            self._received += len(batch)
            self._kept.extend(batch)
            self._backlog.extend(batch)
            for offset, line in enumerate(batch):
                if line.pattern >= 0:
                    self._record_hit(line.pattern, first + offset)

    def _append(self, lines: list[ShownLine]) -> None:
        if not lines:
            return
        if len(lines) > self.max_lines:
            self._appended += len(lines) - self.max_lines
            lines = lines[-self.max_lines :]
        self.text.appendPlainText("\n".join([line.text for line in lines]))
        self._blocks = min(self._blocks + len(lines), self.max_lines)
        self._appended += len(lines)
        marked = [
            (i, line) for i, line in enumerate(lines) if line.pattern >= 0 or line.level >= LogLevel.WARNING
        ]
        if not marked:
            return
        first_block = self._blocks - len(lines)
        for offset, line in marked:
            cursor = QTextCursor(self._document.findBlockByNumber(first_block + offset))
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(self._formats[(line.level, line.pattern >= 0)])

    def _record_hit(self, pattern: int, line_number: int) -> None:
        hit = self._hits.get(pattern)
        if hit is None:
            self._hits[pattern] = PatternHit(self.patterns[pattern], line_number, 1)
            self._show_hints()
            self.pattern_matched.emit(self.patterns[pattern].id)
        else:
            self._hits[pattern] = PatternHit(hit.pattern, hit.first_line, hit.count + 1)

    def _show_hints(self) -> None:
        parts = []
        for index, hit in sorted(self._hits.items(), key=lambda item: item[1].first_line):
            times = f" ({hit.count}×)" if hit.count > 1 else ""
            fix = "" if self._compact_hints else f": {html.escape(hit.pattern.fix)}"
            parts.append(
                f"<b>⚠ {html.escape(hit.pattern.title)}</b>{times}{fix} "
                f"<a href='pattern:{index}'>Show the line</a>"
            )
        self.hints.setText("<br>".join(parts))
        self.hints.setVisible(bool(parts))

    # -- state -------------------------------------------------------------------------------------

    @property
    def received_count(self) -> int:
        """Lines received so far (shown or filtered out)."""
        return self._received

    @property
    def pending(self) -> bool:
        """True while lines are waiting to be painted."""
        return bool(self._backlog) or not self._incoming.empty()

    def hits(self) -> list[PatternHit]:
        """The error patterns seen, in order of first appearance."""
        return sorted(self._hits.values(), key=lambda hit: hit.first_line)

    def plain_text(self) -> str:
        """The text on screen."""
        return self.text.toPlainText()

    def clear(self) -> None:
        """Forget every line."""
        self._take_incoming()
        self._kept.clear()
        self._backlog.clear()
        self._hits.clear()
        self._received = 0
        self._show_hints()
        self._reset_text()

    def _reset_text(self) -> None:
        self.text.clear()
        self._blocks = 0
        self._painted_start = self._received - len(self._kept)
        self._appended = 0

    def set_compact_hints(self, compact: bool) -> None:
        """Name the known failures seen without repeating their fix (when the page shows it already)."""
        if compact != self._compact_hints:
            self._compact_hints = compact
            self._show_hints()

    def set_patterns(self, patterns: Sequence[ErrorPattern]) -> None:
        """Use these error patterns for lines fed from now on."""
        self.patterns = list(patterns)

    def set_level_filter(self, minimum: LogLevel) -> None:
        """Show only lines at or above ``minimum`` (repainted from the kept lines)."""
        index = next((i for i, (_title, level) in enumerate(LEVEL_FILTERS) if level == minimum), 0)
        self.level_filter.setCurrentIndex(index)

    def _on_level_filter_changed(self, index: int) -> None:
        self._min_level = LEVEL_FILTERS[index][1]
        self._take_incoming()
        self._reset_text()
        self._backlog = deque(self._kept)
        self.drain()

    # -- following and search ----------------------------------------------------------------------

    def _on_follow_toggled(self, on: bool) -> None:
        self._following = on
        if on:
            bar = self.text.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _on_user_scrolled(self, _action: int) -> None:
        QTimer.singleShot(0, self._sync_follow_with_scroll)

    def _sync_follow_with_scroll(self) -> None:
        bar = self.text.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum()
        if at_bottom != self.follow_toggle.isChecked():
            self.follow_toggle.setChecked(at_bottom)

    def find_next(self) -> bool:
        """Select the next match of the search text (wrapping around); False when there is none."""
        return self._find(backward=False)

    def find_previous(self) -> bool:
        """Select the previous match of the search text (wrapping around)."""
        return self._find(backward=True)

    def _find(self, backward: bool) -> bool:
        term = self.search.text()
        if not term:
            self.text.setExtraSelections([])
            return False
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        found = self.text.find(term, flags)
        if not found:
            cursor = self.text.textCursor()
            cursor.movePosition(
                QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
            )
            self.text.setTextCursor(cursor)
            found = self.text.find(term, flags)
        self.search.setProperty("notFound", not found)
        self.search.style().unpolish(self.search)
        self.search.style().polish(self.search)
        if found:
            self.follow_toggle.setChecked(False)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = self.text.textCursor()
            selection.format.setBackground(QColor(SEARCH_BACKGROUND))
            self.text.setExtraSelections([selection])
            self.text.centerCursor()
        return found

    def _on_hint_link(self, link: str) -> None:
        index = int(link.partition(":")[2] or -1)
        hit = self._hits.get(index)
        if hit is not None:
            self.show_line(hit.first_line)

    def show_line(self, line_number: int) -> None:
        """Scroll to a line (0-based, counted over every line received) if it is on screen."""
        if self._min_level != LogLevel.DEBUG:
            self.set_level_filter(LogLevel.DEBUG)
        self._take_incoming()
        while self._backlog:
            count = min(MAX_CHUNK, len(self._backlog))
            self._append([self._backlog.popleft() for _ in range(count)])
        document = self.text.document()
        trimmed = max(self._appended - document.blockCount(), 0)
        block = document.findBlockByNumber(line_number - self._painted_start - trimmed)
        if not block.isValid():
            return
        self.follow_toggle.setChecked(False)
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        self.text.setTextCursor(cursor)
        self.text.centerCursor()


def _sample_lines(count: int) -> list[LogLine]:
    """Lines that look like a TAO training log, for trying the view alone."""
    from app.core.telemetry.logs import guess_level

    texts = []
    for index in range(count):
        if index % 97 == 13:
            text = f"WARNING: dataloader worker {index % 4} is slow"
        elif index == count - 3:
            text = "ValueError: Dataset size (24) is smaller than the total batch size (500)"
        else:
            text = f"Epoch {index // 50}: {index % 50:3d}/50 loss={1 / (1 + index / 500):.4f} lr=0.001"
        texts.append(text)
    return [LogLine(None, text, guess_level(text)) for text in texts]


def main() -> None:
    """Open the view alone with a sample log (``python -m app.ui.job_log_view``)."""
    import re

    from app.ui.application import create_application

    app = create_application()
    pattern = ErrorPattern(
        "dataset_smaller_than_batch",
        "Dataset smaller than the batch",
        re.compile(r"Dataset size \(\d+\) is smaller than the total batch size"),
        "Lower dataset.batch_size or add sequences to the set.",
    )
    view = JobLogView([pattern])
    view.resize(1000, 600)
    view.feed(_sample_lines(5000))
    view.show()
    app.exec()


if __name__ == "__main__":
    main()
