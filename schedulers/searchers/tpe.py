"""TPE as a searcher: Optuna's ``TPESampler`` through ask-and-tell on a private in-memory study.

Under early stopping the trials are observed at different steps, and scores at different steps
do not compare. The model is fit at the highest step with at least ``min_points`` observations
(:func:`tunebench.searcher.model_step`; Optuna's ``n_startup_trials``); until some step has
that many, configs are drawn from the space. Each proposal builds a fresh study (so the step
can move up as trials get further) in which a trial observed at that step is complete with
its score there, and a trial observed only below it (a rung's loser, stopped or paused) is
pruned at its last step, as Optuna's own pruners leave their trials: Optuna's TPE ranks pruned
trials below every complete one, deeper ones first. Without them the model at a higher step
would see only the trials already promoted, the best third of the rung below, call the worse
of those bad and steer proposals to the regions that lost at the first rung. Under
``pending: constant_liar``, the default, the pending trials are added as running ones
(:meth:`~tunebench.searcher.Searcher.liars`; Optuna's ``constant_liar`` ranks them worst, so
concurrent proposals spread out instead of sampling around the same good points; with nothing
pending it proposes what ``none`` does). The study is asked once, with a sampler seed drawn
from ``self.rng``: same seed, same proposals. ``multivariate`` defaults to Optuna's own
default for one objective: one joint Parzen estimator, not one per parameter.
Optuna's ``ask`` is most of a proposal's cost (``scripts/bench_searcher_cost.py`` measures it).

Given candidates (a recording's configs, :meth:`~tunebench.searcher.Searcher.candidates`),
the candidates Optuna scores are the table's configs not proposed yet instead of draws from
the good density: its own acquisition, ``log l(x) - log g(x)`` of the joint (multivariate)
Parzen estimators, picks the best of them (:func:`on_candidates`), and the proposals made
before the model are drawn among them too.

>>> from tunebench.space import Space
>>> space = Space.from_spec({"x": {"uniform": [0, 1]}, "loss": "log_loss"})
>>> def run(seed):
...     s = TPESearcher(space, seed=seed, min_points=3)
...     for t in range(6):
...         c = s.suggest(t)
...         s.observe(t, c, 1, -abs(c["x"] - 0.3))
...     return s.suggest(6)
>>> run(0) == run(0) != run(1), run(0)["loss"]
(True, 'log_loss')
"""

from __future__ import annotations

import copy
import functools
import warnings
from typing import Any

import numpy as np

from tunebench.checks import Bool, Int, check
from tunebench.searcher import Searcher, config_key, model_step
from tunebench.trial import Config


def optuna_value(score: float, mode: str) -> float:
    """A score as an Optuna trial value: a non-finite score becomes the worst value there is.

    >>> optuna_value(float("nan"), "max"), optuna_value(float("inf"), "min"), optuna_value(0.5, "max")
    (-inf, inf, 0.5)
    """
    if score == score and abs(score) != float("inf"):
        return float(score)
    return float("-inf") if mode == "max" else float("inf")


@functools.cache
def template_class() -> type[Any]:
    """An Optuna ``FrozenTrial`` that a study's storage copies shallowly. Optuna's in-memory
    storage deep-copies each trial added, distributions included, which in a wide space is most
    of a proposal's cost; this copy shares the distributions and values (Optuna never changes
    them) and gets dicts and lists of its own."""
    from optuna.trial import FrozenTrial

    class Template(FrozenTrial):
        def __deepcopy__(self, memo: dict[int, Any]) -> FrozenTrial:
            new = copy.copy(self)
            for name, value in vars(self).items():
                if isinstance(value, dict | list):
                    setattr(new, name, type(value)(value))
            return new

    return Template


def template(trial: Any) -> Any:
    """``trial`` as a :func:`template_class` instance: the same trial, copied cheaply when added."""
    cls = template_class()
    shared = object.__new__(cls)
    shared.__dict__.update(trial.__dict__)
    return shared


def on_candidates(fixed: dict[str, np.ndarray]) -> type[Any]:
    """Optuna's Parzen estimator whose ``sample`` gives ``fixed`` (parameter -> the candidates'
    values in Optuna's internal representation) instead of draws: the sampler then scores
    exactly those by its acquisition and returns the best. Optuna's ``TPESampler`` builds its
    estimators from ``_parzen_estimator_cls``, its documented point of customisation."""
    from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator

    class Candidates(_ParzenEstimator):
        def sample(self, rng: np.random.RandomState, size: int) -> dict[str, np.ndarray]:
            return {name: values.copy() for name, values in fixed.items()}

    return Candidates


