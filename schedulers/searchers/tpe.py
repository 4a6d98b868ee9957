"""TPE as a searcher: Optuna's ``TPESampler`` through ask-and-tell on a private in-memory study.

Under early stopping the trials are observed at different steps, and scores at different steps
do not compare. The model is fit on the observations at the highest step with at least
``min_points`` of them (:func:`tunebench.searcher.model_step`); until some step has that many,
configs are drawn from the space. Each proposal builds a fresh study from those observations
(so the step can move up as trials get further), with the pending trials added as running
ones under ``pending: constant_liar``, the default (Optuna's own ``constant_liar`` then ranks
them worst, so concurrent proposals spread out instead of sampling around the same good
points; with nothing pending it proposes what ``none`` does), and asks it once with a sampler
seed drawn from ``self.rng``: same seed, same proposals.
Optuna's ``ask`` is most of a proposal's cost (``scripts/bench_searcher_cost.py`` measures it).

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

import warnings
from typing import Any

from tunebench.checks import Bool, Int, check
from tunebench.searcher import Searcher, model_step
from tunebench.trial import Config


def optuna_value(score: float, mode: str) -> float:
    """A score as an Optuna trial value: a non-finite score becomes the worst value there is.

    >>> optuna_value(float("nan"), "max"), optuna_value(float("inf"), "min"), optuna_value(0.5, "max")
    (-inf, inf, 0.5)
    """
    if score == score and abs(score) != float("inf"):
        return float(score)
    return float("-inf") if mode == "max" else float("inf")


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
        multivariate: bool = False,
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

    def propose(self, trial_id: int) -> Config:
        step = model_step(self.step_counts(), self.min_points)
        self.steps_used.append(step)
        if step is None or not self.distributions:
            return self.space.sample(self.rng)
        study = self.study(step, int(self.rng.integers(2**31)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = study.ask(self.distributions)
        return self.complete(trial.params)

    def sampler(self, seed: int) -> Any:
        import optuna

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=self.min_points, n_ei_candidates=self.n_ei_candidates,
                multivariate=self.multivariate, constant_liar=self.pending == "constant_liar",
            )

    def add_running(self, study: Any, trials: list[int]) -> None:
        """Add ``trials`` (pending ones) to ``study`` as running trials with their configs."""
        from optuna.trial import TrialState, create_trial

        for t in trials:
            params = {k: self.configs[t][k] for k in self.distributions}
            study.add_trial(create_trial(params=params, distributions=self.distributions, state=TrialState.RUNNING))

    def complete(self, params: dict[str, Any]) -> Config:
        """Optuna's params plus the constants, in the space's order, as plain Python values."""
        merged = {**self.constants, **params}
        return {name: merged[name] for name in self.space.domains}

    def study(self, step: int, sampler_seed: int) -> Any:
        """A fresh in-memory study holding the observations at ``step`` (and the pending trials
        as running ones under ``constant_liar``)."""
        import optuna
        from optuna.trial import create_trial

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize" if self.mode == "max" else "minimize", sampler=self.sampler(sampler_seed))
        for config, score in self.at_step(step):
            params = {k: config[k] for k in self.distributions}
            study.add_trial(create_trial(params=params, distributions=self.distributions, value=optuna_value(score, self.mode)))
        if self.pending == "constant_liar":
            self.add_running(study, self.pending_trials())
        return study
