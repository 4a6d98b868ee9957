"""The worker side of the cluster executors: live Trainables cached between Jobs.

A worker process keeps the Trainables it ran, each tagged with the token of the checkpoint it
holds (see :mod:`tunebench.executors.ledger`). A Job names the token it starts from: on a match
the worker continues the live Trainable in memory; otherwise it restores the checkpoint it was
given. A cached Trainable is taken out while it trains, so a Job that fails half-way never
leaves a half-trained one behind under an old token.

Ray actors own one :class:`LiveCache` each; Dask and Dask-on-Ray tasks use the process-wide
:data:`CACHE` through :func:`run_task` and :func:`score_on_test_set`. Keys carry a *scope* (one
per executor run) so runs sharing long-lived workers never mix their trials.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tunebench.executors.ledger import Checkpoint
from tunebench.executors.worker import run_job, worker_name
from tunebench.trial import Job, Result, Trainable
from tunebench.workloads.base import Dataset, Workload

CACHE_LIMIT = 128


class LiveCache:
    """Up to ``limit`` live Trainables of one worker process, least recently used out first."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._live: OrderedDict[tuple[str, int], tuple[int, Trainable]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def take(self, scope: str, trial_id: int, token: int | None) -> Trainable | None:
        """Remove and return the live Trainable holding checkpoint ``token``, if this worker has it."""
        with self._lock:
            entry = self._live.pop((scope, trial_id), None)
        if entry is not None and token is not None and entry[0] == token:
            self.hits += 1
            return entry[1]
        if token is not None:
            self.misses += 1
        return None

    def put(self, scope: str, trial_id: int, token: int, trainable: Trainable) -> None:
        with self._lock:
            self._live[(scope, trial_id)] = (token, trainable)
            self._live.move_to_end((scope, trial_id))
            while len(self._live) > self.limit:
                self._live.popitem(last=False)

    def peek(self, scope: str, trial_id: int, token: int) -> Trainable | None:
        entry = self._live.get((scope, trial_id))
        return entry[1] if entry is not None and entry[0] == token else None

    def drop(self, scope: str, trial_ids: list[int] | None = None) -> None:
        """Forget some trials of a scope, or the whole scope."""
        with self._lock:
            for key in [k for k in self._live if k[0] == scope and (trial_ids is None or k[1] in trial_ids)]:
                del self._live[key]

    def __len__(self) -> int:
        return len(self._live)

    def run(
        self,
        scope: str,
        workload: Workload,
        data: Dataset,
        job: Job,
        start_token: int | None,
        load_state: Callable[[], Any],
        token: int,
        submitted_at: float,
    ) -> tuple[Result, Any]:
        """Run one Job; return its Result and the checkpoint it writes (``None`` for a Job that
        failed, whose Result carries the error).

        ``load_state`` fetches the start checkpoint's state, called only when this worker has no
        live Trainable at that checkpoint. Saving the checkpoint is part of the Job's compute.
        """
        t0 = time.time()
        live = None if job.clone_from is not None else self.take(scope, job.trial_id, start_token)
        state = None if live is not None or start_token is None else load_state()
        fetch_s = time.time() - t0
        trainable, result = run_job(workload, data, job, trainable=live, state=state, submitted_at=submitted_at)
        if trainable is None:
            return result, None  # the Job failed: nothing to save, nothing live to keep
        t1 = time.time()
        saved = trainable.save()
        save_s = time.time() - t1
        self.put(scope, job.trial_id, token, trainable)
        return replace(result, compute_s=result.compute_s + fetch_s + save_s), saved

    def test_score(self, scope: str, workload: Workload, data: Dataset, ck: Checkpoint, load_state: Callable[[], Any]) -> float:
        """Test score of checkpoint ``ck``: the live Trainable if this worker holds it, else restored."""
        live = self.peek(scope, ck.trial_id, ck.token)
        if live is None:
            live = workload.build(dict(ck.config), data, ck.seed)
            live.restore(load_state())
        return float(live.test_score())


CACHE = LiveCache()


def _identity(value: Any) -> Callable[[], Any]:
    return lambda: value


def run_task(
    scope: str,
    workload: Workload,
    data: Dataset,
    job: Job,
    start_token: int | None,
    state: Any,
    token: int,
    submitted_at: float,
) -> tuple[Result, Any]:
    """A Job as a plain function (a Dask task): the state it starts from comes as a value."""
    return CACHE.run(scope, workload, data, job, start_token, _identity(state), token, submitted_at)


def score_on_test_set(scope: str, workload: Workload, data: Dataset, ck: Checkpoint, state: Any) -> float:
    """Test score of checkpoint ``ck`` (its ``state`` given beside it, so a Ray reference resolves)."""
    return CACHE.test_score(scope, workload, data, ck, _identity(state))


def warm_task(workload: Workload) -> str:
    """Run once per worker at start: unpickling ``workload`` imports its modules, so the first
    Job's time is spent on the Job."""
    return f"{workload.name}@{worker_name()}"


async def drop_task(scope: str, trial_ids: list[int] | None = None) -> None:
    """Forget released trials (a coroutine, so ``Client.run(..., wait=False)`` can send it)."""
    CACHE.drop(scope, trial_ids)
