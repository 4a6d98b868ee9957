"""TuneSearchCV as a scikit-learn estimator: clone, get_params / set_params, pickling after fit,
cross_val_score over a search, and scikit-learn's estimator checks for refit="best_trial" (the
default refit=True is checked in test_tune_search_cv.py)."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import cross_val_score

from tests.helpers import sklearn_check_id, sklearn_checks
from tunebench.integrations.sklearn import TuneSearchCV

SPACE = {"alpha": [1e-4, 1e-3, 1e-2]}


def data() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(150, 5, n_informative=3, random_state=0)


def search(**kwargs: Any) -> TuneSearchCV:
    return TuneSearchCV(SGDClassifier(), SPACE, max_iter=3, random_state=0, **kwargs)


def test_clone_keeps_every_parameter_and_no_fitted_state() -> None:
    X, y = data()
    fitted = search(scheduler="asha", scheduler_params={"n_trials": 3}, verbose=0).fit(X, y)
    copy = clone(fitted)
    assert not hasattr(copy, "cv_results_")
    theirs, ours = copy.get_params(deep=False), fitted.get_params(deep=False)
    assert theirs.keys() == ours.keys()
    assert {k: repr(v) for k, v in theirs.items()} == {k: repr(v) for k, v in ours.items()}
    assert copy.estimator is not fitted.estimator


def test_get_params_and_set_params_reach_the_estimator() -> None:
    s = search()
    params = s.get_params()
    assert {"scheduler", "executor", "max_iter", "refit", "verbose", "estimator__alpha"} <= set(params)
    s.set_params(scheduler="random", scheduler_params={"n_trials": 2}, estimator__loss="log_loss", refit="best_trial")
    assert (s.scheduler, s.refit, s.estimator.loss) == ("random", "best_trial", "log_loss")
    X, y = data()
    s.fit(X, y)
    assert len(s.cv_results_["params"]) == 2
    assert s.best_estimator_.loss == "log_loss"


def test_a_fitted_search_pickles() -> None:
    X, y = data()
    fitted = search().fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(again.predict(X), fitted.predict(X))
    assert again.best_params_ == fitted.best_params_
    assert again.refit_time_ == fitted.refit_time_
    assert np.array_equal(again.cv_results_["mean_test_score"], fitted.cv_results_["mean_test_score"])


def test_cross_val_score_over_a_search() -> None:
    X, y = data()
    scores = cross_val_score(search(), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all((0.0 <= scores) & (scores <= 1.0))


# Every check that applies to a search estimator passes with refit="best_trial" too (the array
# API one is run in test_tune_search_cv.py, in a process with SCIPY_ARRAY_API=1).
@pytest.mark.parametrize(
    ("estimator", "check"),
    sklearn_checks([TuneSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3]}, max_iter=2, random_state=0, refit="best_trial")]),
    ids=sklearn_check_id,
)
def test_sklearn_compatible_with_refit_best_trial(estimator: Any, check: Any) -> None:
    check(estimator)
