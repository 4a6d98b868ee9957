"""The serial in-process executor: the deterministic reference."""

from __future__ import annotations

import copy
import time
from collections import deque
from dataclasses import replace
from typing import Any

from tunebench.executors.base import Executor
from tunebench.executors.worker import run_job
from tunebench.trial import Job, Result, Trainable
from tunebench.workloads.base import Dataset, Workload


class LocalExecutor(Executor):
    """Runs Jobs one at a time, in submit order, in this process.

    Live Trainables are kept in memory; a clone Job gets a copy of its donor's saved state,
    taken when the Job is submitted, or of a snapshot :meth:`keep` took at the clone step.
    A Job that fails leaves no live Trainable behind (it was trained in place, half-way);
    after :meth:`enable_retries` each Job's start state is saved first, so the same Job sent
    again starts from there.
    """

    name = "local"
    keeps = True

    def __init__(self, n_workers: int = 1) -> None:
        super().__init__(n_workers)
        self._queue: deque[tuple[Job, Any, float]] = deque()
        self._live: dict[int, Trainable] = {}
        self._kept: dict[tuple[int, int], Any] = {}
        self._retries = False
        self._before: dict[int, tuple[Job, Any]] = {}  # trial -> (failed Job, the state it started from)
        self._workload: Workload | None = None
        self._data: Dataset | None = None

    def start(self, workload: Workload, data: Dataset) -> None:
        self._workload, self._data = workload, data

    def enable_retries(self) -> None:
        self._retries = True

    def submit(self, job: Job) -> None:
        donor_state = None
        before = self._before.pop(job.trial_id, None)
        if before is not None and (before[0].start_step, before[0].clone_from) == (job.start_step, job.clone_from):
            self._queue.append((replace(job, clone_from=job.clone_from or (job.trial_id, job.start_step)), before[1], time.time()))
            return
        if job.clone_from is not None:
            donor_id, donor_step = job.clone_from
            donor = self._live.get(donor_id)
            if donor is not None and donor.steps == donor_step:
                donor_state = copy.deepcopy(donor.save())
            elif job.clone_from in self._kept:
                donor_state = copy.deepcopy(self._kept[job.clone_from])
            else:
                have = None if donor is None else donor.steps
                raise RuntimeError(
                    f"clone of trial {donor_id} at step {donor_step}: its checkpoint is at step {have} and no snapshot was kept there"
                )
        self._queue.append((job, donor_state, time.time()))

    def wait(self) -> list[Result]:
        if not self._queue:
            raise RuntimeError("wait() with no Job pending")
        assert self._workload is not None and self._data is not None
        job, donor_state, submitted = self._queue.popleft()
        live = None if job.clone_from is not None else self._live.get(job.trial_id)
        start = donor_state
        if self._retries and live is not None:
            start = copy.deepcopy(live.save())
        trainable, result = run_job(
            self._workload, self._data, job, trainable=live, state=donor_state, submitted_at=submitted
        )
        if trainable is None:
            self._live.pop(job.trial_id, None)
            if self._retries:
                self._before[job.trial_id] = (job, start)
        else:
            self._live[job.trial_id] = trainable
        return [result]

    def keep(self, trial_id: int, step: int) -> None:
        """Snapshot ``trial_id``'s state at ``step`` (its latest, or one held already) for later clones."""
        if (trial_id, step) in self._kept:
            return
        live = self._live.get(trial_id)
        if live is None or live.steps != step:
            have = None if live is None else live.steps
            raise RuntimeError(f"keep trial {trial_id} at step {step}: its checkpoint is at step {have}")
        self._kept[(trial_id, step)] = copy.deepcopy(live.save())

    def drop_kept(self, trial_id: int, step: int) -> None:
        self._kept.pop((trial_id, step), None)

    def release(self, trial_id: int) -> None:
        self._live.pop(trial_id, None)
        self._before.pop(trial_id, None)

    def test_score(self, trial_id: int) -> float:
        return float(self._live[trial_id].test_score())

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def capacity(self) -> int:
        return 1

    @property
    def slots(self) -> int:
        return 1

    def shutdown(self) -> None:
        self._queue.clear()
        self._live.clear()
        self._kept.clear()
        self._before.clear()
