"""An executor wrapper that rebuilds missing checkpoints from the journal's Job chains.

A resumed run starts on empty workers: the checkpoints of the trials that were paused or
running when the driver died are gone. When a Job needs one (its trial's state at its start
step, or a clone's donor state), :class:`Rebuilding` first runs the journaled Jobs that built
that state (:func:`tunebench.chain.lineage`): the trial's own Jobs under its own id, its
ancestors' under fresh ids so they never collide with live trials. Each rebuilt score must
equal the journaled one (training is deterministic per seed), so a resumed run continues from
exactly the weights it had. Results of other Jobs that arrive meanwhile are held and handed
out by the next :meth:`wait`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from tunebench.chain import lineage
from tunebench.clock import Clock
from tunebench.scores import same_score
from tunebench.trial import Job, Result


class Rebuilding:
    """Wraps an executor; see the module docstring. ``on_rebuild`` sees every rebuild Result."""

    def __init__(
        self,
        inner: Any,
        jobs: Sequence[Job],
        scores: dict[tuple[int, int], float],
        first_free_id: int,
        on_rebuild: Callable[[Job, Result], None] | None = None,
    ) -> None:
        self.inner = inner
        self.jobs = list(jobs)
        self.scores = scores
        self.have: dict[int, int] = {}
        self.held: list[Result] = []
        self.next_id = first_free_id
        self.rebuilt = 0
        self.temporary: list[int] = []
        self.on_rebuild = on_rebuild or (lambda job, result: None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def clock(self) -> Clock:
        return self.inner.clock

    @property
    def pending(self) -> int:
        return self.inner.pending + len(self.held)

    def submit(self, job: Job) -> None:
        if job.clone_from is not None:
            donor, at = job.clone_from
            if self.have.get(donor) != at:
                job = replace(job, clone_from=(self.rebuild(donor, at, own=False), at))
        elif job.start_step > 0 and self.have.get(job.trial_id) != job.start_step:
            self.rebuild(job.trial_id, job.start_step, own=True)
        self.inner.submit(job)
        for tid in self.temporary:
            self.inner.release(tid)
        self.temporary.clear()

    def rebuild(self, trial_id: int, step: int, *, own: bool) -> int:
        """Bring ``trial_id``'s state at ``step`` onto the executor; return the id it lives under."""
        chain = lineage(self.jobs, trial_id, step)
        ids: dict[int, int] = {}
        for j in chain:
            if j.trial_id not in ids:
                ids[j.trial_id] = j.trial_id if (own and j.trial_id == trial_id) else self.fresh()
            clone = (ids[j.clone_from[0]], j.clone_from[1]) if j.clone_from is not None else None
            self.run_one(replace(j, trial_id=ids[j.trial_id], clone_from=clone), j)
        return ids[trial_id]

    def fresh(self) -> int:
        """A trial id no journaled trial has; released once the Job that needed it is out."""
        self.next_id += 1
        self.temporary.append(self.next_id - 1)
        return self.next_id - 1

    def run_one(self, job: Job, original: Job) -> None:
        """Run one rebuild Job to its end; every other result of the batches waited on is held."""
        self.inner.submit(job)
        mine: Result | None = None
        while mine is None:
            for r in self.inner.wait():
                if mine is None and r.trial_id == job.trial_id and r.step == job.stop_step:
                    mine = r
                else:
                    self.note(r)
                    self.held.append(r)
        self.check(original, mine)
        self.have[job.trial_id] = mine.step
        self.rebuilt += 1
        self.on_rebuild(job, mine)

    def check(self, job: Job, result: Result) -> None:
        recorded = self.scores.get((job.trial_id, job.stop_step))
        if not same_score(result.score, recorded):
            raise RuntimeError(
                f"cannot resume: retraining trial {job.trial_id} to step {job.stop_step} scored {result.score}, "
                f"the journal says {recorded}"
            )

    def note(self, result: Result) -> None:
        if result.error is None:  # a failed Job wrote no checkpoint
            self.have[result.trial_id] = result.step

    def wait(self) -> list[Result]:
        if self.held:
            out, self.held = self.held, []
            return out
        results = self.inner.wait()
        for r in results:
            self.note(r)
        return results

    def test_score(self, trial_id: int) -> float:
        """A trial that finished before the interruption is rebuilt first."""
        if trial_id not in self.have:
            self.rebuild(trial_id, max(j.stop_step for j in self.jobs if j.trial_id == trial_id), own=True)
        return float(self.inner.test_score(trial_id))

    def release(self, trial_id: int) -> None:
        self.have.pop(trial_id, None)
        self.inner.release(trial_id)

    def stats(self) -> dict[str, Any]:
        return {**self.inner.stats(), "rebuilt_jobs": self.rebuilt}
