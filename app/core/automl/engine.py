"""The optimisation engine: Optuna studies in the app's SQLite database, with samplers and pruners.

Optuna keeps its studies in its own tables of the job store's file (``taodesk.sqlite3``), through
its RDB storage, so a study survives a restart and another process (``taodesk automl status``)
reads the same trials. Trials are driven ask-and-tell: ``propose`` draws a configuration,
``report`` passes an intermediate value and answers whether to prune, ``finish`` records the end.

Option weights from the schema are a prior: while no result is in (the sampler's start-up
trials, or always for random search) options are drawn with those weights.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.automl.space import InfeasibleSample, ParameterKind, SearchSpace
from app.core.specs.document import SpecDocument

ALGORITHMS: dict[str, str] = {
    "tpe": "Bayesian (TPE)",
    "gp": "Bayesian (Gaussian process)",
    "random": "Random search",
    "grid": "Grid search",
}
PRUNERS: dict[str, str] = {
    "median": "Median stopping",
    "successive_halving": "Successive halving (ASHA)",
    "hyperband": "Hyperband",
    "none": "No pruning",
}
DIRECTIONS = ("minimize", "maximize")
BASELINE_ATTR = "baseline"
STORAGE_ATTEMPTS = 5
_storages: dict[str, Any] = {}
_storages_lock = threading.Lock()


def algorithm_problem(name: str) -> str | None:
    """Why an algorithm cannot run here, or None when it can."""
    if name not in ALGORITHMS:
        return f"unknown algorithm '{name}' (choose from {', '.join(ALGORITHMS)})"
    if name == "gp":
        missing = [m for m in ("torch", "scipy") if importlib.util.find_spec(m) is None]
        if missing:
            return (
                f"the Gaussian-process sampler needs {' and '.join(missing)}, which are not installed "
                "(pip install torch scipy); choose TPE for Bayesian search without them"
            )
    return None


def pruner_problem(name: str) -> str | None:
    """Why a pruner name is not usable, or None."""
    return None if name in PRUNERS else f"unknown pruner '{name}' (choose from {', '.join(PRUNERS)})"


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def storage_url(database: Path) -> str:
    """The SQLAlchemy URL of the app's database file."""
    return f"sqlite:///{database}"


def open_storage(database: Path) -> Any:
    """Optuna's RDB storage on the app's database (one per file and process, reused).

    The first process to open the file creates Optuna's tables; when two processes do it at the
    same moment one of them finds a table already made, so opening is tried again.
    """
    key = str(Path(database).resolve())
    with _storages_lock:
        storage = _storages.get(key)
        if storage is None:
            storage = _new_storage(key)
            _storages[key] = storage
        return storage


