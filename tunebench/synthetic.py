"""Play a scheduler on synthetic scores through the real loop: no data, no training.

:class:`ScoreFnExecutor` is an executor whose Jobs take ``n_steps`` units of a virtual clock on
``concurrency`` virtual workers and score ``score_fn(job)``; the Job that finishes first (ties:
the one submitted first) reports next. It checks what a real executor would: a Job starts from
its trial's last step (or the donor's checkpoint for a clone, or a snapshot it keeps), and no
trial has two Jobs out. A ``score_fn`` that raises fails the Job as a workload would (a Result
with ``error``); a Job longer than its ``timeout_s`` fails with a ``TimeoutError`` once that
much virtual time has passed.
:func:`play` runs a scheduler on it through :class:`tunebench.loop.Loop`, so scheduler tests and
the overhead benchmark exercise the loop users run.

Typical use: ``play(Hyperband(space, max_iter=27), seeded_curve, concurrency=4)``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from tunebench.clock import VirtualClock
from tunebench.executors.base import Executor
from tunebench.executors.worker import describe
from tunebench.loop import Budget, Failures, Loop
from tunebench.scheduler import Scheduler
from tunebench.sinks import Trace
from tunebench.trial import Job, Result

ScoreFn = Callable[[Job], float]


def seeded_curve(job: Job) -> float:
    """A saturating learning curve whose height is fixed by the trial's seed.

    Trials keep their rank at every step, so a scheduler that cuts by score keeps the
    trials with the highest ``job.seed % 10007``.
    """
    quality = (job.seed % 10007) / 10007
    return quality * job.stop_step / (job.stop_step + 5.0)


class ScoreFnExecutor(Executor):
    """Virtual workers scoring Jobs with a function; one step takes one virtual second."""

    name = "score-fn"
    needs_data = False
    keeps = True

    def __init__(self, score_fn: ScoreFn, n_workers: int = 1) -> None:
        super().__init__(n_workers)
        self.score_fn = score_fn
        self._clock: VirtualClock = VirtualClock()
        self._heap: list[tuple[float, int, Job]] = []
        self._steps: dict[int, int] = {}
        self._busy: set[int] = set()
        self._kept: set[tuple[int, int]] = set()
        self._failed: dict[int, Job] = {}
        self._n = 0

    def start(self, workload: object = None, data: object = None) -> None:
        """Nothing to start."""

    def submit(self, job: Job) -> None:
        before = self._failed.pop(job.trial_id, None)
        if before is None or (before.start_step, before.clone_from) != (job.start_step, job.clone_from):
            check_job(job, self._steps, self._busy, self._kept)  # a failed Job sent again starts where it did
        self._busy.add(job.trial_id)
        took = float(job.n_steps) if job.timeout_s is None else min(float(job.n_steps), job.timeout_s)
        heapq.heappush(self._heap, (self._clock.now() + took, self._n, job))
        self._n += 1

    def wait(self) -> list[Result]:
        t, _, job = heapq.heappop(self._heap)
        self._clock.advance_to(t)
        tid, n = job.trial_id, job.n_steps
        self._busy.discard(tid)
        try:
            if job.timeout_s is not None and n > job.timeout_s:
                raise TimeoutError(
                    f"Job for trial {tid} (steps {job.start_step}->{job.stop_step}) exceeded timeout_s={job.timeout_s:g}"
                )
            score = float(self.score_fn(job))
        except Exception as exc:
            self._failed[tid] = job
            return [Result(tid, job.stop_step, float("nan"), 0, "", 0.0, 0.0, 0.0, t, error=describe(exc))]
        self._steps[tid] = job.stop_step
        return [Result(tid, job.stop_step, score, n, "", 0.0, float(n), 0.0, t)]

    def keep(self, trial_id: int, step: int) -> None:
        if (trial_id, step) not in self._kept and self._steps.get(trial_id) != step:
            raise RuntimeError(f"keep trial {trial_id} at step {step}: its checkpoint is at step {self._steps.get(trial_id)}")
        self._kept.add((trial_id, step))

    def drop_kept(self, trial_id: int, step: int) -> None:
        self._kept.discard((trial_id, step))

    def release(self, trial_id: int) -> None:
        """Checkpoints are step counts here; a released trial keeps its count for clones' checks."""

    def test_score(self, trial_id: int) -> float:
        raise NotImplementedError("synthetic scores have no test set")

    def shutdown(self) -> None:
        self._heap.clear()

    @property
    def pending(self) -> int:
        return len(self._heap)


def play(
    scheduler: Scheduler,
    score_fn: ScoreFn,
    concurrency: int = 1,
    *,
    total_steps: int | None = None,
    failures: Failures = Failures(),
) -> Trace:
    """Run ``scheduler`` to its end (or ``total_steps``) on ``concurrency`` virtual workers;
    ``failures`` as in a real run (``timeout_s`` in virtual seconds: one per step)."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    if total_steps is None and not scheduler.bounded:
        raise ValueError(f"{type(scheduler).__name__} never finishes by itself: give total_steps")
    executor = ScoreFnExecutor(score_fn, concurrency)
    trace = Trace()
    Loop(scheduler, executor, executor.clock, [trace], Budget(total_steps=total_steps), failures=failures).run()
    return trace


def drive(scheduler: Scheduler, score_fn: ScoreFn, concurrency: int = 1, *, total_steps: int | None = None) -> list[Result]:
    """The results of :func:`play`, in the order the scheduler saw them."""
    return play(scheduler, score_fn, concurrency, total_steps=total_steps).results


def check_job(job: Job, steps: dict[int, int], busy: set[int], kept: set[tuple[int, int]] = frozenset()) -> None:  # type: ignore[assignment]
    """Raise if ``job`` could not run on a real executor given the checkpoints so far and the
    snapshots ``kept``: a clone copies its donor's latest checkpoint while the donor has no Job
    out, or a kept snapshot at the clone step."""
    if job.trial_id in busy:
        raise RuntimeError(f"trial {job.trial_id} already has a Job out")
    if job.clone_from is not None:
        donor, at = job.clone_from
        if job.clone_from not in kept and (steps.get(donor) != at or donor in busy):
            raise RuntimeError(f"clone of trial {donor} at step {at}: its checkpoint is at step {steps.get(donor)}")
    elif job.start_step != steps.get(job.trial_id, 0):
        raise RuntimeError(
            f"trial {job.trial_id}: Job starts at step {job.start_step}, its checkpoint is at {steps.get(job.trial_id, 0)}"
        )
