"""Cluster executors' common ground: addresses checked fast, a Ray session, and
the base class of the ray, dask and dask-on-ray executors.

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

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tunebench.checks import Int, Text, check
from tunebench.executors.base import Executor, ExecutorError
from tunebench.executors.ledger import Ledger

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


class ClusterExecutor(Executor):
    """What the ray, dask and dask-on-ray executors share: the ``address``, ``queue_depth``,
    ``queue`` and ``max_retries`` keys, a :class:`~tunebench.executors.ledger.Ledger` of
    checkpoints, and a scope that keeps this run's trials apart on long-lived workers.

    ``queue_depth`` is how many Jobs each worker holds at once: the one it computes and
    ``queue_depth - 1`` waiting their turn on it. A worker then starts its next Job the moment
    the last one ends, while the driver is still taking in that Job's result and sending the
    next one; with Jobs of a few milliseconds that round trip is otherwise idle worker time.
    ``queue_depth: 1`` sends a worker its next Job only after its last result is in. ``queue``
    counts further Jobs that wait unplaced beyond those (ordered by priority where the
    executor orders them). The loop keeps :attr:`capacity` Jobs out; a scheduler's decisions
    do not change with it when they do not depend on the order results arrive in (Hyperband's
    and successive halving's synchronous rungs)."""

    params = {
        "address": Text("a cluster address such as host:port", optional=True, note="null: start a local cluster"),
        "queue": Int(0, note="Jobs that wait unplaced beyond those the workers hold"),
        "queue_depth": Int(1, note="Jobs each worker holds at once"),
        "max_retries": Int(0, note="reruns of a Job that lost its worker"),
    }

    def __init__(self, n_workers: int, address: str | None, queue: int, max_retries: int, queue_depth: int = 2) -> None:
        super().__init__(n_workers)
        self.address: str | None = check(self, "address", address)
        self.queue: int = check(self, "queue", queue)
        self.queue_depth: int = check(self, "queue_depth", queue_depth)
        self.max_retries: int = check(self, "max_retries", max_retries)
        self._ledger = Ledger(max_retries=self.max_retries)
        self._scope = uuid.uuid4().hex[:12]

    keeps = True

    @property
    def capacity(self) -> int:
        return self.n_workers * self.queue_depth + self.queue

    @property
    def pending(self) -> int:
        return self._ledger.pending

    def keep(self, trial_id: int, step: int) -> None:
        """The ledger holds the checkpoint's state or reference by ``(trial, step)``."""
        self._ledger.keep(trial_id, step)

    def drop_kept(self, trial_id: int, step: int) -> None:
        self._ledger.drop_kept(trial_id, step)

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "queue_depth": self.queue_depth, "queue": self.queue, **self._ledger.counts()}


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

    if address not in (None, "auto"):
        check_reachable(address, what="Ray cluster", howto=RAY_HOWTO, default_port=6379)
    if ray.is_initialized():
        current = ray.get_runtime_context().gcs_address
        if address not in (None, "auto") and not address.startswith("ray://"):
            _, port = parse_address(address, 6379)
            if not current.endswith(f":{port}"):
                raise ExecutorError(f"this process is already connected to Ray at {current}; cannot also connect to {address!r}")
        return RaySession(current, owned=False, local=False)
    quiet = dict(log_to_driver=False, logging_level=logging.WARNING)
    if address is None:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        try:
            ray.init(address="local", num_cpus=n_workers, include_dashboard=False, **quiet)
        except Exception as exc:
            raise ExecutorError(f"could not start a local Ray with num_cpus={n_workers}: {exc}") from exc
        return RaySession(ray.get_runtime_context().gcs_address, owned=True, local=True)
    try:
        ray.init(address=address, **quiet)
    except Exception as exc:
        if ray.is_initialized():
            ray.shutdown()
        raise ExecutorError(f"cannot connect to the Ray cluster at {address!r}: {exc}; {RAY_HOWTO}") from None
    current = address if address.startswith("ray://") else ray.get_runtime_context().gcs_address
    return RaySession(current, owned=True, local=False)
