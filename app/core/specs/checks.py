"""The per-action self check behind ``taodesk skills check``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument
from app.core.specs.form import ActionForm
from app.core.specs.validation import ERROR, NEEDS_INPUT

WidgetBuilder = Callable[[ActionForm], object]


@dataclass
class ActionCheck:
    """What checking one action found."""

    problems: list[str] = field(default_factory=list)
    fields: int = 0
    needs_input: int = 0

    @property
    def summary(self) -> str:
        """A short description for the report line."""
        text = f"{self.fields} fields"
        return text + (f", {self.needs_input} need input" if self.needs_input else "")


def check_skill_action(skill: Skill, action: str, widget_builder: WidgetBuilder | None = None) -> ActionCheck:
    """Build the form model, render and validate the template, round-trip the YAML.

    ``widget_builder`` (given by a front end) also builds the action's widgets from the form model.
    """
    result = ActionCheck()
    entry = skill.actions[action]
    if entry.root is None:
        result.problems.append("the schema did not load")
        return result
    if entry.template_file is None:
        result.problems.append("no spec template")
        return result
    form = ActionForm(skill, action)
    result.fields = sum(1 for f in form.root.leaves() if f.path)
    for issue in form.issues:
        if issue.severity == NEEDS_INPUT:
            result.needs_input += 1
        elif issue.severity == ERROR:
            result.problems.append(f"template: {issue}")
    text = form.export_yaml()
    again = SpecDocument.from_yaml(text, f"{skill.name}/{action} (rendered)")
    if again.data != form.document.data:
        result.problems.append("YAML round trip changed the spec")
    if widget_builder is not None:
        try:
            widget_builder(form)
        except Exception as exc:
            result.problems.append(f"widgets: {type(exc).__name__}: {exc}")
    return result
