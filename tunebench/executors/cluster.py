"""Cluster executors' common ground: addresses checked fast, a Ray session, the base class of
every executor that books its Jobs in a :class:`~tunebench.executors.ledger.Ledger` (local,
ray, dask, dask-on-ray), and the base class of the cluster ones.

:class:`LedgerExecutor` owns ``submit`` and ``wait``: a Job is booked (its start checkpoint
found, a token for the one it writes) and handed to the subclass's ``_dispatch``; ``wait``
takes what the subclass's ``_collect`` brings back, closes each finished Job in the ledger
(a duplicate ``(trial, step)`` is dropped) and sends a Job whose worker was lost out again from
where it started. A subclass only dispatches and collects.

An unreachable ``address`` must fail within seconds with a message that names it and says how
to start a cluster; Ray and Dask clients on their own may retry for a minute or more. So the
executors first try a plain TCP connection (:func:`check_reachable`), then hand the address to
the real client.

>>> parse_address("tcp://10.0.0.5:8786", default_port=8786)
('10.0.0.5', 8786)
>>> parse_address("ray://head:10001", default_port=6379)
('head', 10001)
>>> parse_address("localhost", default_port=6379)
('localhost', 6379)
"""

from __future__ import annotations

import abc
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tunebench.checks import Int, Text, check
from tunebench.executors.base import Executor, ExecutorError
from tunebench.executors.ledger import Checkpoint, Ledger, Ticket
from tunebench.trial import Job, Result

RAY_HOWTO = (
    "start one with `RAY_AUTH_MODE=disabled ray start --head --port 6379` and pass its address "
    "(host:port, or ray://host:10001 for Ray Client), or leave executor.address unset to start a local Ray"
)
DASK_HOWTO = (
    "start one with `dask scheduler --port 8786` plus `dask worker tcp://HOST:8786`, and pass "
    "tcp://HOST:8786, or leave executor.address unset to start a LocalCluster"
)


def parse_address(address: str, default_port: int) -> tuple[str, int]:
    """``(host, port)`` of an address such as ``host:port``, ``tcp://host:port`` or ``ray://host:port``."""
    text = address.strip()
    if not text:
        raise ValueError("empty address")
    parts = urlsplit(text if "://" in text else f"//{text}")
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in address {address!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in address {address!r}") from None
    return host, port if port is not None else default_port


def check_reachable(address: str, *, what: str, howto: str, default_port: int, timeout: float = 3.0) -> None:
    """Raise :class:`ExecutorError` unless a TCP connection to ``address`` opens within ``timeout``."""
    try:
        host, port = parse_address(address, default_port)
    except ValueError as exc:
        raise ExecutorError(f"{what} address {address!r} is not host:port ({exc}); {howto}") from None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ExecutorError(f"cannot reach the {what} at {address!r} ({host}:{port}: {reason}); {howto}") from None


@dataclass(frozen=True)
class Finished:
    """A Job that came back: its ticket, its Result, the checkpoint it wrote (the state or a
    reference to it; ``None`` if it failed) and the worker that holds that checkpoint live."""

    ticket: Ticket
    result: Result
    state: Any
    where: Any = None


@dataclass(frozen=True)
class Lost:
    """A Job whose worker was lost before it came back; it runs again from where it started."""

    ticket: Ticket
    reason: str


class LedgerExecutor(Executor):
    """An executor whose Jobs and checkpoints are booked in a :class:`Ledger`; see the module
    docstring. Subclasses implement :attr:`started`, :meth:`_dispatch` and :meth:`_collect`,
    and :meth:`_forget` if their workers hold released trials live."""

    keeps = True

    def __init__(self, n_workers: int, max_retries: int = 0) -> None:
        super().__init__(n_workers)
        self._ledger = Ledger(max_retries=max_retries)
        self._scope = uuid.uuid4().hex[:12]

    @property
    @abc.abstractmethod
    def started(self) -> bool:
        """True between :meth:`start` and :meth:`shutdown`."""

    @abc.abstractmethod
    def _dispatch(self, ticket: Ticket) -> None:
        """Send a booked Job to a worker; it starts from ``ticket.start`` (``None``: from scratch)."""

    @abc.abstractmethod
    def _collect(self) -> list[Finished | Lost]:
        """Block until at least one Job out is back or lost; return all that are by then."""

    def _forget(self, ck: Checkpoint) -> None:
        """A released trial's last checkpoint: tell the worker holding it live to drop it."""

    def submit(self, job: Job) -> None:
        if not self.started:
            raise RuntimeError("submit() before start() or after shutdown()")
        self._dispatch(self._ledger.open(job, time.time()))

    def wait(self) -> list[Result]:
        if not self._ledger.pending:
            raise RuntimeError("wait() with no Job pending")
        results: list[Result] = []
        while not results and self._ledger.pending:
            for done in self._collect():
                if isinstance(done, Lost):
                    self._dispatch(self._ledger.retry(done.ticket, done.reason))
                elif self._ledger.close(done.ticket, done.result, done.state, done.where):
                    results.append(done.result)
        return results

    def release(self, trial_id: int) -> None:
        ck = self._ledger.release(trial_id)
        if ck is not None:
            self._forget(ck)

    def keep(self, trial_id: int, step: int) -> None:
        """The ledger holds the checkpoint's state or reference by ``(trial, step)``."""
        self._ledger.keep(trial_id, step)

    def drop_kept(self, trial_id: int, step: int) -> None:
        self._ledger.drop_kept(trial_id, step)

    @property
    def pending(self) -> int:
        return self._ledger.pending

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), **self._ledger.counts()}


