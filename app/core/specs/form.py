"""The form model of one action: the spec being edited, its issues, changes and AutoML fields."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from psygnal import Signal

from app.core.skills.fields import Field, FieldKind
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument, get_path, has_path
from app.core.specs.service import ImportedSpec, default_spec, spec_yaml
from app.core.specs.validation import ERROR, SpecIssue, SpecValidator, unknown_key_paths


@dataclass(frozen=True)
class AutomlParameter:
    """A field an AutoML study would search, with its range or options."""

    path: str
    field: Field

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """(minimum, maximum) as in the schema (infinite bounds included)."""
        return self.field.minimum, self.field.maximum


def is_disabled(path: str, disabled: list[str]) -> bool:
    """True when a path is one of the disabled ones (only exact leaf or list entries count)."""
    return path in disabled


class ActionForm:
    """Everything the GUI's action form shows, without Qt: edit, validate, diff, import, export."""

    value_changed = Signal(str)
    issues_changed = Signal(list)
    document_replaced = Signal()
    automl_changed = Signal(bool)

    def __init__(self, skill: Skill, action: str, document: SpecDocument | None = None) -> None:
        self.skill = skill
        self.action = skill.action(action)
        self.root: Field = self.action.root or Field("", "", "object", kind=FieldKind.COLLECTION)
        self.document = document or default_spec(skill, action)
        self.validator = SpecValidator(skill, action)
        self._automl_on = self.automl_available
        self.issues: list[SpecIssue] = []
        self.unknown_keys: list[str] = []
        self._external_issues: list[SpecIssue] = []
        self.revalidate()

    @property
    def template(self) -> dict[str, Any]:
        """The action's default spec."""
        return self.action.template

    def value(self, path: str) -> Any:
        """The current value at a dotted key."""
        return self.document.get(path)

    def has_value(self, path: str) -> bool:
        """True when the spec has the key."""
        return self.document.has(path)

    def set_value(self, path: str, value: Any) -> None:
        """Change one field and revalidate."""
        if self.document.has(path) and self.document.get(path) == value:
            return
        self.document.set(path, copy.deepcopy(value))
        self._external_issues = [i for i in self._external_issues if i.path != path]
        self.value_changed.emit(path)
        self.revalidate()

    def default_value(self, path: str) -> Any:
        """The template's value at a dotted key."""
        return get_path(self.template, path)

    def is_changed(self, path: str) -> bool:
        """True when the value differs from the template."""
        return has_path(self.template, path) != self.document.has(path) or (
            self.document.get(path) != get_path(self.template, path)
        )

    def changed_paths(self) -> list[str]:
        """Leaf paths whose value differs from the template."""
        return [f.path for f in self.root.leaves() if f.path and self.is_changed(f.path)]

    def reset(self, path: str) -> None:
        """Put one field back to the template's value."""
        if has_path(self.template, path):
            self.document.set(path, copy.deepcopy(get_path(self.template, path)))
        else:
            self.document.delete(path)
        self.value_changed.emit(path)
        self.revalidate()

    def reset_all(self) -> None:
        """Back to the template."""
        self.replace(default_spec(self.skill, self.action.name))

    def replace(self, document: SpecDocument) -> None:
        """Load a whole new spec (import)."""
        self.document = document
        self.document_replaced.emit()
        self.revalidate()

    def import_yaml(self, text: str, source: str = "<spec>") -> ImportedSpec:
        """Import an existing spec: unknown keys are kept and flagged. SpecParseError on bad YAML."""
        self.replace(SpecDocument.from_yaml(text, source))  # validated once, by the form's own validator
        return ImportedSpec(self.document, list(self.unknown_keys))

    def export_yaml(self) -> str:
        """The spec as YAML in the template's key order."""
        return spec_yaml(self.skill, self.action.name, self.document)

    def revalidate(self) -> list[SpecIssue]:
        """Recompute issues and tell listeners."""
        self.issues = self.validator.validate(self.document.data) + self._external_issues
        self.unknown_keys = unknown_key_paths(self.issues)
        self.issues_changed.emit(self.issues)
        return self.issues

    def set_external_issues(self, issues: list[SpecIssue]) -> None:
        """Issues found outside the form (preflight), shown with the form's own until replaced.

        Editing a field drops the external issues at that field; pass ``[]`` to clear them all.
        """
        self._external_issues = list(issues)
        self.revalidate()

    def issues_at(self, path: str) -> list[SpecIssue]:
        """Issues of one field."""
        return [i for i in self.issues if i.path == path]

    def issues_under(self, section: str) -> list[SpecIssue]:
        """Issues of every field inside a section (for badges on collapsed sections)."""
        prefix = section + "."
        return [i for i in self.issues if i.path == section or i.path.startswith(prefix)]

    @property
    def has_errors(self) -> bool:
        """True when any issue is an error."""
        return any(i.severity == ERROR for i in self.issues)

    @property
    def automl_available(self) -> bool:
        """AutoML applies to train when the skill enables it (the seed cards' default: on)."""
        return self.action.name == "train" and self.skill.automl_runnable

    @property
    def automl_on(self) -> bool:
        """The AutoML policy for this form."""
        return self._automl_on

    def set_automl(self, on: bool) -> None:
        """Turn the AutoML policy on or off (only where available)."""
        on = bool(on) and self.automl_available
        if on != self._automl_on:
            self._automl_on = on
            self.automl_changed.emit(on)

    def automl_parameters(self) -> list[AutomlParameter]:
        """The fields AutoML searches by default when the policy is on (empty when off)."""
        if not self._automl_on:
            return []
        disabled = self.action.automl_disabled_parameters
        result = []
        for path in self.action.automl_default_parameters:
            field = self.root.find(path)
            if field is not None and field.is_leaf and not is_disabled(path, disabled):
                result.append(AutomlParameter(path, field))
        return result

    def automl_paths(self) -> set[str]:
        """Paths of the searched fields."""
        return {p.path for p in self.automl_parameters()}
