"""Where a study's cells run, behind one interface: submit a cell with the CPUs it reserves,
take outcomes as they finish.

- :class:`Serial`: one after another in this process (the default), our local Dask cells sharing
  a cluster per setting (:mod:`tunebench.compare.clusters`);
- :class:`LocalProcesses`: ``--jobs N`` cells at once, each in a process of a spawn pool;
- :class:`~tunebench.compare.on_ray.RayCells`: ``--cluster ray://HOST:PORT`` or ``HOST:PORT``,
  each cell a Ray task holding its CPUs;
- :class:`~tunebench.compare.on_dask.DaskCells`: ``--cluster tcp://HOST:PORT``, each cell a
  Dask future (holding a ``CPU`` resource when the workers declare one).

A cell is the same :func:`~tunebench.compare.runner.run_cell` wherever it runs, so a study's
tables do not depend on its placement; only the driver writes ``matrix.json``. A cell whose
process dies is sent again (``retries`` times) and resumes from its journal. :meth:`Placement.stop`
(Ctrl-C) interrupts the cells out, which write their tables so far and resume next time.

What a cell reserves (:func:`reserves`): a cell on a virtual-clock executor (``simulated``) or
the serial ``local`` one, 1 CPU; any other cell of ours its ``workers`` CPUs; a peer's cell,
which starts its own engine (Ray Tune, Spark, a LocalCluster, worker processes), its ``workers``.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any, ClassVar

from tunebench import registry
from tunebench.compare.clusters import SharedClusters
from tunebench.executors.base import ExecutorError
from tunebench.executors.cluster import parse_address
from tunebench.store.comparison import Cell

INTERRUPTED = "interrupted"  # a cell stopped by Ctrl-C: not an outcome, it resumes next time
STOP_GRACE_S = 20.0  # how long interrupted cells get to write their tables before their process is killed
FORMS = (
    "ray://HOST:PORT (Ray Client) or HOST:PORT (the head of a `ray start` cluster) for Ray, tcp://HOST:PORT for a Dask scheduler"
)

Task = Callable[..., dict[str, Any]]
Done = tuple[Cell, dict[str, Any]]


def reserves(cell: Cell) -> int:
    """The CPUs ``cell`` keeps busy while it runs.

    >>> reserves(Cell("a", "peer", "tune", "sgd", "ray-tune-asha", 0, workers=4))
    4
    >>> reserves(Cell("b", "scheduler", "hb", "sgd", "simulated", 0, executor_section={"name": "simulated"}, workers=32))
    1
    """
    if cell.kind == "peer":
        return max(1, cell.workers)
    name = str((cell.executor_section or {}).get("name") or cell.executor)
    return 1 if name == "local" or virtual(name) else max(1, cell.workers)


def virtual(executor: str) -> bool:
    """Whether an executor runs without the workload's data on a virtual clock (``simulated``)."""
    try:
        return not bool(getattr(registry.load("executor", executor), "needs_data", True))
    except registry.RegistryError:
        return executor == "simulated"


def cluster_kind(address: str) -> str:
    """``ray`` or ``dask`` from the form of ``--cluster``; any other form is refused.

    >>> cluster_kind("tcp://10.0.0.5:8786"), cluster_kind("ray://head:10001"), cluster_kind("head:6379")
    ('dask', 'ray', 'ray')
    """
    scheme = address.split("://", 1)[0].lower() if "://" in address else ""
    if scheme not in ("", "ray", "tcp"):
        raise ExecutorError(f"--cluster {address!r}: {scheme}:// is not a form compare takes; it takes {FORMS}")
    try:
        parse_address(address, default_port=8786 if scheme == "tcp" else 6379)
    except ValueError as exc:
        raise ExecutorError(f"--cluster {address!r}: {exc}; it takes {FORMS}") from None
    return "dask" if scheme == "tcp" else "ray"


def here(kind: str, node: Callable[[], str | None] | None = None) -> dict[str, Any]:
    """Where this process is: the placement, host, pid and (on a cluster) the node or worker."""
    return {"placement": kind, "host": socket.gethostname(), "pid": os.getpid(), "node": node() if node else None}


def placed(kind: str, node: Callable[[], str | None] | None, task: Task, *args: Any) -> dict[str, Any]:
    """Run a cell in this worker and add where it ran; a cell stopped by Ctrl-C comes back
    ``interrupted`` (its tables so far are written; it resumes next time)."""
    try:
        outcome = task(*args)
    except KeyboardInterrupt:
        outcome = {"status": INTERRUPTED}
    return {**outcome, "ran_on": here(kind, node)}


