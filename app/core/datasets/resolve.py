"""Where each row of an action's dataset-requirement table gets its value.

In order: what the user typed; a dataset_convert job (rows marked ``from_convert_job`` and paths with
``{dataset_convert_job_id}``, which stands for that job's results folder); a registered dataset of the
row's role on the host; the template. Mandatory keys outside the table that the parent job's spec set
are taken from it. Nothing here touches a host: it is cheap enough to run on every keystroke.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.core.datasets.registry import Dataset
from app.core.jobs.model import Job
from app.core.skills.fields import MANDATORY
from app.core.skills.model import DataRequirement, Skill
from app.core.specs.document import SpecDocument, SpecParseError, flatten, get_path
from app.core.specs.validation import NEEDS_INPUT, SpecValidator

CONVERT_PLACEHOLDER = "{dataset_convert_job_id}"
CONVERT_ACTION = "dataset_convert"
MASKED_VALUE = "********"
_CHOOSE_CONVERT_JOB = "comes from a dataset_convert job: choose one as the parent"
SOURCE_ROLES: dict[str, tuple[str, ...]] = {
    "train_datasets": ("train",),
    "eval_dataset": ("eval",),
    "inference_dataset": ("inference",),
    "calibration_dataset": ("train",),
    "id": ("train", "eval", "inference"),
}
SPLIT_PREFERENCE: dict[str, tuple[str, ...]] = {
    "train_datasets": ("train",),
    "calibration_dataset": ("train",),
    "eval_dataset": ("val", "validation", "test"),
    "inference_dataset": ("test", "val", "validation"),
}


class Origin(StrEnum):
    """Where a resolved value came from."""

    TYPED = "typed"
    CONVERT_JOB = "convert_job"
    DATASET = "dataset"
    PARENT_JOB = "parent_job"
    TEMPLATE = "template"
    UNSET = "unset"


def is_unset(value: Any) -> bool:
    """True for the values that mean "nothing here yet": None, '', '???', an empty list."""
    return value is None or value == "" or value == MANDATORY or value == []


@dataclass(frozen=True)
class ResolvedRow:
    """One requirement row with its value and where the value came from."""

    requirement: DataRequirement
    value: Any
    origin: Origin
    origin_name: str = ""
    note: str = ""

    @property
    def spec_key(self) -> str:
        """The dotted spec key the row fills."""
        return self.requirement.spec_key

    @property
    def is_set(self) -> bool:
        """True when the row has a value."""
        return not is_unset(self.value)

    @property
    def paths(self) -> list[str]:
        """The path(s) the value names (a list row can name several)."""
        values = self.value if isinstance(self.value, list) else [self.value]
        return [str(v) for v in values if isinstance(v, str) and not is_unset(v)]

    @property
    def origin_label(self) -> str:
        """Where the value came from, as the table shows it."""
        return {
            Origin.TYPED: "typed by you",
            Origin.CONVERT_JOB: f"convert job {self.origin_name}",
            Origin.DATASET: f"dataset {self.origin_name}",
            Origin.PARENT_JOB: f"job {self.origin_name}",
            Origin.TEMPLATE: "template",
            Origin.UNSET: "not set",
        }[self.origin]


@dataclass
class Resolution:
    """Every row of one action's table, resolved, plus keys inherited from the parent job."""

    skill: Skill
    action: str
    rows: list[ResolvedRow]
    datasets: dict[str, Dataset] = field(default_factory=dict)
    convert_job: Job | None = None
    parent: Job | None = None
    inherited: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    filled_before: dict[str, Any] = field(default_factory=dict)

    def row(self, spec_key: str) -> ResolvedRow | None:
        """The row that fills a key, if any."""
        return next((row for row in self.rows if row.spec_key == spec_key), None)

    def values_to_fill(self) -> dict[str, Any]:
        """The values `apply` writes: rows resolved from a job or a dataset, and inherited keys."""
        filled = {
            row.spec_key: copy.deepcopy(row.value)
            for row in self.rows
            if row.origin in (Origin.CONVERT_JOB, Origin.DATASET, Origin.PARENT_JOB)
        }
        filled.update(copy.deepcopy(self.inherited))
        return filled

    def apply(self, spec: SpecDocument) -> dict[str, Any]:
        """Write the resolved values into ``spec``; returns what was filled (pass it back as ``filled``).

        A value filled earlier that no longer resolves goes back to the template's value.
        """
        filled = self.values_to_fill()
        for key, value in filled.items():
            spec.set(key, value)
        template = self.skill.action(self.action).template
        for key, old in self.filled_before.items():
            if key not in filled and spec.get(key) == old:
                spec.set(key, copy.deepcopy(get_path(template, key, "")))
        return filled


