"""TuneSearchCV: Hyperband and ASHA on local and Dask for SGDClassifier, a regressor with r2,
a skorch net, several metrics, the n_samples resource with a random forest, and scikit-learn's
estimator checks. Tiny data everywhere."""

from __future__ import annotations

import functools
import pickle
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import SGDClassifier, SGDRegressor

import tunebench
from tests.helpers import run_array_api_checks, sklearn_check_id, sklearn_checks
from tunebench.integrations.sklearn import TuneSearchCV

SPACE = {"alpha": stats.loguniform(1e-5, 1e-1), "penalty": ["l2", "l1"]}


def classification(n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    return make_classification(n, 6, n_informative=4, random_state=0)


def check_fitted(search: TuneSearchCV, X: np.ndarray, y: np.ndarray) -> None:
    res = search.cv_results_
    n = len(res["params"])
    assert n == search.metadata_["n_models"]
    assert {f"param_{name}" for name in search.param_distributions} <= set(res)
    assert {"params", "mean_test_score", "rank_test_score", "split0_test_score", "mean_fit_time"} <= set(res)
    assert res["rank_test_score"][search.best_index_] == 1
    assert search.best_params_ == res["params"][search.best_index_]
    assert search.best_score_ == res["mean_test_score"][search.best_index_]
    assert sum(len(h) for h in search.model_history_.values()) == len(search.history_)
    assert search.predict(X[:3]).shape == (3,)
    again = pickle.loads(pickle.dumps(search))
    assert np.array_equal(again.predict(X), search.predict(X))


def executor_params(executor: str, request: pytest.FixtureRequest) -> dict[str, Any] | None:
    """Two workers of the session's Dask cluster (tests/conftest.py) for ``dask``; a search that
    starts and stops a cluster of its own is the same-seed test below."""
    return {"n_workers": 2, "address": request.getfixturevalue("dask_address")} if executor == "dask" else None


@pytest.mark.parametrize("executor", ["local", "dask"])
@pytest.mark.parametrize("scheduler, params", [("hyperband", {}), ("asha", {"n_trials": 6})])
def test_sgd_classifier(scheduler: str, params: dict[str, Any], executor: str, request: pytest.FixtureRequest) -> None:
    X, y = classification()
    search = TuneSearchCV(
        SGDClassifier(),
        SPACE,
        scheduler=scheduler,
        executor=executor,
        max_iter=9,
        random_state=0,
        chunk_size=40,
        scheduler_params=params,
        executor_params=executor_params(executor, request),
    )
    search.fit(X, y, classes=[0, 1])
    check_fitted(search, X, y)
    assert 0.5 < search.best_score_ <= 1.0
    assert search.predict_proba(X[:2]).shape == (2, 2) if hasattr(search.best_estimator_, "predict_proba") else True
    if scheduler == "hyperband":
        assert search.metadata_["partial_fit_calls"] == search.metadata["partial_fit_calls"]


def test_same_seed_same_search_on_local_and_dask() -> None:
    X, y = classification()
    runs = [
        TuneSearchCV(
            SGDClassifier(),
            SPACE,
            max_iter=9,
            random_state=3,
            chunk_size=40,
            executor=ex,
            executor_params={"n_workers": 2} if ex == "dask" else None,
        ).fit(X, y)
        for ex in ("local", "dask")
    ]
    a, b = (r.cv_results_ for r in runs)
    assert a["params"] == b["params"]
    assert np.array_equal(a["partial_fit_calls"], b["partial_fit_calls"])
    assert np.allclose(a["mean_test_score"], b["mean_test_score"])


def test_regressor_with_r2() -> None:
    X, y = make_regression(200, 5, noise=0.5, random_state=0)
    search = TuneSearchCV(
        SGDRegressor(),
        {"alpha": stats.loguniform(1e-5, 1e-1), "eta0": [0.001, 0.01]},
        scoring="r2",
        max_iter=9,
        random_state=0,
        chunk_size=50,
    ).fit(X, y)
    check_fitted(search, X, y)
    assert search.best_score_ > 0.5
    assert search.score(X, y) == pytest.approx(search.best_estimator_.score(X, y))


def test_several_metrics_with_refit() -> None:
    X, y = classification()
    search = TuneSearchCV(
        SGDClassifier(loss="log_loss"),
        SPACE,
        scoring=["accuracy", "neg_log_loss"],
        refit="neg_log_loss",
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    res = search.cv_results_
    assert {"mean_test_accuracy", "rank_test_accuracy", "mean_test_neg_log_loss"} <= set(res)
    assert search.best_index_ == int(np.argmin(res["rank_test_neg_log_loss"]))
    with pytest.raises(ValueError, match="refit must be set to a scorer key"):
        TuneSearchCV(SGDClassifier(), SPACE, scoring=["accuracy", "f1"], max_iter=3).fit(X, y)


@functools.cache
def two_layer() -> type:
    """``TwoLayer``, a small net, made on first use (so torch is imported by the test that needs
    it) and put at module level, so that its checkpoints pickle."""
    import torch

    class TwoLayer(torch.nn.Module):
        def __init__(self, hidden: int = 8) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(6, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))

        def forward(self, X: Any) -> Any:
            return self.net(X)

    TwoLayer.__qualname__ = "TwoLayer"
    globals()["TwoLayer"] = TwoLayer
    return TwoLayer


def test_skorch_net() -> None:
    import torch
    from skorch import NeuralNetClassifier

    torch.manual_seed(0)
    X, y = classification(160)
    net = NeuralNetClassifier(two_layer(), max_epochs=1, criterion=torch.nn.CrossEntropyLoss, train_split=None, verbose=0)
    search = TuneSearchCV(net, {"lr": stats.loguniform(1e-2, 0.5), "module__hidden": [4, 8]}, max_iter=3, random_state=0)
    search.fit(X.astype(np.float32), y.astype(np.int64))
    assert 0.0 <= search.best_score_ <= 1.0
    assert search.predict(X[:4].astype(np.float32)).shape == (4,)


def test_random_forest_by_rows_matches_the_plan() -> None:
    X, y = classification(200)
    space = {"max_depth": stats.randint(1, 6), "n_estimators": [3, 6]}
    search = TuneSearchCV(RandomForestClassifier(), space, resource="n_samples", max_iter=9, random_state=0).fit(X, y)
    check_fitted(search, X, y)
    assert search.metadata_["partial_fit_calls"] == search.metadata["partial_fit_calls"]
    assert search.best_estimator_.n_estimators in (3, 6)


def test_bad_inputs_name_the_key() -> None:
    X, y = classification(60)
    with pytest.raises(ValueError, match=r"param_distributions\['alpha'\]"):
        TuneSearchCV(SGDClassifier(), {"alpha": 0.1}, max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="test_size must be a number in"):
        TuneSearchCV(SGDClassifier(), SPACE, max_iter=3, test_size=2).fit(X, y)
    with pytest.raises(ValueError, match="scheduler 'pbt' is not supported"):
        TuneSearchCV(SGDClassifier(), SPACE, scheduler="pbt").fit(X, y)
    with pytest.raises(ValueError, match="has no partial_fit"):
        TuneSearchCV(RandomForestClassifier(), {"max_depth": [2, 3]}, max_iter=3).fit(X, y)


def test_lazy_export() -> None:
    assert tunebench.TuneSearchCV is TuneSearchCV


# scikit-learn's estimator checks: every check that applies to a search estimator passes, the
# array API one in a process with SCIPY_ARRAY_API=1 (the last test).
CHECKED = [
    TuneSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3]}, max_iter=3, random_state=0),
    TuneSearchCV(SGDRegressor(), {"alpha": [1e-4, 1e-3]}, max_iter=3, random_state=0),
]


@pytest.mark.parametrize(("estimator", "check"), sklearn_checks(CHECKED), ids=sklearn_check_id)
def test_sklearn_compatible(estimator: Any, check: Any) -> None:
    check(estimator)


def test_array_api_input_with_scipy_array_api() -> None:
    best_trial = TuneSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3]}, max_iter=2, random_state=0, refit="best_trial")
    assert run_array_api_checks([*CHECKED, best_trial]) == 3
