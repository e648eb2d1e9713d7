"""A live, read-only YAML view of the spec, refreshed on a coalescing timer."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from app.core.specs.form import ActionForm

REFRESH_MS = 120


class YamlPreview(QWidget):
    """Shows ``form.export_yaml()``; many edits in a burst cause one refresh."""

    def __init__(self, form: ActionForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = form
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel("Spec YAML (what TAO reads with -e)", self)
        self.caption.setObjectName("PaneCaption")
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(font)
        layout.addWidget(self.caption)
        layout.addWidget(self.text, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        form.value_changed.connect(lambda _path: self._timer.start())
        form.document_replaced.connect(lambda: self._timer.start())
        self.refresh()

    def refresh(self) -> None:
        """Render the YAML now, keeping the scroll position."""
        bar = self.text.verticalScrollBar()
        position = bar.value()
        self.text.setPlainText(self.form.export_yaml())
        bar.setValue(position)
