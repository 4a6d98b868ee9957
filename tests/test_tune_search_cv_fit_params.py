"""TuneSearchCV's fit params as in scikit-learn's searches: a per-row param (``sample_weight``)
is sliced with the rows of every ``partial_fit`` chunk, every ``n_samples`` subset and the refit
on all rows; others (``classes``) pass whole; a DataFrame's column names reach
``best_estimator_`` and the search."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

from tunebench.integrations.sklearn import TuneSearchCV
from tunebench.workloads.estimator import EstimatorWorkload, split_fit_params, subset_size

SPACE = {"alpha": [1e-4, 1e-3, 1e-2]}
N = 240
CHUNK = 40
SGD = SGDClassifier(random_state=0)


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, labels, and weights that drop every row of class 1."""
    X, y = make_classification(N, 6, n_informative=4, random_state=0)
    return X, y, np.where(y == 1, 0.0, 1.0)


def split() -> tuple[np.ndarray, np.ndarray]:
    train, val = train_test_split(np.arange(N), test_size=0.15, random_state=0)
    return train, val


def by_chunks(
    params: dict[str, Any], X: np.ndarray, y: np.ndarray, w: np.ndarray | None, chunk: int, steps: int, classes: Any = (0, 1)
) -> SGDClassifier:
    """``steps`` partial_fit calls over ``chunk``-row chunks of ``X`` (cycling), each with its rows' weights."""
    model = clone(SGD).set_params(**params)
    n_chunks = -(-len(X) // chunk)
    for step in range(steps):
        rows = slice((step % n_chunks) * chunk, (step % n_chunks + 1) * chunk)
        model.partial_fit(X[rows], y[rows], classes=np.asarray(classes), sample_weight=None if w is None else w[rows])
    return model


def by_rows(params: dict[str, Any], X: np.ndarray, y: np.ndarray, w: np.ndarray, step: int, max_iter: int) -> SGDClassifier:
    """``fit`` on the first rows of the seed-0 permutation that ``step`` of ``max_iter`` uses, with their weights."""
    rows = np.random.default_rng(0).permutation(len(X))[: subset_size(len(X), step, max_iter)]
    return clone(SGD).set_params(**params).fit(X[rows], y[rows], sample_weight=w[rows])


def trials(search: TuneSearchCV) -> list[tuple[dict[str, Any], int, float]]:
    res = search.cv_results_
    return list(zip(res["params"], res["partial_fit_calls"], res["mean_test_score"]))


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_every_chunk_gets_its_rows_weights(executor: str, request: pytest.FixtureRequest) -> None:
    """On Dask, two workers of the session's cluster (tests/conftest.py)."""
    X, y, w = data()
    train, val = split()
    search = TuneSearchCV(
        SGD,
        SPACE,
        max_iter=9,
        chunk_size=CHUNK,
        random_state=0,
        refit="best_trial",
        executor=executor,
        executor_params={"n_workers": 2, "address": request.getfixturevalue("dask_address")} if executor == "dask" else None,
    ).fit(X, y, sample_weight=w)
    for params, steps, score in trials(search):
        manual = by_chunks(params, X[train], y[train], w[train], CHUNK, steps)
        assert score == manual.score(X[val], y[val])
    best, steps, _ = trials(search)[search.best_index_]
    manual = by_chunks(best, X[train], y[train], w[train], CHUNK, steps)
    assert np.array_equal(search.best_estimator_.coef_, manual.coef_)
    unweighted = by_chunks(best, X[train], y[train], None, CHUNK, steps)
    assert not np.allclose(search.best_estimator_.coef_, unweighted.coef_)


def test_every_n_samples_subset_gets_its_rows_weights() -> None:
    X, y, w = data()
    train, val = split()
    search = TuneSearchCV(SGD, SPACE, resource="n_samples", max_iter=9, random_state=0, refit="best_trial").fit(
        X, y, sample_weight=w
    )
    for params, steps, score in trials(search):
        assert score == by_rows(params, X[train], y[train], w[train], steps, 9).score(X[val], y[val])
    best, steps, _ = trials(search)[search.best_index_]
    assert np.array_equal(search.best_estimator_.coef_, by_rows(best, X[train], y[train], w[train], steps, 9).coef_)


def test_the_refit_gets_all_rows_weights_chunked_like_the_split() -> None:
    X, y, w = data()
    search = TuneSearchCV(SGD, SPACE, max_iter=9, chunk_size=CHUNK, random_state=0).fit(X, y, sample_weight=w)
    best, steps, _ = trials(search)[search.best_index_]
    n_chunks = -(-len(split()[0]) // CHUNK)
    manual = by_chunks(best, X, y, w, math.ceil(N / n_chunks), steps)
    assert np.array_equal(search.best_estimator_.coef_, manual.coef_)


def test_the_n_samples_refit_gets_all_rows_weights() -> None:
    X, y, w = data()
    search = TuneSearchCV(SGD, SPACE, resource="n_samples", max_iter=9, random_state=0).fit(X, y, sample_weight=w)
    best, steps, _ = trials(search)[search.best_index_]
    assert np.array_equal(search.best_estimator_.coef_, by_rows(best, X, y, w, steps, 9).coef_)


@pytest.mark.parametrize("refit", [True, "best_trial"])
def test_classes_pass_whole(refit: Any) -> None:
    X, y, w = data()
    classes = np.array([0, 1, 2])
    search = TuneSearchCV(SGD, SPACE, max_iter=3, chunk_size=CHUNK, random_state=0, refit=refit)
    search.fit(X, y, classes=classes, sample_weight=w)
    assert list(search.best_estimator_.classes_) == [0, 1, 2]
    assert split_fit_params({"classes": classes, "sample_weight": w}, N)[0] == {"classes": classes}


def test_a_per_row_param_of_the_wrong_length_is_one_value_error() -> None:
    X, y, w = data()
    with pytest.raises(ValueError, match=f"^fit param 'sample_weight' has 7 values; X has {N} rows$"):
        TuneSearchCV(SGD, SPACE, max_iter=3).fit(X, y, sample_weight=w[:7])
    with pytest.raises(ValueError, match=r"^row param 'sample_weight' needs one value per training row \(200\), got 7 values$"):
        EstimatorWorkload(SGD, X[:200], y[:200], X[200:], y[200:], row_params={"sample_weight": w[:7]})
    with pytest.raises(ValueError, match="^fit param 'sample_weight' has a value per row: pass it in row_params"):
        EstimatorWorkload(SGD, X[:200], y[:200], X[200:], y[200:], fit_params={"sample_weight": w[:200]})


def test_the_workload_slices_row_params_with_the_chunks_rows() -> None:
    X, y, w = data()
    workload = EstimatorWorkload(
        SGD, X[:200], y[:200], X[200:], y[200:], chunk_size=64, row_params={"sample_weight": list(w[:200])}
    )
    d = workload.load(0)
    for step in range(5):
        Xc, yc, params = d.rows(d.chunk_rows(step))
        rows = slice((step % 4) * 64, (step % 4 + 1) * 64)
        assert np.array_equal(Xc, X[:200][rows]) and np.array_equal(Xc, d.chunk(step)[0])
        assert np.array_equal(params["sample_weight"], w[:200][rows])
    assert d.nbytes == sum(a.nbytes for a in (X[:200], y[:200], X[200:], y[200:], X[200:], y[200:], w[:200]))


@pytest.mark.parametrize("resource", ["partial_fit", "n_samples"])
def test_dataframe_column_names_reach_the_refit(resource: str) -> None:
    X, y, w = data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    kwargs: dict[str, Any] = {"resource": resource, "max_iter": 3, "random_state": 0}
    search = TuneSearchCV(SGD, SPACE, **kwargs).fit(frame, pd.Series(y), sample_weight=pd.Series(w))
    assert list(search.feature_names_in_) == list(frame.columns)
    assert list(search.best_estimator_.feature_names_in_) == list(frame.columns)
    on_arrays = TuneSearchCV(SGD, SPACE, **kwargs).fit(X, y, sample_weight=w)
    assert not hasattr(on_arrays, "feature_names_in_")
    assert np.array_equal(search.best_estimator_.coef_, on_arrays.best_estimator_.coef_)
    assert np.array_equal(search.predict(frame), on_arrays.predict(X))
