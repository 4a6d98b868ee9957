"""Resume a run whose driver stopped (Ctrl-C, SIGTERM, ``kill -9``, a reboot) from its journal.

Nothing that reported is redone. A fresh scheduler, built from the journaled config with the
same seed, is fed the journal back (:func:`feed`): each journaled Job must be exactly what it
suggests now, and each journaled result gets the same decision, so the scheduler's state is
the one it had (checked, not assumed). The Jobs that were out go out again, and the
checkpoints of trials that were paused or running are rebuilt on demand from their Job chains
(:class:`tunebench.executors.rebuild.Rebuilding`). With the same seed, the finished tables
equal those of a run that was never interrupted (timing columns aside). A torn last journal
line is skipped. A ``failure`` event replays as it happened: one that was sent again leaves its
Job out (and counts against the trial's ``max_failures``); a final one tells the fresh
scheduler ``on_failure``, whose decision must match the journal's.

    tunebench resume runs/hb
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tunebench.capabilities import keeper, pop_rows
from tunebench.config import ConfigError, load_experiment
from tunebench.executors.rebuild import Rebuilding
from tunebench.run import Prior, RunResult, Session, load_data
from tunebench.sinks import JournalSink
from tunebench.store import RunDir, StoreError, read_journal
from tunebench.store.tables import score_of
from tunebench.trial import Decision, Job, Result

RESULT_FIELDS = (
    "trial_id",
    "step",
    "score",
    "n_steps",
    "worker",
    "queue_s",
    "compute_s",
    "score_s",
    "elapsed_s",
    "test_score",
    "error",
)


class ResumeError(ConfigError):
    """The journal cannot be continued (the run finished, or its scheduler no longer agrees)."""


def job_of(e: dict[str, Any]) -> Job:
    clone = tuple(e["clone_from"]) if e.get("clone_from") else None
    return Job(int(e["trial_id"]), e.get("config") or {}, int(e["seed"]), int(e["start_step"]), int(e["stop_step"]), clone)


def result_of(e: dict[str, Any]) -> Result:
    fields: dict[str, Any] = {k: e.get(k) for k in RESULT_FIELDS if k in e}
    fields["score"] = score_of(e.get("score"))
    return Result(**fields)


def same_job(a: Job, b: Job) -> bool:
    return (a.trial_id, a.start_step, a.stop_step, a.clone_from, a.seed, dict(a.config)) == (
        b.trial_id,
        b.start_step,
        b.stop_step,
        b.clone_from,
        b.seed,
        json.loads(json.dumps(dict(b.config))),
    )


def feed(scheduler: Any, events: Iterable[dict[str, Any]]) -> tuple[Prior, dict[tuple[int, int], float]]:
    """Replay the journal's Jobs and results into a fresh ``scheduler``; what the run had done,
    and every journaled score by ``(trial, step)``."""
    out: dict[int, Job] = {}
    jobs: list[Job] = []
    scores: dict[tuple[int, int], float] = {}
    announced: set[int] = set()
    attempts: dict[int, int] = {}
    failed: dict[int, str] = {}
    steps = 0
    elapsed = 0.0
    snapshots = keeper(scheduler)
    for n, e in enumerate(events):
        kind = e["kind"]
        if kind == "trial":
            announced.add(int(e["trial_id"]))
        elif kind == "job":
            journaled = job_of(e)
            if journaled.trial_id in out:
                continue
            job = scheduler.suggest()
            if job is None or not same_job(journaled, job):
                raise ResumeError(
                    f"cannot resume: journal line {n + 1} has a Job for trial {journaled.trial_id} "
                    f"(steps {journaled.start_step}->{journaled.stop_step}), but the scheduler now suggests "
                    f"{'nothing' if job is None else f'trial {job.trial_id} ({job.start_step}->{job.stop_step})'}; "
                    "was the code or the config changed since the run?"
                )
            out[job.trial_id] = job
        elif kind == "result":
            result = result_of(e)
            decision = scheduler.on_result(result)
            if decision.value != e.get("decision"):
                raise ResumeError(
                    f"cannot resume: journal line {n + 1}: trial {result.trial_id} at step {result.step} was decided "
                    f"{e.get('decision')!r}, the scheduler now decides {decision.value!r}"
                )
            jobs.append(out.pop(result.trial_id))
            scores[(result.trial_id, result.step)] = result.score
            steps += result.n_steps
            elapsed = max(elapsed, float(e.get("elapsed_s") or 0.0))
        elif kind == "failure":
            tid = int(e["trial_id"])
            attempts[tid] = int(e.get("attempt") or attempts.get(tid, 0) + 1)
            if e.get("final"):
                error = str(e.get("error"))
                decision = scheduler.on_failure(tid, error)
                if decision.value != e.get("decision"):
                    raise ResumeError(
                        f"cannot resume: journal line {n + 1}: trial {tid} failed and was decided "
                        f"{e.get('decision')!r}, the scheduler now decides {decision.value!r}"
                    )
                out.pop(tid, None)
                failed[tid] = error
        elif kind == "end":
            elapsed = max(elapsed, float(e.get("wall_time_s") or 0.0))
        pop_rows(scheduler)
        scheduler.pop_stopped()
        if snapshots is not None:  # snapshots of the run so far are gone; a clone of one is rebuilt
            snapshots.pop_kept()
            snapshots.pop_unkept()
    return Prior(jobs, list(out.values()), steps, announced, elapsed, attempts, failed), scores


def resume(
    run_dir: str | Path,
    *,
    progress: bool = True,
    executor: Mapping[str, Any] | None = None,
    scheduler_cls: type | None = None,
) -> RunResult:
    """Continue the run in ``run_dir`` to its end; return its outputs as :func:`tunebench.run.run` does.

    ``executor`` (an executor section) replaces the one the run started on, e.g. a cluster at
    another address; decisions do not depend on it. ``scheduler_cls``, a subclass of the
    journaled scheduler built with the same arguments, continues in its place (``tunebench
    record``'s, whose Jobs ask for the test score too)."""
    rundir = RunDir(run_dir)
    if not rundir.journal_path.is_file():
        raise StoreError(f"{str(rundir.dir)!r} is not a run directory: no journal.jsonl to resume from")
    if rundir.finished and json.loads((rundir.dir / "summary.json").read_text()).get("status") == "completed":
        raise ResumeError(f"{str(rundir.dir)!r} holds a finished run; nothing to resume")
    events = list(read_journal(rundir.journal_path))
    start = next((e for e in events if e["kind"] == "start"), None)
    if start is None:
        raise ResumeError(f"{str(rundir.dir)!r}: the journal has no start line; the run never began")
    exp = load_experiment(raw={**start["config"], **({"executor": dict(executor)} if executor is not None else {})})
    built = exp.build()
    if scheduler_cls is not None:
        built.scheduler = scheduler_cls(built.space, seed=exp.seed, mode=built.workload.mode, **exp.scheduler_params)
    built.scheduler.set_budget(exp.budget.total_steps)
    built.scheduler.set_candidates(built.executor.candidates())
    snapshots = keeper(built.scheduler) if built.executor.keeps else None
    if snapshots is not None:
        snapshots.enable_keeping()
    prior, scores = feed(built.scheduler, events)
    data = load_data(exp, built)
    with built.executor as ex:
        ex.start(built.workload, data)
        journal = rundir.journal()
        sink = JournalSink(journal, prefix="rebuild_")
        first_free = max([*prior.announced, *built.scheduler.trials, -1]) + 1_000_000
        wrapped = Rebuilding(ex, prior.jobs, scores, first_free, on_rebuild=lambda job, r: sink.on_result(r, Decision.CONTINUE))
        built.executor = wrapped
        return Session(exp, built, data, rundir, journal, prior).go(progress)
