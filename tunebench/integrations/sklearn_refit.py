"""``TuneSearchCV(refit=True)``: the best configuration trained afresh on all rows, for the
resource the best trial got.

Under ``resource="partial_fit"`` all rows are cut into as many chunks as the training split was
(so a chunk is about ``len(X) / n_train`` times larger) and the model gets the best trial's
number of ``partial_fit`` calls: the same number of steps, and so the same number of passes
over the data. Under ``resource="n_samples"`` the model is fit on the first
``ceil(len(X) * k / max_iter)`` rows of a fixed-seed permutation of all rows, ``k`` being the
best trial's step: the same fraction of the data as in the search.
"""

from __future__ import annotations

from typing import Any

from tunebench.trial import Trial
from tunebench.workloads.estimator import EstimatorWorkload, n_rows


def all_rows_workload(search: EstimatorWorkload, n_chunks: int, X: Any, y: Any, seed: int) -> EstimatorWorkload:
    """The search's workload over all of ``X, y``, cut into ``n_chunks`` chunks."""
    return EstimatorWorkload(
        search.estimator, X, y, X, y, scoring=search.scorer, resource=search.resource, max_iter=search.max_iter,
        chunk_size=-(-n_rows(X) // max(1, n_chunks)), fit_params=search.fit_params, space=search.space, seed=seed,
    )


def refit(search: EstimatorWorkload, n_chunks: int, X: Any, y: Any, best: Trial, seed: int) -> Any:
    """``best``'s configuration trained afresh on all of ``X, y`` for ``best.steps`` steps."""
    workload = all_rows_workload(search, n_chunks, X, y, seed)
    trainable = workload.build(best.config, workload.load(seed), best.seed)
    trainable.train(max(1, best.steps))
    return trainable.model


__all__ = ["all_rows_workload", "refit"]
