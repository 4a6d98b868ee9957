"""Counting ones (HPOlib's ``CountingOnes``, the BOHB paper's test) as DEHB's benchmarks run it.

``n_categorical`` binary choices ``cat_i`` in {0, 1} and ``n_continuous`` numbers ``float_j``
in [0, 1]. At a fidelity of ``b`` samples each ``float_j`` counts as the mean of ``b``
Bernoulli(``float_j``) draws, so low fidelities are noisy estimates of the sum::

    f(x, b) = -(sum_i cat_i + sum_j mean of b Bernoulli(float_j) draws)

Its minimum is ``-(n_categorical + n_continuous)``, every coordinate at 1; the test score is
HPOlib's ``objective_function_test``, ``-(sum of every coordinate)``, the expected value. DEHB's
benchmark (``benchmarking/countingones_benchmark.py``) takes 50 + 50 dimensions and budgets from
``576 / d`` to ``93312 / d`` samples (``d`` the number of dimensions: 5.76 to 933.12), turned
into an integer number of samples by rounding down, and counts the budget as the cost. Here the
top fidelity is ``93312 / d`` samples at step ``max_iter`` (162 by default, the ratio of
DEHB's largest to smallest budget, so step 1 is DEHB's smallest budget), and the cost of an
evaluation is its number of samples.

The draws: HPOlib takes them from numpy's global generator; here, a generator seeded by the
workload's seed, the number of samples and the bits of the continuous coordinates, so a config
at a fidelity gets the same value under one seed. ``b`` draws of a Bernoulli are summed as one
Binomial(``b``, ``float_j``) draw, the same distribution.

>>> f = CountingOnes(n_categorical=2, n_continuous=2)
>>> f.value({"cat_0": 1, "cat_1": 1, "float_0": 1.0, "float_1": 1.0}, 5) == f.optimum == -4
True
>>> f.expected({"cat_0": 1, "cat_1": 0, "float_0": 0.5, "float_1": 0.25})
-1.75
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tunebench.checks import Int, check
from tunebench.space import Choice, Space, Uniform
from tunebench.workloads.synthetic.base import SyntheticWorkload

LARGEST = 93312.0  # DEHB's largest budget times the dimension


def counting_ones(categorical: Sequence[int], continuous: Sequence[float], samples: int, seed: int = 0) -> float:
    """The counting-ones value at ``samples`` Bernoulli draws per continuous coordinate."""
    p = np.asarray(continuous, dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(samples), *p.view(np.uint64).tolist()]))
    means = rng.binomial(int(samples), p) / samples
    return -float(sum(categorical) + means.sum())


class CountingOnes(SyntheticWorkload):
    """Counting ones (HPOlib, DEHB's benchmark): binary choices and Bernoulli-sampled numbers, minimum -d."""

    name = "counting-ones"
    low = 1
    params = {
        "n_categorical": Int(0, note="binary choices cat_i"),
        "n_continuous": Int(0, note="numbers float_i in [0, 1], each sampled at the fidelity"),
        "max_iter": Int(1, note="the step that reaches 93312 / d samples; step 1 is DEHB's smallest budget by default"),
    }

    def __init__(
        self, n_categorical: int = 50, n_continuous: int = 50, max_iter: int = 162, time_scale: float = 0.0, seed: int = 0
    ) -> None:
        super().__init__(max_iter, time_scale, seed)
        self.n_categorical: int = check(self, "n_categorical", n_categorical)
        self.n_continuous: int = check(self, "n_continuous", n_continuous)
        d = self.n_categorical + self.n_continuous
        if d < 1:
            raise ValueError("n_categorical + n_continuous must be at least 1, got 0")
        self.top = LARGEST / d
        self.optimum = -float(d)

    @property
    def categorical(self) -> list[str]:
        return [f"cat_{i}" for i in range(self.n_categorical)]

    @property
    def continuous(self) -> list[str]:
        return [f"float_{j}" for j in range(self.n_continuous)]

    def value(self, config: Mapping[str, Any], fidelity: int) -> float:
        return counting_ones([config[n] for n in self.categorical], [config[n] for n in self.continuous], fidelity, self.seed)

    def expected(self, config: Mapping[str, Any]) -> float:
        return -float(sum(config[n] for n in self.categorical) + sum(config[n] for n in self.continuous))

    def cost(self, fidelity: int) -> float:
        return float(fidelity)

    def default_space(self) -> Space:
        domains: dict[str, Any] = {n: Choice((0, 1)) for n in self.categorical}
        domains.update({n: Uniform(0.0, 1.0) for n in self.continuous})
        return Space(domains)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "n_categorical": self.n_categorical, "n_continuous": self.n_continuous}


__all__ = ["CountingOnes", "counting_ones"]
