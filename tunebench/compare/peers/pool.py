"""The worker processes a peer trains in, forked from Python's fork server.

A peer's ``n_workers`` processes hold the workload and the dataset (its initializer ships them
once per worker). Spawning them paid a Python start and every import in each cell; forked from
the fork server, which imports :data:`PRELOAD` once per process, a comparison pays that once and
every later pool starts in milliseconds. The server is a fresh process, so forking it is safe
beside Ray, Dask or a JVM running in this one.

A forked worker inherits the server's standard output and error, not this process's, so
:func:`start_worker` first points its descriptors 1 and 2 where this process's point when it
starts (a cell's ``peer.log`` while compare captures the peer), as a spawned worker would have
inherited them. Where the fork server or ``/proc`` is missing, workers are spawned.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from typing import Any

PRELOAD = ("tunebench.compare.peers.optuna", "tunebench.workloads.sgd")


def worker_context() -> BaseContext:
    """The fork server's context, its server importing :data:`PRELOAD` when it starts (else spawn)."""
    if "forkserver" not in get_all_start_methods() or not os.path.isdir(f"/proc/{os.getpid()}/fd"):
        return get_context("spawn")
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def worker_initializer(init: Callable[..., None], *args: Any) -> dict[str, Any]:
    """``initializer`` and ``initargs`` for a pool on :func:`worker_context`: each worker takes
    this process's output descriptors, then runs ``init(*args)``."""
    return {"initializer": start_worker, "initargs": (os.getpid(), init, *args)}


def start_worker(parent: int, init: Callable[..., None], *args: Any) -> None:
    """In a new worker: descriptors 1 and 2 opened as ``parent``'s are now, then ``init(*args)``
    (a pool of threads in ``parent`` itself keeps its descriptors)."""
    for fd in (1, 2) if parent != os.getpid() else ():
        try:
            target = os.open(f"/proc/{parent}/fd/{fd}", os.O_WRONLY | os.O_APPEND)
        except OSError:  # a socket, or no /proc: keep what the worker inherited
            continue
        os.dup2(target, fd)
        os.close(target)
    init(*args)
