"""THE loop: suggest -> submit -> wait -> on_result, the only place where it happens.

It is handed a scheduler, an executor, a clock and sinks. It reads time only from the clock
(wall time, or the simulated executor's virtual time) and writes only through the sinks
(journal, progress bar, trace), so real runs, simulated runs, scheduler tests, replay and the
final test-score retrain all share its budgets, best-trial tracking and checkpoint release.
Before the first ``suggest`` it tells the scheduler the step budget and the executor's finite
set of configs, if it has one (``executor.candidates()``, the simulated executor's recorded
configs), which the scheduler hands to its searcher.

Budgets stop the run between Jobs: no Job goes out once one is reached, and the Jobs already
out run to their end (the run ends when they are in). ``total_steps`` is never exceeded: a Job
that would take the run past it is not submitted. ``wall_time_s`` is checked against the clock
before every submission (however long the scheduler took to suggest the Job) and after every
result, so every Job goes out before it, and the run ends later than it by at most what the
Jobs out then still take: on a virtual clock with no queue, at most the longest of them.
``evaluations`` counts the Jobs submitted (a failed Job sent again is the same evaluation) and is
never exceeded: once that many have gone out, no more do. A result reaching ``target_score``
stops new Jobs the same way. The best trial is the one with the best last score (a non-finite
score ranks worst; ties to the lower id; a failed trial is never the best); its checkpoint is
kept, a stopped trial's is released.

A Job that comes back with an ``error`` (its trial raised or ran past ``Failures.timeout_s``;
a NaN score is not an error) is sent again, from the checkpoint it started from, while its
trial has failed at most ``Failures.max_failures`` times; after that the trial is ``failed``:
the scheduler is told (:meth:`~tunebench.scheduler.Scheduler.on_failure`), its checkpoint is
released and the run goes on. Every failed attempt is a ``failure`` event for the sinks.

On an executor that :attr:`~tunebench.executors.base.Executor.keeps` snapshots, a scheduler
that :class:`~tunebench.capabilities.KeepsSnapshots` may ask for them (asynchronous PBT's
donors): :meth:`Loop.drain` passes each ``scheduler.pop_kept()`` to ``executor.keep`` before
anything else goes out, and each ``pop_unkept()`` to ``executor.drop_kept`` after the stopped
trials are released. The rows of a scheduler that :class:`~tunebench.capabilities.EmitsRows`
go to the sinks.

>>> from tunebench.synthetic import play, seeded_curve
>>> from tunebench.space import Space
>>> from tunebench.registry import load
>>> hb = load("scheduler", "hyperband")(Space.from_spec({"x": {"uniform": [0, 1]}}), max_iter=9)
>>> trace = play(hb, seeded_curve, concurrency=2)
>>> trace.steps == hb.metadata()["partial_fit_calls"]
True
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tunebench.capabilities import EmitsRows, keeper
from tunebench.clock import Clock
from tunebench.scores import rank_key
from tunebench.sinks import Sink
from tunebench.trial import Decision, Job, Result, Trial, TrialStatus


@dataclass(frozen=True)
class Budget:
    """Outside limits on a run; ``None`` means no limit. Seconds are the loop clock's. Each stops
    new Jobs from going out; the Jobs out finish (see the module docstring for what that bounds)."""

    total_steps: int | None = None
    wall_time_s: float | None = None
    target_score: float | None = None
    evaluations: int | None = None

    @property
    def any(self) -> bool:
        return self.total_steps is not None or self.wall_time_s is not None or self.evaluations is not None


@dataclass(frozen=True)
class Failures:
    """What a failed Job costs its trial: ``max_failures`` retries (Ray Tune's
    ``FailureConfig(max_failures)``) before the trial is failed, and ``timeout_s``, the most
    seconds one Job may train and score (``None``: no limit)."""

    max_failures: int = 0
    timeout_s: float | None = None


@dataclass
class Outcome:
    """How a loop ended: why, the best trial, the steps trained and the clock's span."""

    stop_reason: str
    best: int | None
    steps: int
    elapsed_s: float
    released: frozenset[int]


