"""A workload around any scikit-learn estimator and given arrays.

Two meanings of a step (``resource``):

* ``"partial_fit"``: one step is one ``partial_fit`` call on one chunk of the training rows
  (``chunk_size`` rows, cycling), as in the SGD workload. For estimators that learn
  incrementally (``SGDClassifier``, ``SGDRegressor``, ``MLPClassifier``, skorch nets).
* ``"n_samples"``: step ``k`` of ``max_iter`` means "train on more rows": each Job refits a
  fresh clone with ``fit`` on the first ``ceil(n_train * k / max_iter)`` rows of one
  fixed-seed permutation of the training set (a linear schedule; the subsets are nested, so
  a trial's later steps always see the rows its earlier ones saw). This lets Hyperband, ASHA
  and random search tune estimators without ``partial_fit`` (random forests, gradient
  boosting, SVMs), as scikit-learn's ``HalvingRandomSearchCV`` does with
  ``resource="n_samples"``.

Per-row fit params (``row_params``, e.g. ``sample_weight``; aligned with ``X_train``) are
sliced with the same rows as ``X``: each chunk's ``partial_fit`` and each ``n_samples`` subset's
``fit`` gets its rows' values. ``fit_params`` (e.g. ``classes``) go whole to every call. A
DataFrame ``X`` stays a DataFrame, so the estimator sees its column names.

The score is ``scoring`` on the validation arrays (a scorer name, a callable
``scorer(estimator, X, y)``, or ``None`` for the estimator's own ``score``); larger is better,
as in scikit-learn. The estimator's ``random_state``, when it has one left at ``None``, is
set from the trial seed; an estimator without one (a skorch net) has numpy's and torch's
global generators seeded from the trial seed and step before each Job, so a trial is
deterministic either way.

>>> import numpy as np
>>> from sklearn.linear_model import SGDClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
>>> w = EstimatorWorkload(SGDClassifier(), X[:40], y[:40], X[40:], y[40:], chunk_size=10, fit_params={"classes": [0, 1]})
>>> t = w.build({"alpha": 1e-3}, w.load(0), seed=1)
>>> t.train(4); t.steps, 0.0 <= t.score() <= 1.0
(4, True)
>>> subset_sizes(100, 4)
[25, 50, 75, 100]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring

from tunebench.checks import Int, OneOf, check
from tunebench.space import Space
from tunebench.trial import Config
from tunebench.workloads.base import Dataset, Workload
from tunebench.workloads.pickled import PickledModel

RESOURCES = ("partial_fit", "n_samples")


def subset_size(n_train: int, step: int, max_iter: int) -> int:
    """Training rows used at ``step`` (1-based) of ``max_iter`` under ``resource="n_samples"``."""
    return min(n_train, max(1, math.ceil(n_train * step / max_iter)))


def subset_sizes(n_train: int, max_iter: int) -> list[int]:
    """Rows used at every step, 1 to ``max_iter``."""
    return [subset_size(n_train, k, max_iter) for k in range(1, max_iter + 1)]


def is_frame(a: Any) -> bool:
    return hasattr(a, "iloc") and hasattr(a, "columns")


def as_array(a: Any) -> Any:
    """Rows to index: a sparse matrix as CSR, a DataFrame as it is (its column names reach the
    estimator), a Series as its array, else an array."""
    if sparse.issparse(a):
        return a.tocsr()
    if is_frame(a):
        return a
    return a.to_numpy() if hasattr(a, "iloc") else np.asarray(a)


def take(a: Any, rows: Any) -> Any:
    """Rows ``rows`` (a slice or indices) of an array, sparse matrix or DataFrame."""
    return a.iloc[rows] if is_frame(a) else a[rows]


def is_row_like(value: Any) -> bool:
    """Array-like with rows (an array, sparse matrix, DataFrame, Series or sequence), as
    scikit-learn's ``_check_method_params`` counts them."""
    if hasattr(value, "shape"):
        return len(value.shape) > 0
    return hasattr(value, "__len__") and not isinstance(value, (str, bytes))


def n_values(value: Any) -> int:
    return int(value.shape[0]) if hasattr(value, "shape") else len(value)


PER_ROW = frozenset({"sample_weight"})