def lost(exc: BaseException, retries: int) -> dict[str, Any]:
    """The outcome of a cell whose worker died on every one of its ``retries + 1`` tries."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")[:200]
    error = f"{type(exc).__name__}: its worker was lost {retries + 1} time(s)" + (f" ({text})" if text else "")
    return {"status": "failed", "error": error, "reason": None, "seconds": None}


class Placement(abc.ABC):
    """Cells out somewhere; :meth:`wait` hands back ``(cell, outcome)`` pairs as they finish."""

    kind: ClassVar[str]
    one_at_a_time: ClassVar[bool] = False  # every cell runs alone

    def __init__(self, task: Task, data: dict[str, Any], out: Path, retries: int) -> None:
        self.task, self.data, self.out, self.retries = task, data, str(out.resolve()), retries
        self.pending: dict[Any, tuple[Cell, int | None]] = {}  # handle -> (cell, CPUs reserved)

    def open(self) -> None:
        """Connect (or start); an unreachable cluster is an :class:`ExecutorError` naming it."""

    def close(self) -> None:
        """Disconnect (or stop what :meth:`open` started)."""

    def describe(self) -> dict[str, Any]:
        """The placement as ``matrix.json`` records it."""
        return {"where": self.kind, "retries": self.retries}

    @property
    def busy(self) -> int:
        return sum(cpus or 1 for _, cpus in self.pending.values())

    @abc.abstractmethod
    def fits(self, cpus: int) -> bool:
        """Whether a cell that reserves ``cpus`` can start now."""

    @abc.abstractmethod
    def submit(self, cell: Cell, cpus: int) -> int | None:
        """Send ``cell`` out; return the CPUs held for it (``None``: this placement holds none)."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> list[Done]:
        """The cells that finished within ``timeout`` seconds (maybe none)."""

    def stop(self) -> list[Done]:
        """Ctrl-C: interrupt the cells out; return those that finished meanwhile."""
        self.pending.clear()
        return []

    def drain(self, grace_s: float) -> list[Done]:
        """Outcomes of the cells out as they end, for up to ``grace_s`` seconds."""
        deadline, done = time.monotonic() + grace_s, []
        while self.pending and time.monotonic() < deadline:
            done += self.wait(0.2)
        return done


class Serial(Placement):
    """One cell at a time, in this process; our local Dask cells share a cluster per setting."""

    kind = "serial"
    one_at_a_time = True

    def open(self) -> None:
        self.clusters = SharedClusters()

    def close(self) -> None:
        self.clusters.close()

    def fits(self, cpus: int) -> bool:
        return not self.pending

    def submit(self, cell: Cell, cpus: int) -> int | None:
        self.pending[cell.cell_id] = (cell, None)
        return None

    def wait(self, timeout: float) -> list[Done]:
        cell, _ = self.pending.pop(next(iter(self.pending)))
        return [(cell, {**self.task(cell, self.data, self.out, self.clusters), "ran_on": here(self.kind)})]


class LocalProcesses(Placement):
    """``jobs`` cells at once, each in a process of a spawn pool (the pool is started anew, and
    its cells sent again, if one of its processes dies)."""

    kind = "local"

    def __init__(self, task: Task, data: dict[str, Any], out: Path, retries: int, jobs: int) -> None:
        super().__init__(task, data, out, retries)
        self.jobs = jobs
        self.tries: dict[str, int] = {}
        self.stopping = False

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "jobs": self.jobs}

    def open(self) -> None:
        self.pool = cf.ProcessPoolExecutor(max_workers=self.jobs, mp_context=get_context("spawn"), initializer=child_signals)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def fits(self, cpus: int) -> bool:
        return len(self.pending) < self.jobs

    def submit(self, cell: Cell, cpus: int) -> int | None:
        self.tries[cell.cell_id] = self.tries.get(cell.cell_id, 0) + 1
        self.pending[self.pool.submit(in_child, self.task, cell, self.data, self.out)] = (cell, None)
        return None

    def wait(self, timeout: float) -> list[Done]:
        ready, _ = cf.wait(list(self.pending), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        done, again = [], []
        for future in ready:
            cell, _ = self.pending.pop(future)
            try:
                done.append((cell, future.result()))
            except (cf.CancelledError, cf.process.BrokenProcessPool) as exc:
                if self.stopping or future.cancelled():
                    done.append((cell, {"status": INTERRUPTED}))
                elif self.tries[cell.cell_id] > self.retries:
                    done.append((cell, lost(exc, self.retries)))
                else:
                    again.append(cell)
        if again:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.open()
            for cell in again:
                self.submit(cell, 1)
        return done

    def stop(self) -> list[Done]:
        self.stopping = True
        for process in list(getattr(self.pool, "_processes", {}).values()):
            try:
                os.kill(process.pid, signal.SIGTERM)
            except (ProcessLookupError, AttributeError):
                pass
        for future in self.pending:
            future.cancel()
        done = self.drain(STOP_GRACE_S)
        for process in list(getattr(self.pool, "_processes", {}).values()):
            process.terminate()
        self.pending.clear()
        return done


class ChildCell:
    """The one cell a pool process runs, and whether it was told to stop (once is enough)."""

    running = False
    told = False


def child_signals() -> None:
    """In a pool process: Ctrl-C (the terminal's) or SIGTERM (the driver's) interrupts the cell
    running, once; with no cell running they do nothing, so the pool shuts down as usual."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt_cell)


def interrupt_cell(signum: int, frame: object) -> None:
    if ChildCell.running and not ChildCell.told:
        ChildCell.told = True
        raise KeyboardInterrupt


def in_child(task: Task, *args: Any) -> dict[str, Any]:
    """:func:`placed` in a pool process."""
    ChildCell.running, ChildCell.told = True, False
    try:
        return placed(LocalProcesses.kind, None, task, *args)
    finally:
        ChildCell.running = False


def placement_for(cluster: str | None, jobs: int, task: Task, data: dict[str, Any], out: Path, retries: int = 3) -> Placement:
    """The placement ``--cluster`` / ``--jobs`` ask for, not opened yet."""
    if cluster is None:
        return Serial(task, data, out, retries) if jobs <= 1 else LocalProcesses(task, data, out, retries, jobs)
    if jobs > 1:
        raise ExecutorError(
            f"--jobs {jobs} with --cluster {cluster!r}: give one; on a cluster its CPUs set how many cells run at once"
        )
    if cluster_kind(cluster) == "dask":
        from tunebench.compare.on_dask import DaskCells

        return DaskCells(task, data, out, retries, cluster)
    from tunebench.compare.on_ray import RayCells

    return RayCells(task, data, out, retries, cluster)