def choose_datasets(
    datasets: Iterable[Dataset], host: str, skill: str, sources: Iterable[str], chosen: Iterable[str] = ()
) -> tuple[dict[str, Dataset], list[str]]:
    """The dataset each source uses: a chosen one of a fitting role, else the first registered one."""
    usable = sorted((d for d in datasets if d.fits(host, skill)), key=lambda d: d.name)
    picked = [d for d in usable if d.name in set(chosen)]
    result: dict[str, Dataset] = {}
    notes: list[str] = []
    for source in dict.fromkeys(sources):
        roles = SOURCE_ROLES.get(source, ())
        preferred = [d for d in picked if d.role in roles]
        candidates = [d for role in roles for d in usable if d.role == role]
        if not preferred and not candidates:
            continue
        choice = (preferred or candidates)[0]
        result[source] = choice
        others = [d.name for d in candidates if d is not choice and d.role == choice.role]
        if others and not preferred:
            notes.append(
                f"{source}: using dataset '{choice.name}'; also on host '{host}' with role "
                f"{choice.role}: {', '.join(others)}"
            )
    return result, notes


def find_convert_job(parent: Job | None, lookup: Callable[[str], Job | None]) -> Job | None:
    """The dataset_convert job at or above ``parent`` in its lineage, if any."""
    seen: set[str] = set()
    job = parent
    while job is not None and job.id not in seen:
        if job.action == CONVERT_ACTION:
            return job
        seen.add(job.id)
        job = lookup(job.parent_id) if job.parent_id else None
    return None


def _job_spec(job: Job) -> SpecDocument | None:
    try:
        return SpecDocument.from_yaml(job.spec_yaml or "{}", f"job {job.id}")
    except SpecParseError:
        return None


def converted_splits(skill: Skill, convert_job: Job, split_key: str) -> list[str]:
    """The splits a convert job converted (its spec's comma-separated split value)."""
    spec = _job_spec(convert_job)
    value = spec.get(split_key) if spec is not None and split_key else None
    if value is None:
        template = skill.actions.get(CONVERT_ACTION)
        value = get_path(template.template, split_key) if template and split_key else None
    parts = [part.strip() for part in str(value if value is not None else "").split(",")]
    return parts or [""]


def convert_input_root(skill: Skill, convert_job: Job) -> str | None:
    """The folder a convert job read (its own first folder requirement, e.g. ``aicity.root``)."""
    convert_action = skill.actions.get(CONVERT_ACTION)
    spec = _job_spec(convert_job)
    if convert_action is None or spec is None:
        return None
    for requirement in convert_action.requirements:
        value = spec.get(requirement.spec_key)
        if requirement.kind == "folder" and isinstance(value, str) and not is_unset(value):
            return value
    return None


def _pick_split(source: str, splits: list[str]) -> tuple[str, str]:
    for preferred in SPLIT_PREFERENCE.get(source, ()):
        if preferred in splits:
            return preferred, ""
    shown = ", ".join(f"'{s}'" for s in splits)
    return splits[0], f"the convert job converted {shown} only; this row uses '{splits[0]}'"


def _join(folder: str, files: str) -> str:
    return posixpath.normpath(posixpath.join(folder, files)) if files else folder


def _from_convert_job(skill: Skill, requirement: DataRequirement, job: Job) -> tuple[Any, str]:
    """(value, note) for a row that takes its value from the convert job; value None if it cannot."""
    if CONVERT_PLACEHOLDER in requirement.files:
        return posixpath.normpath(requirement.files.replace(CONVERT_PLACEHOLDER, job.results_dir)), ""
    split, note = _pick_split(
        requirement.source, converted_splits(skill, job, requirement.convert_split_key or "")
    )
    if requirement.kind == "folder":
        root = convert_input_root(skill, job)
        if root is None:
            return None, f"convert job {job.id} does not name its input folder"
        return _join(_join(root, split), requirement.files), note
    return _join(_join(job.results_dir, split), requirement.files), note


def describe_files(requirement: DataRequirement) -> str:
    """What a row's ``files`` names, in words: ``train_data.npy``, ``<convert results>/<split>/*.pkl``."""
    if CONVERT_PLACEHOLDER in requirement.files:
        return requirement.files.replace(CONVERT_PLACEHOLDER, "<convert results>")
    if requirement.from_convert_job and not requirement.files:
        if requirement.kind == "folder":
            return "<convert input>/<split>"
        return "<convert results>/<split> (its .pkl files)"
    return requirement.files or "(the dataset itself)"


def only_from_convert_job(requirement: DataRequirement) -> bool:
    """Rows a plain dataset folder cannot fill: the convert job's own outputs."""
    if CONVERT_PLACEHOLDER in requirement.files:
        return True
    return requirement.from_convert_job and requirement.kind == "file" and not requirement.files


