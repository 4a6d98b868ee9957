"""The base of SMAC3's benchmark tasks: a scikit-learn model scored by cross-validation at a budget.

SMAC3's ``benchmark/`` scores a config by cross-validation over a whole bundled data set (there
is no held-out split). The score here is the mean cross-validated accuracy (metric ``accuracy``,
mode ``max``, as for our other classifiers); SMAC minimises its cost, ``1 - accuracy``.

Steps map to the task's budget as the synthetic workloads map steps to a fidelity: step
``max_iter`` reaches the top budget, and step ``k`` the budget ``top * k / max_iter``, rounded
as the task's SMAC code rounds a budget (``round_up``) and at least ``low``. With the default
``max_iter`` (the top budget) one step is one unit of budget.

A trial's score at a step is a function of its config, the budget the step reaches and the
run's seed only: SMAC gives every trial of a run the one seed, and so does this base (the trial
seed a Trainable is built with is not used). The evaluation runs in ``train``, so a Job's
compute time is the evaluation's; :meth:`SMACTask.evaluate` may reuse what the trial's last
budget computed, where the task allows it. The test score is the score at the top budget, the
measure of SMAC's ``highest_budget`` incumbent. Each evaluation runs BLAS on one thread: the
matrices are small, and one worker per core would otherwise oversubscribe the machine.

>>> budget_at(3, 9, 25, 1, round_up=True), budget_at(1, 3, 50, 10), budget_at(1, 50, 50, 10)
(9, 16, 10)
"""

from __future__ import annotations

import abc
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from tunebench.checks import Int, check
from tunebench.space import Choice, Conditional, Constant, Domain, Space
from tunebench.trial import Config
from tunebench.workloads.base import Dataset, Workload
from tunebench.workloads.synthetic.base import fidelity_at

Conditions = Mapping[str, tuple[str, tuple[Any, ...]]]


def budget_at(step: int, max_iter: int, top: int, low: int, *, round_up: bool = False) -> int:
    """The budget after ``step`` of ``max_iter`` steps: ``top * step / max_iter`` rounded down
    (as :func:`~tunebench.workloads.synthetic.base.fidelity_at`) or up, and at least ``low``."""
    if not round_up:
        return fidelity_at(step, max_iter, top, low)
    return max(low, math.ceil(top * step / max_iter - 1e-9))


def active(config: Mapping[str, Any], conditions: Conditions) -> frozenset[str]:
    """The parameters of ``config`` that SMAC would set: those without a condition, and those
    whose parent is active and takes one of the condition's values."""

    def on(name: str) -> bool:
        if name not in conditions:
            return True
        parent, values = conditions[name]
        return on(parent) and config.get(parent) in values

    return frozenset(n for n in config if on(n))


def conditioned(domains: Mapping[str, Domain], conditions: Conditions, placeholders: Mapping[str, Any]) -> Space:
    """SMAC's conditional space as ours: the child of a condition is a
    :class:`~tunebench.space.Conditional` on its parent, its own domain where the parent takes one
    of the condition's values and the constant ``placeholders[child]`` (what the task passes for
    an inactive parameter) elsewhere. A parent comes before its children in ``domains``."""
    out: dict[str, Domain] = {}
    for name, dom in domains.items():
        if name not in conditions:
            out[name] = dom
            continue
        parent, values = conditions[name]
        parent_domain = domains[parent]
        assert isinstance(parent_domain, Choice), f"{name}: the parent {parent!r} of a condition must be a choice"
        cases = tuple((v, dom if v in values else Constant(placeholders[name])) for v in parent_domain.values)
        out[name] = Conditional(parent, cases)
    return Space(out)


def whole(X: np.ndarray, y: np.ndarray) -> Dataset:
    """All rows as the training arrays, no validation or test rows: the task cross-validates."""
    return Dataset(X, y, X[:0], y[:0], X[:0], y[:0], chunk_size=len(X), classes=np.unique(y))


