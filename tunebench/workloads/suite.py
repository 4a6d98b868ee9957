"""The recorded suite: the shipped recordings, named once, that a comparison runs across.

A claim about schedulers needs many tasks. :data:`SUITE` names every recording shipped in
``tunebench/recordings/`` (``tunebench/recordings/README.md`` says how each was made): linear,
MLP and gradient-boosted models on bundled tabular sets, and the denoising autoencoder.
:func:`suite` gives each as a :class:`SuiteTask`, read from the recording's metadata alone, with
the ``workload`` and ``executor`` sections that replay it on the ``simulated`` executor; a
scheduler's ``max_iter`` may be at most the task's (:func:`common_max_iter` for one value
across tasks).

>>> tasks = suite()
>>> len(tasks) >= 12 and tasks[0].sections()["executor"] == {"name": "simulated", "curves": tasks[0].name}
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tunebench.workloads.curves import RECORDINGS, CurvesError, read_meta

SUITE = (
    "autoencoder-mnist",
    "hgb-breast_cancer",
    "hgb-digits",
    "hgb-synthetic",
    "hgb-wine",
    "mlp-breast_cancer",
    "mlp-digits",
    "mlp-synthetic",
    "mlp-synthetic-1024",
    "mlp-wine",
    "sgd-breast_cancer",
    "sgd-circles",
    "sgd-digits",
    "sgd-synthetic",
    "sgd-wine",
)


@dataclass(frozen=True)
class SuiteTask:
    """One recorded task: its recording's name, the workload section it was recorded with, its
    metric and mode, and how many configs it holds to how many steps."""

    name: str
    workload: dict[str, Any] = field(hash=False)
    metric: str
    mode: str
    n_configs: int
    max_iter: int

    def sections(self, **executor: Any) -> dict[str, dict[str, Any]]:
        """The ``workload`` and ``executor`` sections of an experiment that replays this task;
        ``executor`` adds the simulated executor's keys (``n_workers``, ``queue``, ...)."""
        return {"workload": dict(self.workload), "executor": {"name": "simulated", "curves": self.name, **executor}}


def suite_task(name: str) -> SuiteTask:
    """The task of the shipped recording ``name``."""
    path = RECORDINGS / f"{name}.parquet"
    if not path.is_file():
        raise CurvesError(
            f"suite task {name!r} is not shipped; shipped: {', '.join(p.stem for p in sorted(RECORDINGS.glob('*.parquet')))}"
        )
    meta = read_meta(path)
    workload = dict(meta.get("workload_config") or {"name": meta["workload"]})
    return SuiteTask(name, workload, str(meta["metric"]), str(meta["mode"]), int(meta["n_configs"]), int(meta["max_iter"]))


def suite(names: Sequence[str] = SUITE) -> list[SuiteTask]:
    """The tasks named (by default the whole suite), in that order."""
    return [suite_task(name) for name in names]


def common_max_iter(tasks: Sequence[SuiteTask]) -> int:
    """The largest ``max_iter`` a scheduler may take on every one of ``tasks``."""
    return min(task.max_iter for task in tasks)


__all__ = ["SUITE", "SuiteTask", "common_max_iter", "suite", "suite_task"]
