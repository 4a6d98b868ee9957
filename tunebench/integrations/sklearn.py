"""``TuneSearchCV``: our schedulers behind scikit-learn's search-estimator interface.

Built on scikit-learn's ``BaseSearchCV``: ``cv_results_`` comes from its ``_format_results``,
the best candidate from its ``_select_best_index``, scorers and the multi-metric ``refit``
check from ``_get_scorers``, and ``predict`` / ``predict_proba`` / ``score`` / ``transform``
are its delegations to ``best_estimator_``. What differs is the search: instead of
cross-validating every candidate, ``fit`` splits off one validation set (``test_size``, or the
first split of ``cv``) and runs one of our schedulers through the loop of
:func:`tunebench.run.run` on any executor, with the estimator workload
(:mod:`tunebench.workloads.estimator`): one step is one ``partial_fit`` call on one chunk, or
with ``resource="n_samples"`` a refit on more rows.

As in scikit-learn, ``refit=True`` (or a metric name, or a callable) trains the best
configuration afresh on all rows, for the resource the best trial got
(:mod:`tunebench.integrations.sklearn_refit`), and ``refit=False`` leaves no
``best_estimator_``. ``refit="best_trial"`` keeps, as Dask-ML's incremental searches do, the
best trial's model as trained on the training split, rebuilt in this process from the trial's
config and seed (which reproduces it exactly). With several metrics the search ranks by the
``refit`` metric; the others are scored on trial models rebuilt the same way.
"""

from __future__ import annotations

import inspect
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import is_classifier
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection import check_cv, train_test_split
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils.validation import indexable

from tunebench.integrations.sklearn_plugins import make_executor, make_scheduler
from tunebench.integrations.sklearn_progress import TrialProgress
from tunebench.integrations.sklearn_refit import refit as refit_on_all
from tunebench.integrations.sklearn_run import experiment_for
from tunebench.integrations.sklearn_space import to_space
from tunebench.run import run
from tunebench.workloads.estimator import EstimatorWorkload, n_rows, split_fit_params, take

BEST_TRIAL = "best_trial"


def as_rows(X: Any) -> Any:
    """A sparse matrix as it is, a DataFrame as its array, anything else as an array."""
    if sparse.issparse(X):
        return X.tocsr()
    return X.to_numpy() if hasattr(X, "iloc") else np.asarray(X)


