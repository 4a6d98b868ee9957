"""The executor interface: run Jobs on workers, hand Results back as they finish.

An executor owns where the data and trial state live. It ships the dataset to each worker once,
keeps each trial's latest checkpoint (and any checkpoint a pending clone Job still needs),
and answers :meth:`wait` with whichever Jobs finished first. Executors know nothing of
schedulers.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from tunebench.checks import Check, Int, check
from tunebench.clock import Clock, WallClock
from tunebench.trial import Job, Result
from tunebench.workloads.base import Dataset, Workload


class ExecutorError(RuntimeError):
    """An executor could not start or reach its cluster; the message says what and where."""


class Executor(abc.ABC):
    """Base class of executors; keyword arguments of ``__init__`` are their config keys."""

    name: ClassVar[str] = ""
    needs_data: ClassVar[bool] = True  # False: runs without the workload's data (simulated)
    keeps: ClassVar[bool] = False  # True: keep / drop_kept hold snapshots (asynchronous PBT's donors)

    params: ClassVar[dict[str, Check]] = {"n_workers": Int(1)}

    def __init__(self, n_workers: int = 2) -> None:
        self.n_workers: int = check(self, "n_workers", n_workers)
        self._clock: Clock = WallClock()

    @property
    def clock(self) -> Clock:
        """The clock the loop reads: wall time here; the simulated executor's is virtual."""
        return self._clock

    def check(self, workload: Workload) -> None:
        """Raise ``ValueError`` if this executor cannot run ``workload`` (asked when the config loads)."""

    @abc.abstractmethod
    def start(self, workload: Workload, data: Dataset) -> None:
        """Start or connect to workers and place ``data`` on them once."""

    @abc.abstractmethod
    def submit(self, job: Job) -> None:
        """Queue a Job. Its trial's state is the checkpoint left by its last Job, or that of
        ``job.clone_from`` (which must be the donor's latest checkpoint when submitted)."""

    @abc.abstractmethod
    def wait(self) -> list[Result]:
        """Block until at least one Job finishes; return the Results of all finished Jobs. A
        Job whose training or scoring raised, or that ran past ``job.timeout_s``, comes back
        as a Result with ``error`` set and writes no checkpoint."""

    @abc.abstractmethod
    def release(self, trial_id: int) -> None:
        """Drop a trial's checkpoint: it will never run again."""

    def keep(self, trial_id: int, step: int) -> None:
        """Hold a snapshot of ``trial_id`` at ``step`` (its latest checkpoint, or one held
        already), so a clone Job may name ``clone_from=(trial_id, step)`` after the trial has
        trained on. The loop calls it only on an executor that :attr:`keeps`."""
        raise NotImplementedError(f"executor {self.name!r} keeps no snapshots")

    def drop_kept(self, trial_id: int, step: int) -> None:
        """Release a snapshot taken by :meth:`keep` (a no-op if none is held)."""

    def enable_retries(self) -> None:
        """Told by the loop, before the first Job, that a Job which failed may be sent again
        (``max_failures``): it must then start from the checkpoint the failed attempt started
        from. A Job's Result with ``error`` set writes no checkpoint on any executor; those that
        book their Jobs in a ledger (local and the cluster ones) hold that start checkpoint
        already and need not be told."""

    def candidates(self) -> list[dict[str, Any]] | None:
        """The finite set of configs this executor runs exactly, which a searcher should choose
        among (the simulated executor's recorded ones); ``None``: any config of the space."""
        return None

    @abc.abstractmethod
    def test_score(self, trial_id: int) -> float:
        """Score a trial's latest checkpoint on the test set."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop whatever this executor started. Safe to call twice."""

    @property
    def slots(self) -> int:
        """How many Jobs can compute at the same moment (for utilisation)."""
        return self.n_workers

    @property
    def capacity(self) -> int:
        """How many Jobs may be out at once (workers, plus any queue the executor orders)."""
        return self.n_workers

    @property
    @abc.abstractmethod
    def pending(self) -> int:
        """Jobs submitted and not yet returned by :meth:`wait`."""

    def stats(self) -> dict[str, Any]:
        """Executor facts for ``summary.json`` (cluster address, workers, restarts, ...)."""
        return {"name": self.name, "n_workers": self.n_workers}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
