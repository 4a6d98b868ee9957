"""The loop: ask the scheduler, run on the executor, journal every result, honour the budget.

From Python::

    from tunebench.config import load_experiment
    from tunebench.runner import run

    out = run(load_experiment("configs/sgd-hyperband.yaml", ["executor.name=local"]), "runs/hb")
    print(out.summary["best_score"], out.results.head())
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from tunebench import __version__
from tunebench.config import ConfigError, Experiment
from tunebench.store import Store, jsonable, results_frame, trials_frame
from tunebench.trial import Job, Result, TrialStatus
from tunebench.workloads.base import Dataset


@dataclass
class RunResult:
    """What a run produced: the summary and its tables (also on disk under ``out_dir``)."""

    summary: dict[str, Any]
    results: pd.DataFrame
    trials: pd.DataFrame
    out_dir: Path
    extra: dict[str, pd.DataFrame]


def default_out_dir(exp: Experiment) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{exp.name}-{exp.scheduler_name}-{exp.executor_name}-seed{exp.seed}-{stamp}"


def utilization(results: pd.DataFrame, slots: int, wall_time_s: float) -> float:
    """Busy fraction of the worker slots: summed Job compute and scoring over slots x wall time."""
    if wall_time_s <= 0 or slots <= 0 or results.empty:
        return 0.0
    return float((results["compute_s"].sum() + results["score_s"].sum()) / (slots * wall_time_s))


class _Loop:
    """The state of one run while it goes."""

    def __init__(self, exp: Experiment, progress: bool) -> None:
        self.exp = exp
        self.workload = exp.make_workload()
        self.space = exp.make_space(self.workload)
        self.scheduler = exp.make_scheduler(self.space, self.workload.mode)
        self.executor = exp.make_executor()
        self.rows: list[dict[str, Any]] = []
        self.steps_done = 0
        self.steps_out = 0
        self.seen: set[int] = set()
        self.best: int | None = None
        self.released: set[int] = set()
        self.stop_reason: str | None = None
        self.progress = progress
        self.data: Dataset | None = None
        self.t0 = time.time()

    def open(self, store: Store) -> None:
        self.store = store
        meta = self.scheduler.metadata() or {}
        total = meta.get("partial_fit_calls") or self.exp.budget.total_steps
        self.bar = tqdm(total=total, unit="step", desc=f"{self.exp.scheduler_name}@{self.exp.executor_name}",
                        disable=not self.progress, file=sys.stderr, dynamic_ncols=True)
        self.t0 = time.time()

    def key(self, score: float) -> float:
        return self.scheduler.key(score)

    def fill(self) -> None:
        """Submit Jobs until the executor is full or the scheduler has nothing to start."""
        budget = self.exp.budget.total_steps
        while self.stop_reason is None and self.executor.pending < self.executor.capacity:
            if budget is not None and self.steps_done + self.steps_out >= budget:
                self.stop_reason = "total_steps"
                break
            job = self.scheduler.suggest()
            if job is None:
                break
            if job.trial_id not in self.seen:
                self.seen.add(job.trial_id)
                self.store.log_trial(self.scheduler.trials[job.trial_id])
            self.store.log_job(job)
            self.executor.submit(job)
            self.steps_out += job.n_steps

    def absorb(self, result: Result) -> None:
        result = replace(result, elapsed_s=time.time() - self.t0)
        decision = self.scheduler.on_result(result)
        self.store.log_result(result, decision)
        self.rows.append({**jsonable(result.__dict__), "decision": decision.value})
        self.steps_done += result.n_steps
        self.steps_out -= result.n_steps
        self.bar.update(result.n_steps)
        self.track_best(result)
        target = self.exp.budget.target_score
        if target is not None and self.key(result.score) >= self.key(target) and self.stop_reason is None:
            self.stop_reason = "target_score"
        wall = self.exp.budget.wall_time_s
        if wall is not None and time.time() - self.t0 >= wall and self.stop_reason is None:
            self.stop_reason = "wall_time_s"

    def better(self, a: int, b: int) -> bool:
        """Trial ``a`` ranks above ``b`` by last score (ties: the lower id)."""
        ta, tb = self.scheduler.trials[a], self.scheduler.trials[b]
        return (self.key(ta.last_score), -a) > (self.key(tb.last_score), -b)

    def track_best(self, result: Result) -> None:
        """Keep the best trial (by last score) and its checkpoint; free stopped trials' ones."""
        trials = self.scheduler.trials
        tid, previous = result.trial_id, self.best
        if previous is None or (tid != previous and self.better(tid, previous)):
            self.best = tid
        elif tid == previous:
            scored = [t for t in trials.values() if t.last_score is not None]
            self.best = max(scored, key=lambda t: (self.key(t.last_score), -t.trial_id)).trial_id
        if previous is not None and previous != self.best and trials[previous].status == TrialStatus.STOPPED:
            self.release(previous)
        for stopped in self.scheduler.pop_stopped():
            if stopped != self.best:
                self.release(stopped)

    def release(self, trial_id: int) -> None:
        if trial_id not in self.released:
            self.executor.release(trial_id)
            self.released.add(trial_id)

    def test_score(self) -> float | None:
        """The best trial scored on the test set; retrained from scratch if its checkpoint was freed."""
        if self.best is None:
            return None
        trial = self.scheduler.trials[self.best]
        if self.best in self.released:
            self.executor.submit(Job(trial.trial_id, dict(trial.config), trial.seed, 0, trial.steps))
            (again,) = self.executor.wait()
            if again.score != trial.last_score:
                raise RuntimeError(f"trial {trial.trial_id} retrained to step {trial.steps} scored {again.score}, not {trial.last_score}")
        return self.executor.test_score(self.best)

    def go(self) -> None:
        while True:
            self.fill()
            if self.executor.pending == 0:
                if self.stop_reason is not None or self.scheduler.finished:
                    break
                raise RuntimeError(
                    f"scheduler {self.exp.scheduler_name!r} suggested nothing while no Job is out and it is not finished"
                )
            for result in self.executor.wait():
                self.absorb(result)
        self.bar.close()


