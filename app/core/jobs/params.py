"""Spec parameter inference from ``skill_info.yaml`` ``spec_params``: output folders, parent checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.jobs.checkpoints import Checkpoint, ListsFolders, checkpoints_in, default_checkpoint
from app.core.jobs.model import Job
from app.core.skills.fields import MANDATORY
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument


class ParentCheckpointError(ValueError):
    """The parent job has no checkpoint to hand off (or the chosen one is not there)."""


@dataclass
class InferredParams:
    """What inference set, key by key, so the UI can show where each value came from."""

    values: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parent_checkpoint_folder(parent: Job) -> str:
    """Where a parent job's checkpoints are (TAO writes them to ``results_dir/<task>``)."""
    return f"{parent.results_dir}/{parent.action}"


def resolve_parent_checkpoint(
    files: ListsFolders, parent: Job, chosen: str | None = None, allow_latest_link: bool = False
) -> Checkpoint:
    """The exact checkpoint to hand off: the chosen file, else the highest epoch/step file."""
    available = checkpoints_in(files, parent_checkpoint_folder(parent))
    if chosen:
        match = next((c for c in available if chosen in (c.path, c.name)), None)
        if match is None:
            names = ", ".join(c.name for c in available) or "none"
            raise ParentCheckpointError(
                f"checkpoint '{chosen}' is not in job {parent.id}'s results (found: {names})"
            )
        if match.is_latest_link and not allow_latest_link:
            raise ParentCheckpointError(
                f"'{match.name}' is a link to the latest checkpoint; pick an exact "
                "model_epoch_XXX_step_YYYYY file, or ask for the latest explicitly"
            )
        return match
    best = default_checkpoint(available, allow_latest_link)
    if best is None:
        raise ParentCheckpointError(
            f"job {parent.id} has no checkpoint in {parent_checkpoint_folder(parent)} yet"
        )
    return best


def _unset(value: object) -> bool:
    return value is None or value == "" or value == MANDATORY


def infer_spec_params(
    skill: Skill,
    action: str,
    spec: SpecDocument,
    job: Job,
    *,
    files: ListsFolders | None = None,
    parent: Job | None = None,
    checkpoint: str | None = None,
    resume: bool = False,
    allow_latest_link: bool = False,
    encryption_key: str | None = None,
) -> InferredParams:
    """Fill the spec keys the skill infers (``spec_params``); values the user typed win, except folders."""
    result = InferredParams()
    for key, rule in skill.action(action).spec_params.items():
        value: str | None = None
        if rule == "output_dir":
            value = job.results_dir
        elif rule == "parent_model" and parent is not None and files is not None:
            if checkpoint or _unset(spec.get(key)):
                value = resolve_parent_checkpoint(files, parent, checkpoint, allow_latest_link).path
        elif rule == "resume_model" and resume and parent is not None and files is not None:
            value = resolve_parent_checkpoint(files, parent, checkpoint, allow_latest_link).path
        elif rule == "create_onnx_file" and _unset(spec.get(key)):
            value = f"{job.results_dir}/{action}/{skill.network_arch}.onnx"
        elif rule == "create_inference_result_file_pose" and _unset(spec.get(key)):
            value = f"{job.results_dir}/{action}/results.txt"
        elif rule == "key" and encryption_key and _unset(spec.get(key)):
            value = encryption_key
        elif rule == "ptm_if_no_resume_model":
            continue
        if value is not None:
            spec.set(key, value)
            result.values[key] = value if rule != "key" else "(from the keyring)"
    if (
        parent is not None
        and files is not None
        and any(r == "parent_model" for r in skill.action(action).spec_params.values())
    ):
        result.notes.append(f"checkpoint from job {parent.id}")
    return result