class Loop:
    """One run of ``scheduler`` on ``executor``; see the module docstring."""

    def __init__(
        self,
        scheduler: Any,
        executor: Any,
        clock: Clock,
        sinks: Sequence[Sink] = (),
        budget: Budget = Budget(),
        offset_s: float = 0.0,
        failures: Failures = Failures(),
    ) -> None:
        self.scheduler, self.executor, self.clock = scheduler, executor, clock
        self.sinks = list(sinks)
        self.budget = budget
        self.failures = failures
        scheduler.set_budget(budget.total_steps)
        scheduler.set_candidates(executor.candidates())
        self.keeper = keeper(scheduler) if executor.keeps else None
        if self.keeper is not None:
            self.keeper.enable_keeping()
        self.emits_rows = isinstance(scheduler, EmitsRows)
        if failures.max_failures > 0:
            executor.enable_retries()
        self.out: dict[int, Job] = {}
        self.attempts: dict[int, int] = {}
        self.failed: dict[int, str] = {}
        self.mode: str = scheduler.mode
        self.steps_done = self.steps_out = 0
        self.evaluations = 0  # Jobs submitted, each once however often it is sent again
        self.announced: set[int] = set()
        self.released: set[int] = set()
        self.best: int | None = None
        self._ranked: list[tuple[float, int]] | None = None  # see track_best
        self.stop_reason: str | None = None
        self.t0 = clock.now() - offset_s

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Run to the end of the scheduler or the budget; every sink is closed at the end."""
        try:
            self.drain()
            while True:
                self.fill()
                if self.executor.pending == 0:
                    if self.stop_reason is not None or self.scheduler.finished:
                        break
                    raise RuntimeError(
                        f"scheduler {type(self.scheduler).__name__} suggested nothing while no Job is out and it is not finished"
                    )
                self.emit("on_wait")
                for result in self.executor.wait():
                    self.absorb(result)
        finally:
            for sink in self.sinks:
                sink.close()
        return Outcome(
            self.stop_reason or "scheduler_finished", self.best, self.steps_done, self.elapsed(), frozenset(self.released)
        )

    def elapsed(self) -> float:
        return self.clock.now() - self.t0

    def fill(self) -> None:
        """Submit Jobs until the executor is full, the scheduler has nothing to start, or a
        budget says stop."""
        limit, most = self.budget.total_steps, self.budget.evaluations
        while self.stop_reason is None and self.executor.pending < self.executor.capacity:
            if limit is not None and self.steps_done + self.steps_out >= limit:
                self.stop_reason = "total_steps"
                break
            if most is not None and self.evaluations >= most:
                self.stop_reason = "evaluations"
                break
            if self.past_deadline():
                break
            job = self.scheduler.suggest()
            if job is None:
                break
            if limit is not None and self.steps_done + self.steps_out + job.n_steps > limit:
                self.stop_reason = "total_steps"
                break
            if self.past_deadline():
                break
            self.submit(job)
            self.drain()

    def past_deadline(self) -> bool:
        """True (and the run stops) once the clock has reached ``wall_time_s``."""
        if self.budget.wall_time_s is not None and self.elapsed() >= self.budget.wall_time_s:
            self.stop_reason = "wall_time_s"
        return self.stop_reason == "wall_time_s"

    def submit(self, job: Job) -> None:
        if job.trial_id not in self.announced:
            self.announced.add(job.trial_id)
            self.emit("on_trial", self.scheduler.trials[job.trial_id])
        self.emit("on_job", job)
        if self.failures.timeout_s is not None and job.timeout_s is None:
            job = replace(job, timeout_s=self.failures.timeout_s)
        self.out[job.trial_id] = job
        self.executor.submit(job)
        self.steps_out += job.n_steps
        self.evaluations += 1

    def absorb(self, result: Result) -> None:
        """Hand one result to the scheduler and the sinks; track the best; check budgets."""
        result = result.at(self.elapsed())
        if result.error is not None:
            self.fail(result)
            return
        self.out.pop(result.trial_id, None)
        decision = self.scheduler.on_result(result)
        self.steps_done += result.n_steps
        self.steps_out -= result.n_steps
        self.emit("on_result", result, decision)
        self.track_best(result.trial_id)
        self.drain()
        self.check_budget(result)

    def fail(self, result: Result) -> None:
        """A Job failed: send it again while its trial has retries left, else fail the trial."""
        tid, error = result.trial_id, str(result.error)
        job = self.out[tid]
        attempt = self.attempts[tid] = self.attempts.get(tid, 0) + 1
        if attempt <= self.failures.max_failures:
            self.emit("on_failure", job, error, attempt, None)
            self.executor.submit(job)
            return
        del self.out[tid]
        self.steps_out -= job.n_steps
        decision = self.scheduler.on_failure(tid, error)
        self.failed[tid] = error
        self.emit("on_failure", job, error, attempt, decision)
        if self.best == tid:
            best = max(self.scored(), key=self.key, default=None)
            self.best = None if best is None else best.trial_id
        self.release(tid)
        self.drain()

    def check_budget(self, result: Result) -> None:
        if self.stop_reason is not None:
            return
        target = self.budget.target_score
        if target is not None and rank_key(result.score, self.mode) >= rank_key(target, self.mode):
            self.stop_reason = "target_score"
        else:
            self.past_deadline()

    def emit(self, event: str, *args: Any) -> None:
        for sink in self.sinks:
            getattr(sink, event)(*args)

    # -- what the scheduler says besides decisions -------------------------------------------

    def drain(self) -> None:
        """Pass on the scheduler's snapshot requests and table rows; release trials it stopped
        (unless best); then the snapshots it no longer needs."""
        if self.keeper is not None:
            for trial_id, step in self.keeper.pop_kept():
                self.executor.keep(trial_id, step)
        if self.emits_rows:
            for table, row in self.scheduler.pop_rows():
                self.emit("on_row", table, row)
        for tid in self.scheduler.pop_stopped():
            if tid in self.announced:
                self.emit("on_status", tid, TrialStatus.STOPPED.value, None)
            if tid != self.best:
                self.release(tid)
        if self.keeper is not None:
            for trial_id, step in self.keeper.pop_unkept():
                self.executor.drop_kept(trial_id, step)

    def release(self, trial_id: int) -> None:
        if trial_id not in self.released and trial_id in self.announced:
            self.executor.release(trial_id)
            self.released.add(trial_id)

    # -- the best trial ------------------------------------------------------------------------

    def key(self, trial: Trial) -> tuple[float, int]:
        return rank_key(trial.last_score, self.mode), -trial.trial_id

    @property
    def best(self) -> int | None:
        """The best trial; setting it also notes its key at that moment (see :meth:`track_best`)."""
        return self._best

    @best.setter
    def best(self, trial_id: int | None) -> None:
        self._best = trial_id
        self._best_key = None if trial_id is None else self.key(self.scheduler.trials[trial_id])

    def track_best(self, trial_id: int) -> None:
        """Keep the best trial by last score; free the previous best's checkpoint if it stopped.

        Every other trial ranks below the best, so a report compares with the best alone,
        unless it is the best's own and its key went down: then the runner-up is the top of
        :attr:`_ranked`, a heap of every reported key, stale entries dropped as they surface."""
        trials = self.scheduler.trials
        previous = self.best
        key = self.key(trials[trial_id])
        if self._ranked is None:
            self._ranked = [(-k, -tid) for k, tid in map(self.key, self.scored())]
            heapq.heapify(self._ranked)
        heapq.heappush(self._ranked, (-key[0], -key[1]))
        if previous is None or self._best_key is None or (trial_id != previous and key > self._best_key):
            self.best = trial_id
        elif trial_id == previous:
            self.best = trial_id if key >= self._best_key else self.runner_up()
        if previous is not None and previous != self.best and trials[previous].status == TrialStatus.STOPPED:
            self.release(previous)

    def runner_up(self) -> int:
        """The top trial of :attr:`_ranked` whose entry is its current key."""
        assert self._ranked is not None
        trials = self.scheduler.trials
        while True:
            neg, trial_id = self._ranked[0]
            trial = trials[trial_id]
            if trial.last_score is not None and trial.status != TrialStatus.FAILED and self.key(trial)[0] == -neg:
                return trial_id
            heapq.heappop(self._ranked)

    def scored(self) -> Iterable[Trial]:
        return (t for t in self.scheduler.trials.values() if t.last_score is not None and t.status != TrialStatus.FAILED)


__all__ = ["Budget", "Decision", "Failures", "Loop", "Outcome"]
