"""TuneSearchCV's refit: True trains the best config afresh on all rows for the best trial's
resource, "best_trial" keeps the model trained on the split, False keeps none, and a metric
name refits by that metric. ``SGDClassifier.t_ - 1`` counts the rows ``partial_fit`` has seen."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.neighbors import KNeighborsClassifier

from tunebench.integrations.sklearn import TuneSearchCV
from tunebench.workloads.estimator import subset_size

SPACE = {"alpha": [1e-4, 1e-3, 1e-2]}
N = 240
N_TRAIN = N - math.ceil(0.15 * N)


def data() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(N, 6, n_informative=4, random_state=0)


def best_steps(search: TuneSearchCV) -> int:
    return int(search.cv_results_["partial_fit_calls"][search.best_index_])


def test_refit_true_trains_on_all_rows_for_the_best_trials_passes() -> None:
    X, y = data()
    search = TuneSearchCV(SGDClassifier(), SPACE, max_iter=9, random_state=0).fit(X, y)
    seen = search.best_estimator_.t_ - 1
    assert seen % len(X) == 0
    assert seen // len(X) == best_steps(search)
    assert search.refit_time_ > 0
    assert search.best_estimator_.get_params()["alpha"] == search.best_params_["alpha"]


def test_refit_true_cuts_all_rows_into_as_many_chunks_as_the_split() -> None:
    X, y = data()
    search = TuneSearchCV(SGDClassifier(), SPACE, max_iter=9, chunk_size=51, random_state=0).fit(X, y)
    assert -(-N_TRAIN // 51) == 4
    assert search.best_estimator_.t_ - 1 == best_steps(search) * (N // 4)


def test_refit_true_with_fit_params_on_all_rows() -> None:
    X, y = data()
    search = TuneSearchCV(SGDClassifier(), SPACE, max_iter=3, random_state=0).fit(X, y, classes=np.array([0, 1, 2]))
    assert list(search.best_estimator_.classes_) == [0, 1, 2]
    assert search.best_estimator_.t_ - 1 == best_steps(search) * N


def test_refit_true_by_rows_uses_the_same_fraction_of_all_rows() -> None:
    X, y = data()
    search = TuneSearchCV(
        KNeighborsClassifier(), {"n_neighbors": [1, 5, 15]}, resource="n_samples", max_iter=3, random_state=0
    ).fit(X, y)
    assert search.best_estimator_.n_samples_fit_ == subset_size(N, best_steps(search), 3)


def test_refit_best_trial_keeps_the_model_trained_on_the_split() -> None:
    X, y = data()
    search = TuneSearchCV(SGDClassifier(), SPACE, max_iter=9, random_state=0, refit="best_trial").fit(X, y)
    assert search.best_estimator_.t_ - 1 == best_steps(search) * N_TRAIN
    assert search.refit_time_ >= 0
    again = TuneSearchCV(SGDClassifier(), SPACE, max_iter=9, random_state=0).fit(X, y)
    assert again.best_index_ == search.best_index_
    assert not np.array_equal(again.best_estimator_.coef_, search.best_estimator_.coef_)


def test_refit_false_keeps_no_model() -> None:
    X, y = data()
    search = TuneSearchCV(SGDClassifier(), SPACE, max_iter=3, random_state=0, refit=False).fit(X, y)
    assert not hasattr(search, "best_estimator_")
    assert not hasattr(search, "refit_time_")
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as err:
        search.predict(X)
    assert "initialized with `refit=False`" in str(err.value.__cause__)


def test_refit_by_a_metric_name_with_several_metrics() -> None:
    X, y = data()
    search = TuneSearchCV(
        SGDClassifier(loss="log_loss"), SPACE, scoring=["neg_log_loss", "accuracy"], refit="accuracy", max_iter=3, random_state=0
    ).fit(X, y)
    res = search.cv_results_
    assert search.best_index_ == int(np.argmin(res["rank_test_accuracy"]))
    assert search.best_score_ == res["mean_test_accuracy"][search.best_index_]
    assert search.best_estimator_.t_ - 1 == best_steps(search) * N
    assert search.score(X, y) == pytest.approx(search.best_estimator_.score(X, y))


def test_several_metrics_without_refit_have_no_best() -> None:
    X, y = data()
    search = TuneSearchCV(SGDClassifier(), SPACE, scoring=["accuracy", "f1"], refit=False, max_iter=3, random_state=0).fit(X, y)
    assert not hasattr(search, "best_index_") and not hasattr(search, "best_estimator_")
    with pytest.raises(ValueError, match="refit='best_trial' needs a single metric"):
        TuneSearchCV(SGDClassifier(), SPACE, scoring=["accuracy", "f1"], refit="best_trial", max_iter=3).fit(X, y)
