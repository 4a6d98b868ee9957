"""The peer interface: another system's search run on our task, writing our run-directory schema.

A peer is not an executor and not a scheduler: it brings its own (Dask-ML's
``HyperbandSearchCV``, Ray Tune's ``ASHAScheduler``, Optuna's pruners, ...). The comparison
hands every contender one :class:`PeerTask`: the workload's own data arrays (train /
validation / test split), the search space, the seed, the number of workers and the budget.
The peer translates the space into its library's form, runs its search on ``n_workers``
workers, and writes ``results.parquet``, ``trials.parquet`` and ``summary.json`` in the schema
of :mod:`tunebench.store` (one row per reported score, one row per trial), so one reader
serves ours and theirs. Its own overheads (start-up, scheduling, scoring) are inside the wall
time it reports.

Keyword arguments of ``__init__`` are a peer's config keys, validated there by the checks it
declares in ``params`` (:mod:`tunebench.checks`), whose error names the key, the value and
what is allowed.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tunebench.algorithm import AlgorithmSettings
from tunebench.checks import Check
from tunebench.space import Space
from tunebench.workloads.base import Dataset, Workload


class PeerUnsupported(Exception):
    """This peer cannot run this task (a workload, a space or a budget it has no form for)."""


@dataclass(frozen=True)
class PeerTask:
    """Everything a contender gets: the same for ours and for every peer in a comparison cell.

    ``max_iter`` is the most steps (``partial_fit`` calls) any one trial may get; ``total_steps``,
    ``wall_time_s`` and ``evaluations`` are the cell's budget (``None``: no limit; ``evaluations``
    reaches only a peer that :attr:`~Peer.counts_evaluations`); ``n_trials`` is the number of
    configurations a peer that takes one should try (``None``: the peer's own rule, or as many
    as the budget allows).
    """

    workload: Workload
    data: Dataset
    space: Space
    seed: int
    n_workers: int
    max_iter: int
    total_steps: int | None = None
    wall_time_s: float | None = None
    target_score: float | None = None
    n_trials: int | None = None
    evaluations: int | None = None

    @property
    def metric(self) -> str:
        return self.workload.metric

    @property
    def mode(self) -> str:
        return self.workload.mode


class Peer(AlgorithmSettings, abc.ABC):
    """Base class of peers; found by name in the ``tunebench.peers`` entry-point group."""

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, Check]] = {}
    family: ClassVar[str] = ""  # the library: dask-ml, ray-tune, optuna, sklearn, hyperopt, dehb, hpbandster, smac
    scheduler_label: ClassVar[str] = ""  # what it runs, e.g. "HyperbandSearchCV"
    # keeps to budget.evaluations: each of its evaluations is one config asked for at one budget, as our Jobs are
    counts_evaluations: ClassVar[bool] = False

    def check(self, task: PeerTask) -> None:
        """Raise :class:`PeerUnsupported` (saying why) if this peer cannot run ``task``."""

    @abc.abstractmethod
    def run(self, task: PeerTask, out_dir: Path) -> dict[str, Any]:
        """Run the search; write the three files under ``out_dir``; return the summary."""

    def versions(self) -> dict[str, str]:
        """Versions of the libraries this peer drives, for the report."""
        return {}
