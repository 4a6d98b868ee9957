"""A study's cells on a running Ray cluster (``compare --cluster ray://HOST:PORT`` or ``HOST:PORT``).

Each cell is a Ray task holding the CPUs it reserves (``num_cpus``, at most the largest node's),
so Ray runs as many at once as the cluster holds; ``max_retries`` sends a cell whose worker or
node died out again, and it resumes from its journal. The comparison directory must be the same
path on every node (a shared file system; one machine trivially). A cell of ours on the ``ray``
executor joins the same cluster: its actors take the CPUs its task gives back while it waits
for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunebench.compare.placement import FORMS, INTERRUPTED, STOP_GRACE_S, Done, Placement, Task, lost, placed
from tunebench.executors.cluster import RaySession, check_reachable, start_ray
from tunebench.store.comparison import Cell


def node_id() -> str | None:
    """The Ray node this task runs on."""
    import ray

    return str(ray.get_runtime_context().get_node_id())


class RayCells(Placement):
    """Cells as Ray tasks on the cluster at ``address``."""

    kind = "ray"

    def __init__(self, task: Task, data: dict[str, Any], out: Path, retries: int, address: str) -> None:
        super().__init__(task, data, out, retries)
        self.address = address
        self.session: RaySession | None = None
        self.remote: Any = None  # ``placed`` as a Ray task, once connected
        self.stopping = False

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "address": self.address}

    def open(self) -> None:
        import ray

        check_reachable(self.address, what="Ray cluster", howto=f"--cluster takes {FORMS}", default_port=6379)
        self.session = start_ray(self.address, 1)
        self.remote = ray.remote(placed)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def cpus(self) -> tuple[int, int]:
        """The cluster's CPUs and the most on one live node."""
        import ray

        nodes = [n for n in ray.nodes() if n.get("Alive")]
        per_node = [int(n.get("Resources", {}).get("CPU", 0)) for n in nodes]
        return sum(per_node), max(per_node, default=0)

    def reserve(self, cpus: int) -> int:
        """``cpus``, but at most the largest node's (a task must fit on one node)."""
        return max(1, min(cpus, self.cpus()[1]))

    def fits(self, cpus: int) -> bool:
        total, largest = self.cpus()
        return not self.pending or self.busy + max(1, min(cpus, largest)) <= total

    def submit(self, cell: Cell, cpus: int) -> int | None:
        n = self.reserve(cpus)
        options = {"num_cpus": n, "max_retries": self.retries, "retry_exceptions": False, "name": f"cell {cell.cell_id}"}
        ref = self.remote.options(**options).remote(self.kind, node_id, self.task, cell, self.data, self.out)
        self.pending[ref] = (cell, n)
        return n

    def wait(self, timeout: float) -> list[Done]:
        import ray

        refs = list(self.pending)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        done = []
        for ref in ready:
            cell, _ = self.pending.pop(ref)
            try:
                done.append((cell, ray.get(ref)))
            except Exception as exc:
                done.append((cell, {"status": INTERRUPTED} if self.stopping else lost(exc, self.retries)))
        return done

    def stop(self) -> list[Done]:
        """Each cell out gets a KeyboardInterrupt (its tables so far are written); a cell still
        running after :data:`STOP_GRACE_S` has its worker killed."""
        import ray

        self.stopping = True
        for ref in self.pending:
            ray.cancel(ref)
        done = self.drain(STOP_GRACE_S)
        for ref in self.pending:
            ray.cancel(ref, force=True)
        self.pending.clear()
        return done
