"""Worker processes forked from Python's fork server, writing where their parent writes.

Spawning a worker pays a Python start and every import in each process. The fork server is a
fresh process that imports its preload list once; every worker forked from it afterwards starts
in milliseconds with those modules loaded. Forking the server is safe beside Ray, Dask or a JVM
running in this process, which forking this process itself is not.

A forked worker inherits the server's standard output and error (where this process's pointed
when the server started), not this process's now. :func:`take_output_of` points its
descriptors 1 and 2 where its parent's point, as a spawned worker would have inherited them:
a peer's pool calls it in the worker's initializer, a Dask worker in :func:`dask_setup` (Dask's
preload hook, given the parent by :data:`OUTPUT_OF`). The server starts under Dask's
``pre-spawn-environ`` (one BLAS and OpenMP thread per worker), which a spawned Dask worker gets
and a forked one would otherwise miss. Where the fork server or ``/proc`` is missing, workers
are spawned.
"""

from __future__ import annotations

import os
from multiprocessing import forkserver, get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from typing import Any

OUTPUT_OF = "TUNEBENCH_OUTPUT_OF"
"""Environment variable naming the process whose output descriptors a Dask worker takes."""

_preload: list[str] = []


def preload(*modules: str) -> None:
    """Add ``modules`` to what the fork server imports when it starts. A module that forks
    workers registers what they import when it is itself imported, so that whichever of them
    starts the server, the server holds every one of them (once it runs, its list is fixed)."""
    _preload.extend(name for name in modules if name not in _preload)


def forkable() -> bool:
    """Whether workers can be forked from the fork server and pointed at their parent's output."""
    return "forkserver" in get_all_start_methods() and os.path.isdir(f"/proc/{os.getpid()}/fd")


def fork_context() -> BaseContext:
    """The fork server's context (spawn where there is none), the server started if it is not
    running: importing everything registered with :func:`preload`, under :func:`worker_environ`."""
    if not forkable():
        return get_context("spawn")
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(list(_preload))
    environ = worker_environ()
    saved = {name: os.environ.get(name) for name in environ}
    os.environ.update(environ)
    try:
        forkserver.ensure_running()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return ctx


def worker_environ() -> dict[str, str]:
    """What a worker process needs set before it starts (Dask's ``pre-spawn-environ``: one
    BLAS and OpenMP thread, as each worker runs one Job on one core). The fork server starts
    with it, since its preloaded numpy reads it once; this process's environment is put back."""
    try:
        import dask
    except ImportError:
        return {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return {str(k): str(v) for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()}


def take_output_of(parent: int) -> None:
    """Point descriptors 1 and 2 of this process where ``parent``'s point now (nothing to do in
    ``parent`` itself, or for a descriptor that is a socket)."""
    for fd in (1, 2) if parent != os.getpid() else ():
        try:
            target = os.open(f"/proc/{parent}/fd/{fd}", os.O_WRONLY | os.O_APPEND)
        except OSError:
            continue
        os.dup2(target, fd)
        os.close(target)


def dask_worker_settings() -> dict[str, Any]:
    """Dask settings under which a LocalCluster's Nannies fork their workers from the fork server
    (started here if it is not running), each worker first taking this process's output; the
    current ``distributed.worker.preload`` and ``distributed.nanny.environ`` are kept. Empty
    where workers cannot be forked."""
    if not forkable():
        return {}
    import dask

    fork_context()  # the server started now, with our list: distributed's own, set on its first use, comes too late
    modules = list(dask.config.get("distributed.worker.preload", []))
    return {
        "distributed.worker.multiprocessing-method": "forkserver",
        "distributed.worker.preload": modules if __name__ in modules else [*modules, __name__],
        "distributed.nanny.environ": {**dask.config.get("distributed.nanny.environ", {}), OUTPUT_OF: str(os.getpid())},
    }


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, run as each worker starts: take the output of the process that
    started the cluster (:data:`OUTPUT_OF`)."""
    parent = os.environ.pop(OUTPUT_OF, "")  # not passed on to a cluster this worker might start
    if parent.isdigit():
        take_output_of(int(parent))