class SMACTask(Workload):
    """A SMAC3 benchmark task: cross-validated accuracy of a scikit-learn model at a budget."""

    metric = "accuracy"
    mode = "max"
    top: ClassVar[int] = 1  # the budget at step max_iter
    low: ClassVar[int] = 1  # the smallest budget SMAC's task runs
    round_up: ClassVar[bool] = False  # how the task's SMAC code turns a fractional budget into an integer
    unit: ClassVar[str] = ""  # what one unit of budget is
    params = {
        "max_iter": Int(1, note="the step that reaches the top budget; set it to the scheduler's max_iter"),
        "n_folds": Int(2, note="cross-validation folds; SMAC's task: 5"),
    }

    def __init__(self, max_iter: int, n_folds: int, seed: int = 0) -> None:
        self.max_iter: int = check(self, "max_iter", max_iter)
        self.n_folds: int = check(self, "n_folds", n_folds)
        self.seed = int(seed)

    @abc.abstractmethod
    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The task's data set, features and labels."""

    @abc.abstractmethod
    def evaluate(self, config: Config, data: Dataset, budget: int, known: list[float]) -> list[float]:
        """The accuracies whose mean is the score of ``config`` at ``budget``; ``known`` is the same
        list at the trial's last budget (empty if none), for a task that can extend it."""

    def budget(self, step: int) -> int:
        """The budget ``step`` steps reach; a step past ``max_iter`` is refused."""
        if step > self.max_iter:
            raise ValueError(
                f"{self.name}: step {step} is past workload.max_iter={self.max_iter}, the step of the top budget "
                f"({self.top} {self.unit}); give the scheduler max_iter <= {self.max_iter} or the workload a larger max_iter"
            )
        return budget_at(step, self.max_iter, self.top, self.low, round_up=self.round_up)

    def accuracies(self, config: Config, data: Dataset, budget: int, known: list[float]) -> list[float]:
        """:meth:`evaluate` on one BLAS thread, its warnings silenced (as SMAC's tasks silence them)."""
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.evaluate(config, data, budget, known)

    def load(self, seed: int) -> Dataset:
        return whole(*self.arrays())

    def hyperparameters(self) -> frozenset[str]:
        return frozenset(self.default_space().domains)

    def build(self, config: Config, data: Dataset, seed: int) -> SMACTrainable:
        return SMACTrainable(self, config, data)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "max_iter": self.max_iter,
            "top_budget": self.top,
            "budget_unit": self.unit,
            "n_folds": self.n_folds,
            "seed": self.seed,
        }


class SMACTrainable:
    """A trial of a SMAC task: its config, step count, and the accuracies at the budget it reached."""

    def __init__(self, task: SMACTask, config: Config, data: Dataset) -> None:
        self.task = task
        self.config = dict(config)
        self.data = data
        self.steps = 0
        self.at = 0  # the budget ``scores`` belong to; 0: none yet
        self.scores: list[float] = []

    def reach(self, steps: int) -> None:
        """Evaluate the config at the budget of ``steps`` steps, unless it is the one evaluated."""
        budget = self.task.budget(steps)
        if budget != self.at:
            self.scores = self.task.accuracies(self.config, self.data, budget, self.scores)
            self.at = budget
        self.steps = steps

    def train(self, n_steps: int) -> None:
        self.reach(self.steps + n_steps)

    def score(self) -> float:
        self.reach(self.steps)
        return float(np.mean(self.scores))

    def test_score(self) -> float:
        """The score at the top budget (the step ``max_iter`` reaches)."""
        top = self.task.budget(self.task.max_iter)
        if self.at == top:
            return float(np.mean(self.scores))
        return float(np.mean(self.task.accuracies(self.config, self.data, top, self.scores)))

    def save(self) -> tuple[dict[str, Any], int, int, list[float]]:
        return dict(self.config), self.steps, self.at, list(self.scores)

    def restore(self, state: Sequence[Any]) -> None:
        config, self.steps, self.at, scores = state
        self.config, self.scores = dict(config), list(scores)

    def reset_config(self, config: Config) -> None:
        """A new config in place (PBT's explore): the next step evaluates it afresh."""
        self.config = dict(config)
        self.at, self.scores = 0, []


__all__ = ["SMACTask", "SMACTrainable", "active", "budget_at", "conditioned", "whole"]
