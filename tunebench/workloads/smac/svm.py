"""SMAC3's SVM task: scikit-learn's ``SVC`` on pairs of digit classes, budget = instance-seed pairs.

As SMAC3 defines it (``benchmark/src/models/svm.py``, ``benchmark/src/datasets/digits.py`` and
the task ``SVM-Digits (HB)`` of ``benchmark/src/tasks/__init__.py``: instances, two seeds,
budget 10 to 50). Its space, in ConfigSpace's terms::

    kernel       Categorical linear, poly, rbf, sigmoid; default poly
    C            Float [0.001, 1000.0], log, default 1.0
    shrinking    Categorical True, False; default True
    degree       Integer [1, 5], default 3           if kernel == poly
    coef0        Float [0.0, 10.0], default 0.0      if kernel in (poly, sigmoid)
    gamma        Categorical auto, value; default auto   if kernel in (rbf, poly, sigmoid)
    gamma_value  Float [0.0001, 8.0], log, default 1.0   if gamma == value

Here a conditional parameter is a :class:`~tunebench.space.Conditional` on its parent, SMAC's
default where it is inactive; ``SVC`` gets the active parameters only (``gamma`` is
``gamma_value`` when it is ``"value"``), as SMAC's ``train`` passes them.

The budget counts instance-seed pairs, as SMAC's successive halving does when a scenario has
instances. The instances are the 45 pairs of digit classes (``"0-1"`` ... ``"8-9"``), each the
rows of ``load_digits()`` of those two classes; with two seeds there are 90 instance-seed pairs,
ordered as SMAC orders them (``instance_seed_order="shuffle_once"``): the 45 instances shuffled
by ``numpy.random.RandomState(0)`` for the first seed, then shuffled again by the same generator
for the second (:func:`instance_order`). A config at budget ``b`` is evaluated on the first
``b``; on one pair its accuracy is the mean of ``cross_val_score(SVC(...), X, y, cv=5)``
(stratified, unshuffled), and its score is the mean over the ``b`` pairs (SMAC's cost at ``b``
is the mean of ``1 - accuracy``). ``SVC`` without ``probability`` draws nothing at random, so
neither seed changes a pair's accuracy: pairs 46 to 50 repeat five instances of the first 45,
and count twice, in SMAC's runs and here. The task is deterministic whatever the seed.

Step ``k`` of ``max_iter`` evaluates ``floor(50 k / max_iter)`` pairs, at least 10 (SMAC's
``int(budget)``): one step is one pair at ``max_iter`` 50, and at ``max_iter`` 3 Hyperband with
``eta`` 3 evaluates 16 and 50 pairs, as SMAC's Hyperband does. A pair a trial has been
evaluated on is not evaluated again (SMAC skips a trial already in its run history), so a Job
from step ``a`` to ``b`` evaluates only the pairs between their budgets.

>>> instance_order()[:3], len(instance_order()), instance_order()[45:47]
(['4-5', '5-8', '3-7'], 50, ['3-5', '0-3'])
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

from tunebench.checks import Int
from tunebench.space import Choice, Domain, IntUniform, Space, Uniform
from tunebench.trial import Config
from tunebench.workloads.base import Dataset
from tunebench.workloads.smac.base import SMACTask, active, conditioned

DOMAINS: dict[str, Domain] = {
    "kernel": Choice(("linear", "poly", "rbf", "sigmoid")),
    "C": Uniform(0.001, 1000.0, log=True),
    "shrinking": Choice((True, False)),
    "degree": IntUniform(1, 5),
    "coef0": Uniform(0.0, 10.0),
    "gamma": Choice(("auto", "value")),
    "gamma_value": Uniform(0.0001, 8.0, log=True),
}
CONDITIONS = {
    "degree": ("kernel", ("poly",)),
    "coef0": ("kernel", ("poly", "sigmoid")),
    "gamma": ("kernel", ("rbf", "poly", "sigmoid")),
    "gamma_value": ("gamma", ("value",)),
}
DEFAULT: dict[str, Any] = {
    "kernel": "poly",
    "C": 1.0,
    "shrinking": True,
    "degree": 3,
    "coef0": 0.0,
    "gamma": "auto",
    "gamma_value": 1.0,
}
PLACEHOLDERS = {n: DEFAULT[n] for n in CONDITIONS}
INSTANCES = [f"{a}-{b}" for a, b in itertools.combinations(range(10), 2)]
N_SEEDS = 2
TOP = 50
LOW = 10


def instance_order(n_seeds: int = N_SEEDS, top: int = TOP) -> list[str]:
    """The instances of SMAC's first ``top`` instance-seed pairs, in its order (module docstring)."""
    rng = np.random.RandomState(0)
    order = [INSTANCES[i] for _ in range(n_seeds) for i in rng.permutation(len(INSTANCES))]
    return order[:top]


def svc_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """``SVC``'s arguments for ``config``: its active parameters, ``gamma`` as SMAC's ``train`` sets it."""
    on = active(config, CONDITIONS)
    params = {n: config[n] for n in DOMAINS if n in on and n != "gamma_value"}
    if "gamma" in params:
        params["gamma"] = float(config["gamma_value"]) if params["gamma"] == "value" else "auto"
    return params


def pair(data: Dataset, instance: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the two digit classes of ``instance`` (``"a-b"``), in the data set's order."""
    a, b = (int(c) for c in instance.split("-"))
    rows = np.where(np.logical_or(data.y_train == a, data.y_train == b))
    return data.X_train[rows], data.y_train[rows]


class SMACSVM(SMACTask):
    """SMAC3's SVM task: ``SVC`` on pairs of digit classes, mean 5-fold CV accuracy over 10 to 50 instance-seed pairs."""

    name = "smac-svm"
    top = TOP
    low = LOW
    round_up = False
    unit = "instance-seed pairs"
    params = {"max_iter": Int(1, note="the step that reaches 50 instance-seed pairs; set it to the scheduler's max_iter")}

    def __init__(self, max_iter: int = TOP, n_folds: int = 5, seed: int = 0) -> None:
        super().__init__(max_iter, n_folds, seed)
        self.order = instance_order()

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return load_digits(return_X_y=True)

    def pair_accuracy(self, config: Config, data: Dataset, instance: str) -> float:
        """The mean CV accuracy of ``config`` on one instance."""
        model = SVC(**svc_params(config), random_state=self.seed)
        return float(np.mean(cross_val_score(model, *pair(data, instance), cv=self.n_folds)))

    def evaluate(self, config: Config, data: Dataset, budget: int, known: list[float]) -> list[float]:
        done = known[:budget]
        return done + [self.pair_accuracy(config, data, i) for i in self.order[len(done) : budget]]

    def default_space(self) -> Space:
        return conditioned(DOMAINS, CONDITIONS, PLACEHOLDERS)


__all__ = ["CONDITIONS", "DEFAULT", "DOMAINS", "INSTANCES", "PLACEHOLDERS", "SMACSVM", "instance_order", "pair", "svc_params"]