def _new_storage(path: str) -> Any:
    optuna = _optuna()
    from sqlalchemy.exc import OperationalError

    for attempt in range(STORAGE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(
                storage_url(Path(path)), engine_kwargs={"connect_args": {"timeout": 60}}
            )
        except OperationalError as error:
            if "already exists" not in str(error) or attempt == STORAGE_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


@dataclass
class EngineSettings:
    """How configurations are drawn and judged."""

    algorithm: str = "tpe"
    pruner: str = "median"
    direction: str = "minimize"
    seed: int | None = None
    startup_trials: int = 4
    grid_points: int = 3
    baseline: bool = True


@dataclass
class Proposal:
    """A configuration to run: the trial's number, its values, or why it cannot run."""

    number: int
    values: dict[str, Any]
    baseline: bool = False
    infeasible: str = ""
    proposed_at: float = field(default_factory=time.time)


def make_sampler(space: SearchSpace, settings: EngineSettings, seed: int | None = None) -> Any:
    """The Optuna sampler for the settings' algorithm (ValueError when it cannot run here)."""
    problem = algorithm_problem(settings.algorithm)
    if problem:
        raise ValueError(problem)
    _optuna()
    from app.core.automl.samplers import build_sampler

    return build_sampler(space, settings.algorithm, seed, settings.startup_trials, settings.grid_points)


def make_pruner(name: str, startup_trials: int) -> Any:
    """The Optuna pruner of that name (ValueError for an unknown one)."""
    problem = pruner_problem(name)
    if problem:
        raise ValueError(problem)
    _optuna()
    from app.core.automl.samplers import build_pruner

    return build_pruner(name, startup_trials)


def resumed_seed(seed: int | None, trials_so_far: int) -> int | None:
    """The sampler seed for a study that already has trials: a new stream, so no draw repeats."""
    if seed is None or trials_so_far == 0:
        return seed
    return (seed + 7919 * trials_so_far) % (2**32)


class StudyEngine:
    """One Optuna study of the app: propose, report, finish, and read the trials."""

    def __init__(
        self,
        study_name: str,
        space: SearchSpace,
        settings: EngineSettings,
        storage: Any,
        base_spec: SpecDocument,
    ) -> None:
        self.name = study_name
        self.space = space
        self.settings = settings
        self.base_spec = base_spec
        self.storage = storage
        optuna = _optuna()
        existing = _count_trials(storage, study_name)
        self.study = optuna.create_study(
            study_name=study_name,
            storage=storage,
            sampler=make_sampler(space, settings, resumed_seed(settings.seed, existing)),
            pruner=make_pruner(settings.pruner, settings.startup_trials),
            direction=settings.direction,
            load_if_exists=True,
        )
        self._handles: dict[int, Any] = {}

    def enqueue_baseline(self) -> None:
        """Queue the spec's own values as the first trial (done once, when the study is created)."""
        self.study.enqueue_trial(self.space.base_values(self.base_spec), user_attrs={BASELINE_ATTR: True})

    def propose(self) -> Proposal:
        """Draw the next configuration (a queued one first). An infeasible draw is failed at once."""
        trial = self.study.ask()
        self._handles[trial.number] = trial
        baseline = bool(trial.user_attrs.get(BASELINE_ATTR))
        values: dict[str, Any] = {}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a baseline value outside a narrowed range is kept as is
                for parameter in self.space.draw_order():
                    values[parameter.path] = self._suggest(trial, parameter, values)
        except InfeasibleSample as error:
            self.fail(trial.number, str(error))
            return Proposal(trial.number, values, baseline, infeasible=str(error))
        proposal = Proposal(trial.number, values, baseline)
        trial.set_user_attr("proposed_at", proposal.proposed_at)
        return proposal

    def _suggest(self, trial: Any, parameter: Any, values: dict[str, Any]) -> Any:
        if parameter.kind is ParameterKind.CHOICE:
            return trial.suggest_categorical(parameter.path, list(parameter.choices))
        if self.settings.algorithm == "grid":
            low, high = float(parameter.low), float(parameter.high)
        else:
            low, high = self.space.bounds_given(parameter, values, self.base_spec)
        if parameter.kind is ParameterKind.INT:
            return trial.suggest_int(parameter.path, int(low), int(high), log=parameter.log)
        if low == high:
            return low
        return trial.suggest_float(parameter.path, low, high, log=parameter.log)

    def handle(self, number: int) -> Any:
        """An Optuna ``Trial`` for a running trial, also after a restart."""
        trial = self._handles.get(number)
        if trial is None:
            optuna = _optuna()
            frozen = self.frozen(number)
            trial = optuna.trial.Trial(self.study, frozen._trial_id)
            self._handles[number] = trial
        return trial

    def frozen(self, number: int) -> Any:
        """The stored state of one trial."""
        return self.study.get_trials(deepcopy=False)[number]

    def set_attrs(self, number: int, **attrs: Any) -> None:
        """Record facts about a trial (job id, GPUs, times)."""
        trial = self.handle(number)
        for key, value in attrs.items():
            trial.set_user_attr(key, value)

    def report(self, number: int, step: int, value: float, may_prune: bool = True) -> bool:
        """Record an intermediate value; True when the pruner says to stop the trial."""
        trial = self.handle(number)
        if step in self.frozen(number).intermediate_values:
            return False
        trial.report(value, step)
        return may_prune and bool(trial.should_prune())

    def complete(self, number: int, value: float) -> None:
        """The trial finished with this metric value."""
        self._tell(number, values=value)

    def prune(self, number: int, reason: str = "") -> None:
        """The trial was stopped early (its last intermediate value stands)."""
        from optuna.trial import TrialState

        if reason:
            self.set_attrs(number, pruned_because=reason)
        self._tell(number, state=TrialState.PRUNED)

    def fail(self, number: int, reason: str) -> None:
        """The trial failed; the reason is kept for the trial table."""
        from optuna.trial import TrialState

        self.set_attrs(number, failure=reason)
        self._tell(number, state=TrialState.FAIL)

    def _tell(self, number: int, **kwargs: Any) -> None:
        self.study.tell(number, skip_if_finished=True, **kwargs)
        self._handles.pop(number, None)

    def trials(self) -> list[Any]:
        """Every trial of the study (Optuna ``FrozenTrial`` objects), by number."""
        return list(self.study.get_trials(deepcopy=False))


def _count_trials(storage: Any, study_name: str) -> int:
    """Trials already drawn (queued ones, such as the baseline, do not count)."""
    from optuna.trial import TrialState

    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    trials = storage.get_all_trials(study_id, deepcopy=False)
    return sum(1 for t in trials if t.state is not TrialState.WAITING)


def load_study(study_name: str, storage: Any) -> Any:
    """An existing Optuna study, for reading (no sampler needed)."""
    optuna = _optuna()
    return optuna.load_study(study_name=study_name, storage=storage)


def exact_preview_count(settings: EngineSettings, budget: int) -> int:
    """How many first configurations a preview shows exactly as the study will run them.

    Random and grid search do not depend on results; a Bayesian sampler draws at random (with the
    same seed) until ``startup_trials`` trials have finished, so at least that many match.
    """
    if settings.algorithm in ("random", "grid"):
        return budget
    return min(budget, max(1, settings.startup_trials))


def preview_proposals(
    space: SearchSpace, settings: EngineSettings, base_spec: SpecDocument, count: int
) -> list[Proposal]:
    """The first configurations the study will run, drawn on a throw-away copy with the same seed."""
    optuna = _optuna()
    engine = StudyEngine("preview", space, settings, optuna.storages.InMemoryStorage(), base_spec)
    if settings.baseline:
        engine.enqueue_baseline()
    return [engine.propose() for _ in range(max(0, count))]
