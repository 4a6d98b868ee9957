"""The MLP workload: scikit-learn's ``MLPClassifier`` trained by ``partial_fit`` on a bundled tabular set.

One step is one ``partial_fit`` call over all the training rows: one epoch of minibatch SGD with
Nesterov momentum (``batch_size`` rows a batch, shuffled each epoch), so a trial's budget is its
epochs, as in LCBench (Zimmer et al., 2021). The default space is LCBench's MLP space adapted to
small data: ``learning_rate`` (log), ``batch_size`` (log), ``width`` (log; units per hidden
layer), ``depth`` (hidden layers), ``alpha`` (L2 penalty, log) and ``momentum``. Hidden units are
ReLUs; the learning rate is constant.

A config whose weights overflow (a large learning rate with a large momentum) makes
scikit-learn raise; here the network stays as it is, non-finite, and trains no further: it
predicts the first class from then on, and scores what that prediction scores.

>>> w = MLPWorkload(dataset="iris")
>>> t = w.build({"learning_rate": 0.05, "batch_size": 16, "width": 8, "depth": 1}, w.load(0), seed=0)
>>> t.train(3); t.steps, 0.0 <= t.score() <= 1.0
(3, True)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.neural_network import MLPClassifier

from tunebench.checks import Float, Int
from tunebench.space import IntUniform, Space, Uniform
from tunebench.trial import Config
from tunebench.workloads.base import Dataset
from tunebench.workloads.tabular import TabularTrainable, TabularWorkload

RULES = {
    "learning_rate": Float(0, low_open=True),
    "batch_size": Int(1),
    "width": Int(1, 1024),
    "depth": Int(1, 3),
    "alpha": Float(0),
    "momentum": Float(0, 1),
}
DEFAULTS = {"learning_rate": 0.01, "batch_size": 32, "width": 64, "depth": 1, "alpha": 1e-4, "momentum": 0.9}
IN_PLACE = ("learning_rate", "batch_size", "alpha", "momentum")


class MLPTrainable(TabularTrainable):
    """An ``MLPClassifier`` with one trial's config; one step is one epoch (see the module docstring)."""

    workload = "mlp"
    rules = RULES
    defaults = DEFAULTS

    def make(self) -> MLPClassifier:
        s = self.settings
        return MLPClassifier(
            hidden_layer_sizes=[s["width"]] * s["depth"],
            solver="sgd",
            nesterovs_momentum=True,
            random_state=self.seed,
            **self.params(),
        )

    def params(self) -> dict[str, Any]:
        s = self.settings
        return {
            "learning_rate_init": s["learning_rate"],
            "batch_size": s["batch_size"],
            "alpha": s["alpha"],
            "momentum": s["momentum"],
        }

    @property
    def diverged(self) -> bool:
        """Whether the weights have overflowed (a network that has not trained yet has none)."""
        return any(not np.isfinite(w).all() for w in getattr(self.model, "coefs_", []))

    def step(self, data: Dataset) -> None:
        if self.diverged:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.filterwarnings("ignore", message=".*batch_size.*clipped")
            try:
                self.model.partial_fit(data.X_train, data.y_train, classes=data.classes)
            except ValueError:
                if not self.diverged:
                    raise

    def reset_config(self, config: Config) -> None:
        """New learning rate, batch size, alpha or momentum in place; the architecture cannot change."""
        fixed = {k: (self.settings[k], {**DEFAULTS, **config}[k]) for k in ("width", "depth")}
        changed = [f"{k} {a} -> {b}" for k, (a, b) in fixed.items() if a != b]
        if changed:
            raise ValueError(
                f"mlp: {', '.join(changed)}: a trained network keeps its shape; only {', '.join(IN_PLACE)} change in place"
            )
        super().reset_config(config)


class MLPWorkload(TabularWorkload):
    """``MLPClassifier`` by minibatch SGD on a bundled set; one step is one epoch (LCBench's MLP space)."""

    name = "mlp"
    rules = RULES

    def default_space(self) -> Space:
        return Space(
            {
                "learning_rate": Uniform(1e-4, 1e-1, log=True),
                "batch_size": IntUniform(16, 256, log=True),
                "width": IntUniform(16, 256, log=True),
                "depth": IntUniform(1, 3),
                "alpha": Uniform(1e-6, 1e-1, log=True),
                "momentum": Uniform(0.1, 0.99),
            }
        )

    def build(self, config: Config, data: Dataset, seed: int) -> MLPTrainable:
        return MLPTrainable(config, data, seed)


__all__ = ["MLPTrainable", "MLPWorkload"]
