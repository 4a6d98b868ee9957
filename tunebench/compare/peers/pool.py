"""The worker processes a peer trains in, forked from Python's fork server.

A peer's ``n_workers`` processes hold the workload and the dataset (its initializer ships them
once per worker). Spawning them paid a Python start and every import in each cell; forked from
the fork server (:mod:`~tunebench.executors.forked`), which imports :data:`PRELOAD` once per
process, a comparison pays that once and every later pool starts in milliseconds. Each worker
first takes this process's output descriptors (a cell's ``peer.log`` while compare captures
the peer), as a spawned worker would have inherited them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from multiprocessing.context import BaseContext
from typing import Any

from tunebench.executors.forked import fork_context, preload, take_output_of

PRELOAD = ("tunebench.compare.peers.optuna", "tunebench.workloads.sgd")
preload(*PRELOAD)


def worker_context() -> BaseContext:
    """The fork server's context, its server importing :data:`PRELOAD` among the rest (else spawn)."""
    return fork_context()


def worker_initializer(init: Callable[..., None], *args: Any) -> dict[str, Any]:
    """``initializer`` and ``initargs`` for a pool on :func:`worker_context`: each worker takes
    this process's output descriptors, then runs ``init(*args)``."""
    return {"initializer": start_worker, "initargs": (os.getpid(), init, *args)}


def start_worker(parent: int, init: Callable[..., None], *args: Any) -> None:
    """In a new worker: descriptors 1 and 2 opened as ``parent``'s are now, then ``init(*args)``
    (a pool of threads in ``parent`` itself keeps its descriptors)."""
    take_output_of(parent)
    init(*args)