def run(exp: Experiment, out_dir: str | Path | None = None, *, progress: bool = True) -> RunResult:
    """Run an experiment to the end of its scheduler or budget; write and return its outputs.

    The data is loaded and the executor started before anything is written, so a bad data
    file or an unreachable cluster leaves no output directory behind.
    """
    loop = _Loop(exp, progress)
    try:
        loop.data = loop.workload.load(exp.seed)
    except (ValueError, FileNotFoundError) as exc:
        raise ConfigError(f"workload {exp.workload_name!r}: {exc}") from None
    status, error, test_score, stats = "completed", None, None, {}
    with loop.executor:
        loop.executor.start(loop.workload, loop.data)
        store = Store(out_dir if out_dir is not None else default_out_dir(exp))
        store.log("start", config=exp.resolved(), version=__version__, time=datetime.now(timezone.utc).isoformat())
        loop.open(store)
        try:
            loop.go()
            test_score = loop.test_score()
        except KeyboardInterrupt:
            status, error = "interrupted", "interrupted by the user"
            raise
        except BaseException as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            loop.bar.close()
            wall = time.time() - loop.t0
            stats = loop.executor.stats()
            out = finish(loop, status, error, test_score, wall, stats)
            store.log("end", status=status, error=error, wall_time_s=wall)
            store.close()
    return out


def finish(loop: _Loop, status: str, error: str | None, test_score: float | None, wall: float, stats: dict[str, Any]) -> RunResult:
    exp, scheduler = loop.exp, loop.scheduler
    results = results_frame(loop.rows)
    trials = trials_frame(scheduler.trials.values())
    best = scheduler.trials[loop.best] if loop.best is not None else None
    slots = loop.executor.slots
    summary = {
        "name": exp.name,
        "status": status,
        "error": error,
        "stop_reason": loop.stop_reason or ("scheduler_finished" if status == "completed" else None),
        "scheduler": exp.scheduler_name,
        "executor": exp.executor_name,
        "workload": exp.workload_name,
        "metric": loop.workload.metric,
        "mode": loop.workload.mode,
        "seed": exp.seed,
        "n_trials": len(scheduler.trials),
        "n_results": len(results),
        "partial_fit_calls": int(results["n_steps"].sum()) if not results.empty else 0,
        "best_trial": best.trial_id if best else None,
        "best_score": best.last_score if best else None,
        "best_config": best.config if best else None,
        "test_score": test_score,
        "wall_time_s": wall,
        "utilization": utilization(results, slots, wall),
        "metadata": scheduler.metadata(),
        "executor_stats": stats,
        "data": loop.data.sizes() if loop.data is not None else None,
        "config": exp.resolved(),
        "tunebench_version": __version__,
    }
    extra = {name: pd.DataFrame([jsonable(r) for r in rows]) for name, rows in scheduler.extra_tables().items()}
    loop.store.write_outputs(summary, results, trials, extra)
    return RunResult(jsonable(summary), results, trials, loop.store.dir, extra)
