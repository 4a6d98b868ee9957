"""Observers of the loop's events: the journal, a progress bar, an in-memory trace.

The loop writes only through its sinks, so the same loop runs real runs (journal and bar),
simulated ones, scheduler tests (a :class:`Trace`) and the final test-score retrain (a journal
under another event name). A sink implements the methods it cares about; the rest do nothing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from typing import Any

from tunebench.store.journal import Journal
from tunebench.trial import Decision, Job, Result, Trial


class Sink:
    """Base sink: every event is ignored unless a subclass overrides it."""

    def on_trial(self, trial: Trial) -> None:
        """A trial's first Job is about to go out."""

    def on_job(self, job: Job) -> None:
        """A Job goes out."""

    def on_result(self, result: Result, decision: Decision) -> None:
        """A Job came back and the scheduler decided."""

    def on_status(self, trial_id: int, status: str, error: str | None = None) -> None:
        """A trial changed status without a result of its own (stopped at a rung)."""

    def on_failure(self, job: Job, error: str, attempt: int, decision: Decision | None) -> None:
        """``job`` failed with ``error`` (``"Type: message"``), its trial's ``attempt``-th
        failure; ``decision`` is the scheduler's once the trial is failed for good, ``None``
        when the Job is sent again."""

    def on_row(self, table: str, row: dict[str, Any]) -> None:
        """A row of a scheduler's own table (PBT's lineage)."""

    def on_wait(self) -> None:
        """The loop is about to block for results: everything decided so far has been sent."""

    def close(self) -> None:
        """The loop is over."""


RESULT_FIELDS = tuple(f.name for f in fields(Result))


class JournalSink(Sink):
    """Every event as a journal line; ``prefix`` renames the events (``retrain_job``, ...).

    Lines are held by the journal and flushed in one write at each :meth:`on_wait` and at
    :meth:`close` (see :mod:`tunebench.store.journal`); failures flush at once.
    """

    def __init__(self, journal: Journal, prefix: str = "") -> None:
        self.journal, self.prefix = journal, prefix

    def on_trial(self, trial: Trial) -> None:
        self.journal.write(
            self.prefix + "trial",
            {"trial_id": trial.trial_id, "config": trial.config, "seed": trial.seed, "parent": trial.parent, "tags": trial.tags},
        )

    def on_job(self, job: Job) -> None:
        self.journal.write(
            self.prefix + "job",
            {
                "trial_id": job.trial_id,
                "start_step": job.start_step,
                "stop_step": job.stop_step,
                "clone_from": job.clone_from,
                "config": dict(job.config),
                "seed": job.seed,
            },
        )

    def on_result(self, result: Result, decision: Decision) -> None:
        row: dict[str, Any] = {"decision": decision.value}
        for name in RESULT_FIELDS:
            row[name] = getattr(result, name)
        self.journal.write(self.prefix + "result", row)

    def on_status(self, trial_id: int, status: str, error: str | None = None) -> None:
        self.journal.write(self.prefix + "status", {"trial_id": trial_id, "status": status, "error": error})

    def on_failure(self, job: Job, error: str, attempt: int, decision: Decision | None) -> None:
        self.journal.log(
            self.prefix + "failure",
            trial_id=job.trial_id,
            start_step=job.start_step,
            stop_step=job.stop_step,
            clone_from=job.clone_from,
            error=error,
            attempt=attempt,
            final=decision is not None,
            decision=None if decision is None else decision.value,
        )

    def on_row(self, table: str, row: dict[str, Any]) -> None:
        self.journal.write(self.prefix + "table", {"name": table, "row": row})

    def on_wait(self) -> None:
        self.journal.flush()

    def close(self) -> None:
        self.journal.flush()


class ProgressSink(Sink):
    """A tqdm bar of steps trained, out of the scheduler's plan or the step budget."""

    def __init__(self, total: int | None, desc: str) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, unit="step", desc=desc, file=sys.stderr, dynamic_ncols=True)

    def on_result(self, result: Result, decision: Decision) -> None:
        self.bar.update(result.n_steps)

    def close(self) -> None:
        self.bar.close()


@dataclass
class Trace(Sink):
    """Everything that passed between the scheduler and the executor, in order.

    ``seen[j]`` is how many results the scheduler had been given when ``jobs[j]`` went out.
    """

    jobs: list[Job] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    statuses: list[tuple[int, str, str | None]] = field(default_factory=list)
    failures: list[tuple[Job, str, int, Decision | None]] = field(default_factory=list)
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def on_job(self, job: Job) -> None:
        self.jobs.append(job)
        self.seen.append(len(self.results))

    def on_result(self, result: Result, decision: Decision) -> None:
        self.results.append(result)
        self.decisions.append(decision)

    def on_status(self, trial_id: int, status: str, error: str | None = None) -> None:
        self.statuses.append((trial_id, status, error))

    def on_failure(self, job: Job, error: str, attempt: int, decision: Decision | None) -> None:
        self.failures.append((job, error, attempt, decision))

    def on_row(self, table: str, row: dict[str, Any]) -> None:
        self.rows.append((table, row))

    @property
    def steps(self) -> int:
        """Steps trained in total (a resumed trial trains only the steps it had not had)."""
        return sum(r.n_steps for r in self.results)
