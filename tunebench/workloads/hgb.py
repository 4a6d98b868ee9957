"""The HGB workload: scikit-learn's ``HistGradientBoostingClassifier`` grown by ``warm_start`` on a bundled tabular set.

One step is ``iterations_per_step`` more boosting iterations (5 by default): step ``k`` refits
with ``max_iter = k * iterations_per_step`` and ``warm_start=True``, which adds the new trees to
those the model has, so a trial's budget is its trees. Early stopping is off: the scheduler
decides when a trial stops. The default space: ``learning_rate`` (log), ``max_leaf_nodes``
(log), ``min_samples_leaf`` (log), ``l2_regularization`` (log), ``max_bins`` (log) and
``max_features`` (the fraction of features each split may look at, drawn by the trial's seed).

>>> w = HGBWorkload(dataset="iris", iterations_per_step=2)
>>> t = w.build({"learning_rate": 0.1, "max_leaf_nodes": 8}, w.load(0), seed=0)
>>> t.train(3); t.steps, t.model.n_iter_, 0.0 <= t.score() <= 1.0
(3, 6, True)
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier

from tunebench.checks import Float, Int, check
from tunebench.space import IntUniform, Space, Uniform
from tunebench.trial import Config
from tunebench.workloads.base import Dataset
from tunebench.workloads.tabular import TabularTrainable, TabularWorkload

RULES = {
    "learning_rate": Float(0, low_open=True),
    "max_leaf_nodes": Int(2),
    "min_samples_leaf": Int(1),
    "l2_regularization": Float(0),
    "max_bins": Int(2, 255),
    "max_features": Float(0, 1, low_open=True),
}
DEFAULTS = {
    "learning_rate": 0.1,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 20,
    "l2_regularization": 0.0,
    "max_bins": 255,
    "max_features": 1.0,
}


class HGBTrainable(TabularTrainable):
    """A ``HistGradientBoostingClassifier`` with one trial's config; one step adds ``per_step`` iterations."""

    workload = "hgb"
    rules = RULES
    defaults = DEFAULTS

    def __init__(self, config: Config, data: Dataset, seed: int, per_step: int) -> None:
        self.per_step = per_step
        super().__init__(config, data, seed)

    def make(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.per_step,
            max_bins=self.settings["max_bins"],
            early_stopping=False,
            warm_start=True,
            random_state=self.seed,
            **self.params(),
        )

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in self.settings.items() if k != "max_bins"}

    def step(self, data: Dataset) -> None:
        self.model.set_params(max_iter=(self.steps + 1) * self.per_step)
        self.model.fit(data.X_train, data.y_train)

    def reset_config(self, config: Config) -> None:
        """New hyperparameters for the trees still to grow; ``max_bins`` cannot change (the grown trees split on its bins)."""
        bins = {**DEFAULTS, **config}["max_bins"]
        if bins != self.settings["max_bins"]:
            raise ValueError(f"hgb: max_bins {self.settings['max_bins']} -> {bins}: the trees grown split on the old bins")
        super().reset_config(config)


class HGBWorkload(TabularWorkload):
    """``HistGradientBoostingClassifier`` by warm start on a bundled set; one step is a few boosting iterations."""

    name = "hgb"
    rules = RULES
    params = {"iterations_per_step": Int(1, note="boosting iterations per step")}

    def __init__(
        self, dataset: str = "digits", iterations_per_step: int = 5, val_fraction: float = 0.2, test_fraction: float = 0.2
    ) -> None:
        super().__init__(dataset, val_fraction, test_fraction)
        self.iterations_per_step: int = check(self, "iterations_per_step", iterations_per_step)

    def default_space(self) -> Space:
        return Space(
            {
                "learning_rate": Uniform(0.01, 1.0, log=True),
                "max_leaf_nodes": IntUniform(4, 128, log=True),
                "min_samples_leaf": IntUniform(2, 64, log=True),
                "l2_regularization": Uniform(1e-4, 10.0, log=True),
                "max_bins": IntUniform(16, 255, log=True),
                "max_features": Uniform(0.2, 1.0),
            }
        )

    def build(self, config: Config, data: Dataset, seed: int) -> HGBTrainable:
        return HGBTrainable(config, data, seed, self.iterations_per_step)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "iterations_per_step": self.iterations_per_step}


__all__ = ["HGBTrainable", "HGBWorkload"]
