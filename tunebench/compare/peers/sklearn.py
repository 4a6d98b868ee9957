"""scikit-learn's ``RandomizedSearchCV`` (the passive baseline) and ``HalvingRandomSearchCV`` as peers.

Both searches call ``fit`` on a clone per config, so the workload's estimator goes in a
:class:`PartialFitCalls` around it: ``fit(X, y)`` makes ``n_calls`` ``partial_fit`` calls on
``chunk_size``-row chunks of ``X`` in order, cycling, exactly the steps our Trainable takes, so
"calls" mean the same for every contender. ``RandomizedSearchCV`` trains every config for
``max_iter`` calls; ``HalvingRandomSearchCV`` uses ``n_calls`` as its resource
(``min_resources=1``, ``max_resources=max_iter``, ``factor=eta``, ``n_candidates="exhaust"``)
and, as scikit-learn does, refits each surviving config from scratch at every iteration, so a
config scored at 9 calls after 3 cost 3 + 9 calls.

Same rows: ``cv=PredefinedSplit`` over our training rows followed by our validation rows, so
each config trains on exactly our training split and is scored (the workload's scorer) on
exactly our validation split; ``refit=False`` (a refit would train on both). ``n_jobs`` is the
worker count (joblib's process pool, started before the clock).

Records. scikit-learn scores a config once per fit, so each fit is one results row: step =
``n_calls``, ``n_steps`` = the calls that fit made, the fit and score times from
``cv_results_``, and the time it was observed (the scorer notes when and in which process it
ran). The test score is the best trial's (our rule) config trained again as in the search.

Budgets. A step budget sets ``RandomizedSearchCV``'s ``n_iter`` to the configs it pays for
(``total_steps // max_iter``); by default it gets the calls a whole Hyperband run makes. The
halving search's calls are fixed by its schedule (:func:`halving_calls`): a step budget it would
exceed is :class:`~tunebench.compare.peer.PeerUnsupported`, one it keeps to is accepted. Neither
search can stop on wall time.
"""

from __future__ import annotations

import abc
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from math import ceil, floor, log
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone

from tunebench.checks import Int, check
from tunebench.compare.peer import Peer, PeerTask, PeerUnsupported
from tunebench.compare.peers.base import PeerLog
from tunebench.compare.peers.dask_ml import hyperband_calls
from tunebench.compare.peers.estimators import EstimatorParts, estimator_parts, scipy_space, warm

PREFIX = "estimator__"


