"""SMAC3's MLP task: scikit-learn's ``MLPClassifier`` on the breast-cancer data, budget = epochs.

As SMAC3 defines it (``benchmark/src/models/mlp.py``, the task ``MLP-BreastCancer (HB)`` of
``benchmark/src/tasks/__init__.py``: budget 1 to 25; the same space as
``examples/2_multi_fidelity/1_mlp_epochs.py``). Its space, in ConfigSpace's terms::

    n_layer             Integer [1, 5], default 1
    n_neurons           Integer [8, 256], log, default 10
    activation          Categorical logistic, tanh, relu; default tanh
    solver              Categorical lbfgs, sgd, adam; default adam
    batch_size          Integer [30, 300], default 200             if solver in (sgd, adam)
    learning_rate       Categorical constant, invscaling, adaptive  if solver == sgd
    learning_rate_init  Float [0.0001, 1.0], log, default 0.001     if solver in (sgd, adam)

Here a conditional parameter is a :class:`~tunebench.space.Conditional` on ``solver``; where it
is inactive it is the constant SMAC's ``train`` passes in its place (``batch_size`` 200,
``learning_rate`` constant, ``learning_rate_init`` 0.001), whatever a config says.

A config at budget ``b``: ``MLPClassifier(hidden_layer_sizes=[n_neurons] * n_layer, solver,
batch_size, activation, learning_rate, learning_rate_init, max_iter=b, random_state=seed)``
scored by ``cross_val_score`` over ``StratifiedKFold(5, shuffle=True, random_state=seed)`` on the
569 unscaled rows, with ``error_score="raise"``: a config whose weights diverge raises, which
crashes SMAC's trial and fails ours. Step ``k`` of ``max_iter`` trains ``ceil(25 k / max_iter)``
epochs (SMAC's ``int(np.ceil(budget))``): one step is one epoch at ``max_iter`` 25, and at
``max_iter`` 9 Hyperband with ``eta`` 3 evaluates 3, 9 and 25 epochs, as SMAC's Hyperband does.

Every budget is trained from scratch, as SMAC does. Training on with ``partial_fit`` or
``warm_start`` is not the same model: ``fit`` reshuffles the previous epoch's order where each
``partial_fit`` call shuffles the rows afresh, ``fit`` stops after ``n_iter_no_change`` epochs
without improvement where ``partial_fit`` trains on, ``warm_start`` builds a new sgd or adam
optimizer (momentum and moments lost) and lbfgs would restart without its memory. A Job to step
``b`` so costs the whole evaluation at ``b``.

>>> task = SMACMLP(n_samples=60, n_folds=3, max_iter=2)
>>> t = task.build({"n_layer": 1, "n_neurons": 8, "activation": "tanh", "solver": "lbfgs"}, task.load(0), seed=0)
>>> t.train(1); t.steps, task.budget(1), 0.0 <= t.score() <= 1.0
(1, 13, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier

from tunebench.checks import Int, check
from tunebench.space import Choice, Domain, IntUniform, Space, Uniform
from tunebench.trial import Config
from tunebench.workloads.base import Dataset
from tunebench.workloads.smac.base import SMACTask, active, conditioned

DOMAINS: dict[str, Domain] = {
    "n_layer": IntUniform(1, 5),
    "n_neurons": IntUniform(8, 256, log=True),
    "activation": Choice(("logistic", "tanh", "relu")),
    "solver": Choice(("lbfgs", "sgd", "adam")),
    "batch_size": IntUniform(30, 300),
    "learning_rate": Choice(("constant", "invscaling", "adaptive")),
    "learning_rate_init": Uniform(0.0001, 1.0, log=True),
}
CONDITIONS = {
    "batch_size": ("solver", ("sgd", "adam")),
    "learning_rate": ("solver", ("sgd",)),
    "learning_rate_init": ("solver", ("sgd", "adam")),
}
PLACEHOLDERS: dict[str, Any] = {"batch_size": 200, "learning_rate": "constant", "learning_rate_init": 0.001}
DEFAULT = {
    "n_layer": 1,
    "n_neurons": 10,
    "activation": "tanh",
    "solver": "adam",
    "batch_size": 200,
    "learning_rate": "constant",
    "learning_rate_init": 0.001,
}
TOP = 25


def mlp_params(config: Config, budget: int, seed: int) -> dict[str, Any]:
    """``MLPClassifier``'s arguments for ``config`` at ``budget`` epochs, as SMAC's ``train`` builds them."""
    on = active(config, CONDITIONS)
    value = {n: config[n] if n in on and n in config else PLACEHOLDERS[n] for n in PLACEHOLDERS}
    return {
        "hidden_layer_sizes": [int(config["n_neurons"])] * int(config["n_layer"]),
        "solver": config["solver"],
        "batch_size": int(value["batch_size"]),
        "activation": config["activation"],
        "learning_rate": value["learning_rate"],
        "learning_rate_init": float(value["learning_rate_init"]),
        "max_iter": budget,
        "random_state": seed,
    }


class SMACMLP(SMACTask):
    """SMAC3's MLP task: ``MLPClassifier`` on breast cancer, mean 5-fold CV accuracy after 1 to 25 epochs."""

    name = "smac-mlp"
    top = TOP
    low = 1
    round_up = True
    unit = "epochs"
    params = {"n_samples": Int(20, optional=True, note="the first rows of the 569 used; null: all, as SMAC's task")}

    def __init__(self, max_iter: int = TOP, n_folds: int = 5, n_samples: int | None = None, seed: int = 0) -> None:
        super().__init__(max_iter, n_folds, seed)
        self.n_samples: int | None = check(self, "n_samples", n_samples)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        X, y = load_breast_cancer(return_X_y=True)
        return X[: self.n_samples], y[: self.n_samples]

    def evaluate(self, config: Config, data: Dataset, budget: int, known: list[float]) -> list[float]:
        model = MLPClassifier(**mlp_params(config, budget, self.seed))
        folds = StratifiedKFold(n_splits=self.n_folds, random_state=self.seed, shuffle=True)
        return [float(s) for s in cross_val_score(model, data.X_train, data.y_train, cv=folds, error_score="raise")]

    def default_space(self) -> Space:
        return conditioned(DOMAINS, CONDITIONS, PLACEHOLDERS)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "n_samples": self.n_samples}


__all__ = ["CONDITIONS", "DEFAULT", "DOMAINS", "PLACEHOLDERS", "SMACMLP", "mlp_params"]
