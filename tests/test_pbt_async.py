"""Asynchronous PBT at full concurrency: donors are kept snapshots, so exploits happen at any
worker count, and every clone copies a checkpoint that was really written.

The loop here forwards the scheduler's snapshot requests (``pop_kept`` / ``pop_unkept``) to
the executor's ``keep`` / ``drop_kept``, right after each result and each submitted Job; the
executor is a virtual one that records every checkpoint written and refuses a clone of any
other.
"""

from __future__ import annotations

import math

import pytest

from schedulers.pbt import PBT
from tunebench.executors.ledger import Ledger
from tunebench.loop import Budget, Loop
from tunebench.sinks import Trace
from tunebench.space import Space
from tunebench.synthetic import ScoreFnExecutor
from tunebench.trial import Job, Result

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-5, 1e-1]}, "eta0": {"loguniform": [1e-3, 1.0]}})


def rising(job: Job) -> float:
    """Better for eta0 near 0.03, better with steps."""
    return -abs(math.log10(job.config["eta0"]) + 1.5) + 0.01 * job.stop_step


def diverging(job: Job) -> float:
    """Trial 0 diverges; the others as :func:`rising`."""
    return float("nan") if job.trial_id == 0 else rising(job)


class SnapshotExecutor(ScoreFnExecutor):
    """Virtual workers whose checkpoints live in a :class:`Ledger`, with kept snapshots."""

    def __init__(self, score_fn, n_workers: int) -> None:
        super().__init__(score_fn, n_workers)
        self.ledger = Ledger()
        self.tickets: dict[int, object] = {}
        self.clones: list[tuple[tuple[int, int], int]] = []  # (clone_from, token of the copied checkpoint)
        self.written: dict[int, tuple[int, int]] = {}  # token -> (trial, step) it was written at

    def submit(self, job: Job) -> None:
        ticket = self.ledger.open(job, now=self._clock.now())
        if job.clone_from is not None:
            self.clones.append((job.clone_from, ticket.start_token))
        self.tickets[job.trial_id] = ticket
        self._push(job)

    def _push(self, job: Job) -> None:
        import heapq

        heapq.heappush(self._heap, (self._clock.now() + job.n_steps, self._n, job))
        self._n += 1

    def wait(self) -> list[Result]:
        (result,) = super().wait()
        ticket = self.tickets.pop(result.trial_id)
        self.ledger.close(ticket, result, state=f"state {result.trial_id}@{result.step}")
        self.written[ticket.token] = (result.trial_id, result.step)
        return [result]

    def keep(self, trial_id: int, step: int) -> None:
        self.ledger.keep(trial_id, step)

    def drop_kept(self, trial_id: int, step: int) -> None:
        self.ledger.drop_kept(trial_id, step)

    def release(self, trial_id: int) -> None:
        self.ledger.release(trial_id)


class SnapshotLoop(Loop):
    """The loop with snapshot forwarding: keep right after a result, drop after a submit."""

    def __init__(self, scheduler, executor, *args, **kwargs) -> None:
        super().__init__(scheduler, executor, *args, **kwargs)
        scheduler.enable_keeping()

    def drain(self) -> None:
        for trial_id, step in self.scheduler.pop_kept():
            self.executor.keep(trial_id, step)
        super().drain()
        for trial_id, step in self.scheduler.pop_unkept():
            self.executor.drop_kept(trial_id, step)


def run(pbt: PBT, score_fn, workers: int) -> tuple[Trace, SnapshotExecutor]:
    executor = SnapshotExecutor(score_fn, workers)
    trace = Trace()
    SnapshotLoop(pbt, executor, executor.clock, [trace], Budget()).run()
    return trace, executor


@pytest.mark.parametrize("exploit", ["truncation", "tournament"])
@pytest.mark.parametrize("workers", [8, 16])
def test_asynchronous_pbt_exploits_with_as_many_workers_as_members(exploit: str, workers: int) -> None:
    pbt = PBT(SPACE, seed=0, n_trials=8, max_iter=30, perturbation_interval=3, exploit=exploit)
    trace, executor = run(pbt, rising, workers)
    clones = [j for j in trace.jobs if j.clone_from is not None]
    assert len(clones) > 0 and pbt.finished
    assert len(executor.clones) == len(clones)
    for (donor, step), token in executor.clones:
        assert executor.written[token] == (donor, step)  # the checkpoint copied was written there
    assert executor.ledger.kept == {}  # every snapshot was released by the end
    assert sum(j.n_steps for j in trace.jobs) <= 8 * 30


def test_snapshots_are_only_of_top_members_and_released_when_unneeded() -> None:
    pbt = PBT(SPACE, seed=0, n_trials=4, max_iter=12, perturbation_interval=3)
    kept: list[tuple[int, int]] = []
    original = pbt.keep

    def spy(trial_id: int, step: int) -> None:
        _, top = pbt.quantiles()
        assert trial_id in top
        kept.append((trial_id, step))
        original(trial_id, step)

    pbt.keep = spy  # type: ignore[method-assign]
    trace, executor = run(pbt, rising, 4)
    assert kept and pbt.held == set() and executor.ledger.kept == {}
    assert any(j.clone_from is not None for j in trace.jobs)


@pytest.mark.parametrize("exploit", ["truncation", "tournament"])
@pytest.mark.parametrize("workers", [1, 4])
def test_asynchronous_nan_member_is_replaced_and_never_copied(exploit: str, workers: int) -> None:
    pbt = PBT(SPACE, seed=1, n_trials=4, max_iter=30, perturbation_interval=3, exploit=exploit)
    trace, _ = run(pbt, diverging, workers)
    clones = [j for j in trace.jobs if j.clone_from is not None]
    nan_trials = {r.trial_id for r in trace.results if math.isnan(r.score)}
    assert clones and 0 in nan_trials
    assert all(j.clone_from[0] not in nan_trials for j in clones)
    assert 0 not in pbt.members


def test_without_keeping_no_snapshot_is_asked_for() -> None:
    from tunebench.synthetic import play

    pbt = PBT(SPACE, seed=0, n_trials=8, max_iter=12, perturbation_interval=3)
    trace = play(pbt, rising, 8)
    assert pbt.pop_kept() == [] and pbt.held == set() and pbt.finished
    assert sum(j.n_steps for j in trace.jobs) <= 8 * 12