def split_fit_params(params: Mapping[str, Any], n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """``params`` as (whole, per-row) for data of ``n`` rows, by scikit-learn's rule
    (``_check_method_params``): an array-like with ``n`` rows is per-row, anything else (e.g.
    ``classes``) passes whole. An array-like ``sample_weight`` of another length is a ValueError."""
    whole: dict[str, Any] = {}
    per_row: dict[str, Any] = {}
    for name, value in params.items():
        if is_row_like(value) and n_values(value) == n:
            per_row[name] = as_array(value)
        elif name in PER_ROW and is_row_like(value):
            raise ValueError(f"fit param {name!r} has {n_values(value)} values; X has {n} rows")
        else:
            whole[name] = value
    return whole, per_row


def nbytes_of(a: Any) -> int:
    if sparse.issparse(a):
        return int(a.data.nbytes + a.indices.nbytes + a.indptr.nbytes)
    if is_frame(a):
        return int(a.memory_usage(index=False).sum())
    return int(a.nbytes)


def seed_globals(seed: int) -> None:
    """Seed numpy's and torch's global generators, for estimators with no ``random_state``
    (skorch nets draw their initial weights and batches from torch's), so that a trial's
    training depends only on its seed and step."""
    import sys

    np.random.seed(seed % (2**32))
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed % (2**63))


def n_rows(a: Any) -> int:
    return int(a.shape[0])