def _from_dataset(requirement: DataRequirement, dataset: Dataset) -> tuple[Any, str]:
    if only_from_convert_job(requirement):
        return None, _CHOOSE_CONVERT_JOB
    value = _join(dataset.path, requirement.files)
    return ([value] if requirement.is_list else value), ""


def _is_typed(key: str, value: Any, template: dict[str, Any], filled: Mapping[str, Any]) -> bool:
    if is_unset(value):
        return False
    if key in filled and filled[key] == value:
        return False
    return bool(value != get_path(template, key))


def resolve_row(
    skill: Skill,
    requirement: DataRequirement,
    spec: SpecDocument,
    template: dict[str, Any],
    datasets: Mapping[str, Dataset],
    convert_job: Job | None,
    filled: Mapping[str, Any],
) -> ResolvedRow:
    """One row: typed value, else convert job, else dataset, else template, else unset."""
    current = spec.get(requirement.spec_key)
    if _is_typed(requirement.spec_key, current, template, filled):
        return ResolvedRow(requirement, current, Origin.TYPED)
    notes = []
    needs_job = requirement.from_convert_job or CONVERT_PLACEHOLDER in requirement.files
    if convert_job is not None and needs_job:
        value, note = _from_convert_job(skill, requirement, convert_job)
        if value is not None:
            return ResolvedRow(requirement, value, Origin.CONVERT_JOB, convert_job.id, note)
        notes.append(note)
    dataset = datasets.get(requirement.source)
    if dataset is not None:
        value, note = _from_dataset(requirement, dataset)
        if value is not None:
            return ResolvedRow(requirement, value, Origin.DATASET, dataset.name, note)
        notes.append(note)
    else:
        if needs_job and convert_job is None:
            notes.append(_CHOOSE_CONVERT_JOB)
        if not only_from_convert_job(requirement):
            roles = " or ".join(SOURCE_ROLES.get(requirement.source, (requirement.source,)))
            notes.append(f"no {roles} dataset registered on this host")
    template_value = get_path(template, requirement.spec_key)
    if not is_unset(template_value) and current == template_value:
        return ResolvedRow(requirement, template_value, Origin.TEMPLATE, note="; ".join(filter(None, notes)))
    return ResolvedRow(requirement, None, Origin.UNSET, note="; ".join(dict.fromkeys(filter(None, notes))))


def _inherited_from_parent(
    skill: Skill, action: str, spec: SpecDocument, parent: Job | None, table_keys: set[str]
) -> dict[str, Any]:
    """Mandatory ('???') keys outside the table that the parent job's spec set to a real value."""
    if parent is None or parent.skill != skill.name:
        return {}
    parent_spec = _job_spec(parent)
    if parent_spec is None:
        return {}
    inferred = set(skill.action(action).spec_params)
    result = {}
    for key, value in flatten(spec.data):
        if value != MANDATORY or key in table_keys or key in inferred:
            continue
        inherited = parent_spec.get(key)
        if not is_unset(inherited) and inherited != MASKED_VALUE:
            result[key] = copy.deepcopy(inherited)
    return result


def resolve_requirements(
    skill: Skill,
    action: str,
    spec: SpecDocument,
    *,
    host: str,
    datasets: Iterable[Dataset] = (),
    chosen: Iterable[str] = (),
    parent: Job | None = None,
    convert_job: Job | None = None,
    filled: Mapping[str, Any] | None = None,
) -> Resolution:
    """Resolve every row of ``action``'s table against the spec, the host's datasets and the jobs.

    ``filled`` is what an earlier `Resolution.apply` wrote: such values are not "typed by you".
    ``convert_job`` defaults to ``parent`` when that is a dataset_convert job.
    """
    entry = skill.action(action)
    filled = dict(filled or {})
    if convert_job is None and parent is not None and parent.action == CONVERT_ACTION:
        convert_job = parent
    chosen_datasets, notes = choose_datasets(
        datasets, host, skill.name, [r.source for r in entry.requirements], chosen
    )
    rows = [
        resolve_row(skill, r, spec, entry.template, chosen_datasets, convert_job, filled)
        for r in entry.requirements
    ]
    inherited_parent = parent if parent is not None and parent.action != CONVERT_ACTION else None
    inherited = _inherited_from_parent(skill, action, spec, inherited_parent, {r.spec_key for r in rows})
    return Resolution(skill, action, rows, chosen_datasets, convert_job, parent, inherited, notes, filled)


def mandatory_gaps(skill: Skill, action: str, spec: SpecDocument) -> list[str]:
    """Keys the validator says still need input ('???' or a required value left empty)."""
    issues = SpecValidator(skill, action).validate(spec.data)
    return [issue.path for issue in issues if issue.severity == NEEDS_INPUT]
