"""The driver's book of checkpoints and Jobs out, shared by the cluster executors.

Every finished Job writes one checkpoint of its trial, named by a *token* (a number unique within
the run). Workers keep live Trainables tagged with the token of the checkpoint they hold, so a
Job that lands on the worker that ran its trial last continues in memory, and any other worker
restores the checkpoint itself. A Job keeps the checkpoint it starts from until it returns, so a
Job lost with its worker is simply run again from there: no lineage to recompute, nothing that
was recorded is lost. Each ``(trial, step)`` is recorded once; a second copy is dropped.

A *kept* checkpoint is a snapshot of a trial at a step, held by ``(trial, step)`` after the
trial trains on (asynchronous PBT's donors, see ``Scheduler.keep``): a clone Job may start
from it until it is dropped. It holds the state or reference itself, so releasing the trial
does not free it, and a clone Job out keeps its own reference after it is dropped.

A Job that *failed* (its Result carries an ``error``: the trial raised or ran out of time)
writes nothing: the trial's checkpoint stays where the Job started, and the checkpoint the Job
started from is held for the trial, so the same Job sent again (a retry, ``max_failures``)
starts from exactly there, a clone from its donor's state even after the donor trained on.

>>> from tunebench.trial import Job, Result
>>> book = Ledger(max_retries=1)
>>> t = book.open(Job(0, {}, 7, 0, 3), now=0.0)
>>> book.close(t, Result(0, 3, 0.5), state=b"s3")
True
>>> book.close(t, Result(0, 3, 0.5), state=b"s3")
False
>>> book.keep(0, 3)
>>> t = book.open(Job(0, {}, 7, 3, 9), now=1.0)
>>> t.start.state
b's3'
>>> book.close(t, Result(0, 9, 0.7), state=b"s9")
True
>>> t = book.open(Job(1, {}, 8, 3, 6, clone_from=(0, 3)), now=2.0)
>>> t.start.state
b's3'
>>> book.close(t, Result(1, 6, float("nan"), error="ValueError: bad"), state=None)
True
>>> book.drop_kept(0, 3).step
3
>>> book.open(Job(1, {}, 8, 3, 6, clone_from=(0, 3)), now=3.0).start.state
b's3'
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tunebench.executors.base import ExecutorError
from tunebench.trial import Job, Result


@dataclass(frozen=True)
class Checkpoint:
    """A trial's saved state after ``step`` steps; ``state`` is the state or a reference to it,
    ``where`` the worker that also holds it live (if the executor tracks that)."""

    trial_id: int
    step: int
    token: int
    state: Any
    config: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    where: Any = None


@dataclass
class Ticket:
    """One Job out: where it starts from, the token of the checkpoint it writes, its attempts."""

    job: Job
    start: Checkpoint | None
    token: int
    submitted_at: float
    attempts: int = 1
    handle: Any = None
    slot: int | None = None
    generation: int = 0

    @property
    def start_token(self) -> int | None:
        return None if self.start is None else self.start.token

    @property
    def start_state(self) -> Any:
        return None if self.start is None else self.start.state


@dataclass
class Ledger:
    """Checkpoints by trial, tickets out, and the counts that go to ``summary.json``."""

    max_retries: int = 3
    checkpoints: dict[int, Checkpoint] = field(default_factory=dict)
    out: dict[int, Ticket] = field(default_factory=dict)
    recorded: set[tuple[int, int]] = field(default_factory=set)
    kept: dict[tuple[int, int], Checkpoint] = field(default_factory=dict)
    failed: dict[int, Ticket] = field(default_factory=dict)
    retries: int = 0
    duplicates: int = 0
    _tokens: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    def start_of(self, job: Job) -> Checkpoint | None:
        """The checkpoint ``job`` starts from: the donor's for a clone, else its trial's own;
        for the same Job again after it failed, the one the failed attempt started from."""
        before = self.failed.pop(job.trial_id, None)
        if before is not None and (before.job.start_step, before.job.clone_from) == (job.start_step, job.clone_from):
            return before.start
        if job.clone_from is not None:
            donor_id, donor_step = job.clone_from
            donor = self.checkpoints.get(donor_id)
            if donor is not None and donor.step == donor_step:
                return donor
            kept = self.kept.get((donor_id, donor_step))
            if kept is None:
                have = None if donor is None else donor.step
                raise RuntimeError(
                    f"clone of trial {donor_id} at step {donor_step}: its checkpoint is at step {have} and no snapshot was kept there"
                )
            return kept
        if job.start_step == 0:
            return None
        own = self.checkpoints.get(job.trial_id)
        if own is None or own.step != job.start_step:
            have = None if own is None else own.step
            raise RuntimeError(f"trial {job.trial_id}: checkpoint is at step {have}, the Job starts at {job.start_step}")
        return own

    def open(self, job: Job, now: float) -> Ticket:
        """Book a Job going out."""
        if any(t.job.trial_id == job.trial_id for t in self.out.values()):
            raise RuntimeError(f"trial {job.trial_id} already has a Job out")
        ticket = Ticket(job, self.start_of(job), next(self._tokens), now)
        self.out[ticket.token] = ticket
        return ticket

    def close(self, ticket: Ticket, result: Result, state: Any, where: Any = None) -> bool:
        """Record a finished Job; False (and nothing changes) if its ``(trial, step)`` is already in.
        A failed Job's Result is passed on (True) and writes no checkpoint."""
        self.out.pop(ticket.token, None)
        if result.error is not None:
            self.failed[result.trial_id] = ticket
            return True
        key = (result.trial_id, result.step)
        if key in self.recorded:
            self.duplicates += 1
            return False
        self.recorded.add(key)
        job = ticket.job
        self.checkpoints[result.trial_id] = Checkpoint(
            result.trial_id, result.step, ticket.token, state, job.config, job.seed, where
        )
        return True

    def retry(self, ticket: Ticket, reason: str) -> Ticket:
        """Count one more attempt at a Job whose worker was lost; give up after ``max_retries``."""
        if ticket.attempts > self.max_retries:
            self.out.pop(ticket.token, None)
            job = ticket.job
            raise ExecutorError(
                f"trial {job.trial_id} steps {job.start_step}->{job.stop_step}: lost its worker "
                f"{ticket.attempts} times (max_retries={self.max_retries}); last: {reason}"
            )
        ticket.attempts += 1
        self.retries += 1
        return ticket

    def checkpoint(self, trial_id: int) -> Checkpoint:
        ck = self.checkpoints.get(trial_id)
        if ck is None:
            raise KeyError(f"trial {trial_id} has no checkpoint (never run, or released)")
        return ck

    def keep(self, trial_id: int, step: int) -> None:
        """Hold a snapshot of ``trial_id``'s checkpoint at ``step``, which must be its latest
        (or be held already)."""
        if (trial_id, step) in self.kept:
            return
        ck = self.checkpoints.get(trial_id)
        if ck is None or ck.step != step:
            have = None if ck is None else ck.step
            raise RuntimeError(f"keep trial {trial_id} at step {step}: its checkpoint is at step {have}")
        self.kept[(trial_id, step)] = ck

    def drop_kept(self, trial_id: int, step: int) -> Checkpoint | None:
        """Forget a snapshot (a no-op if it is not held)."""
        return self.kept.pop((trial_id, step), None)

    def release(self, trial_id: int) -> Checkpoint | None:
        """Forget a trial's checkpoint (a Job out that clones it keeps its own reference)."""
        self.failed.pop(trial_id, None)
        return self.checkpoints.pop(trial_id, None)

    @property
    def pending(self) -> int:
        return len(self.out)

    def clear(self) -> None:
        self.checkpoints.clear()
        self.kept.clear()
        self.failed.clear()
        self.out.clear()

    def counts(self) -> dict[str, int]:
        return {"retries": self.retries, "duplicates_dropped": self.duplicates}
