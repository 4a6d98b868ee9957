"""A workload as the scikit-learn estimator, fit parameters and scorer that Dask-ML's and
scikit-learn's searches take.

Those searches clone an estimator, set each sampled config with ``set_params``, and train it
with ``partial_fit`` (or ``fit``) on arrays they hand it, so they can run a workload only if its
Trainable *is* such an estimator: the Trainable keeps it as ``model`` (the SGD workload and the
estimator workload with ``resource: partial_fit`` do), every searched parameter is one of its
``get_params()``, one step is one ``partial_fit(chunk, y_chunk, **fit_params)`` and the score is
its ``score`` (or the workload's ``scorer``). Anything else (the skorch autoencoder, which
builds its net from string hyperparameters and keeps a divergence flag beside it) is
:class:`~tunebench.compare.peer.PeerUnsupported`, with the reason.

>>> from tunebench.compare.peer import PeerTask
>>> from tunebench.workloads.sgd import SGDWorkload
>>> wl = SGDWorkload(dataset="circles", n_samples=600)
>>> task = PeerTask(workload=wl, data=wl.load(0), space=wl.default_space(), seed=0, n_workers=1, max_iter=3)
>>> parts = estimator_parts(task, "demo")
>>> type(parts.estimator).__name__, parts.estimator.get_params()["penalty"], sorted(parts.fit_params)
('SGDClassifier', 'elasticnet', ['classes'])
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunebench.compare.peer import PeerTask, PeerUnsupported


@dataclass(frozen=True)
class EstimatorParts:
    """What a scikit-learn-style search needs: an unfitted template, ``partial_fit`` keywords, a scorer."""

    estimator: Any
    fit_params: dict[str, Any]
    scorer: Callable[[Any, Any, Any], float]


def scipy_space(task: PeerTask) -> dict[str, Any]:
    """The task's space as scikit-learn / Dask-ML ``param_distributions``, or
    :class:`PeerUnsupported` naming the parameter they cannot hold."""
    from tunebench.convert import to_scipy

    try:
        return to_scipy(task.space)
    except ValueError as exc:
        raise PeerUnsupported(str(exc)) from None


def estimator_parts(task: PeerTask, who: str) -> EstimatorParts:
    """The workload's estimator for ``task``, or :class:`PeerUnsupported` saying why not (``who``: the peer)."""
    from sklearn.base import clone
    from sklearn.metrics import check_scoring

    workload = task.workload
    config = task.space.sample(np.random.default_rng(task.seed))
    trainable = workload.build(config, task.data, task.seed)
    model = getattr(trainable, "model", None)
    if model is None or not hasattr(model, "partial_fit") or not hasattr(model, "get_params"):
        raise PeerUnsupported(
            f"{who}: workload {workload.name!r} trains a {type(trainable).__name__}, not a scikit-learn estimator with "
            "partial_fit that the search could clone and set_params (the autoencoder builds its skorch net from string "
            "hyperparameters and tracks divergence beside it)"
        )
    if getattr(workload, "resource", "partial_fit") != "partial_fit":
        raise PeerUnsupported(
            f"{who}: workload {workload.name!r} uses resource {workload.resource!r}; this peer trains by partial_fit"
        )
    unknown = sorted(set(task.space) - set(model.get_params()))
    if unknown:
        raise PeerUnsupported(f"{who}: {unknown} are not parameters of {type(model).__name__}")
    fit_params = dict(getattr(workload, "fit_params", None) or {})
    if not fit_params and task.data.classes is not None:
        fit_params = {"classes": task.data.classes}
    scorer = getattr(workload, "scorer", None) or check_scoring(model)
    return EstimatorParts(clone(model), fit_params, scorer)


def warm(module: str) -> None:
    """Import ``module`` in a worker before the clock starts (as our executors warm theirs)."""
    importlib.import_module(module)
