"""The form of one action, generated from its field tree and bound to an ActionForm model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from app.core.skills.fields import Field, FieldKind
from app.core.skills.model import ACTION_ORDER
from app.core.specs.document import flatten
from app.core.specs.form import ActionForm
from app.core.specs.validation import ERROR, NEEDS_INPUT, SpecIssue
from app.ui.form.rows import CollapsibleSection, FieldRow


def popular_paths(form: ActionForm) -> list[str]:
    """Popular leaves relevant to this action, in schema order."""
    parsed = form.action.parsed
    wanted = {f.path for f in form.root.leaves() if f.popular}
    if parsed is not None:
        wanted.update(path for path, _ in flatten(parsed.popular_defaults))
    action = form.action.name

    def relevant(path: str) -> bool:
        top = path.split(".")[0]
        return top == action or top not in ACTION_ORDER

    return [f.path for f in form.root.leaves() if f.path in wanted and relevant(f.path)]


def section_order(form: ActionForm) -> list[Field]:
    """Top-level collections: the action's own first, then the rest in schema order."""
    tops = [f for f in form.root.children.values() if f.kind is FieldKind.COLLECTION]
    return sorted(tops, key=lambda f: 0 if f.name == form.action.name else 1)


class ActionFormView(QWidget):
    """Popular fields first, the rest in collapsible sections, a field search, errors at the field."""

    def __init__(self, form: ActionForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.rows: dict[str, list[FieldRow]] = {}
        self.sections: dict[str, CollapsibleSection] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search fields (name, path or description)…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_changed)
        layout.addWidget(self.search)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        content = QWidget(self.scroll_area)
        self.content_layout = QVBoxLayout(content)
        self.content_layout.setContentsMargins(0, 0, 8, 0)
        self.content_layout.setSpacing(2)
        self.scroll_area.setWidget(content)
        layout.addWidget(self.scroll_area, 1)
        self._build_sections()
        self.content_layout.addStretch(1)
        form.value_changed.connect(self._on_value_changed)
        form.issues_changed.connect(self._on_issues_changed)
        form.document_replaced.connect(self._on_document_replaced)
        form.automl_changed.connect(self._on_automl_changed)
        self._on_issues_changed(form.issues)

    def _build_sections(self) -> None:
        popular = popular_paths(self.form)
        if popular:
            section = CollapsibleSection("Popular", lambda box: self._add_rows(box, popular), self)
            self.sections["__popular__"] = section
            self.content_layout.addWidget(section)
            section.set_expanded(True)
        loose = [f for f in self.form.root.children.values() if f.kind is not FieldKind.COLLECTION]
        if loose:
            section = CollapsibleSection(
                "General", lambda box: self._add_rows(box, [f.path for f in loose]), self
            )
            self.sections["__general__"] = section
            self.content_layout.addWidget(section)
        for top in section_order(self.form):
            self._add_collection(self.content_layout, top, level=0)
        self.unknown_label = QLabel(self)
        self.unknown_label.setObjectName("UnknownKeys")
        self.unknown_label.setWordWrap(True)
        self.unknown_label.hide()
        self.content_layout.addWidget(self.unknown_label)

    def _add_collection(self, box: QVBoxLayout, field: Field, level: int) -> None:
        def build(inner: QVBoxLayout) -> None:
            leaves = [c.path for c in field.children.values() if c.is_leaf]
            self._add_rows(inner, leaves)
            for child in field.children.values():
                if not child.is_leaf:
                    self._add_collection(inner, child, level + 1)
            self._refresh_section_badges()

        section = CollapsibleSection(field.label if level else field.name, build, self, level)
        section.setToolTip(field.description or field.path)
        self.sections[field.path] = section
        box.addWidget(section)

    def _add_rows(self, box: QVBoxLayout, paths: list[str]) -> None:
        automl = self.form.automl_paths()
        for path in paths:
            field = self.form.root.find(path)
            if field is None:
                continue
            row = FieldRow(field, self)
            row.editor.set_value(self.form.value(path))
            row.set_changed(self.form.is_changed(path))
            row.set_automl(path in automl)
            row.show_issues(self.form.issues_at(path))
            row.value_edited.connect(self._on_row_edited)
            row.reset_requested.connect(self.form.reset)
            self.rows.setdefault(path, []).append(row)
            box.addWidget(row)

    def all_rows(self) -> Iterator[FieldRow]:
        """Every row built so far."""
        for rows in self.rows.values():
            yield from rows

    def _on_row_edited(self, path: str, value: Any) -> None:
        self.form.set_value(path, value)

    def _on_value_changed(self, path: str) -> None:
        for row in self.rows.get(path, []):
            if not row.editor.hasFocus() and not row.editor.isAncestorOf(self.focusWidget()):
                row.editor.set_value(self.form.value(path))
            row.set_changed(self.form.is_changed(path))

    def _on_document_replaced(self) -> None:
        for path, rows in self.rows.items():
            for row in rows:
                row.editor.set_value(self.form.value(path))
                row.set_changed(self.form.is_changed(path))

    def _on_issues_changed(self, issues: list[SpecIssue]) -> None:
        by_path: dict[str, list[SpecIssue]] = {}
        for issue in issues:
            by_path.setdefault(issue.path, []).append(issue)
        for path, rows in self.rows.items():
            for row in rows:
                row.show_issues(by_path.get(path, []))
        self._refresh_section_badges()
        unknown = self.form.unknown_keys
        if unknown:
            self.unknown_label.setText(
                "⚠ Kept from the imported spec, unknown to every action of this skill "
                "(TAO would reject them): " + ", ".join(unknown)
            )
        self.unknown_label.setVisible(bool(unknown))

    def _refresh_section_badges(self) -> None:
        for path, section in self.sections.items():
            if path.startswith("__"):
                continue
            inside = self.form.issues_under(path)
            section.set_badge(
                sum(i.severity == ERROR for i in inside), sum(i.severity == NEEDS_INPUT for i in inside)
            )

    def _on_automl_changed(self, _on: bool) -> None:
        automl = self.form.automl_paths()
        for path, rows in self.rows.items():
            for row in rows:
                row.set_automl(path in automl)
        if automl:
            self.reveal(sorted(automl)[0], focus=False)

    def reveal(self, path: str, focus: bool = True) -> FieldRow | None:
        """Open the sections down to a field, scroll to it and (optionally) focus its editor."""
        parts = path.split(".")
        for depth in range(1, len(parts)):
            section = self.sections.get(".".join(parts[:depth]))
            if section is not None:
                section.set_expanded(True)
        rows = [r for r in self.rows.get(path, []) if r.isVisibleTo(self)] or self.rows.get(path, [])
        if not rows:
            return None
        row = rows[-1]
        self.scroll_area.ensureWidgetVisible(row)
        if focus:
            row.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        return row

    def _on_search_changed(self, text: str) -> None:
        needle = text.strip().lower()
        if not needle:
            for row in self.all_rows():
                row.setVisible(True)
            return
        matches = {
            f.path
            for f in self.form.root.leaves()
            if f.path
            and (needle in f.path.lower() or needle in f.label.lower() or needle in f.description.lower())
        }
        for path in sorted(matches)[:60]:
            self.reveal(path, focus=False)
        for path, rows in self.rows.items():
            for row in rows:
                row.setVisible(path in matches)
