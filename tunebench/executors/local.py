"""The serial in-process executor: the deterministic reference.

It keeps the same books as the cluster executors (:class:`~tunebench.executors.cluster.LedgerExecutor`):
every Job is a ticket in the :class:`~tunebench.executors.ledger.Ledger`, every finished Job
leaves a checkpoint there (its saved state), clones start from the donor's checkpoint or a
kept snapshot, and a failed Job's retry starts from the checkpoint the failed attempt started
from. The one worker is this process, with a :class:`~tunebench.executors.live.LiveCache` of
live Trainables like any worker's: a Job continues its trial in memory when the cache holds
it at the Job's start checkpoint, and restores the checkpoint otherwise. So tests on the
reference exercise the bookkeeping the real executors run on.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tunebench.executors.cluster import Finished, LedgerExecutor, Lost
from tunebench.executors.ledger import Checkpoint, Ticket
from tunebench.executors.live import LiveCache
from tunebench.workloads.base import Dataset, Workload


class LocalExecutor(LedgerExecutor):
    """Runs Jobs one at a time, in submit order, in this process."""

    name = "local"

    def __init__(self, n_workers: int = 1) -> None:
        super().__init__(n_workers)
        self._queue: deque[Ticket] = deque()
        self._cache = LiveCache()
        self._workload: Workload | None = None
        self._data: Dataset | None = None

    def start(self, workload: Workload, data: Dataset) -> None:
        self._workload, self._data = workload, data

    @property
    def started(self) -> bool:
        return self._workload is not None

    def _dispatch(self, ticket: Ticket) -> None:
        self._queue.append(ticket)

    def _collect(self) -> list[Finished | Lost]:
        """Run the Job submitted first; its Result and the checkpoint it saved."""
        assert self._workload is not None and self._data is not None
        ticket = self._queue.popleft()
        start = ticket.start
        result, state = self._cache.run(
            self._scope,
            self._workload,
            self._data,
            ticket.job,
            ticket.start_token,
            lambda: None if start is None else start.state,
            ticket.token,
            ticket.submitted_at,
        )
        return [Finished(ticket, result, state)]

    def _forget(self, ck: Checkpoint) -> None:
        self._cache.drop(self._scope, [ck.trial_id])

    def test_score(self, trial_id: int) -> float:
        assert self._workload is not None and self._data is not None
        ck = self._ledger.checkpoint(trial_id)
        return self._cache.test_score(self._scope, self._workload, self._data, ck, lambda: ck.state)

    @property
    def capacity(self) -> int:
        return 1

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "live_hits": self._cache.hits, "restores": self._cache.misses}

    @property
    def slots(self) -> int:
        return 1

    def shutdown(self) -> None:
        self._queue.clear()
        self._ledger.clear()
        self._cache.drop(self._scope)
