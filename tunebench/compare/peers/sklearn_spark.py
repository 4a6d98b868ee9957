"""scikit-learn's ``RandomizedSearchCV`` on a local Spark through ``joblibspark``, as a peer.

``joblibspark.register_spark()`` and ``joblib.parallel_backend("spark", n_jobs=P)``: each
candidate's fit and score is one Spark task on ``local[N]`` (``N`` the matrix's workers;
:mod:`tunebench.compare.peers.spark`). The search scores on exactly our validation rows: ``X``
is the training rows followed by the validation rows, and ``PredefinedSplit`` makes the one
split train on the first and score on the second, so the training chunks are ours, in our
order. The estimator is :class:`WorkloadEstimator`: our workload's Trainable trained to
``max_iter`` steps (one ``partial_fit`` each) in ``fit``, scored by the workload's metric.
The space goes in as ``param_distributions`` through :func:`tunebench.convert.to_scipy`, drawn by
``ParameterSampler`` with ``random_state=seed``, so the candidates are the same on every run.

A search sees one score per candidate, after ``max_iter`` steps: one row of ``results.parquet``
each, at the wall time the score was observed (the scorer stamps it on the Spark worker).
``n_iter`` is the peer's ``n_trials`` (or the cell's) capped by ``total_steps // max_iter``; a
wall-time budget is a deadline each fit checks before a step (a fit that made no step scores
nothing and its trial ends ``stopped``). joblibspark ships ``X`` and ``y`` with every task.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from tunebench.checks import Int, check
from tunebench.compare.peer import Peer, PeerTask, PeerUnsupported
from tunebench.compare.peers.base import PeerLog
from tunebench.compare.peers.estimators import scipy_space
from tunebench.compare.peers.hyperopt import DEFAULT_EVALS, max_evals
from tunebench.space import to_python
from tunebench.workloads.base import Dataset, Workload

FIXED = ("workload", "max_iter", "seed", "chunk_size", "classes", "deadline")


class WorkloadEstimator(BaseEstimator):
    """A scikit-learn estimator around our workload's Trainable; its hyperparameters are the config.

    ``fit(X, y)`` trains ``max_iter`` steps on ``X``, ``y`` in chunks of ``chunk_size`` rows;
    ``score(X, y)`` is the workload's validation metric on ``X``, ``y``.
    """

    def __init__(
        self,
        workload: Workload | None = None,
        max_iter: int = 1,
        seed: int = 0,
        chunk_size: int = 1,
        classes: Any = None,
        deadline: float | None = None,
        **config: Any,
    ) -> None:
        self.workload, self.max_iter, self.seed, self.chunk_size = workload, max_iter, seed, chunk_size
        self.classes, self.deadline = classes, deadline
        self.config = config

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in FIXED}, **self.config}

    def set_params(self, **params: Any) -> WorkloadEstimator:
        for key, value in params.items():
            if key in FIXED:
                setattr(self, key, value)
            else:
                self.config[key] = value
        return self

    def dataset(self, X: Any, y: Any, X_val: Any, y_val: Any) -> Dataset:
        return Dataset(X, y, X_val, y_val, X_val, y_val, chunk_size=self.chunk_size, classes=self.classes)

    def fit(self, X: Any, y: Any) -> WorkloadEstimator:
        assert self.workload is not None
        trainable = self.workload.build(dict(self.config), self.dataset(X, y, X[:1], y[:1]), self.seed)
        while trainable.steps < self.max_iter and (self.deadline is None or time.time() < self.deadline):
            trainable.train(1)
        self.steps_, self.state_ = trainable.steps, trainable.save()
        return self

    def score(self, X: Any, y: Any) -> float:
        assert self.workload is not None
        if self.steps_ == 0:
            return float("nan")
        trainable = self.workload.build(dict(self.config), self.dataset(X, y, X, y), self.seed)
        trainable.restore(self.state_)
        return float(trainable.score())


def stamped_score(estimator: WorkloadEstimator, X: Any, y: Any) -> dict[str, float]:
    """The scorer: the score, the steps trained, when and in which process it was observed."""
    return {
        "score": estimator.score(X, y),
        "steps": float(estimator.steps_),
        "observed_at": time.time(),
        "pid": float(os.getpid()),
    }


def search_arrays(data: Dataset) -> tuple[np.ndarray, np.ndarray, Any]:
    """Training rows then validation rows, and the ``PredefinedSplit`` that trains on the first and scores on the second."""
    from sklearn.model_selection import PredefinedSplit

    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    fold = np.concatenate([np.full(len(data.X_train), -1), np.zeros(len(data.X_val), dtype=int)])
    return X, y, PredefinedSplit(fold)


def journal_candidates(log: PeerLog, cv: dict[str, Any], max_iter: int) -> None:
    """One trial per candidate and one result per scored candidate, in the order the scores were observed."""
    n = len(cv["params"])
    order = sorted(range(n), key=lambda i: (np.nan_to_num(cv["split0_test_observed_at"][i], nan=np.inf), i))
    for i in order:
        log.trial(i, {k: to_python(v) for k, v in cv["params"][i].items()})
        steps, score = cv["split0_test_steps"][i], cv["split0_test_score"][i]
        if not np.isfinite(steps):
            log.fail(i, "fit or score raised; RandomizedSearchCV kept error_score=nan")
        elif steps == 0:
            log.journal.log("status", trial_id=i, status="stopped", error=None)
        else:
            log.result(
                i,
                int(steps),
                float(score),
                int(steps),
                decision="complete" if steps >= max_iter else "stop",
                worker=f"pid:{int(cv['split0_test_pid'][i])}",
                compute_s=float(cv["mean_fit_time"][i]),
                score_s=float(cv["mean_score_time"][i]),
                elapsed_s=log.since_begin(float(cv["split0_test_observed_at"][i])),
            )


class SklearnRandomSearchSpark(Peer):
    """``RandomizedSearchCV(n_iter, random_state=seed, cv=PredefinedSplit)`` under joblib's ``spark`` backend."""

    name = "sklearn-random-spark"
    family = "sklearn"
    scheduler_label = "RandomizedSearchCV (joblibspark)"
    algorithm = "random"
    shared = {"n_trials": "n_trials"}
    received = {"n_trials": "n_iter"}
    params: ClassVar[dict[str, Int]] = {
        "n_trials": Int(
            low=1,
            optional=True,
            note=f"candidates (n_iter); null: the cell's, else {DEFAULT_EVALS}; at most total_steps // max_iter",
        ),
    }

    def __init__(self, n_trials: int | None = None) -> None:
        self.n_trials: int | None = check(self, "n_trials", n_trials)

    def n_iter(self, task: PeerTask) -> int:
        return min(max_evals(task.n_trials or self.n_trials, task.total_steps, task.max_iter, task.wall_time_s), 100_000)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": max_evals(settings["n_trials"], total_steps, max_iter, None)}

    def check(self, task: PeerTask) -> None:
        from tunebench.compare.peers.spark import require_spark

        require_spark()
        scipy_space(task)
        if task.total_steps is not None and task.total_steps < task.max_iter:
            raise PeerUnsupported(
                f"total_steps={task.total_steps} < max_iter={task.max_iter}: every candidate trains to max_iter, "
                "so the budget pays for none"
            )

    def versions(self) -> dict[str, str]:
        import joblibspark
        import sklearn

        from tunebench.compare.peers.spark import spark_versions

        return {"scikit-learn": sklearn.__version__, "joblibspark": getattr(joblibspark, "__version__", "?"), **spark_versions()}

    def run(self, task: PeerTask, out_dir: str | Path) -> dict[str, Any]:
        from tunebench.compare.peers.spark import start_spark

        self.check(task)
        with PeerLog(out_dir, task, self) as log:
            spark = start_spark(task.n_workers)
            try:
                slots = spark.n_slots
                search = self.search(task)
                log.begin(executor=f"spark:{spark.master}", config={"n_iter": search.n_iter, "n_jobs": task.n_workers})
                self.fit(search, task)
            finally:
                spark.close()
            journal_candidates(log, search.cv_results_, task.max_iter)
            return log.finish(test_score=log.retrained_test_score(), notes=self.notes(), n_iter=search.n_iter, spark_slots=slots)

    def search(self, task: PeerTask) -> Any:
        from sklearn.model_selection import RandomizedSearchCV

        deadline = None if task.wall_time_s is None else time.time() + task.wall_time_s
        estimator = WorkloadEstimator(task.workload, task.max_iter, task.seed, task.data.chunk_size, task.data.classes, deadline)
        return RandomizedSearchCV(
            estimator,
            scipy_space(task),
            n_iter=self.n_iter(task),
            scoring=stamped_score,
            refit=False,
            cv=search_arrays(task.data)[2],
            random_state=task.seed,
            n_jobs=task.n_workers,
            error_score=np.nan,
        )

    def fit(self, search: Any, task: PeerTask) -> None:
        """``search.fit`` with each candidate a Spark task."""
        import warnings

        from joblib import parallel_backend
        from joblibspark import register_spark

        register_spark()
        X, y, _ = search_arrays(task.data)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Spark local mode doesn't support stage-level scheduling")
            with parallel_backend("spark", n_jobs=task.n_workers):
                search.fit(X, y)

    def notes(self) -> str:
        return (
            "every candidate trains to max_iter and is scored once, at the end; candidates drawn by ParameterSampler "
            "(random_state=seed) are reproducible; joblibspark runs each fit as one Spark task and ships X, y with it"
        )