class TuneSearchCV(BaseSearchCV):
    """Search ``param_distributions`` for ``estimator`` with one of our schedulers.

    ``scheduler`` and ``executor`` are registered names; their keys go in
    ``scheduler_params`` / ``executor_params`` (``max_iter``, ``random_state`` and the mode are
    filled in; a scheduler that would never end without ``n_trials``, ASHA, gets Hyperband's
    number of trials at the same ``max_iter`` and ``eta``). ``test_size`` (default 0.15) is the
    validation fraction, unless ``cv`` (an int or splitter) is given, whose first split is used.
    ``chunk_size`` rows per ``partial_fit`` (default: the whole training split). ``refit``:
    ``True`` (or the metric name with several metrics, or a callable) trains the best config
    afresh on all rows for the best trial's steps; ``"best_trial"`` keeps the best trial's
    model as trained on the training split; ``False`` keeps no model. ``verbose``: 0 silent,
    1 a progress bar of finished trials on stderr, 2 also a line per finished trial.
    ``run_dir`` keeps the run directory (journal, tables, summary); by default it is
    temporary. ``n_iter_`` is the most steps any trial got.
    """

    # BaseSearchCV reads these; the search is not joblib-parallel and scores one split
    n_jobs = None
    pre_dispatch = None
    return_train_score = False

    def __init__(
        self,
        estimator: Any,
        param_distributions: Any,
        *,
        scheduler: str = "hyperband",
        executor: str = "local",
        max_iter: int = 81,
        resource: str = "partial_fit",
        scoring: Any = None,
        refit: Any = True,
        test_size: float | None = None,
        cv: Any = None,
        random_state: int | None = None,
        chunk_size: int | None = None,
        scheduler_params: Mapping[str, Any] | None = None,
        executor_params: Mapping[str, Any] | None = None,
        run_dir: str | None = None,
        verbose: int = 0,
        error_score: Any = np.nan,
    ) -> None:
        self.estimator, self.scoring, self.refit, self.cv = estimator, scoring, refit, cv
        self.verbose, self.error_score = verbose, error_score
        self.param_distributions = param_distributions
        self.scheduler, self.executor, self.max_iter, self.resource = scheduler, executor, max_iter, resource
        self.test_size, self.random_state, self.chunk_size = test_size, random_state, chunk_size
        self.scheduler_params, self.executor_params, self.run_dir = scheduler_params, executor_params, run_dir

    # -- what fit builds ---------------------------------------------------------------------

    def _seed(self) -> int:
        rs = self.random_state
        if rs is None:
            return 0
        if isinstance(rs, (int, np.integer)) and not isinstance(rs, bool) and rs >= 0:
            return int(rs)
        raise ValueError(f"random_state must be a non-negative integer or None, got {rs!r}")

    def _split(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """The training and validation rows: ``cv``'s first split, or a ``test_size`` split."""
        if self.cv is not None and self.test_size is not None:
            raise ValueError("give test_size or cv, not both")
        if self.cv is not None:
            train, val = next(iter(check_cv(self.cv, y, classifier=is_classifier(self.estimator)).split(X, y)))
            return np.asarray(train), np.asarray(val)
        test_size = 0.15 if self.test_size is None else self.test_size
        if not isinstance(test_size, (int, float)) or isinstance(test_size, bool) or not 0 < test_size < 1:
            raise ValueError(f"test_size must be a number in (0, 1), got {test_size!r}")
        train, val = train_test_split(np.arange(n_rows(X)), test_size=test_size, random_state=self._seed())
        return train, val

    def _make_scheduler(self, space: Any) -> Any:
        return make_scheduler(self.scheduler, space, self.scheduler_params, max_iter=self.max_iter, seed=self._seed())

    def _make_executor(self) -> Any:
        return make_executor(self.executor, self.executor_params)

    def _verbosity(self) -> int:
        v = self.verbose
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"verbose must be an integer >= 0 (0 silent, 1 a progress bar, 2 also a line per trial), got {v!r}")
        return int(v)

    def _check_refit(self) -> None:
        if self.refit == BEST_TRIAL and not (self.scoring is None or isinstance(self.scoring, str) or callable(self.scoring)):
            raise ValueError(
                f"refit={BEST_TRIAL!r} needs a single metric; with several, set refit to the metric to rank "
                "and refit by, a callable, or False"
            )

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The scheduler's plan before fitting (``n_models``, ``partial_fit_calls``), as Dask-ML's."""
        return self._make_scheduler(to_space(self.param_distributions)).metadata()

    # -- fit ------------------------------------------------------------------------------

    def _run_search(self, evaluate_candidates: Any, **kwargs: Any) -> None:
        raise NotImplementedError("TuneSearchCV runs its search through tunebench.run, not evaluate_candidates")

    def _probe(self, workload: EstimatorWorkload, space: Any) -> None:
        """One step of one config, here: data the estimator refuses raises its own error, as
        in scikit-learn's searches, instead of every trial of the search failing with it."""
        config = space.sample(np.random.default_rng(self._seed()))
        workload.build(config, workload.load(self._seed()), self._seed()).train(1)

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> TuneSearchCV:
        """Run the search on a validation split of ``X, y``. As in scikit-learn's searches, a
        fit param with a value per row of ``X`` (e.g. ``sample_weight``) is sliced with the rows
        of every ``partial_fit`` (or ``fit``) call; any other (e.g. ``classes``) goes whole."""
        X_given, y = indexable(X, y)
        X, y = as_rows(X_given), None if y is None else np.asarray(y)
        self.__dict__.pop("feature_names_in_", None)
        fit_params, row_params = split_fit_params(fit_params, n_rows(X))
        verbose = self._verbosity()
        self._check_refit()
        scorers, refit_metric = self._get_scorers()
        multimetric = isinstance(scorers, _MultimetricScorer)
        primary = (
            scorers._scorers[refit_metric if isinstance(self.refit, str) else next(iter(scorers._scorers))]
            if multimetric
            else scorers
        )
        space = to_space(self.param_distributions)
        scheduler = self._make_scheduler(space)
        executor = self._make_executor()
        self.metadata_planned_ = scheduler.metadata()
        train, val = self._split(X, y)
        X_train, X_val = take(X, train), take(X, val)
        y_train, y_val = (None, None) if y is None else (y[train], y[val])
        fit_params = self._with_classes(fit_params, y)
        workload = EstimatorWorkload(
            self.estimator,
            X_train,
            y_train,
            X_val,
            y_val,
            scoring=primary,
            resource=self.resource,
            max_iter=self.max_iter if self.resource == "n_samples" else None,
            chunk_size=self.chunk_size,
            fit_params=fit_params,
            row_params={name: take(value, train) for name, value in row_params.items()},
            space=space,
            seed=self._seed(),
        )
        self._probe(workload, space)
        t0 = time.monotonic()
        progress = [TrialProgress(self._planned_trials(scheduler), verbose)] if verbose else []
        try:
            with tempfile.TemporaryDirectory(prefix="tunesearchcv-") as tmp:
                out_dir = Path(self.run_dir) if self.run_dir is not None else Path(tmp) / "run"
                out = run(
                    experiment_for(workload, scheduler, executor, seed=self._seed(), name="tunesearchcv"),
                    out_dir,
                    progress=False,
                    workload=workload,
                    scheduler=scheduler,
                    executor=executor,
                    sinks=progress,
                )
        finally:
            for sink in progress:
                sink.close()
        self.search_time_ = time.monotonic() - t0
        self._record(out, scheduler)
        data = workload.load(self._seed())
        trials = [scheduler.trials[tid] for tid in sorted(scheduler.trials)]
        rebuilt: dict[int, Any] = {}

        def model_of(i: int) -> Any:
            if i not in rebuilt:
                t = trials[i]
                trainable = workload.build(t.config, data, t.seed)
                if t.steps:
                    trainable.train(t.steps)
                rebuilt[i] = trainable.model
            return rebuilt[i]

        scores = self._scores(trials, out, scorers if multimetric else None, model_of, X_val, y_val)
        results = self._format_results([dict(t.config) for t in trials], 1, scores, self._more_results(trials, out))
        self.multimetric_ = multimetric
        if self.refit or not multimetric:
            self.best_index_ = int(self._select_best_index(self.refit, refit_metric, results))
            if not callable(self.refit):
                self.best_score_ = float(results[f"mean_test_{refit_metric}"][self.best_index_])
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            t1 = time.monotonic()
            if self.refit == BEST_TRIAL:
                self.best_estimator_ = model_of(self.best_index_)
            else:
                self.best_estimator_ = refit_on_all(
                    workload, data.n_chunks, X_given, y, trials[self.best_index_], self._seed(), row_params=row_params
                )
            self.refit_time_ = time.monotonic() - t1
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = scorers._scorers if multimetric else scorers
        self.cv_results_ = results
        self.n_splits_ = 1
        self.n_iter_ = max((t.steps for t in trials), default=0)
        return self

    @staticmethod
    def _planned_trials(scheduler: Any) -> int | None:
        """How many trials the scheduler will start, if it says."""
        planned = (scheduler.metadata() or {}).get("n_models") or getattr(scheduler, "n_trials", None)
        return int(planned) if isinstance(planned, (int, np.integer)) else None

    def _with_classes(self, fit_params: dict[str, Any], y: Any) -> dict[str, Any]:
        """A classifier's ``partial_fit`` needs every class on its first call: give it all of
        ``y``'s unless ``classes`` is passed."""
        if self.resource != "partial_fit" or "classes" in fit_params or y is None or not is_classifier(self.estimator):
            return fit_params
        method = getattr(self.estimator, "partial_fit", None)
        if method is None or "classes" not in inspect.signature(method).parameters:
            return fit_params
        return {**fit_params, "classes": np.unique(y)}

    def _scores(self, trials: list[Any], out: Any, multi: Any, model_of: Any, X_val: Any, y_val: Any) -> list[dict[str, Any]]:
        """One ``out`` entry per trial in ``_format_results``' shape: its last validation
        score(s) and its summed fit and score times."""
        res = out.results
        entries = []
        for i, t in enumerate(trials):
            rows = res[res["trial_id"] == t.trial_id]
            last = float(t.last_score) if t.last_score is not None else float("nan")
            if not np.isfinite(last) and self.error_score == "raise":
                raise ValueError(f"trial {t.trial_id} with {t.config} scored {last}")
            if multi is not None:
                test = (
                    {k: float(v) for k, v in multi(model_of(i), X_val, y_val).items()}
                    if np.isfinite(last)
                    else {k: float(self.error_score) for k in multi._scorers}
                )
            else:
                test = last if np.isfinite(last) else float(self.error_score)
            entries.append(
                {
                    "test_scores": test,
                    "fit_time": float(rows["compute_s"].sum()),
                    "score_time": float(rows["score_s"].sum()),
                    "n_test_samples": len(y_val),
                    "fit_error": None,
                }
            )
        return entries

    @staticmethod
    def _more_results(trials: list[Any], out: Any) -> dict[str, list[Any]]:
        return {
            "model_id": [t.trial_id for t in trials],
            "partial_fit_calls": [t.steps for t in trials],
            "status": [t.status.value for t in trials],
            "bracket": [t.tags.get("bracket", -1) for t in trials],
        }

    def _record(self, out: Any, scheduler: Any) -> None:
        """Dask-ML's ``history_`` (one dict per result), ``model_history_`` and ``metadata_``."""
        history = []
        for r in out.results.sort_values(["elapsed_s", "trial_id", "step"]).itertuples():
            trial = scheduler.trials[int(r.trial_id)]
            history.append(
                {
                    "model_id": int(r.trial_id),
                    "params": dict(trial.config),
                    "partial_fit_calls": int(r.step),
                    "score": float(r.score),
                    "elapsed_wall_time": float(r.elapsed_s),
                    "decision": str(r.decision),
                }
            )
        self.history_ = history
        self.model_history_ = {tid: [h for h in history if h["model_id"] == tid] for tid in sorted(scheduler.trials)}
        self.metadata_ = {
            "n_models": len(scheduler.trials),
            "partial_fit_calls": int(out.results["n_steps"].sum()),
            "brackets": (self.metadata_planned_ or {}).get("brackets"),
        }
        self.run_summary_ = out.summary


__all__ = ["TuneSearchCV"]
