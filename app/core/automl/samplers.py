"""Optuna samplers for a search space (imported only when a study runs: Optuna is a heavy import)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from app.core.automl.space import ParameterKind, SearchSpace


class WeightedOptionsSampler(BaseSampler):
    """Wraps a sampler so options with schema weights follow those weights while no result is in.

    ``startup_trials`` is how many finished trials end the start-up (None: weights always apply,
    as in random search). After start-up the wrapped sampler decides alone.
    """

    def __init__(
        self,
        inner: BaseSampler,
        weights: Mapping[str, tuple[list[Any], list[float]]],
        startup_trials: int | None,
        seed: int | None,
    ) -> None:
        self.inner = inner
        self.weights = dict(weights)
        self.startup_trials = startup_trials
        self._rng = np.random.default_rng(seed)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        """As the wrapped sampler."""
        return self.inner.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """As the wrapped sampler."""
        return self.inner.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        """A weighted option during start-up, else the wrapped sampler's draw."""
        chosen = self.weights.get(param_name)
        if (
            chosen is not None
            and isinstance(param_distribution, CategoricalDistribution)
            and self._in_startup(study)
        ):
            options, weights = chosen
            by_option = {repr(o): w for o, w in zip(options, weights, strict=True)}
            choices = param_distribution.choices
            probabilities = np.array([by_option.get(repr(c), 0.0) for c in choices], dtype=float)
            if probabilities.sum() > 0:
                return choices[int(self._rng.choice(len(choices), p=probabilities / probabilities.sum()))]
        return self.inner.sample_independent(study, trial, param_name, param_distribution)

    def _in_startup(self, study: Study) -> bool:
        if self.startup_trials is None:
            return True
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        return len(done) < self.startup_trials

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        """As the wrapped sampler."""
        self.inner.before_trial(study, trial)

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        """As the wrapped sampler."""
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        """New random states for both samplers."""
        self.inner.reseed_rng()
        self._rng = np.random.default_rng()


class StudyGridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler for ask-and-tell studies: the study's budget, not ``Study.stop``, ends it.

    (Optuna's own ``after_trial`` calls ``study.stop()`` once the grid is used up, which only works
    inside ``optimize``; the scheduler caps the trials at the grid's size instead.)
    """

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        """Nothing to do after a trial."""


def build_sampler(
    space: SearchSpace, algorithm: str, seed: int | None, startup_trials: int, grid_points: int
) -> BaseSampler:
    """The sampler for one of the engine's algorithms (names checked by the caller)."""
    startup = max(1, startup_trials)
    if algorithm == "grid":
        return StudyGridSampler(space.grid(grid_points), seed=seed)
    weighted_until: int | None = startup
    inner: BaseSampler
    if algorithm == "random":
        inner, weighted_until = optuna.samplers.RandomSampler(seed=seed), None
    elif algorithm == "gp":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inner = optuna.samplers.GPSampler(
                seed=seed, n_startup_trials=startup, warn_independent_sampling=False
            )
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inner = optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=startup, constant_liar=True, warn_independent_sampling=False
            )
    weights = {
        p.path: (list(p.choices), list(p.weights))
        for p in space.searched
        if p.kind is ParameterKind.CHOICE and p.weights
    }
    if not weights:
        return inner
    return WeightedOptionsSampler(inner, weights, weighted_until, seed)


def build_pruner(name: str, startup_trials: int) -> optuna.pruners.BasePruner:
    """The pruner of that name (names checked by the caller)."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=max(1, startup_trials), n_warmup_steps=0)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()
