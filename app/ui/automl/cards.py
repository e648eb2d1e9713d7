"""White cards with a caption, the building block of the AutoML screens."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget


def card(title: str, parent: QWidget, hint: str = "") -> tuple[QFrame, QVBoxLayout]:
    """A white card with a title (and a hint) and its content layout."""
    frame = QFrame(parent)
    frame.setObjectName("AutomlCard")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 8, 10, 10)
    if title:
        caption = QLabel(title, frame)
        caption.setObjectName("CardTitle")
        layout.addWidget(caption)
    if hint:
        note = QLabel(hint, frame)
        note.setObjectName("CardHint")
        note.setWordWrap(True)
        layout.addWidget(note)
    return frame, layout
