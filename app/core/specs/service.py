"""Spec operations shared by the GUI and the CLI: defaults, import, render, validate, diff."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from app.core.skills.model import Skill
from app.core.specs.diff import SpecChange, diff_specs
from app.core.specs.document import SpecDocument
from app.core.specs.overrides import Override, apply_overrides, parse_override
from app.core.specs.validation import SpecIssue, SpecValidator, unknown_key_paths


def default_spec(skill: Skill, action: str) -> SpecDocument:
    """The action's template as a fresh spec document."""
    return SpecDocument(copy.deepcopy(skill.action(action).template))


@dataclass
class ImportedSpec:
    """A spec read from a file, with the keys no action of the skill knows (kept, flagged)."""

    document: SpecDocument
    unknown_keys: list[str] = field(default_factory=list)


def import_spec_text(skill: Skill, action: str, text: str, source: str = "<spec>") -> ImportedSpec:
    """Parse an existing spec; unknown keys are kept in the document and listed."""
    document = SpecDocument.from_yaml(text, source)
    issues = SpecValidator(skill, action).validate(document.data)
    unknown = unknown_key_paths(issues)
    return ImportedSpec(document, unknown)


def read_spec_file(path: Path) -> SpecDocument:
    """Read a spec YAML file (SpecParseError on bad YAML, OSError when unreadable)."""
    return SpecDocument.from_yaml(path.read_text(encoding="utf-8"), str(path))


def parse_overrides(skill: Skill, texts: list[str]) -> list[Override]:
    """Parse ``KEY=VALUE`` texts with the skill's shorthand keys."""
    return [parse_override(text, skill.shorthand_keys) for text in texts]


def render_spec(
    skill: Skill, action: str, base: SpecDocument | None = None, overrides: list[str] | None = None
) -> SpecDocument:
    """A spec from the template (or ``base``) with overrides applied."""
    document = base.copy() if base is not None else default_spec(skill, action)
    apply_overrides(document, parse_overrides(skill, overrides or []))
    return document


def validate_spec(skill: Skill, action: str, document: SpecDocument) -> list[SpecIssue]:
    """Every issue of a spec for an action."""
    return SpecValidator(skill, action).validate(document.data)


def spec_yaml(skill: Skill, action: str, document: SpecDocument) -> str:
    """YAML text in the template's key order."""
    return document.to_yaml(order=skill.action(action).template)


def spec_diff(skill: Skill, action: str, document: SpecDocument) -> list[SpecChange]:
    """What differs from the action's template."""
    return diff_specs(skill.action(action).template, document.data)
