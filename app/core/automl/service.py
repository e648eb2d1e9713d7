"""AutoML operations shared by the GUI and the CLI: defaults, checks, creating a study, promoting the best."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from app.core.automl.engine import (
    DIRECTIONS,
    StudyEngine,
    algorithm_problem,
    open_storage,
    pruner_problem,
)
from app.core.automl.snapshot import read_snapshot
from app.core.automl.space import (
    ParameterKind,
    SearchSpace,
    SearchSpaceError,
    build_search_space,
    check_paths,
)
from app.core.automl.study import StudyConfig, StudyRecord, StudyStore, new_study_id
from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.model import Job
from app.core.jobs.plan import requested_gpu_count
from app.core.skills.bank import SkillBank
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument, SpecParseError
from app.core.specs.validation import ERROR, SpecValidator

DEFAULT_METRIC = ("val_loss", "minimize")


class StudyConfigError(ValueError):
    """A study that cannot start; ``problems`` says why, one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def default_config(
    skill: Skill, host: str, spec: SpecDocument, trials: int = 10, space: SearchSpace | None = None
) -> StudyConfig:
    """A study of the skill's train action as the schema and skill card suggest it."""
    metric, direction = skill.automl_metric or DEFAULT_METRIC
    return StudyConfig(
        skill=skill.name,
        host=host,
        spec_yaml=spec.to_yaml(order=skill.action("train").template),
        space=space or build_search_space(skill, "train", spec),
        metric=metric,
        direction=direction,
        trials=trials,
        gpus_per_trial=max(1, requested_gpu_count("train", spec)),
        seed=secrets.randbelow(2**31),
        startup_trials=max(2, min(10, trials // 3)),
    )


def check_config(config: StudyConfig, bank: SkillBank) -> list[str]:
    """Every reason the study cannot start (empty when it can)."""
    skill = bank.skills.get(config.skill)
    if skill is None:
        return [f"no skill named '{config.skill}'"]
    problems: list[str] = []
    if not skill.automl_enabled:
        problems.append(f"{skill.name}: the skill does not enable AutoML (automl_enabled in skill_info.yaml)")
    if config.action not in skill.actions or not skill.actions[config.action].is_usable:
        return [*problems, f"{skill.name}: no usable '{config.action}' schema and template for AutoML"]
    try:
        spec = SpecDocument.from_yaml(config.spec_yaml, "the study's spec")
    except SpecParseError as error:
        return [*problems, str(error)]
    problems += [
        f"spec {issue}"
        for issue in SpecValidator(skill, config.action).validate(spec.data)
        if issue.severity == ERROR
    ]
    problems += _space_problems(skill, config)
    problems += _baseline_problems(config, spec)
    if config.trials < 1:
        problems.append(f"trials: give at least 1, got {config.trials}")
    if config.parallel < 1:
        problems.append(f"parallel trials: give at least 1, got {config.parallel}")
    problems += _gpu_problems(config)
    if not config.metric.strip():
        problems.append("metric: name the value to optimise (e.g. val_loss)")
    if config.direction not in DIRECTIONS:
        problems.append(f"direction: '{config.direction}' is not minimize or maximize")
    for problem in (algorithm_problem(config.algorithm), pruner_problem(config.pruner)):
        if problem:
            problems.append(problem)
    return problems


def _space_problems(skill: Skill, config: StudyConfig) -> list[str]:
    problems: list[str] = []
    try:
        config.space.check()
    except SearchSpaceError as error:
        problems += error.problems
    try:
        check_paths(skill, config.action, [p.path for p in config.space.searched])
    except SearchSpaceError as error:
        problems += error.problems
    return problems


def _baseline_problems(config: StudyConfig, spec: SpecDocument) -> list[str]:
    if not config.baseline:
        return []
    problems = []
    for parameter in config.space.searched:
        if parameter.kind is ParameterKind.CHOICE:
            value = spec.get(parameter.path, parameter.default)
            if value not in parameter.choices:
                problems.append(
                    f"{parameter.path}: the spec's value {value!r} is not among the chosen options, "
                    "so the baseline cannot run it; add it or turn the baseline off"
                )
    return problems


def _gpu_problems(config: StudyConfig) -> list[str]:
    problems = []
    if any(g < 0 for g in config.gpus) or len(set(config.gpus)) != len(config.gpus):
        problems.append(f"GPUs: each GPU index once, 0 or more (got {config.gpus})")
    if config.gpus_per_trial < 1:
        problems.append(f"GPUs per trial: at least 1, got {config.gpus_per_trial}")
    elif config.gpus and len(config.gpus) < config.gpus_per_trial:
        problems.append(f"GPUs: {len(config.gpus)} chosen but each trial needs {config.gpus_per_trial}")
    return problems


def grid_size(config: StudyConfig) -> int:
    """How many configurations a grid search has."""
    return math.prod(len(values) for values in config.space.grid(config.grid_points).values())


@dataclass
class CreatedStudy:
    """A new study and any notes for the user (e.g. a grid smaller than the trial budget)."""

    record: StudyRecord
    notes: list[str]


def create_study(manager: JobManager, studies: StudyStore, config: StudyConfig) -> CreatedStudy:
    """Check, record and set up a study (its baseline queued first); StudyConfigError when it cannot start."""
    problems = check_config(config, manager.bank)
    if problems:
        raise StudyConfigError(problems)
    notes = []
    if config.algorithm == "grid" and grid_size(config) < config.trials:
        notes.append(f"the grid has {grid_size(config)} configurations; trials reduced from {config.trials}")
        config.trials = grid_size(config)
    record = StudyRecord(id=new_study_id(config.skill), config=config)
    spec = SpecDocument.from_yaml(config.spec_yaml)
    engine = StudyEngine(record.id, config.space, config.engine_settings(), open_storage(studies.path), spec)
    if config.baseline:
        engine.enqueue_baseline()
    return CreatedStudy(studies.add(record), notes)


def best_spec(studies: StudyStore, study_id: str, epochs: int | None = None) -> tuple[SpecDocument, int, str]:
    """The base spec with the best trial's values (and ``epochs`` if given), its trial number and job."""
    snapshot = read_snapshot(studies, study_id)
    best = snapshot.best
    if best is None:
        raise ValueError(f"study {snapshot.record.id} has no completed trial yet")
    config = snapshot.record.config
    spec = config.space.apply(SpecDocument.from_yaml(config.spec_yaml), best.params)
    if epochs is not None:
        spec.set("train.num_epochs", int(epochs))
    return spec, best.number, best.job_id


def promote_best(
    manager: JobManager,
    studies: StudyStore,
    study_id: str,
    epochs: int | None = None,
    resume: bool = False,
    gpus: list[int] | None = None,
) -> Job:
    """A normal train job with the best trial's parameters (``resume``: continue the best trial's training).

    The new job's parent is the best trial's job, so evaluate, export and train-longer follow from it.
    """
    spec, number, job_id = best_spec(studies, study_id, epochs)
    record = studies.get(study_id)
    config = record.config
    request = LaunchRequest(
        skill=config.skill,
        action=config.action,
        host=config.host,
        spec=spec,
        gpus=list(gpus if gpus is not None else config.gpus[: config.gpus_per_trial]),
        image=config.image,
        parent_id=job_id or None,
        resume=resume,
    )
    job = manager.launch(request)
    return manager.store.update(
        job.id, extra={**job.extra, "promoted_from_study": record.id, "promoted_trial": number}
    )


_MINIMISED = ("loss", "error", "err", "wer", "cer", "mse", "mae", "rmse")
_MAXIMISED = ("acc", "map", "nds", "f1", "precision", "recall", "auc", "iou", "ap", "score")


def suggested_direction(metric: str) -> str | None:
    """``minimize`` for losses and errors, ``maximize`` for accuracies and mAP-like scores, else None."""
    words = [w for w in metric.lower().replace("/", "_").replace("@", "_").replace("-", "_").split("_") if w]
    for word in reversed(words):
        if any(word.startswith(m) for m in _MINIMISED):
            return "minimize"
        if any(word.startswith(m) for m in _MAXIMISED):
            return "maximize"
    return None