class TPESearcher(Searcher):
    """Optuna's TPE, fit at the highest step observed ``min_points`` times.

    ``n_ei_candidates`` and ``multivariate`` are Optuna's ``TPESampler`` keys.
    """

    name = "tpe"
    params = {
        "min_points": Int(2, note="observations at one step before TPE models it"),
        "n_ei_candidates": Int(1),
        "multivariate": Bool(),
    }

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        pending: str = "constant_liar",
        min_points: int = 10,
        n_ei_candidates: int = 24,
        multivariate: bool = True,
    ) -> None:
        super().__init__(space, seed=seed, mode=mode, pending=pending)
        self.min_points: int = check(self, "min_points", min_points)
        self.n_ei_candidates: int = check(self, "n_ei_candidates", n_ei_candidates)
        self.multivariate: bool = check(self, "multivariate", multivariate)
        from optuna.distributions import BaseDistribution

        from tunebench.convert import to_optuna

        try:
            converted = to_optuna(space)
        except ValueError as exc:
            raise ValueError(f"searcher tpe: {exc}") from None
        self.constants = {k: v for k, v in converted.items() if not isinstance(v, BaseDistribution)}
        self.distributions = {k: v for k, v in converted.items() if k not in self.constants}
        self.steps_used: list[int | None] = []  # the model's step at each proposal
        self._frozen: dict[tuple[int, int], tuple[tuple[tuple[int, float], ...], Any]] = {}

    def propose(self, trial_id: int) -> Config:
        step = model_step(self.step_counts(), self.min_points)
        self.steps_used.append(step)
        if step is None or not self.distributions:
            return self.space.sample(self.rng) if self.table is None else self.pick_fresh()
        study = self.study(step, int(self.rng.integers(2**31)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = study.ask(self.distributions)
        config = self.complete(trial.params)
        if self.table is None:
            return config
        i = self._index.get(config_key(config))
        if i is None:
            raise RuntimeError(
                f"searcher tpe: Optuna proposed {config}, not one of the candidates; "
                "this optuna version no longer scores given candidates"
            )
        return dict(self.table[i])

    def sampler(self, seed: int) -> Any:
        """Optuna's ``TPESampler``; with a table, multivariate and scoring the fresh candidates."""
        import optuna

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sampler = optuna.samplers.TPESampler(
                seed=seed,
                n_startup_trials=self.min_points,
                n_ei_candidates=self.n_ei_candidates,
                multivariate=self.multivariate or self.table is not None,
                constant_liar=self.pending == "constant_liar",
            )
        if self.table is not None:
            fresh = [self.table[i] for i in self.fresh()]
            fixed = {k: np.array([d.to_internal_repr(c[k]) for c in fresh]) for k, d in self.distributions.items()}
            sampler._parzen_estimator_cls = on_candidates(fixed)
        return sampler

    def add_running(self, study: Any, trials: list[int]) -> None:
        """Add ``trials`` (pending ones) to ``study`` as running trials with their configs."""
        from optuna.trial import TrialState, create_trial

        for t in trials:
            params = {k: self.configs[t][k] for k in self.distributions}
            study.add_trial(template(create_trial(params=params, distributions=self.distributions, state=TrialState.RUNNING)))

    def complete(self, params: dict[str, Any]) -> Config:
        """Optuna's params plus the constants, in the space's order, as plain Python values."""
        merged = {**self.constants, **params}
        return {name: merged[name] for name in self.space.domains}

    def study(self, step: int, sampler_seed: int) -> Any:
        """A fresh in-memory study: each trial observed at ``step`` is complete with its score
        there, each observed only below it is pruned at its last step (and under
        ``constant_liar`` each pending trial is running)."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(
            direction="maximize" if self.mode == "max" else "minimize", sampler=self.sampler(sampler_seed)
        )
        trials = [self.frozen(t, step) for t in sorted(self.scores)]
        for trial in trials:
            if trial is not None:
                study.add_trial(trial)
        self.add_running(study, self.liars(sum(t is not None for t in trials)))
        return study

    def frozen(self, trial_id: int, step: int) -> Any:
        """:func:`frozen_trial` of ``trial_id`` at ``step``, built again only when its scores changed."""
        by_step = self.scores[trial_id]
        seen = tuple(by_step.items())
        cached = self._frozen.get((trial_id, step))
        if cached is None or cached[0] != seen:
            cached = (seen, frozen_trial(self.configs[trial_id], by_step, step, self.distributions, self.mode))
            self._frozen[(trial_id, step)] = cached
        return cached[1]


def frozen_trial(config: Config, by_step: dict[int, float], step: int, distributions: dict[str, Any], mode: str) -> Any:
    """One trial as Optuna holds it when a model is fit at ``step``: complete with its score at
    ``step``; pruned, with its scores so far, if it stopped or paused below ``step`` (a rung's
    loser: Optuna ranks it below every complete trial, as it ranks the trials its pruners
    stopped); ``None`` if it was first observed above ``step``."""
    from optuna.trial import TrialState, create_trial

    params = {k: config[k] for k in distributions}
    if step in by_step:
        return template(create_trial(params=params, distributions=distributions, value=optuna_value(by_step[step], mode)))
    below = {s: optuna_value(v, mode) for s, v in by_step.items() if s < step}
    if not below:
        return None
    return template(create_trial(params=params, distributions=distributions, state=TrialState.PRUNED, intermediate_values=below))
