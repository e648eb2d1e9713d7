"""Pieces both viewers share: the message banner, the look, the notice shown in place of a 3D view."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

VIEWER_STYLE = """
QLabel#ViewerMessage { border-radius: 4px; padding: 6px 10px; }
QLabel#ViewerMessage[level="error"] { background: #fdecea; border: 1px solid #e6b0aa;
  border-left: 5px solid #c0392b; color: #641e16; }
QLabel#ViewerMessage[level="warning"] { background: #fef9e7; border: 1px solid #f5e1a4;
  border-left: 5px solid #d4ac0d; color: #6e5307; }
QLabel#ViewerMessage[level="info"] { background: #eaf2f8; border: 1px solid #c5d9ea;
  border-left: 5px solid #2874a6; color: #1b4f72; }
QLabel#ViewerNotice { background: #1e2329; color: #c9d1d9; padding: 16px; font-size: 10pt; }
QLabel#ViewerHint { color: #5d6d7e; }
QLabel#ViewerSummary { color: #1b2631; font-size: 11pt; padding: 2px 4px; }
QLabel#MatchCounts { color: #1b2631; padding: 2px 4px; }
QFrame#ViewerToolbar { background: #f4f6f8; border: 1px solid #dde3e9; border-radius: 6px; }
QLabel#PaneTitle { font-weight: bold; color: #34495e; padding: 2px 2px; }
QLabel#SequenceTitle { font-size: 11pt; padding: 2px 4px; }
"""


class MessageBanner(QLabel):
    """A coloured strip for errors, warnings and progress; hidden when there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ViewerMessage")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.level = ""
        self.hide()

    def show_message(self, text: str, level: str = "info") -> None:
        """Show plain ``text`` at ``level`` (error, warning or info)."""
        self._set(html.escape(text).replace("\n", "<br>"), level, "")

    def show_warnings(self, warnings: list[str], limit: int = 3) -> None:
        """Show the first few warnings (all of them in the tooltip); hide when there are none."""
        if not warnings:
            self.clear_message()
            return
        lines = [html.escape(text) for text in warnings[:limit]]
        if len(warnings) > limit:
            lines.append(f"<i>… and {len(warnings) - limit} more (hover to see all)</i>")
        self._set("<br>".join(lines), "warning", "\n".join(warnings))

    def clear_message(self) -> None:
        """Hide the banner."""
        self.level = ""
        self.setText("")
        self.hide()

    def _set(self, rich_text: str, level: str, tooltip: str) -> None:
        self.level = level
        self.setText(rich_text)
        self.setToolTip(tooltip)
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()


def notice_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A dark placeholder with a centred message, sized like the view it stands in for."""
    label = QLabel(text, parent)
    label.setObjectName("ViewerNotice")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setMinimumSize(200, 150)
    return label
