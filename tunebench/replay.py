"""Retrain one trial of a run from scratch along its recorded schedule, through the loop.

A PBT clone began from its donor's weights, which the donor trained under its own config and
seed, from its own donor's weights, and so on back to an initial member. The journal holds
every Job (trial, config, seed, steps, ``clone_from``), so :func:`schedule` rebuilds that chain
as the exact list of Jobs that produced the trial's weights (:func:`tunebench.chain.lineage`),
for any scheduler's run. :class:`Replay` is a scheduler that plays such a list one Job at a
time; :func:`replay` runs it on any executor (local by default) through
:class:`tunebench.loop.Loop` and lines the new scores up with the recorded ones, step by step.
The final test-score retrain of a run whose best checkpoint was released uses the same pieces.

    tunebench replay runs/sgd-pbt --trial 17 --out curve.csv
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tunebench.chain import lineage
from tunebench.loop import Loop
from tunebench.scheduler import Scheduler
from tunebench.sinks import Sink, Trace
from tunebench.store import RunDir, read_journal
from tunebench.trial import Decision, Job, Result, Trial, TrialStatus


class Replay(Scheduler):
    """Plays ``jobs`` in order, each after the one before has reported (a chain of clones
    needs its donor's checkpoint written first)."""

    name = "replay"

    def __init__(self, jobs: Sequence[Job], *, mode: str = "max") -> None:
        super().__init__(None, mode=mode)
        self.jobs = list(jobs)
        self._next = 0
        self._out = False
        last = {j.trial_id: j.stop_step for j in self.jobs}
        self._last = last
        for j in self.jobs:
            if j.trial_id not in self.trials:
                parent = j.clone_from[0] if j.clone_from is not None else None
                self.trials[j.trial_id] = Trial(j.trial_id, dict(j.config), j.seed, parent=parent)

    def suggest(self) -> Job | None:
        if self._out or self._next == len(self.jobs):
            return None
        job = self.jobs[self._next]
        self._next += 1
        self._out = True
        self.trials[job.trial_id].status = TrialStatus.RUNNING
        return job

    def on_result(self, result: Result) -> Decision:
        self._out = False
        trial = self.record(result)
        done = result.step >= self._last[trial.trial_id]
        return self.set_status(trial, Decision.COMPLETE if done else Decision.CONTINUE)

    @property
    def finished(self) -> bool:
        return not self._out and self._next == len(self.jobs)


def journal_jobs(run_dir: str | Path) -> list[Job]:
    """Every Job of a run that reported, in the order they went out."""
    jobs: dict[tuple[int, int], Job] = {}
    done: set[tuple[int, int]] = set()
    for e in read_journal(run_dir):
        if e["kind"] == "job":
            clone = tuple(e["clone_from"]) if e.get("clone_from") else None
            job = Job(int(e["trial_id"]), e["config"], int(e["seed"]), int(e["start_step"]), int(e["stop_step"]), clone)
            jobs[(job.trial_id, job.stop_step)] = job
        elif e["kind"] == "result":
            done.add((int(e["trial_id"]), int(e["step"])))
    return [j for k, j in jobs.items() if k in done]


def schedule(run_dir: str | Path, trial_id: int) -> list[Job]:
    """The Jobs, in order, that trained ``trial_id``'s final weights from scratch."""
    jobs = journal_jobs(run_dir)
    steps = [j.stop_step for j in jobs if j.trial_id == trial_id]
    if not steps:
        raise KeyError(f"no trial {trial_id} with a result in this run")
    return lineage(jobs, trial_id, max(steps))


def run_chain(jobs: Sequence[Job], executor: Any, mode: str, sinks: Sequence[Sink] = ()) -> Trace:
    """Run ``jobs`` one after another on a started ``executor`` through the loop."""
    trace = Trace()
    Loop(Replay(jobs, mode=mode), executor, executor.clock, [trace, *sinks]).run()
    return trace


def make_executor(config: dict[str, Any], executor: Any) -> Any:
    """An executor instance: the one given, or one named (with the run's options if the same name)."""
    from tunebench import registry

    if executor is None:
        executor = "local"
    if not isinstance(executor, str):
        return executor
    cfg = dict(config.get("executor") or {})
    params = {k: v for k, v in cfg.items() if k != "name"} if cfg.get("name") == executor else {}
    return registry.load("executor", executor)(**params)


def replay(run_dir: str | Path, trial_id: int | None = None, executor: Any = None, *, atol: float = 1e-9) -> pd.DataFrame:
    """Retrain ``trial_id`` (default: the run's best) from scratch; one row per recorded step.

    Columns: ``step``, ``trial_id`` (whose config trained up to that step), ``config`` (JSON),
    ``score`` (now), ``recorded_score`` (in the run), ``match`` (within ``atol``).
    """
    from tunebench.config import load_experiment

    tables = RunDir(run_dir).tables()
    start = tables.start or {}
    if trial_id is None:
        best = tables.best()
        if best is None:
            raise KeyError(f"{str(run_dir)!r} has no scored trial")
        trial_id = int(best["trial_id"])
    jobs = schedule(run_dir, int(trial_id))
    exp = load_experiment(raw=start["config"])
    built = exp.build()
    ex = make_executor(start["config"], executor)
    recorded = tables.results.set_index(["trial_id", "step"])["score"]
    with ex:
        ex.start(built.workload, built.workload.load(exp.seed) if ex.needs_data else None)
        trace = run_chain(jobs, ex, tables.mode)
    rows = []
    for job, result in zip(trace.jobs, trace.results):
        before = float(recorded.loc[(job.trial_id, job.stop_step)])
        rows.append(
            {
                "step": job.stop_step,
                "trial_id": job.trial_id,
                "config": json.dumps(dict(job.config), sort_keys=True),
                "score": result.score,
                "recorded_score": before,
                "match": abs(result.score - before) <= atol,
            }
        )
    return pd.DataFrame(rows, columns=["step", "trial_id", "config", "score", "recorded_score", "match"])
