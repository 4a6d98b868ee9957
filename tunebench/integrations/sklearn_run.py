"""The :class:`~tunebench.config.Experiment` of one scikit-learn front-end search, around plugins
that are already built (run by :func:`tunebench.run.run` with those instances)."""

from __future__ import annotations

from typing import Any

from tunebench.config import Experiment
from tunebench.loop import Budget


def experiment_for(
    workload: Any, scheduler: Any, executor: Any, *, seed: int = 0, name: str = "search", budget: Budget | None = None
) -> Experiment:
    """An experiment whose plugins are the given instances (pass them to ``run`` too)."""
    return Experiment(
        name=name,
        seed=int(seed),
        workload_cls=type(workload),
        workload_params={},
        scheduler_cls=type(scheduler),
        scheduler_params={},
        executor_cls=type(executor),
        executor_params={},
        budget=budget or Budget(),
    )


__all__ = ["experiment_for"]
