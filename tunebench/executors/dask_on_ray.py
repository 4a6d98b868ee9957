"""The Dask-on-Ray executor: each Job is a Dask graph that Ray's scheduler computes.

A Job becomes a ``dask.delayed`` call of :func:`tunebench.executors.live.run_task`, handed to
``ray.util.dask.ray_dask_get`` with ``ray_persist=True``: Ray runs it as a task and returns two
object references, the Result and the checkpoint it wrote. The dataset is one Ray object that
every Job's graph names; the checkpoint a Job starts from is the previous Job's reference, so
trial state never passes through the driver. Ray reruns a task whose worker process died (its
inputs are the dataset and one checkpoint, both in the object store: nothing else to
recompute). There is no ``distributed.Client``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import dask
import ray
from ray.exceptions import RayError, RayTaskError

from tunebench.executors.cluster import ClusterExecutor, Finished, Lost, RaySession, ray_ready, start_ray
from tunebench.executors.ledger import Ticket
from tunebench.executors.live import run_task, score_on_test_set
from tunebench.workloads.base import Dataset, Workload


def import_ray_dask() -> tuple[Any, Any]:
    """``ray_dask_get`` and ``MultipleReturnFunc``, without Ray's patch of ``dask.persist``.

    Importing ``ray.util.dask`` swaps ``dask.persist`` for a version that passes a Ray-only
    keyword to every scheduler; other Dask code in this process (a Dask executor, dask-ml)
    would then break. The graphs here call ``ray_dask_get`` directly and need no patch.
    """
    persist, mixin = dask.persist, dask.base.DaskMethodsMixin.persist
    try:
        from ray.util.dask import ray_dask_get
        from ray.util.dask.scheduler import MultipleReturnFunc
    finally:
        dask.persist, dask.base.DaskMethodsMixin.persist = persist, mixin  # type: ignore[method-assign]
    return ray_dask_get, MultipleReturnFunc


def job_graph(func: Any, *args: Any, key: str) -> Any:
    """A one-task Dask graph computing ``func(*args)`` with two outputs."""
    return dask.delayed(func, pure=False, nout=2)(*args, dask_key_name=key)


class DaskOnRayExecutor(ClusterExecutor):
    """Dask graphs computed by Ray (``ray_dask_get``); the dataset is one Ray object.

    Keys: ``n_workers`` (CPUs of a local Ray), ``address`` (a running Ray cluster; unset starts
    a local one), ``queue_depth`` (Jobs out per CPU, so Ray starts the next task while the driver
    takes in the last result; default 2), ``queue`` (Jobs out beyond those), ``max_retries``
    (reruns of a Job whose Ray worker died, on top of Ray's own task retries).
    """

    name = "dask-on-ray"

    def __init__(
        self, n_workers: int = 2, address: str | None = None, queue: int = 0, max_retries: int = 3, queue_depth: int = 2
    ) -> None:
        super().__init__(n_workers, address, queue, max_retries, queue_depth)
        self._session: RaySession | None = None
        self._by_ref: dict[Any, Ticket] = {}
        self._workload: Workload | None = None
        self._data_ref: Any = None
        self._get: Any = None
        self._func: Any = None
        self._cpus = n_workers

    def start(self, workload: Workload, data: Dataset) -> None:
        try:
            self._session = start_ray(self.address, self.n_workers)
            self._cpus = int(ray.cluster_resources().get("CPU", self.n_workers))
            ray_dask_get, multiple_return = import_ray_dask()
            self._get, self._func = ray_dask_get, multiple_return(run_task, 2)
            self._workload = workload
            self._data_ref = ray.put(data)
            self._warm_up(workload)
        except BaseException:
            self.shutdown()
            raise

    def _warm_up(self, workload: Workload) -> None:
        """Start a Ray worker process per slot, with the workload's modules imported and the
        dataset mapped, before the first Job is timed."""
        warm = ray.remote(num_cpus=1)(_warm)
        ray.get([warm.remote(workload, self._data_ref) for _ in range(self.n_workers)], timeout=120)

    def shutdown(self) -> None:
        self._by_ref.clear()
        self._ledger.clear()
        self._data_ref = None
        if self._session is not None:
            session, self._session = self._session, None
            session.close()

    @property
    def slots(self) -> int:
        """Jobs that can compute at once: the cluster's CPUs, at most :attr:`capacity`."""
        return min(self._cpus, self.capacity)

    @property
    def started(self) -> bool:
        return self._session is not None

    def _dispatch(self, ticket: Ticket) -> None:
        key = f"tunebench-job-{self._scope}-{ticket.token}-{ticket.attempts}"
        graph = job_graph(
            self._func,
            self._scope,
            self._workload,
            self._data_ref,
            ticket.job,
            ticket.start_token,
            ticket.start_state,
            ticket.token,
            ticket.submitted_at,
            key=key,
        )
        (refs,) = self._get(graph.__dask_graph__(), graph.__dask_keys__(), ray_persist=True)
        ticket.handle = refs
        self._by_ref[refs[0]] = ticket

    def _collect(self) -> list[Finished | Lost]:
        """The Jobs ``ray.wait`` has ready; one whose Ray worker died is :class:`Lost` (an
        error raised by the task itself is not a lost worker and propagates)."""
        done: list[Finished | Lost] = []
        for ref in ray_ready(list(self._by_ref)):
            ticket = self._by_ref.pop(ref)
            try:
                result = ray.get(ref)
            except RayTaskError:
                raise
            except RayError as exc:
                done.append(Lost(ticket, f"{type(exc).__name__}: {exc}"))
                continue
            done.append(Finished(ticket, result, ticket.handle[1]))
        return done

    def test_score(self, trial_id: int) -> float:
        if self._session is None:
            raise RuntimeError("test_score() before start() or after shutdown()")
        ck = self._ledger.checkpoint(trial_id)
        args = (self._scope, self._workload, self._data_ref, replace(ck, state=None), ck.state)
        graph = dask.delayed(score_on_test_set, pure=False)(*args)
        (score,) = self._get(graph.__dask_graph__(), graph.__dask_keys__())
        return float(score)

    def stats(self) -> dict[str, Any]:
        return {
            **super().stats(),
            "address": self._session.address if self._session else self.address,
            "started_cluster": bool(self._session and self._session.local),
            "cluster_cpus": self._cpus,
        }


def _warm(workload: Workload, data: Dataset) -> bool:
    """Runs once per worker process at start: imports what Jobs need (unpickling the arguments
    imports the workload's modules)."""
    del workload, data  # unpickled on arrival: that is the warming
    import_ray_dask()
    time.sleep(0.2)
    return True


__all__ = ["DaskOnRayExecutor", "import_ray_dask", "job_graph"]
