"""Asynchronous PBT at full concurrency: donors are kept snapshots, so exploits happen at any
worker count, and every clone copies a checkpoint that was really written.

The real loop forwards the scheduler's snapshot requests (``pop_kept`` / ``pop_unkept``) to
the executor's ``keep`` / ``drop_kept``. Here the executor is first a virtual one whose
checkpoints live in the cluster executors' ledger, which records every checkpoint written and
refuses a clone of any other; then the simulated and local executors through ``run()``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.helpers import tiny_config
from tunebench.config import load_experiment
from tunebench.executors.ledger import Ledger
from tunebench.executors.local import LocalExecutor
from tunebench.loop import Budget, Loop
from tunebench.run import run as run_experiment
from tunebench.sinks import Trace
from tunebench.space import Space
from tunebench.store import read_journal
from tunebench.synthetic import ScoreFnExecutor
from tunebench.trial import Job, Result

from schedulers.pbt import PBT

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


def run(pbt: PBT, score_fn, workers: int) -> tuple[Trace, SnapshotExecutor]:
    executor = SnapshotExecutor(score_fn, workers)
    trace = Trace()
    Loop(pbt, executor, executor.clock, [trace], Budget()).run()
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
    original = pbt.pop_kept

    def spy() -> list[tuple[int, int]]:
        asked = original()
        _, top = pbt.quantiles()
        assert all(trial_id in top for trial_id, _ in asked)
        kept.extend(asked)
        return asked

    pbt.pop_kept = spy  # type: ignore[method-assign]
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


PBT_ASYNC = {"name": "pbt", "n_trials": 8, "max_iter": 27, "perturbation_interval": 3, "synch": False}


@pytest.mark.parametrize("workers", [8, 16])
def test_run_on_simulated_exploits_with_as_many_workers_as_members(tmp_path: Path, workers: int) -> None:
    raw = tiny_config(PBT_ASYNC)
    raw["executor"] = {"name": "simulated", "curves": "sgd-circles", "n_workers": workers}
    out = run_experiment(load_experiment(raw=raw), tmp_path / "sim", progress=False)
    log = out.extra["pbt_log"]
    clones = log[log["strategy"] != "init"]
    assert out.summary["status"] == "completed" and len(clones) > 0
    assert (out.trials["parent"].notna()).sum() == len(clones)
    assert from_snapshots(tmp_path / "sim") > 0


def from_snapshots(run_dir: Path) -> int:
    """Clone Jobs whose donor had already trained past the clone step when they went out:
    they could only start from a kept snapshot."""
    out_from: dict[int, int] = {}  # trial -> start step of its latest Job out
    n = 0
    for e in read_journal(run_dir):
        if e["kind"] != "job":
            continue
        if e["clone_from"] is not None:
            donor, step = e["clone_from"]
            n += out_from.get(donor, -1) >= step
        out_from[e["trial_id"]] = e["start_step"]
    return n


class CountingLocal(LocalExecutor):
    """The local executor, counting the snapshots it is asked to keep and to drop."""

    def __init__(self) -> None:
        super().__init__()
        self.kept_calls: list[tuple[int, int]] = []
        self.dropped: list[tuple[int, int]] = []

    def keep(self, trial_id: int, step: int) -> None:
        self.kept_calls.append((trial_id, step))
        super().keep(trial_id, step)

    def drop_kept(self, trial_id: int, step: int) -> None:
        self.dropped.append((trial_id, step))
        super().drop_kept(trial_id, step)


def test_run_on_local_keeps_snapshots_and_exploits(tmp_path: Path) -> None:
    """The local executor runs one Job at a time, so a donor is always paused when a member
    loses; the loop still passes every snapshot request on and every release back."""
    raw = tiny_config({**PBT_ASYNC, "n_trials": 4, "max_iter": 12})
    executor = CountingLocal()
    out = run_experiment(load_experiment(raw=raw), tmp_path / "local", progress=False, executor=executor)
    log = out.extra["pbt_log"]
    assert out.summary["status"] == "completed" and (log["strategy"] != "init").any()
    assert executor.kept_calls and set(executor.kept_calls) == set(executor.dropped)
