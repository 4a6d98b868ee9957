"""A study's cells on a running Dask scheduler (``compare --cluster tcp://HOST:PORT``).

Each cell is a future (``pure=False``) that takes a worker thread. When the workers declare a
``CPU`` resource (``dask worker ADDRESS --nthreads 4 --resources CPU=4``) it also holds the CPUs
it reserves (at most the largest worker's), so a worker runs cells only while their CPUs fit its
own. A cell runs outside its worker's Dask context, so the client of a cell on the ``dask``
executor is an ordinary client of the cell's own cluster. A cell whose worker dies is
rescheduled by the scheduler (up to its ``distributed.scheduler.allowed-failures``, 3 by
default) and resumes from its journal; ``retries`` covers a cell that raises. Cells that start
processes (a LocalCluster, a peer's workers) need workers whose processes may have children:
``DASK_DISTRIBUTED__WORKER__DAEMON=False`` in the workers' environment. The comparison
directory must be the same path on every worker.

Ctrl-C sets a Dask ``Event`` every cell of the study watches: a cell running stops between two
of its steps and writes its tables; one still running after the grace period has its worker
restarted.
"""

from __future__ import annotations

import contextvars
import ctypes
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tunebench.compare.placement import FORMS, INTERRUPTED, STOP_GRACE_S, Done, Placement, Task, here, lost, placed
from tunebench.executors.base import ExecutorError
from tunebench.executors.cluster import check_reachable
from tunebench.store.comparison import Cell

WATCH_S = 0.5  # how often a running cell asks whether the study was stopped


def worker_address() -> str | None:
    """The Dask worker this task runs on."""
    from distributed import get_worker

    return str(get_worker().address)


def worker_slots(dask_scheduler: Any) -> list[tuple[int, float]]:
    """Each worker's threads and declared ``CPU`` resource (0 if none); run on the scheduler."""
    return [(int(ws.nthreads), float(ws.resources.get("CPU", 0))) for ws in dask_scheduler.workers.values()]


def interrupt(thread_id: int) -> None:
    """Raise KeyboardInterrupt in the thread ``thread_id`` (a task thread of this worker)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(KeyboardInterrupt))


def stoppable(stop: str, kind: str, task: Task, *args: Any) -> dict[str, Any]:
    """:func:`placed` on a Dask worker, interrupted when the study's Event ``stop`` is set."""
    from distributed import Event, get_client

    event, target, lock, finished = Event(stop, client=get_client()), threading.get_ident(), threading.Lock(), threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if event.wait(timeout=WATCH_S):
                with lock:
                    if not finished.is_set():
                        interrupt(target)
                return

    address = worker_address()
    threading.Thread(target=watch, name="tunebench-stop-watch", daemon=True).start()
    try:
        try:  # outside this worker's context: a cell's own Dask client must not take itself for a task of this cluster
            return contextvars.Context().run(placed, kind, lambda: address, task, *args)
        finally:
            with lock:
                finished.set()
    except KeyboardInterrupt:
        return {"status": INTERRUPTED, "ran_on": here(kind, lambda: address)}


class DaskCells(Placement):
    """Cells as futures on the scheduler at ``address``."""

    kind = "dask"

    def __init__(self, task: Task, data: dict[str, Any], out: Path, retries: int, address: str) -> None:
        super().__init__(task, data, out, retries)
        self.address = address
        self.client: Any = None
        self.stop_name = f"tunebench-stop-{uuid.uuid4().hex[:12]}"
        self.stopping = False

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "address": self.address}

    def open(self) -> None:
        from distributed import Client

        check_reachable(self.address, what="Dask scheduler", howto=f"--cluster takes {FORMS}", default_port=8786)
        try:
            self.client = Client(self.address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"cannot connect to the Dask scheduler at {self.address!r}: {exc}; --cluster takes {FORMS}"
            ) from None

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def cpus(self) -> tuple[int, int, bool]:
        """The cluster's CPUs (declared ``CPU`` resources, else worker threads), the most on one
        worker, and whether the workers declare ``CPU``."""
        workers = self.client.run_on_scheduler(worker_slots)
        declared = [int(cpu) for _, cpu in workers]
        if any(declared):
            return sum(declared), max(declared), True
        return sum(threads for threads, _ in workers), 1, False

    def reserve(self, cpus: int) -> int | None:
        """``cpus`` as a ``CPU`` resource, at most the largest worker's; ``None`` when no worker declares one."""
        _, largest, declared = self.cpus()
        return max(1, min(cpus, largest)) if declared else None

    def fits(self, cpus: int) -> bool:
        total, largest, _ = self.cpus()
        return not self.pending or self.busy + max(1, min(cpus, largest)) <= total

    def submit(self, cell: Cell, cpus: int) -> int | None:
        n = self.reserve(cpus)
        future = self.client.submit(
            stoppable,
            self.stop_name,
            self.kind,
            self.task,
            cell,
            self.data,
            self.out,
            key=f"cell-{cell.cell_id}-{uuid.uuid4().hex[:8]}",
            pure=False,
            retries=self.retries,
            resources={"CPU": n} if n is not None else None,
        )
        self.pending[future] = (cell, n)
        return n

    def wait(self, timeout: float) -> list[Done]:
        deadline = time.monotonic() + timeout
        ready = [f for f in self.pending if f.done()]
        while not ready and time.monotonic() < deadline:
            time.sleep(0.05)
            ready = [f for f in self.pending if f.done()]
        done = []
        for future in ready:
            cell, _ = self.pending.pop(future)
            if future.status == "finished":
                done.append((cell, future.result()))
            elif future.status == "cancelled" or self.stopping:
                done.append((cell, {"status": INTERRUPTED}))
            else:
                done.append((cell, lost(future.exception(), self.retries)))
        return done

    def stop(self) -> list[Done]:
        """Cells not started are cancelled; running ones are told to stop (the Event), and their
        workers restarted if they have not after :data:`STOP_GRACE_S`."""
        from distributed import Event

        self.stopping = True
        Event(self.stop_name, client=self.client).set()
        running = {key for keys in self.client.processing().values() for key in keys}
        self.client.cancel([f for f in self.pending if f.key not in running])
        done = self.drain(STOP_GRACE_S)
        left = {f.key for f in self.pending}
        stuck = [w for w, keys in self.client.processing().items() if left & set(keys)]
        if stuck:
            self.client.restart_workers(stuck, raise_for_error=False)
        self.client.cancel(list(self.pending))
        self.pending.clear()
        Event(self.stop_name, client=self.client).clear()
        return done
