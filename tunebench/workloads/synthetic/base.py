"""The base of the synthetic workloads: a function of a config and a fidelity, with a known optimum.

A synthetic workload has no data and trains nothing. Its value after ``step`` steps is the
function at the fidelity that step reaches: ``top * step / max_iter`` rounded down (at least
``low``), so step ``max_iter`` evaluates the function at its top fidelity. With the default
``max_iter`` of each function one step is one fidelity unit (``mfh3``: step 37 is ``z = 37``).

Time. The published cost ``cost(z)`` is what an evaluation at fidelity ``z`` takes, so a trial
trained from the start to fidelity ``z`` has spent ``cost(z)``: a Job from step ``a`` to ``b``
takes ``cost(z_b) - cost(z_a)`` (``cost`` of step 0 is 0), and a trial continued from its
checkpoint pays only the increment. The simulated executor runs those as virtual seconds; on a
real executor ``train`` sleeps ``time_scale`` seconds per unit of cost (0: not at all).

The score is the function's value (metric ``value``, mode ``min``), as the published
benchmarks minimise it; ``optimum`` is its global minimum at the top fidelity, and the test
score is the noiseless value at the top fidelity (what a recommended config really achieves).

>>> [fidelity_at(s, 100, 100.0) for s in (1, 3, 11, 33, 100)]
[1, 3, 11, 33, 100]
>>> [fidelity_at(s, 162, 933.12) for s in (1, 2, 6, 18, 54, 162)]
[5, 11, 34, 103, 311, 933]
>>> fidelity_at(1, 200, 100.0)
1
"""

from __future__ import annotations

import abc
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from tunebench.checks import Float, Int, check
from tunebench.space import Space, Uniform
from tunebench.trial import Config
from tunebench.workloads.base import Dataset, Workload


def fidelity_at(step: int, max_iter: int, top: float, low: int = 1) -> int:
    """The integer fidelity after ``step`` of ``max_iter`` steps: ``top * step / max_iter``
    rounded down (as DEHB turns a budget into an integer fidelity), and at least ``low``."""
    return max(low, math.floor(top * step / max_iter + 1e-9))


def no_data() -> Dataset:
    """The empty dataset a real executor ships for a workload that needs none."""
    X, y = np.empty((0, 0)), np.empty(0)
    return Dataset(X, y, X, y, X, y, chunk_size=1)


class SyntheticWorkload(Workload):
    """A multi-fidelity test function as a workload: no data, a known optimum, a cost model."""

    metric = "value"
    mode = "min"
    top: float = 100.0  # the fidelity reached at step max_iter
    low: int = 1  # the lowest fidelity the function takes
    params = {
        "max_iter": Int(1, note="the step that reaches the top fidelity; set it to the scheduler's max_iter"),
        "time_scale": Float(0, note="real seconds train() sleeps per unit of cost; the simulated executor ignores it"),
    }

    def __init__(self, max_iter: int = 100, time_scale: float = 0.0, seed: int = 0) -> None:
        self.max_iter: int = check(self, "max_iter", max_iter)
        self.time_scale: float = check(self, "time_scale", time_scale)
        self.seed = int(seed)

    @abc.abstractmethod
    def value(self, config: Mapping[str, Any], fidelity: int) -> float:
        """The function at ``config`` and ``fidelity``, noise included (seeded by :attr:`seed`)."""

    @abc.abstractmethod
    def expected(self, config: Mapping[str, Any]) -> float:
        """The noiseless value at the top fidelity: the test score."""

    @abc.abstractmethod
    def cost(self, fidelity: int) -> float:
        """The published cost of one evaluation at ``fidelity``."""

    def fidelity(self, step: int) -> int:
        """The fidelity that ``step`` steps reach; a step past ``max_iter`` is refused."""
        if step > self.max_iter:
            raise ValueError(
                f"{self.name}: step {step} is past workload.max_iter={self.max_iter}, the step of the top fidelity "
                f"{self.top:g}; give the scheduler max_iter <= {self.max_iter} or the workload a larger max_iter"
            )
        return fidelity_at(step, self.max_iter, self.top, self.low)

    def score_at(self, config: Mapping[str, Any], step: int) -> float:
        """The value a trial with ``config`` reports after ``step`` steps."""
        return self.value(config, self.fidelity(step))

    def seconds(self, start: int, stop: int) -> float:
        """The cost of the steps after ``start`` up to ``stop``: ``cost(z_stop) - cost(z_start)``."""
        before = self.cost(self.fidelity(start)) if start > 0 else 0.0
        return self.cost(self.fidelity(stop)) - before

    def hyperparameters(self) -> frozenset[str]:
        return frozenset(self.default_space().domains)

    def load(self, seed: int) -> Dataset:
        return no_data()

    def build(self, config: Config, data: Dataset, seed: int) -> SyntheticTrainable:
        return SyntheticTrainable(self, config)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "optimum": self.optimum,
            "max_iter": self.max_iter,
            "top_fidelity": self.top,
            "seed": self.seed,
        }


class SyntheticTrainable:
    """A trial of a synthetic workload: its config and step count; scores are computed."""

    def __init__(self, workload: SyntheticWorkload, config: Config) -> None:
        self.workload = workload
        self.config = dict(config)
        self.steps = 0

    def train(self, n_steps: int) -> None:
        start, stop = self.steps, self.steps + n_steps
        took = self.workload.seconds(start, stop)
        if self.workload.time_scale > 0:
            time.sleep(took * self.workload.time_scale)
        self.steps = stop

    def score(self) -> float:
        return self.workload.score_at(self.config, self.steps)

    def test_score(self) -> float:
        return self.workload.expected(self.config)

    def save(self) -> tuple[dict[str, Any], int]:
        return dict(self.config), self.steps

    def restore(self, state: tuple[dict[str, Any], int]) -> None:
        config, self.steps = state
        self.config = dict(config)

    def reset_config(self, config: Config) -> None:
        """A new config in place (PBT's explore): later steps evaluate the new config."""
        self.config = dict(config)


def unit_box(names: list[str]) -> Space:
    """The published box of the Hartmann functions: every coordinate uniform on [0, 1]."""
    return Space({n: Uniform(0.0, 1.0) for n in names})


__all__ = ["SyntheticTrainable", "SyntheticWorkload", "fidelity_at", "no_data", "unit_box"]
