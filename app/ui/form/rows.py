"""A field row (label, editor, change marker, reset, message) and collapsible sections."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.skills.fields import Field
from app.core.specs.validation import ERROR, NEEDS_INPUT, SpecIssue
from app.ui.form.editors import EditorRegistry, FieldEditor, YamlEditor
from app.ui.section_toggle import section_toggle, show_expanded


def field_tooltip(field: Field) -> str:
    """Description, type, bounds, units and default, for the label's tooltip."""
    lines = [f"<b>{field.path}</b>"]
    if field.description:
        lines.append(field.description)
    facts = [f"type: {field.tao_type or field.kind.value}"]
    if field.bounded_below or field.bounded_above:
        low = field.minimum if field.bounded_below else "-∞"
        high = field.maximum if field.bounded_above else "∞"
        facts.append(f"range: {low} … {high}")
    if field.units:
        facts.append(f"units: {field.units}")
    if field.has_default:
        facts.append(f"default: {field.default!r}")
    lines.append(" · ".join(facts))
    return "<br>".join(lines)


class FieldRow(QWidget):
    """One field: label, editor, a marker and reset when changed, the field's message below."""

    value_edited = Signal(str, object)
    reset_requested = Signal(str)

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.setObjectName("FieldRow")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 2, 6, 2)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)
        self.label = QLabel(field.label, self)
        self.label.setToolTip(field_tooltip(field))
        self.label.setMinimumWidth(170)
        self.label.setMaximumWidth(230)
        self.label.setWordWrap(True)
        self.editor: FieldEditor = EditorRegistry.create(field, self)
        self.editor.setToolTip(field_tooltip(field))
        self.editor.edited.connect(self._on_editor_edited)
        self.editor.invalid.connect(self._on_editor_invalid)
        self.marker = QLabel("●", self)
        self.marker.setObjectName("ChangedMarker")
        self.marker.setToolTip("Changed from the template")
        self.reset_button = QToolButton(self)
        self.reset_button.setText("↺")
        self.reset_button.setToolTip("Reset to the template's value")
        self.reset_button.clicked.connect(lambda: self.reset_requested.emit(self.field.path))
        self.message = QLabel(self)
        self.message.setObjectName("FieldMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.automl_tag = QLabel("AutoML", self)
        self.automl_tag.setObjectName("AutomlTag")
        self.automl_tag.setToolTip("AutoML searches this field")
        self.automl_tag.hide()
        for widget in (self.marker, self.reset_button, self.automl_tag):
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        grid.addWidget(self.label, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.editor, 0, 1)
        grid.addWidget(self.automl_tag, 0, 2)
        grid.addWidget(self.marker, 0, 3)
        grid.addWidget(self.reset_button, 0, 4)
        grid.addWidget(self.message, 1, 1, 1, 4)
        grid.setColumnStretch(1, 1)
        if isinstance(self.editor, YamlEditor):
            self.message.setText(f"⚠ type '{field.tao_type}' is unknown: edit as YAML")
            self.message.setProperty("severity", "warning")
            self.message.show()
        self.set_changed(False)

    def _on_editor_edited(self, value: object) -> None:
        self.value_edited.emit(self.field.path, value)

    def _on_editor_invalid(self, text: str) -> None:
        self.show_issues([SpecIssue(self.field.path, text)])

    def set_changed(self, changed: bool) -> None:
        """Show or hide the changed marker and the reset button."""
        self.marker.setVisible(changed)
        self.reset_button.setVisible(changed)

    def set_automl(self, searched: bool) -> None:
        """Highlight the row when AutoML searches the field."""
        self.automl_tag.setVisible(searched)
        self.setProperty("automl", searched)
        self.style().unpolish(self)
        self.style().polish(self)

    def show_issues(self, issues: list[SpecIssue]) -> None:
        """Show the field's issues under the editor (errors win over needs-input)."""
        if not issues:
            self.message.hide()
            self.setProperty("severity", "")
        else:
            worst = next((i for i in issues if i.severity == ERROR), issues[0])
            prefix = "✖ " if worst.severity == ERROR else ("✎ " if worst.severity == NEEDS_INPUT else "⚠ ")
            self.message.setText(prefix + "; ".join(i.message for i in issues))
            self.message.setProperty("severity", worst.severity)
            self.setProperty("severity", worst.severity)
            self.message.show()
        for widget in (self, self.message):
            widget.style().unpolish(widget)
            widget.style().polish(widget)


class CollapsibleSection(QFrame):
    """A titled section that builds its content the first time it is opened."""

    def __init__(
        self, title: str, build: Callable[[QVBoxLayout], None], parent: QWidget | None = None, level: int = 0
    ) -> None:
        super().__init__(parent)
        self.setObjectName("Section")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setProperty("level", level)
        self._build = build
        self._built = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QHBoxLayout()
        self.toggle = section_toggle(self, "SectionToggle", title)
        self.toggle.toggled.connect(self.set_expanded)
        self.badge = QLabel(self)
        self.badge.setObjectName("SectionBadge")
        self.badge.hide()
        header.addWidget(self.toggle, 1)
        header.addWidget(self.badge)
        layout.addLayout(header)
        self.body = QWidget(self)
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(12 if level else 4, 0, 0, 4)
        self.body_layout.setSpacing(0)
        self.body.hide()
        layout.addWidget(self.body)

    @property
    def is_built(self) -> bool:
        """True once the content exists."""
        return self._built

    def ensure_built(self) -> None:
        """Build the content now (used by search and error navigation)."""
        if not self._built:
            self._built = True
            self._build(self.body_layout)

    def set_expanded(self, expanded: bool) -> None:
        """Open or close the section."""
        if expanded:
            self.ensure_built()
        show_expanded(self.toggle, expanded)
        self.body.setVisible(expanded)

    def set_badge(self, errors: int, needs_input: int) -> None:
        """Show how many fields inside have errors or need input."""
        parts = []
        if errors:
            parts.append(f"✖ {errors}")
        if needs_input:
            parts.append(f"✎ {needs_input}")
        self.badge.setText("  ".join(parts))
        self.badge.setProperty("severity", ERROR if errors else NEEDS_INPUT)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.badge.setVisible(bool(parts))
