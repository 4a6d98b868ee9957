"""Play a scheduler to the end on synthetic scores: no data, no training, no executor.

:func:`play` stands in for the runner and an executor at once. It keeps up to
``concurrency`` Jobs out on virtual workers; a Job takes ``n_steps`` units of a virtual
clock, and the Job that finishes first (ties: the one submitted first) reports next, with
the score ``score_fn(job)`` gives for its trial at ``job.stop_step``. The order is fully
determined by the scheduler and ``score_fn``, so tests and benchmarks can replay it exactly.

It also checks what an executor would: a Job starts from its trial's last step (or from the
donor's current step for a clone), and no trial has two Jobs out.

Typical use: ``drive(Hyperband(space, max_iter=27), seeded_curve, concurrency=4)``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Callable

from tunebench.scheduler import Scheduler
from tunebench.trial import Decision, Job, Result

ScoreFn = Callable[[Job], float]


@dataclass
class Trace:
    """Everything that passed between the scheduler and the virtual workers, in order.

    ``seen[j]`` is how many results the scheduler had been given when it suggested ``jobs[j]``.
    """

    jobs: list[Job] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @property
    def steps(self) -> int:
        """Steps trained in total (a resumed trial trains only the steps it had not had)."""
        return sum(r.n_steps for r in self.results)


def seeded_curve(job: Job) -> float:
    """A saturating learning curve whose height is fixed by the trial's seed.

    Trials keep their rank at every step, so a scheduler that cuts by score keeps the
    trials with the highest ``job.seed % 10007``.
    """
    quality = (job.seed % 10007) / 10007
    return quality * job.stop_step / (job.stop_step + 5.0)


def play(
    scheduler: Scheduler,
    score_fn: ScoreFn,
    concurrency: int = 1,
    *,
    max_results: int | None = None,
) -> Trace:
    """Run ``scheduler`` to the end (or ``max_results`` results) on ``concurrency`` virtual workers."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    if max_results is None and not scheduler.bounded:
        raise ValueError(f"{type(scheduler).__name__} never finishes by itself: give max_results")
    trace = Trace()
    jobs, seen, results, decisions = trace.jobs, trace.seen, trace.results, trace.decisions
    suggest, on_result = scheduler.suggest, scheduler.on_result
    out: list[tuple[float, int, Job]] = []
    steps: dict[int, int] = {}
    busy: set[int] = set()
    clock = 0.0
    while True:
        while len(out) < concurrency:
            job = suggest()
            if job is None:
                break
            check_job(job, steps, busy)
            busy.add(job.trial_id)
            heapq.heappush(out, (clock + job.n_steps, len(jobs), job))
            jobs.append(job)
            seen.append(len(results))
        if not out:
            if scheduler.finished:
                return trace
            raise RuntimeError(f"{type(scheduler).__name__} suggested nothing while no Job is out and it is not finished")
        clock, _, job = heapq.heappop(out)
        tid, n = job.trial_id, job.stop_step - job.start_step
        busy.discard(tid)
        steps[tid] = job.stop_step
        result = Result(tid, job.stop_step, float(score_fn(job)), n, "", 0.0, float(n), 0.0, clock)
        results.append(result)
        decisions.append(on_result(result))
        if max_results is not None and len(results) >= max_results:
            return trace


def drive(scheduler: Scheduler, score_fn: ScoreFn, concurrency: int = 1, *, max_results: int | None = None) -> list[Result]:
    """The results of :func:`play`, in the order the scheduler saw them."""
    return play(scheduler, score_fn, concurrency, max_results=max_results).results


def check_job(job: Job, steps: dict[int, int], busy: set[int]) -> None:
    """Raise if ``job`` could not run on a real executor given the checkpoints so far."""
    if job.trial_id in busy:
        raise RuntimeError(f"trial {job.trial_id} already has a Job out")
    if job.clone_from is not None:
        donor, at = job.clone_from
        if steps.get(donor) != at:
            raise RuntimeError(f"clone of trial {donor} at step {at}: its checkpoint is at step {steps.get(donor)}")
    elif job.start_step != steps.get(job.trial_id, 0):
        raise RuntimeError(
            f"trial {job.trial_id}: Job starts at step {job.start_step}, its checkpoint is at {steps.get(job.trial_id, 0)}"
        )
