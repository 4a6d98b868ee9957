"""``TuneSearchCV(refit=True)``: the best configuration trained afresh on all rows, for the
resource the best trial got.

Under ``resource="partial_fit"`` all rows are cut into as many chunks as the training split was
(so a chunk is about ``len(X) / n_train`` times larger) and the model gets the best trial's
number of ``partial_fit`` calls: the same number of steps, and so the same number of passes
over the data. Under ``resource="n_samples"`` the model is fit on the first
``ceil(len(X) * k / max_iter)`` rows of a fixed-seed permutation of all rows, ``k`` being the
best trial's step: the same fraction of the data as in the search. Per-row fit params (all
rows' values) are sliced with the same rows as ``X``, and a DataFrame ``X`` stays one, so the
model gets ``feature_names_in_``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tunebench.trial import Trial
from tunebench.workloads.estimator import EstimatorWorkload, as_array, n_rows


def all_rows_workload(
    search: EstimatorWorkload, n_chunks: int, X: Any, y: Any, seed: int, row_params: Mapping[str, Any] | None = None
) -> EstimatorWorkload:
    """The search's workload over all of ``X, y`` (and ``row_params``, one value per row of
    ``X``), cut into ``n_chunks`` chunks."""
    X = as_array(X)
    return EstimatorWorkload(
        search.estimator,
        X,
        y,
        X,
        y,
        scoring=search.scorer,
        resource=search.resource,
        max_iter=search.max_iter,
        chunk_size=-(-n_rows(X) // max(1, n_chunks)),
        fit_params=search.fit_params,
        row_params=row_params,
        space=search.space,
        seed=seed,
    )


def refit(
    search: EstimatorWorkload, n_chunks: int, X: Any, y: Any, best: Trial, seed: int, row_params: Mapping[str, Any] | None = None
) -> Any:
    """``best``'s configuration trained afresh on all of ``X, y`` for ``best.steps`` steps."""
    workload = all_rows_workload(search, n_chunks, X, y, seed, row_params)
    trainable = workload.build(best.config, workload.load(seed), best.seed)
    trainable.train(max(1, best.steps))
    return trainable.model


__all__ = ["all_rows_workload", "refit"]
