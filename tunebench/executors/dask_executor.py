"""The Dask executor: one task per Job on a ``distributed`` cluster, results by ``as_completed``.

The dataset is scattered once to every worker (``broadcast=True``). A Job's task carries the
checkpoint it starts from; the worker that ran the trial last still has it live and continues
in memory, any other worker restores it. Each task returns its Result and the checkpoint it
wrote, which the driver keeps. So a task's only dependency is the scattered dataset: when a
worker process dies, Dask reruns its Job elsewhere from the checkpoint it carries, with no chain
of earlier Jobs to recompute.

``priority: score`` gives each task the Dask priority ``job.priority`` (its trial's last score,
so good trials run first when workers are scarce, as in Sievert et al., SciPy 2019);
``priority: fifo`` runs Jobs in the order they came. Workers are scarce when the cluster has
fewer threads than ``n_workers`` (a shared cluster, lost workers) or when ``queue`` lets Jobs
wait in Dask beyond those the workers hold. ``queue`` is 0 by default: the scheduler already
hands out Jobs in the order it wants, and reordering a queue by score starves the low-scoring
Jobs that a synchronous rung (Hyperband, successive halving) waits for before it can promote
anyone.

``queue_depth`` (2 by default) Jobs sit on each worker at once, so it starts the next one as
soon as the last ends, without waiting for the driver (see
:class:`~tunebench.executors.cluster.ClusterExecutor`). On a LocalCluster this executor starts
that is Dask's ``worker-saturation``; Dask's work stealing moves a Job that waits behind a long
one to a worker that has run dry.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from typing import Any

import dask
from dask._task_spec import Task, TaskRef
from distributed import Client, Future, LocalCluster, as_completed
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

from tunebench.checks import Float, OneOf, check
from tunebench.executors.base import ExecutorError
from tunebench.executors.cluster import DASK_HOWTO, ClusterExecutor, Finished, Lost, check_reachable
from tunebench.executors.forked import dask_worker_settings, preload
from tunebench.executors.ledger import Checkpoint, Ticket
from tunebench.executors.live import drop_task, run_task, score_on_test_set, warm_task
from tunebench.trial import Job
from tunebench.workloads.base import Dataset, Workload

PRIORITIES = ("score", "fifo")
RELEASE_EVERY_S = 1.0
LOST = (KilledWorker, FutureCancelledError)
preload("distributed", "tunebench.executors.live")  # what a LocalCluster's forked workers import


def dask_priority(job: Job, mode: str) -> float:
    """The Dask priority of a Job: its own (finite) priority under ``score``, else 0.

    >>> dask_priority(Job(0, {}, 0, 0, 1, priority=float("inf")), "score")
    1e+300
    >>> dask_priority(Job(0, {}, 0, 0, 1, priority=0.9), "fifo")
    0.0
    """
    if mode != "score":
        return 0.0
    if math.isnan(job.priority):
        return -1e300
    return max(-1e300, min(1e300, float(job.priority)))


def job_task(key: str, func: Any, *args: Any) -> Task:
    """A Job's task, marked as a data producer: Dask then holds Jobs beyond the free workers in
    its scheduler queue, ordered by priority, and hands the best one to whichever worker frees
    up first (rather than pinning each Job to a worker when it is submitted). A Dask without
    the marker still runs the Job, ordered by priority only among the Jobs each worker holds."""
    try:
        return Task(key, func, *args, _data_producer=True)
    except TypeError:
        return Task(key, func, *args)


DIAGNOSTICS: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}
"""Diagnostics settings of a cluster this executor starts. The workers' statistical profiler
(every 10 ms) and the system monitor feed only the dashboard, which is off; the event-loop
health check still catches a loop blocked for its 3 s limit when it ticks every second rather
than every 20 ms. At Dask's defaults an idle LocalCluster of 2 workers keeps a sixth of a core
busy on these, which on a small machine comes out of the trials' compute
(``python scripts/measure_dask_idle.py``)."""


def local_cluster_config(queue_depth: int = 1) -> dict[str, Any]:
    """Settings for a LocalCluster this executor starts.

    Each single-threaded worker holds up to ``queue_depth`` Jobs (``worker-saturation``); Jobs
    beyond those wait in the scheduler's queue, ordered by priority, and the first one waiting
    goes to whichever worker frees a place. Dask's own default (1.1) would hand each worker a
    second task whatever ``queue_depth`` says. Diagnostics are as in :data:`DIAGNOSTICS`.

    >>> local_cluster_config(2)["distributed.scheduler.worker-saturation"]
    2.0
    """
    return {**DIAGNOSTICS, "distributed.scheduler.worker-saturation": float(queue_depth)}


def local_cluster(n_workers: int, queue_depth: int = 1) -> LocalCluster:
    """A LocalCluster of ``n_workers`` single-threaded worker processes under
    :func:`local_cluster_config`, quiet and without a dashboard. Its workers are forked from the
    fork server (:func:`~tunebench.executors.forked.dask_worker_settings`): the second cluster a
    process starts, and every worker after, skip the Python start and the imports."""
    with dask.config.set({**local_cluster_config(queue_depth), **dask_worker_settings()}):
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        )


class DaskExecutor(ClusterExecutor):
    """Dask ``distributed``: a LocalCluster of single-threaded worker processes, or a running one.

    Keys: ``n_workers`` (LocalCluster workers; with ``address``, how many to wait for),
    ``address`` (a running scheduler, ``tcp://host:port``), ``priority`` (``score`` or
    ``fifo``), ``queue_depth`` (Jobs each worker holds at once; default 2, 1 for the old
    one-at-a-time), ``queue`` (Jobs that may wait in Dask beyond those; default 0),
    ``max_retries`` (reruns of a Job that Dask gives up on after losing workers),
    ``connect_timeout_s``.

    A running scheduler keeps its own ``worker-saturation`` (1.1 by default, which lets each
    single-threaded worker hold two tasks). Start it with
    ``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=<queue_depth>`` to match.
    """

    name = "dask"
    params = {"priority": OneOf(PRIORITIES), "connect_timeout_s": Float(0, low_open=True)}

    def __init__(
        self,
        n_workers: int = 2,
        address: str | None = None,
        priority: str = "score",
        queue: int = 0,
        max_retries: int = 3,
        connect_timeout_s: float = 10.0,
        queue_depth: int = 2,
    ) -> None:
        super().__init__(n_workers, address, queue, max_retries, queue_depth)
        self.priority: str = check(self, "priority", priority)
        self.connect_timeout_s: float = check(self, "connect_timeout_s", connect_timeout_s)
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._data: Future | None = None
        self._workload: Workload | None = None
        self._by_key: dict[str, Ticket] = {}
        self._done: as_completed | None = None
        self._released: list[int] = []
        self._released_at = 0.0
        self._first_workers: set[str] = set()
        self._processes: set[str] = set()
        self._threads = n_workers
        self._address = ""

    # -- start and stop ----------------------------------------------------------------------

    def start(self, workload: Workload, data: Dataset) -> None:
        try:
            self._client = self._connect()
            assert self._client.scheduler is not None
            self._address = str(self._client.scheduler.address)
            workers = self._client.scheduler_info(n_workers=-1)["workers"]
            self._first_workers = set(workers)
            self._threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
            self._workload = workload
            self._client.run(warm_task, workload)
            self._data = self._client.scatter(data, broadcast=True, hash=False)
            self._done = as_completed(loop=self._client.loop)
        except BaseException:
            self.shutdown()
            raise

    def _connect(self) -> Client:
        if self.address is None:
            self._cluster = local_cluster(self.n_workers, self.queue_depth)
            client = Client(self._cluster, set_as_default=False)
            client.wait_for_workers(self.n_workers, timeout=120)
            return client
        check_reachable(self.address, what="Dask scheduler", howto=DASK_HOWTO, default_port=8786)
        try:
            client = Client(self.address, timeout=self.connect_timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot connect to the Dask scheduler at {self.address!r}: {exc}; {DASK_HOWTO}") from None
        try:
            client.wait_for_workers(self.n_workers, timeout=max(30.0, self.connect_timeout_s))
        except TimeoutError:
            have = len(client.scheduler_info(n_workers=-1)["workers"])
            client.close()
            raise ExecutorError(
                f"the Dask scheduler at {self.address!r} has {have} worker(s); n_workers={self.n_workers} "
                f"waited for {self.n_workers} (start more with `dask worker {self.address}` or lower n_workers)"
            ) from None
        return client

    def _workers(self) -> list[str]:
        assert self._client is not None
        return list(self._client.scheduler_info(n_workers=-1)["workers"])

    def shutdown(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        self._by_key.clear()
        self._ledger.clear()
        self._done = None
        self._data = None
        if client is not None:
            try:
                if cluster is None:
                    client.run(drop_task, self._scope, None, wait=False)
                client.close(timeout=10)
            except Exception:
                pass
        if cluster is not None:
            try:
                cluster.close(timeout=20)
            except Exception:
                pass

    # -- Jobs --------------------------------------------------------------------------------

    @property
    def slots(self) -> int:
        """Jobs that can compute at once: the cluster's threads, at most :attr:`capacity`."""
        return min(self._threads, self.capacity)

    @property
    def started(self) -> bool:
        return self._client is not None

    def _dispatch(self, ticket: Ticket) -> None:
        assert self._client is not None and self._done is not None and self._data is not None
        job = ticket.job
        key = f"tunebench-job-{self._scope}-{ticket.token}-{ticket.attempts}"
        task = job_task(
            key,
            run_task,
            self._scope,
            self._workload,
            TaskRef(self._data.key),
            job,
            ticket.start_token,
            ticket.start_state,
            ticket.token,
            ticket.submitted_at,
        )
        (future,) = self._client.get({key: task}, [key], sync=False, priority=dask_priority(job, self.priority), retries=0)
        ticket.handle = future
        self._by_key[future.key] = ticket
        self._done.add(future)

    def _collect(self) -> list[Finished | Lost]:
        """The futures ``as_completed`` has ready; a Job Dask gave up on (its workers kept
        dying) or lost is :class:`Lost`, unless the dataset went with it."""
        assert self._done is not None
        self._flush_releases()
        done: list[Finished | Lost] = []
        for future in self._done.next_batch(block=True):
            ticket = self._by_key.pop(future.key, None)
            if ticket is None:
                continue
            try:
                result, state = future.result()
            except LOST as exc:
                if self._data is None or self._data.status != "finished":
                    raise ExecutorError(f"the dataset scattered to the Dask workers at {self._address} was lost: {exc}") from None
                done.append(Lost(ticket, f"{type(exc).__name__}: {exc}"))
                continue
            finally:
                future.release()
            self._processes.add(result.worker)
            done.append(Finished(ticket, result, state))
        return done

    # -- checkpoints -------------------------------------------------------------------------

    def _forget(self, ck: Checkpoint) -> None:
        self._released.append(ck.trial_id)

    def _flush_releases(self) -> None:
        """Tell the workers which live trials to forget, in one broadcast per :data:`RELEASE_EVERY_S`
        (a broadcast per Job would cost each worker a message while it trains; a cache entry
        that lingers a second is harmless, as the cache is bounded)."""
        if not self._released or self._client is None:
            return
        now = time.monotonic()
        if now - self._released_at >= RELEASE_EVERY_S:
            self._client.run(
                drop_task, self._scope, list(self._released), wait=False, on_error="ignore"
            )  # a lost worker forgets all
            self._released.clear()
            self._released_at = now

    def test_score(self, trial_id: int) -> float:
        if self._client is None:
            raise RuntimeError("test_score() before start() or after shutdown()")
        ck = self._ledger.checkpoint(trial_id)
        future = self._client.submit(
            score_on_test_set,
            self._scope,
            self._workload,
            self._data,
            replace(ck, state=None),
            ck.state,
            pure=False,
            retries=self.max_retries,
        )
        try:
            return float(future.result())
        finally:
            future.release()

    def worker_pids(self) -> dict[str, int]:
        """Process ids of the workers by address (for tests that kill one)."""
        import os

        assert self._client is not None
        return dict(self._client.run(os.getpid))

    def stats(self) -> dict[str, Any]:
        restarts = lost = 0
        workers: list[str] = []
        if self._client is not None:
            try:
                workers = self._workers()
                restarts = len(set(workers) - self._first_workers)
                lost = len(self._first_workers - set(workers))
            except Exception:
                pass
        return {
            **super().stats(),
            "priority": self.priority,
            "address": self._address or self.address,
            "started_cluster": self.address is None,
            "threads": self._threads,
            "workers_now": len(workers),
            "worker_restarts": restarts,
            "workers_lost": lost,
            "worker_processes_used": len(self._processes),
        }