class ClusterExecutor(LedgerExecutor):
    """What the ray, dask and dask-on-ray executors share: the ``address``, ``queue_depth``,
    ``queue`` and ``max_retries`` keys, a :class:`~tunebench.executors.ledger.Ledger` of
    checkpoints, and a scope that keeps this run's trials apart on long-lived workers.

    ``queue_depth`` is how many Jobs are out per worker: the one it computes and, on average,
    ``queue_depth - 1`` waiting their turn on it (Dask holds exactly that many on each worker;
    Ray puts each Job on the actor with the fewest steps queued, so one busy with a long Job
    holds fewer and the others more). A worker then starts its next Job the moment the last
    one ends, while the driver is still taking in that Job's result and sending the next one;
    with Jobs of a few milliseconds that round trip is otherwise idle worker time.
    ``queue_depth: 1`` sends a worker its next Job only after its last result is in. ``queue``
    counts further Jobs that wait unplaced beyond those (ordered by priority where the
    executor orders them). The loop keeps :attr:`capacity` Jobs out; a scheduler's decisions
    do not change with it when they do not depend on the order results arrive in (Hyperband's
    and successive halving's synchronous rungs)."""

    params = {
        "address": Text("a cluster address such as host:port", optional=True, note="null: start a local cluster"),
        "queue": Int(0, note="Jobs that wait unplaced beyond those the workers hold"),
        "queue_depth": Int(1, note="Jobs out per worker"),
        "max_retries": Int(0, note="reruns of a Job that lost its worker"),
    }

    def __init__(self, n_workers: int, address: str | None, queue: int, max_retries: int, queue_depth: int = 2) -> None:
        super().__init__(n_workers, max_retries=check(self, "max_retries", max_retries))
        self.address: str | None = check(self, "address", address)
        self.queue: int = check(self, "queue", queue)
        self.queue_depth: int = check(self, "queue_depth", queue_depth)
        self.max_retries: int = self._ledger.max_retries

    @property
    def capacity(self) -> int:
        return self.n_workers * self.queue_depth + self.queue

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "queue_depth": self.queue_depth, "queue": self.queue}


@dataclass
class RaySession:
    """A Ray connection and whether this process started it (and so must shut it down)."""

    address: str
    owned: bool
    local: bool

    def close(self) -> None:
        """Shut Ray down if this session started it; leave someone else's session alone."""
        import ray

        if self.owned and ray.is_initialized():
            ray.shutdown()
        self.owned = False


def ray_ready(refs: list[Any]) -> list[Any]:
    """Block until one of ``refs`` is ready; return all that are ready by then."""
    import ray

    ray.wait(refs, num_returns=1)
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
    return ready


def start_ray(address: str | None, n_workers: int) -> RaySession:
    """Join the Ray session already open in this process, connect to ``address``, or start a
    local one with ``num_cpus=n_workers`` (never someone else's ``ray start`` cluster)."""
    import ray

    # Ray's driver swaps builtins.print for its tqdm-aware one the first time it shows a worker's
    # error (a killed actor is enough); after that nothing holding print (skorch's PrintLog) pickles.
    os.environ.setdefault("RAY_TQDM_PATCH_PRINT", "0")
    if address not in (None, "auto"):
        check_reachable(address, what="Ray cluster", howto=RAY_HOWTO, default_port=6379)
    if ray.is_initialized():
        current = ray.get_runtime_context().gcs_address
        if address not in (None, "auto") and not address.startswith("ray://"):
            _, port = parse_address(address, 6379)
            if not current.endswith(f":{port}"):
                raise ExecutorError(f"this process is already connected to Ray at {current}; cannot also connect to {address!r}")
        return RaySession(current, owned=False, local=False)
    if address is None:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        try:
            ray.init(
                address="local", num_cpus=n_workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
            )
        except Exception as exc:
            raise ExecutorError(f"could not start a local Ray with num_cpus={n_workers}: {exc}") from exc
        return RaySession(ray.get_runtime_context().gcs_address, owned=True, local=True)
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    except Exception as exc:
        if ray.is_initialized():
            ray.shutdown()
        raise ExecutorError(f"cannot connect to the Ray cluster at {address!r}: {exc}; {RAY_HOWTO}") from None
    current = address if address.startswith("ray://") else ray.get_runtime_context().gcs_address
    return RaySession(current, owned=True, local=False)
