"""One local Dask cluster per executor setting for a whole serial study.

Starting a LocalCluster costs seconds, more than a small cell's work. When ``compare`` runs its
cells one after another, our cells on ``dask`` (no ``address`` of their own) share one cluster
per ``(workers, queue_depth)``, started as the executor would start it and warmed by each run.
A cell starts only when the cluster has no task left from the one before, so no cell's time
includes another's work. Cells in parallel (``--jobs``) start their own, as they must not share
cores.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

QUIET_TIMEOUT_S = 60.0


def shared_key(executor: Mapping[str, Any]) -> tuple[int, int] | None:
    """The cluster setting a cell's executor section can share, or None (not a local Dask one).

    >>> shared_key({"name": "dask", "n_workers": 2})
    (2, 1)
    >>> shared_key({"name": "dask", "n_workers": 2, "address": "tcp://h:8786"}) is None
    True
    >>> shared_key({"name": "ray", "n_workers": 2}) is None
    True
    """
    if executor.get("name") != "dask" or executor.get("address") is not None:
        return None
    return int(executor.get("n_workers") or 2), int(executor.get("queue_depth") or 1)


class SharedClusters:
    """LocalClusters started on first use, keyed by :func:`shared_key`, closed on exit."""

    def __init__(self) -> None:
        self._clusters: dict[tuple[int, int], Any] = {}

    def __enter__(self) -> SharedClusters:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def executor_section(self, executor: Mapping[str, Any]) -> dict[str, Any]:
        """``executor`` with the address of its shared cluster, once that cluster is quiet."""
        key = shared_key(executor)
        if key is None:
            return dict(executor)
        cluster = self._clusters.get(key) or self._start(*key)
        self._clusters[key] = cluster
        wait_quiet(cluster)
        return {**executor, "address": cluster.scheduler_address}

    @staticmethod
    def _start(n_workers: int, queue_depth: int) -> Any:
        from tunebench.executors.dask_executor import local_cluster

        return local_cluster(n_workers, queue_depth)

    def close(self) -> None:
        clusters, self._clusters = list(self._clusters.values()), {}
        for cluster in clusters:
            try:
                cluster.close(timeout=20)
            except Exception:
                pass


def wait_quiet(cluster: Any, timeout_s: float = QUIET_TIMEOUT_S) -> None:
    """Block until the cluster's scheduler holds no task (a finished cell's last Jobs have ended)."""
    from distributed import Client

    with Client(cluster, set_as_default=False) as client:
        deadline = time.monotonic() + timeout_s
        while client.run_on_scheduler(n_tasks) and time.monotonic() < deadline:
            time.sleep(0.05)


def n_tasks(dask_scheduler: Any) -> int:
    """Tasks the scheduler still knows of (run on the scheduler)."""
    return len(dask_scheduler.tasks)