@dataclass
class RowsDataset(Dataset):
    """A :class:`Dataset` whose arrays may be sparse matrices (which have no ``len``) or
    DataFrames, with per-row fit params aligned with ``X_train``."""

    row_params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        self.chunk_size = max(1, min(self.chunk_size, n_rows(self.X_train)))  # a dataset without rows: no chunks

    @property
    def n_chunks(self) -> int:
        return -(-n_rows(self.X_train) // self.chunk_size)

    def chunk_rows(self, step: int) -> slice:
        """The training rows of the ``step``-th step's chunk (0-based), cycling through the set."""
        lo = (step % self.n_chunks) * self.chunk_size
        return slice(lo, lo + self.chunk_size)

    def rows(self, rows: Any) -> tuple[Any, Any, dict[str, Any]]:
        """Training rows ``rows`` of ``X``, ``y`` and every per-row fit param."""
        params = {name: take(value, rows) for name, value in self.row_params.items()}
        return take(self.X_train, rows), take(self.y_train, rows), params

    def chunk(self, step: int) -> tuple[Any, Any]:
        X, y, _ = self.rows(self.chunk_rows(step))
        return X, y

    @property
    def nbytes(self) -> int:
        arrays = (self.X_train, self.y_train, self.X_val, self.y_val, self.X_test, self.y_test, *self.row_params.values())
        return sum(nbytes_of(a) for a in arrays)

    def sizes(self) -> dict[str, int]:
        return {
            "train": n_rows(self.X_train),
            "validation": n_rows(self.X_val),
            "test": n_rows(self.X_test),
            "chunk_size": self.chunk_size,
        }


class EstimatorTrainable(PickledModel):
    """A clone of the workload's estimator with a trial's config, and its step count."""

    def __init__(self, workload: EstimatorWorkload, config: Config, data: Dataset, seed: int) -> None:
        self.workload = workload
        self.config = dict(config)
        self.data = data
        self.seed = seed
        self.steps = 0
        self.model = workload.make(self.config, seed)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["data"] = None
        return state

    def train(self, n_steps: int) -> None:
        data = self.data
        assert isinstance(data, RowsDataset)
        w = self.workload
        if not w.has_random_state:
            seed_globals(self.seed + self.steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if w.resource == "partial_fit":
                for _ in range(n_steps):
                    X, y, params = data.rows(data.chunk_rows(self.steps))
                    self.model.partial_fit(X, y, **w.fit_params, **params)
                    self.steps += 1
                return
            self.steps += n_steps
            X, y, params = data.rows(w.order[: subset_size(n_rows(data.X_train), self.steps, w.max_iter)])
            self.model = w.make(self.config, self.seed)
            self.model.fit(X, y, **w.fit_params, **params)

    def score(self) -> float:
        assert self.data is not None
        return float(self.workload.scorer(self.model, self.data.X_val, self.data.y_val))

    def test_score(self) -> float:
        assert self.data is not None
        return float(self.workload.scorer(self.model, self.data.X_test, self.data.y_test))

    def reset_config(self, config: Config) -> None:
        """New hyperparameters in place: kept weights under ``partial_fit``, used from the next
        refit under ``n_samples``."""
        self.config = dict(config)
        self.model.set_params(**self.config)


class EstimatorWorkload(Workload):
    """Any scikit-learn estimator on given train / validation (/ test) arrays.

    ``space`` (a :class:`~tunebench.space.Space` or its YAML form) is the default space.
    ``max_iter`` is needed with ``resource="n_samples"``: the step at which all rows are used
    (set it to the scheduler's ``max_iter``). ``chunk_size`` defaults to the whole training set.
    ``fit_params`` go whole to every ``partial_fit`` / ``fit`` call; ``row_params`` (one value
    per training row, e.g. ``sample_weight``) are sliced with the rows of each call.
    """

    name = "estimator"
    metric = "score"
    mode = "max"
    params = {
        "resource": OneOf(RESOURCES),
        "max_iter": Int(1, optional=True, note="the step that uses every row; needed with resource 'n_samples'"),
        "chunk_size": Int(1, optional=True, note="rows per partial_fit; null: the whole training set"),
    }

    def __init__(
        self,
        estimator: BaseEstimator,
        X_train: Any,
        y_train: Any,
        X_val: Any,
        y_val: Any,
        X_test: Any = None,
        y_test: Any = None,
        *,
        scoring: str | Callable[..., float] | None = None,
        resource: str = "partial_fit",
        max_iter: int | None = None,
        chunk_size: int | None = None,
        fit_params: Mapping[str, Any] | None = None,
        row_params: Mapping[str, Any] | None = None,
        space: Space | Mapping[str, Any] | None = None,
        seed: int = 0,
    ) -> None:
        check(self, "resource", resource)
        if resource == "partial_fit" and not hasattr(estimator, "partial_fit"):
            raise ValueError(f"resource 'partial_fit': {type(estimator).__name__} has no partial_fit; use resource='n_samples'")
        max_iter = check(self, "max_iter", max_iter)
        if resource == "n_samples":
            Int(1, note="with resource 'n_samples', the step that uses every row").check("max_iter", max_iter)
        chunk_size = check(self, "chunk_size", chunk_size)
        self.estimator = estimator
        self.arrays = tuple(as_array(a) for a in (X_train, y_train, X_val, y_val))
        test = (X_test, y_test) if X_test is not None else (X_val, y_val)
        self.test_arrays = tuple(as_array(a) for a in test)
        self.resource, self.max_iter, self.chunk_size = resource, max_iter, chunk_size
        self.fit_params = dict(fit_params or {})
        self.row_params = self._check_row_params(row_params or {})
        self.scoring = scoring
        self.scorer = check_scoring(estimator, scoring=scoring)
        self.space = space if isinstance(space, Space) or space is None else Space.from_spec(space)
        self.has_random_state = "random_state" in estimator.get_params(deep=False)
        self.order = np.random.default_rng(seed).permutation(n_rows(self.arrays[0]))

    def _check_row_params(self, row_params: Mapping[str, Any]) -> dict[str, Any]:
        n = n_rows(self.arrays[0])
        for name, value in self.fit_params.items():
            if name in row_params:
                raise ValueError(f"fit param {name!r} given both whole (fit_params) and per row (row_params)")
            if name in PER_ROW and is_row_like(value):
                raise ValueError(f"fit param {name!r} has a value per row: pass it in row_params, not fit_params")
        checked = {}
        for name, value in row_params.items():
            if not is_row_like(value) or n_values(value) != n:
                got = f"{n_values(value)} values" if is_row_like(value) else f"a {type(value).__name__}"
                raise ValueError(f"row param {name!r} needs one value per training row ({n}), got {got}")
            checked[name] = as_array(value)
        return checked

    def __getstate__(self) -> dict[str, Any]:
        """Workers get the arrays once, as the executor's Dataset, not again with the workload."""
        state = self.__dict__.copy()
        state["arrays"] = state["test_arrays"] = state["row_params"] = None
        return state

    def make(self, config: Config, seed: int) -> BaseEstimator:
        """A fresh clone with ``config``; a ``random_state`` left at ``None`` comes from ``seed``."""
        model = clone(self.estimator).set_params(**config)
        params = model.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None and "random_state" not in config:
            model.set_params(random_state=seed % (2**32))
        return model

    def load(self, seed: int) -> RowsDataset:
        if self.arrays is None:
            raise RuntimeError("estimator workload: load() on a copy without its arrays (a worker's)")
        X_train, y_train, X_val, y_val = self.arrays
        X_test, y_test = self.test_arrays
        classes = self.fit_params.get("classes")
        return RowsDataset(
            X_train,
            y_train,
            X_val,
            y_val,
            X_test,
            y_test,
            chunk_size=self.chunk_size or n_rows(X_train),
            classes=None if classes is None else np.asarray(classes),
            row_params=dict(self.row_params),
        )

    def default_space(self) -> Space:
        if self.space is None:
            raise ValueError("estimator workload: no space given; pass space= (a Space or its YAML form)")
        return self.space

    def build(self, config: Config, data: Dataset, seed: int) -> EstimatorTrainable:
        return EstimatorTrainable(self, config, data, seed)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "estimator": type(self.estimator).__name__,
            "resource": self.resource,
            "scoring": self.scoring if isinstance(self.scoring, (str, type(None))) else repr(self.scoring),
            "max_iter": self.max_iter,
            "chunk_size": self.chunk_size,
        }


__all__ = ["EstimatorWorkload", "EstimatorTrainable", "RowsDataset", "split_fit_params", "subset_size", "subset_sizes"]
