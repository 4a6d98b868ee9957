"""The base of the workloads that train a scikit-learn model on one of the bundled tabular sets.

A :class:`TabularWorkload` loads one of :data:`~tunebench.workloads.datasets.TABULAR` (nothing is
downloaded), splits it into train, validation and test (stratified, by the run's seed) and
scales the features on the training rows. Its hyperparameters are a mapping to checks, so the
config loader refuses a space that reaches a value the model cannot take, and each trial checks
its own config the same way. A :class:`TabularTrainable` holds one model: subclasses say how it
is made and how one step trains it. Scores are accuracies on the validation and test rows. Each
step runs BLAS and OpenMP on one thread: the data are small, and one worker per core would
otherwise oversubscribe the machine.
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from tunebench.checks import Check, Float, OneOf, check
from tunebench.names import each
from tunebench.trial import Config
from tunebench.workloads import datasets
from tunebench.workloads.base import Dataset, Workload
from tunebench.workloads.pickled import PickledModel


def check_config(name: str, config: Config, rules: Mapping[str, Check]) -> dict[str, Any]:
    """``config`` in plain form, or the ValueError naming its first unknown or refused key."""
    unknown = sorted(set(config) - set(rules))
    if unknown:
        raise ValueError(f"{name}: unknown hyperparameter(s) {each(unknown, rules, quote=True)}; allowed: {sorted(rules)}")
    return {key: rules[key].check(key, value) for key, value in config.items()}


class TabularTrainable(PickledModel, abc.ABC):
    """One model, its config and its step count; moves between workers by :meth:`save` and :meth:`restore`."""

    workload: ClassVar[str] = ""
    rules: ClassVar[Mapping[str, Check]] = {}
    defaults: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, config: Config, data: Dataset, seed: int) -> None:
        check_config(self.workload, config, self.rules)
        self.config = dict(config)
        self.data = data
        self.seed = seed % (2**32)
        self.steps = 0
        self.model: Any = self.make()

    @property
    def settings(self) -> dict[str, Any]:
        """The config in plain form, with the defaults of the keys it leaves out."""
        return {**self.defaults, **check_config(self.workload, self.config, self.rules)}

    @abc.abstractmethod
    def make(self) -> Any:
        """A fresh model for the config."""

    @abc.abstractmethod
    def step(self, data: Dataset) -> None:
        """Train one more step."""

    def params(self) -> dict[str, Any]:
        """The model's arguments that follow from the config, which :meth:`reset_config` sets in place."""
        return {}

    def train(self, n_steps: int) -> None:
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(n_steps):
                self.step(self.data)
                self.steps += 1

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", RuntimeWarning)  # a diverged model's overflow
            return float(self.model.score(X, y))

    def score(self) -> float:
        return self.accuracy(self.data.X_val, self.data.y_val)

    def test_score(self) -> float:
        return self.accuracy(self.data.X_test, self.data.y_test)

    def reset_config(self, config: Config) -> None:
        """New hyperparameters in place, keeping what the model learned (PBT's explore)."""
        check_config(self.workload, config, self.rules)
        self.config = dict(config)
        self.model.set_params(**self.params())


class TabularWorkload(Workload):
    """The base of workloads on a bundled tabular set (see the module docstring)."""

    metric = "accuracy"
    mode = "max"
    rules: ClassVar[Mapping[str, Check]] = {}
    params = {
        "dataset": OneOf(datasets.TABULAR),
        "val_fraction": Float(0, 0.5, low_open=True, high_open=True),
        "test_fraction": Float(0, 0.5, low_open=True, high_open=True),
    }

    def __init__(self, dataset: str = "digits", val_fraction: float = 0.2, test_fraction: float = 0.2) -> None:
        self.dataset: str = check(self, "dataset", dataset)
        self.val_fraction: float = check(self, "val_fraction", val_fraction)
        self.test_fraction: float = check(self, "test_fraction", test_fraction)

    def load(self, seed: int) -> Dataset:
        X, y = datasets.load_tabular(self.dataset)
        X_train, y_train, X_val, y_val, X_test, y_test = datasets.split(X, y, seed, self.val_fraction, self.test_fraction)
        scaler = StandardScaler().fit(X_train)
        scaled = [scaler.transform(a) for a in (X_train, X_val, X_test)]
        return Dataset(scaled[0], y_train, scaled[1], y_val, scaled[2], y_test, chunk_size=len(X_train), classes=np.unique(y))

    def hyperparameters(self) -> Mapping[str, Check]:
        return self.rules

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "dataset": self.dataset,
            "val_fraction": self.val_fraction,
            "test_fraction": self.test_fraction,
        }


__all__ = ["TabularTrainable", "TabularWorkload", "check_config"]
