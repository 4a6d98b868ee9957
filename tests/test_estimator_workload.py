"""The estimator workload: partial_fit steps, the n_samples resource, save/restore, and a full
Hyperband run over a RandomForestClassifier (no partial_fit) through the loop."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import SGDClassifier

from tunebench.executors.local import LocalExecutor
from tunebench.workloads.estimator import EstimatorWorkload, subset_size, subset_sizes


def data(n: int = 120, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    k = int(n * 0.7)
    return X[:k], y[:k], X[k:], y[k:]


def test_partial_fit_one_chunk_per_step() -> None:
    w = EstimatorWorkload(SGDClassifier(), *data(), chunk_size=21, fit_params={"classes": [0, 1]})
    d = w.load(0)
    t = w.build({"alpha": 1e-4}, d, seed=3)
    t.train(2)
    u = w.build({"alpha": 1e-4}, d, seed=3)
    u.train(1)
    u.train(1)
    assert t.steps == u.steps == 2 and t.score() == u.score()
    assert t.model.random_state == 3


def test_n_samples_refits_on_nested_growing_subsets() -> None:
    assert subset_sizes(84, 4) == [21, 42, 63, 84]
    assert subset_size(10, 1, 81) == 1 and subset_size(10, 81, 81) == 10
    w = EstimatorWorkload(RandomForestClassifier(n_estimators=5), *data(), resource="n_samples", max_iter=4)
    t = w.build({"max_depth": 3}, w.load(0), seed=1)
    t.train(1)
    assert t.steps == 1 and t.model.n_features_in_ == 4
    first = t.model
    t.train(3)
    assert t.model is not first  # refit from scratch, not continued
    rows = w.order[: subset_size(84, 4, 4)]
    assert sorted(rows) == list(range(84))


def test_save_restore_round_trip() -> None:
    w = EstimatorWorkload(SGDClassifier(), *data(), chunk_size=30, fit_params={"classes": [0, 1]})
    d = w.load(0)
    t = w.build({"alpha": 1e-3}, d, seed=0)
    t.train(2)
    u = w.build({"alpha": 1e-3}, d, seed=0)
    u.restore(t.save())
    t.train(1)
    u.train(1)
    assert u.steps == 3 and np.array_equal(u.model.coef_, t.model.coef_)
    assert pickle.loads(pickle.dumps(w)).arrays is None  # workers get the data once, as the Dataset


def test_bad_options_name_the_key() -> None:
    with pytest.raises(ValueError, match="RandomForestClassifier has no partial_fit"):
        EstimatorWorkload(RandomForestClassifier(), *data())
    with pytest.raises(
        ValueError,
        match=r"max_iter must be an integer >= 1 \(with resource 'n_samples', the step that uses every row\), got None",
    ):
        EstimatorWorkload(RandomForestClassifier(), *data(), resource="n_samples")
    with pytest.raises(ValueError, match="resource must be one of partial_fit, n_samples"):
        EstimatorWorkload(SGDClassifier(), *data(), resource="rows")


def test_hyperband_tunes_a_random_forest_by_rows(tmp_path: Path) -> None:
    from tunebench.integrations.sklearn_run import experiment_for
    from tunebench.run import run

    from schedulers.hyperband import Hyperband

    space = {"max_depth": {"randint": [1, 6]}, "n_estimators": {"choice": [3, 6]}}
    w = EstimatorWorkload(RandomForestClassifier(), *data(), resource="n_samples", max_iter=9, space=space)
    hb = Hyperband(w.default_space(), max_iter=9, eta=3, seed=0)
    ex = LocalExecutor()
    out = run(experiment_for(w, hb, ex, seed=0), tmp_path / "run", progress=False, workload=w, scheduler=hb, executor=ex)
    assert out.summary["partial_fit_calls"] == hb.metadata()["partial_fit_calls"]
    assert 0.5 <= out.summary["best_score"] <= 1.0