class PartialFitCalls(BaseEstimator):
    """``fit`` as ``n_calls`` ``partial_fit`` calls on consecutive ``chunk_size``-row chunks, cycling.

    >>> from sklearn.linear_model import SGDClassifier
    >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0, 1] * 5)
    >>> m = PartialFitCalls(SGDClassifier(random_state=0), n_calls=3, chunk_size=4, fit_params={"classes": [0, 1]}).fit(X, y)
    >>> m.chunks_
    [(0, 4), (4, 8), (8, 10)]
    """

    def __init__(self, estimator: Any, n_calls: int = 1, chunk_size: int = 1, fit_params: dict[str, Any] | None = None) -> None:
        self.estimator = estimator
        self.n_calls = n_calls
        self.chunk_size = chunk_size
        self.fit_params = fit_params

    def fit(self, X: Any, y: Any) -> PartialFitCalls:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        self.estimator_ = clone(self.estimator)
        n_chunks = -(-len(X) // self.chunk_size)
        self.chunks_ = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for step in range(int(self.n_calls)):
                lo = (step % n_chunks) * self.chunk_size
                hi = min(lo + self.chunk_size, len(X))
                self.estimator_.partial_fit(X[lo:hi], y[lo:hi], **(self.fit_params or {}))
                self.chunks_.append((lo, hi))
        return self


class TimedScorer:
    """The workload's scorer on the inner estimator, appending when, where, what and the score to ``path``."""

    def __init__(self, scorer: Callable[[Any, Any, Any], float], path: str, keys: list[str]) -> None:
        self.scorer, self.path, self.keys = scorer, path, keys

    def __call__(self, model: PartialFitCalls, X: Any, y: Any) -> float:
        score = float(self.scorer(model.estimator_, X, y))
        params = model.get_params()
        line = json.dumps(
            {
                "wall": time.time(),
                "pid": os.getpid(),
                "n_calls": int(model.n_calls),
                "score": score,
                "key": params_key({k: params[PREFIX + k] for k in self.keys}),
            }
        )
        with open(self.path, "a") as f:
            f.write(line + "\n")
        return score


def params_key(params: dict[str, Any]) -> str:
    """A config as a string to match a scorer's note to ``cv_results_`` (numbers as they were drawn)."""
    return json.dumps({k: v.item() if isinstance(v, np.generic) else v for k, v in sorted(params.items())}, default=str)


def arrays(task: PeerTask) -> tuple[np.ndarray, np.ndarray, Any]:
    """Our training rows then our validation rows, and the ``PredefinedSplit`` that keeps them apart."""
    from sklearn.model_selection import PredefinedSplit

    d = task.data
    fold = np.r_[np.full(len(d.X_train), -1), np.zeros(len(d.X_val), dtype=int)]
    return np.concatenate([d.X_train, d.X_val]), np.concatenate([d.y_train, d.y_val]), PredefinedSplit(fold)


def stop_workers() -> None:
    """Shut joblib's worker processes down: they were started for this search (joblib would keep them idle)."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


class SklearnPeer(Peer):
    """A scikit-learn search over :class:`PartialFitCalls`; subclasses build it."""

    family: ClassVar[str] = "sklearn"

    @abc.abstractmethod
    def make_search(self, task: PeerTask, model: PartialFitCalls, space: dict[str, Any], cv: Any, scorer: TimedScorer) -> Any:
        raise NotImplementedError

    def check(self, task: PeerTask) -> None:
        estimator_parts(task, self.name)
        scipy_space(task)
        if task.wall_time_s is not None:
            raise PeerUnsupported(
                f"{self.name}: scikit-learn's searches cannot stop on wall time (budget wall_time_s={task.wall_time_s})"
            )

    def versions(self) -> dict[str, str]:
        import joblib
        import sklearn

        return {"scikit-learn": sklearn.__version__, "joblib": joblib.__version__}

    def run(self, task: PeerTask, out_dir: str | Path) -> dict[str, Any]:
        from joblib import Parallel, delayed

        self.check(task)
        parts = estimator_parts(task, self.name)
        notes_dir = tempfile.mkdtemp(prefix="sklearn-scores-")
        with PeerLog(out_dir, task, self) as log:
            try:
                Parallel(n_jobs=task.n_workers)(delayed(warm)(type(parts.estimator).__module__) for _ in range(task.n_workers))
                model = PartialFitCalls(
                    parts.estimator, n_calls=task.max_iter, chunk_size=task.data.chunk_size, fit_params=parts.fit_params
                )
                space = {PREFIX + k: v for k, v in scipy_space(task).items()}
                scorer = TimedScorer(parts.scorer, str(Path(notes_dir) / "scores.jsonl"), list(task.space))
                X, y, cv = arrays(task)
                search = self.make_search(task, model, space, cv, scorer)
                log.begin(executor=f"joblib:{task.n_workers}", config={"search": type(search).__name__, **self.described(search)})
                search.fit(X, y)
                fit_s = log.elapsed()
                self.journal(log, task, search, Path(scorer.path))
            finally:
                shutil.rmtree(notes_dir, ignore_errors=True)
                stop_workers()
            test = self.test_score(log, task, parts)
            return log.finish(test_score=test, notes=self.notes(), fit_s=fit_s)

    def described(self, search: Any) -> dict[str, Any]:
        return {}

    def journal(self, log: PeerLog, task: PeerTask, search: Any, notes: Path) -> None:
        """One results row per fit, in the order they were scored; trial ids in candidate order."""
        cv = search.cv_results_
        keys = [params_key({k[len(PREFIX) :]: v for k, v in p.items() if k.startswith(PREFIX)}) for p in cv["params"]]
        calls = [int(r) for r in cv.get("n_resources", [task.max_iter] * len(keys))]
        rows = {(key, c): i for i, (key, c) in enumerate(zip(keys, calls))}
        ids = {key: tid for tid, key in enumerate(dict.fromkeys(keys))}
        last = {key: max(c for k, c in rows if k == key) for key in ids}
        lines = sorted((json.loads(x) for x in notes.read_text().splitlines()), key=lambda e: e["wall"])
        announced: set[int] = set()
        for e in lines:
            key, n = e["key"], int(e["n_calls"])
            i, tid = rows[(key, n)], ids[key]
            if tid not in announced:
                log.trial(tid, json.loads(key))
                announced.add(tid)
            decision = "complete" if n >= task.max_iter else "continue" if n < last[key] else "stop"
            log.result(
                tid,
                n,
                float(cv["mean_test_score"][i]),
                n,
                decision=decision,
                worker=f"pid:{e['pid']}",
                compute_s=float(cv["mean_fit_time"][i]),
                score_s=float(cv["mean_score_time"][i]),
                elapsed_s=log.since_begin(e["wall"]),
            )

    def test_score(self, log: PeerLog, task: PeerTask, parts: EstimatorParts) -> float | None:
        """The best trial's (our rule) config, trained again as the search trained it, on the test split."""
        best = log.best()
        if best is None:
            return None
        config = json.loads(best["config"])
        model = PartialFitCalls(
            clone(parts.estimator).set_params(**config),
            n_calls=int(best["steps"]),
            chunk_size=task.data.chunk_size,
            fit_params=parts.fit_params,
        )
        model.fit(task.data.X_train, task.data.y_train)
        return float(parts.scorer(model.estimator_, task.data.X_test, task.data.y_test))

    def notes(self) -> str:
        return (
            "scores once per fit (at the end of it), not after every partial_fit call; configs drawn by ParameterSampler "
            "seeded by the cell seed are reproducible"
        )


def random_n_iter(n_trials: int | None, eta: int, max_iter: int, total_steps: int | None) -> int:
    """``RandomizedSearchCV``'s ``n_iter``: ``n_trials`` (at most what a step budget pays for), else
    the configs the step budget, else a whole Hyperband run's calls, pay for.

    >>> random_n_iter(None, 3, 81, None), random_n_iter(None, 3, 81, 810), random_n_iter(30, 3, 81, 810)
    (20, 10, 10)
    """
    if n_trials:
        return n_trials if total_steps is None else min(n_trials, total_steps // max_iter)
    if total_steps is not None:
        return total_steps // max_iter
    return max(1, round(hyperband_calls(max_iter, eta) / max_iter))


class SklearnRandomSearch(SklearnPeer):
    """``RandomizedSearchCV(n_iter, cv=PredefinedSplit, n_jobs=workers, refit=False)``, every config to ``max_iter`` calls."""

    name = "sklearn-random"
    scheduler_label = "RandomizedSearchCV"
    algorithm = "random"
    shared = {"n_trials": "n_trials"}
    received = {"n_trials": "n_iter"}
    params = {
        "n_trials": Int(
            1, optional=True, note="n_iter; null: the configs a step budget, else a whole Hyperband run's calls, pay for"
        ),
        "eta": Int(2, note="the eta of the Hyperband run whose calls set the default n_trials"),
    }

    def __init__(self, n_trials: int | None = None, eta: int = 3) -> None:
        self.n_trials: int | None = check(self, "n_trials", n_trials)
        self.eta: int = check(self, "eta", eta)

    def n_iter(self, task: PeerTask) -> int:
        return random_n_iter(task.n_trials or self.n_trials, self.eta, task.max_iter, task.total_steps)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": random_n_iter(settings["n_trials"], config["eta"], max_iter, total_steps)}

    def check(self, task: PeerTask) -> None:
        super().check(task)
        if task.total_steps is not None and task.total_steps < task.max_iter:
            raise PeerUnsupported(
                f"{self.name}: every config trains max_iter={task.max_iter} calls; total_steps={task.total_steps} pays for none"
            )

    def make_search(self, task: PeerTask, model: PartialFitCalls, space: dict[str, Any], cv: Any, scorer: TimedScorer) -> Any:
        from sklearn.model_selection import RandomizedSearchCV

        return RandomizedSearchCV(
            model,
            space,
            n_iter=self.n_iter(task),
            scoring=scorer,
            n_jobs=task.n_workers,
            cv=cv,
            refit=False,
            random_state=task.seed,
        )

    def described(self, search: Any) -> dict[str, Any]:
        return {"n_iter": search.n_iter}


def halving_calls(n_candidates: int, min_resources: int, max_resources: int, factor: int) -> int:
    """The ``partial_fit`` calls ``HalvingRandomSearchCV`` makes with ``resource="n_calls"``: its
    iterations, candidates and resources by scikit-learn's rules (no aggressive elimination), each
    candidate trained from scratch at each iteration.

    >>> halving_calls(81, 1, 81, 3), halving_calls(10, 1, 81, 3), halving_calls(81, 9, 81, 3)
    (405, 40, 2187)
    """
    required = 1 + floor(log(n_candidates, factor))
    possible = 1 + floor(log(max_resources // min_resources, factor))
    calls, n = 0, n_candidates
    for i in range(min(required, possible)):
        calls += n * min(int(factor**i * min_resources), max_resources)
        n = ceil(n / factor)
    return calls


class SklearnHalvingRandomSearch(SklearnPeer):
    """``HalvingRandomSearchCV(resource="n_calls", min_resources=min_iter, max_resources=max_iter, factor=eta)``."""

    name = "sklearn-halving"
    scheduler_label = "HalvingRandomSearchCV"
    algorithm = "successive_halving"
    shared = {"eta": "eta", "n_trials": "n_trials", "min_iter": "min_iter"}
    received = {"eta": "factor", "n_trials": "n_candidates", "min_iter": "min_resources"}
    params = {
        "eta": Int(2, note="scikit-learn's factor"),
        "n_trials": Int(1, optional=True, note="n_candidates; null: 'exhaust'"),
        "min_iter": Int(1, note="min_resources: calls every candidate gets first"),
    }

    def __init__(self, eta: int = 3, n_trials: int | None = None, min_iter: int = 1) -> None:
        self.eta: int = check(self, "eta", eta)
        self.n_trials: int | None = check(self, "n_trials", n_trials)
        self.min_iter: int = check(self, "min_iter", min_iter)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": settings["n_trials"] or max_iter // settings["min_iter"]}  # what 'exhaust' starts

    def check(self, task: PeerTask) -> None:
        super().check(task)
        if self.min_iter > task.max_iter:
            raise PeerUnsupported(f"{self.name}: min_iter={self.min_iter} is more than max_iter={task.max_iter}")
        calls = halving_calls(
            task.n_trials or self.n_trials or task.max_iter // self.min_iter, self.min_iter, task.max_iter, self.eta
        )
        if task.total_steps is not None and calls > task.total_steps:
            raise PeerUnsupported(
                f"{self.name}: HalvingRandomSearchCV's schedule makes {calls} calls; it cannot keep to total_steps={task.total_steps}"
            )

    def make_search(self, task: PeerTask, model: PartialFitCalls, space: dict[str, Any], cv: Any, scorer: TimedScorer) -> Any:
        from sklearn.experimental import enable_halving_search_cv  # noqa: F401
        from sklearn.model_selection import HalvingRandomSearchCV

        return HalvingRandomSearchCV(
            model,
            space,
            n_candidates=task.n_trials or self.n_trials or "exhaust",
            resource="n_calls",
            min_resources=self.min_iter,
            max_resources=task.max_iter,
            factor=self.eta,
            scoring=scorer,
            n_jobs=task.n_workers,
            cv=cv,
            refit=False,
            return_train_score=False,
            random_state=task.seed,
        )
