"""The Ray executor: a pool of actors, one per worker slot, fed through ``ray.wait``.

The dataset goes into the object store once (``ray.put``) and every actor maps it from there.
An actor keeps live Trainables of the trials it ran; each finished Job also returns its
checkpoint as a second object reference, which the driver keeps. ``n_workers x queue_depth``
Jobs are out at once, so an actor starts its next one while the driver takes in the last
result. A Job goes to the actor with the fewest steps queued on it
(:func:`~tunebench.executors.placement.least_loaded`), the one that holds its trial live on a
tie (any other restores the checkpoint): it waits behind the least work, and a short Job never
queues behind a long one while another actor would reach it first. An actor that dies costs
only the Jobs it had: a new actor takes its slot and they run again from the checkpoints they
started from.

By default a local Ray starts with ``num_cpus=n_workers`` (and is shut down at the end); with
``address`` the executor joins a running cluster and leaves it running.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from tunebench.checks import Float, check
from tunebench.executors.base import ExecutorError
from tunebench.executors.cluster import ClusterExecutor, Finished, Lost, RaySession, ray_ready, start_ray
from tunebench.executors.ledger import Checkpoint, Ticket
from tunebench.executors.live import LiveCache
from tunebench.executors.placement import least_loaded
from tunebench.executors.worker import worker_name
from tunebench.trial import Job, Result
from tunebench.workloads.base import Dataset, Workload


class TrialActor:
    """One worker slot: the dataset (mapped from the object store) and the live Trainables."""

    def __init__(self, workload: Workload, data: Dataset, scope: str) -> None:
        self.workload, self.data, self.scope = workload, data, scope
        self.cache = LiveCache()

    def ready(self) -> tuple[str, int]:
        return worker_name(), os.getpid()

    def run(self, job: Job, start: Checkpoint | None, token: int, submitted_at: float) -> tuple[Result, Any]:
        start_token = None if start is None else start.token

        def load_state() -> Any:
            assert start is not None
            return ray.get(start.state)

        return self.cache.run(self.scope, self.workload, self.data, job, start_token, load_state, token, submitted_at)

    def test_score(self, ck: Checkpoint) -> float:
        return self.cache.test_score(self.scope, self.workload, self.data, ck, lambda: ray.get(ck.state))

    def drop(self, trial_ids: list[int]) -> None:
        self.cache.drop(self.scope, trial_ids)

    def cache_counts(self) -> tuple[int, int]:
        return self.cache.hits, self.cache.misses


RemoteTrialActor = ray.remote(num_cpus=1, max_restarts=0)(TrialActor)


def pid_of(worker: str) -> int | None:
    """The process id in a worker name ``host:pid``.

    >>> pid_of("node-1:4242")
    4242
    """
    tail = worker.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


@dataclass
class Slot:
    """A worker slot: its current actor, how many actors it has had, the Jobs queued on it."""

    index: int
    actor: Any
    generation: int = 0
    running: set[int] = field(default_factory=set)
    pid: int | None = None


class RayExecutor(ClusterExecutor):
    """Ray actors, one per worker slot; the dataset in the object store once.

    Keys: ``n_workers`` (actors, and the CPUs of a local Ray), ``address`` (a running cluster:
    ``host:port``, ``ray://host:port`` or ``auto``; unset starts a local Ray), ``queue_depth``
    (Jobs out per actor; default 2, 1 for one at a time), ``queue`` (further
    Jobs in actor queues beyond those), ``max_retries`` (times a Job is rerun after losing its
    actor), ``start_timeout_s`` (how long actors may take to come up).
    """

    name = "ray"
    params = {"start_timeout_s": Float(0, low_open=True, note="how long actors may take to come up")}

    def __init__(
        self,
        n_workers: int = 2,
        address: str | None = None,
        queue: int = 0,
        max_retries: int = 3,
        start_timeout_s: float = 120.0,
        queue_depth: int = 2,
    ) -> None:
        super().__init__(n_workers, address, queue, max_retries, queue_depth)
        self.start_timeout_s: float = check(self, "start_timeout_s", start_timeout_s)
        self._session: RaySession | None = None
        self._slots: list[Slot] = []
        self._by_ref: dict[Any, Ticket] = {}
        self._workload: Workload | None = None
        self._data_ref: Any = None
        self.restarts = 0

    # -- start and stop ----------------------------------------------------------------------

    def start(self, workload: Workload, data: Dataset) -> None:
        try:
            self._session = start_ray(self.address, self.n_workers)
            cpus = ray.cluster_resources().get("CPU", 0)
            if cpus < self.n_workers:
                raise ExecutorError(
                    f"the Ray cluster at {self._session.address} has {cpus:g} CPUs; n_workers={self.n_workers} "
                    f"needs one CPU per actor (lower n_workers or add nodes)"
                )
            self._workload = workload
            self._data_ref = ray.put(data)
            self._slots = [Slot(i, self._new_actor()) for i in range(self.n_workers)]
            self._await_ready(self._slots)
        except BaseException:
            self.shutdown()
            raise

    def _new_actor(self) -> Any:
        return RemoteTrialActor.remote(self._workload, self._data_ref, self._scope)

    def _await_ready(self, slots: list[Slot]) -> None:
        try:
            ready = ray.get([s.actor.ready.remote() for s in slots], timeout=self.start_timeout_s)
        except GetTimeoutError:
            raise ExecutorError(
                f"{len(slots)} Ray actor(s) did not start within {self.start_timeout_s:g} s on the cluster at "
                f"{self._session.address if self._session else '?'}; are its CPUs busy?"
            ) from None
        for slot, (_, pid) in zip(slots, ready):
            slot.pid = pid

    def shutdown(self) -> None:
        for slot in self._slots:
            try:
                ray.kill(slot.actor, no_restart=True)
            except Exception:
                pass
        self._slots = []
        self._by_ref.clear()
        self._ledger.clear()
        self._data_ref = None
        if self._session is not None:
            session, self._session = self._session, None
            session.close()

    # -- Jobs --------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._slots)

    def _pick(self, ticket: Ticket) -> Slot:
        """The slot with the fewest steps queued (it reaches this Job soonest), the one that
        holds the start checkpoint live on a tie."""
        where = None if ticket.start is None else ticket.start.where
        return self._slots[least_loaded([self._queued_steps(s) for s in self._slots], where)]

    def _queued_steps(self, slot: Slot) -> int:
        return sum(self._ledger.out[token].job.n_steps for token in slot.running if token in self._ledger.out)

    def _dispatch(self, ticket: Ticket) -> None:
        slot = self._pick(ticket)
        refs = slot.actor.run.options(num_returns=2).remote(ticket.job, ticket.start, ticket.token, ticket.submitted_at)
        ticket.handle, ticket.slot, ticket.generation = refs, slot.index, slot.generation
        slot.running.add(ticket.token)
        self._by_ref[refs[0]] = ticket

    def _collect(self) -> list[Finished | Lost]:
        """The Jobs ``ray.wait`` has ready; one whose actor died is :class:`Lost`, and its
        slot gets a new actor (once per actor)."""
        done: list[Finished | Lost] = []
        for ref in ray_ready(list(self._by_ref)):
            ticket = self._by_ref.pop(ref)
            assert ticket.slot is not None
            slot = self._slots[ticket.slot]
            current = ticket.generation == slot.generation
            if current:
                slot.running.discard(ticket.token)
            try:
                result = ray.get(ref)
            except RayActorError as exc:
                if current:
                    self._replace(slot)
                done.append(Lost(ticket, f"actor {slot.index} died ({type(exc).__name__})"))
                continue
            if current:
                slot.pid = pid_of(result.worker)
            done.append(Finished(ticket, result, ticket.handle[1], where=ticket.slot))
        return done

    def _replace(self, slot: Slot) -> None:
        """Put a new actor in a slot whose actor died; Jobs queued on the old one are lost."""
        try:
            ray.kill(slot.actor, no_restart=True)
        except Exception:
            pass
        slot.actor, slot.generation, slot.pid = self._new_actor(), slot.generation + 1, None
        slot.running.clear()
        self.restarts += 1

    # -- checkpoints -------------------------------------------------------------------------

    def _forget(self, ck: Checkpoint) -> None:
        if ck.where is not None and ck.where < len(self._slots):
            self._slots[ck.where].actor.drop.remote([ck.trial_id])

    def test_score(self, trial_id: int) -> float:
        ck = self._ledger.checkpoint(trial_id)
        slot = self._slots[ck.where if ck.where is not None and ck.where < len(self._slots) else 0]
        for _ in range(self.max_retries + 1):
            try:
                return float(ray.get(slot.actor.test_score.remote(ck)))
            except RayActorError:
                self._replace(slot)
        raise ExecutorError(f"test score of trial {trial_id}: lost its actor {self.max_retries + 1} times")

    def worker_pids(self) -> dict[int, int]:
        """Process ids of the actors by slot (for tests that kill one). Known ones come from
        the actors' start and results; asking an actor would wait for the Job it is running."""
        unknown = [s for s in self._slots if s.pid is None]
        if unknown:
            self._await_ready(unknown)
        return {s.index: s.pid for s in self._slots if s.pid is not None}

    def stats(self) -> dict[str, Any]:
        hits = misses = 0
        if self._slots:
            try:
                for h, m in ray.get([s.actor.cache_counts.remote() for s in self._slots], timeout=10):
                    hits, misses = hits + h, misses + m
            except Exception:
                pass
        return {
            **super().stats(),
            "address": self._session.address if self._session else self.address,
            "started_cluster": bool(self._session and self._session.local),
            "actor_restarts": self.restarts,
            "live_hits": hits,
            "restores": misses,
        }
