"""Skill, action and the skill data that rides along with them (requirements, error patterns, rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.skills.dialect import ParsedSchema
from app.core.skills.fields import Field

ACTION_ORDER = ("dataset_convert", "train", "evaluate", "export", "inference", "quantize")


@dataclass(frozen=True)
class DataRequirement:
    """One row of an action's dataset-requirement table."""

    spec_key: str
    source: str
    files: str = ""
    kind: str = "file"
    is_list: bool = False
    optional: bool = False
    format: str | None = None
    convert_split_key: str | None = None

    @property
    def from_convert_job(self) -> bool:
        """True when the value comes from a dataset_convert job's results."""
        return self.convert_split_key is not None


@dataclass(frozen=True)
class ErrorPattern:
    """A known failure: a regex matched against a job's log, with its fix."""

    id: str
    title: str
    regex: re.Pattern[str]
    fix: str
    actions: tuple[str, ...] = ()

    def applies_to(self, action: str) -> bool:
        """True when the pattern is meant for this action (no list means every action)."""
        return not self.actions or action in self.actions


@dataclass(frozen=True)
class SpecRule:
    """A cross-field rule TAO asserts at run time, e.g. checkpoint_interval <= num_epochs."""

    id: str
    left: str | float
    op: str
    right: str | float
    message: str
    severity: str = "error"
    actions: tuple[str, ...] = ()
    when: tuple[tuple[str, Any], ...] = ()

    def applies_to(self, action: str) -> bool:
        """True when the rule is meant for this action (no list means every action)."""
        return not self.actions or action in self.actions


@dataclass(frozen=True)
class Hardware:
    """The skill's hardware needs, from SKILL.md front matter."""

    min_gpus: int = 0
    recommended_gpus: int = 0
    min_gpu_memory_gb: float = 0.0


@dataclass
class Action:
    """One verb of a skill (train, evaluate, ...) with its schema, template and launch data."""

    name: str
    skill_name: str
    schema_file: Path | None
    template_file: Path | None
    parsed: ParsedSchema | None
    template: dict[str, Any]
    command: str | None = None
    image: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    spec_params: dict[str, str] = field(default_factory=dict)
    requirements: list[DataRequirement] = field(default_factory=list)

    @property
    def root(self) -> Field | None:
        """The root of the action's field tree, or None if the schema did not load."""
        return self.parsed.root if self.parsed else None

    @property
    def automl_default_parameters(self) -> list[str]:
        """Dotted paths AutoML searches by default for this action."""
        return self.parsed.automl_default_parameters if self.parsed else []

    @property
    def automl_disabled_parameters(self) -> list[str]:
        """Dotted paths (or sections) AutoML must not touch."""
        return self.parsed.automl_disabled_parameters if self.parsed else []

    @property
    def is_usable(self) -> bool:
        """True when both the schema and the template loaded."""
        return self.parsed is not None and self.template_file is not None


@dataclass
class Skill:
    """One model's bundle: metadata, actions and skill data."""

    name: str
    path: Path
    bank: Path
    description: str = ""
    tags: list[str] = field(default_factory=list)
    hardware: Hardware = field(default_factory=Hardware)
    body: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    error_patterns: list[ErrorPattern] = field(default_factory=list)
    rules: list[SpecRule] = field(default_factory=list)

    @property
    def automl_enabled(self) -> bool:
        """True when the model layer enables AutoML (skill_info, else manifest)."""
        value = self.info.get("automl_enabled", self.manifest.get("automl_enabled", False))
        return bool(value)

    @property
    def automl_runnable(self) -> bool:
        """AutoML needs a packaged train schema and template as well as the model flag."""
        train = self.actions.get("train")
        return self.automl_enabled and train is not None and train.is_usable

    @property
    def default_image(self) -> str | None:
        """The model-level container image from skill_info."""
        image = self.info.get("container_image")
        return str(image) if image else None

    @property
    def shorthand_keys(self) -> dict[str, str]:
        """Short names for spec keys (``num_epochs`` -> ``train.num_epochs``)."""
        keys = self.info.get("spec_shorthand_keys")
        return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}

    @property
    def automl_metric(self) -> tuple[str, str] | None:
        """(metric name, 'minimize'|'maximize') an AutoML study optimises by default."""
        metric = self.info.get("automl_metric")
        if isinstance(metric, dict) and metric.get("name"):
            return str(metric["name"]), str(metric.get("direction", "minimize"))
        return None

    @property
    def network_arch(self) -> str:
        """TAO's network name (``pose_classification``, ``sparse4d``)."""
        return str(self.info.get("network_arch") or self.manifest.get("network_arch") or self.name)

    @property
    def task_tag(self) -> str:
        """The first tag, used as the task label in lists."""
        return self.tags[0] if self.tags else ""

    def action(self, name: str) -> Action:
        """The named action; KeyError with the known names otherwise."""
        try:
            return self.actions[name]
        except KeyError:
            known = ", ".join(self.actions) or "none"
            raise KeyError(f"skill '{self.name}' has no action '{name}' (actions: {known})") from None

    def patterns_for(self, action: str) -> list[ErrorPattern]:
        """Error patterns that apply to an action."""
        return [p for p in self.error_patterns if p.applies_to(action)]

    def rules_for(self, action: str) -> list[SpecRule]:
        """Spec rules that apply to an action."""
        return [r for r in self.rules if r.applies_to(action)]
