"""Run an experiment: build it, start the executor, loop with journal and progress sinks, then
derive the tables from the journal and write them.

From Python::

    from tunebench.config import load_experiment
    from tunebench.run import run

    out = run(load_experiment("configs/sgd-hyperband.yaml", ["executor.name=local"]), "runs/hb")
    print(out.summary["best_score"], out.results.head())

``run`` also takes plugins already built (``workload=``, ``scheduler=``, ``executor=``): the
injection point for tests and for the scikit-learn and Ray Tune integrations.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tunebench.chain import lineage, renumbered
from tunebench.config import Built, ConfigError, Experiment
from tunebench.convert import to_spec
from tunebench.loop import Loop, Outcome
from tunebench.replay import run_chain
from tunebench.scores import regrets, same_score
from tunebench.sinks import JournalSink, ProgressSink, Sink, Trace
from tunebench.store import Journal, RunDir, Tables, counts, jsonable
from tunebench.version import __version__


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


def space_spec(space: Any) -> dict[str, Any] | None:
    """The run's space in YAML form for its ``start`` line, so a recording made from the run
    knows the space without building the workload again; ``None`` when a domain has no YAML
    form (a frozen scipy.stats distribution from ``TuneSearchCV``)."""
    try:
        return to_spec(space)
    except ValueError:
        return None


def utilization(results: pd.DataFrame, slots: int, wall_time_s: float) -> float:
    """Busy fraction of the worker slots: summed Job compute and scoring over slots x wall time."""
    if wall_time_s <= 0 or slots <= 0 or results.empty:
        return 0.0
    return float((results["compute_s"].sum() + results["score_s"].sum()) / (slots * wall_time_s))


def load_data(exp: Experiment, built: Built) -> Any:
    """The workload's data, or ``None`` for an executor that runs without it; a bad data file
    is a :class:`ConfigError` before anything is written."""
    if not built.executor.needs_data:
        return None
    try:
        return built.workload.load(exp.seed)
    except (ValueError, FileNotFoundError) as exc:
        raise ConfigError(f"workload {exp.workload_name!r}: {exc}") from None


def run(
    exp: Experiment,
    out_dir: str | Path | None = None,
    *,
    progress: bool = True,
    workload: Any = None,
    scheduler: Any = None,
    executor: Any = None,
    sinks: Sequence[Sink] = (),
) -> RunResult:
    """Run ``exp`` to the end of its scheduler or budget; write and return its outputs.

    ``sinks`` hear the loop's events beside the journal (and the step bar when ``progress``).
    The data is loaded and the executor started before anything is written, so a bad data
    file or an unreachable cluster leaves no output directory behind.
    """
    built = exp.build(workload=workload, scheduler=scheduler, executor=executor)
    data = load_data(exp, built)
    with built.executor as ex:
        ex.start(built.workload, data)
        rundir = RunDir.create(out_dir if out_dir is not None else default_out_dir(exp))
        journal = rundir.journal()
        return Session(exp, built, data, rundir, journal, extra=sinks).go(progress)


class TrialsFailed(RuntimeError):
    """Every trial of a run failed; its journal and tables are written (``tunebench run`` exits 1)."""

    def __init__(self, out_dir: Path, failed: dict[int, str]) -> None:
        first = failed[min(failed)]
        super().__init__(
            f"all {len(failed)} trial(s) failed (first: trial {min(failed)}: {first}); see {out_dir / 'journal.jsonl'}"
        )
        self.out_dir = out_dir


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run; its tables so far are written and it can be resumed."""

    def __init__(self, out_dir: Path) -> None:
        super().__init__(str(out_dir))
        self.out_dir = out_dir


@dataclass
class Prior:
    """What a resumed run had done: Jobs that reported, Jobs that were out, steps, trials seen,
    the clock's span so far, each trial's failed attempts and the failed trials' errors (see
    :mod:`tunebench.resume`)."""

    jobs: list[Any]
    outstanding: list[Any]
    steps_done: int
    announced: set[int]
    elapsed_s: float
    attempts: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def evaluations(self) -> int:
        """The Jobs the run had sent, each once however often it was sent again: those that
        reported, those whose trial failed for good, and those still out."""
        return len(self.jobs) + len(self.failed) + len(self.outstanding)


class Session:
    """One run (or the rest of a resumed one) from its first journal line to its summary."""

    def __init__(
        self,
        exp: Experiment,
        built: Built,
        data: Any,
        rundir: RunDir,
        journal: Journal,
        prior: Prior | None = None,
        extra: Sequence[Sink] = (),
    ) -> None:
        self.exp, self.built, self.data, self.rundir, self.journal = exp, built, data, rundir, journal
        self.prior = prior
        self.extra = list(extra)
        self.trace = Trace(jobs=list(prior.jobs) if prior else [])
        self.outcome: Outcome | None = None

    def sinks(self, progress: bool) -> list[Sink]:
        sinks: list[Sink] = [JournalSink(self.journal), self.trace]
        if progress:
            meta = self.built.scheduler.metadata() or {}
            total = meta.get("partial_fit_calls") or self.exp.budget.total_steps
            sinks.append(ProgressSink(total, f"{self.exp.scheduler_name}@{self.exp.executor_name}"))
        return [*sinks, *self.extra]

    def go(self, progress: bool) -> RunResult:
        exp, b = self.exp, self.built
        now = datetime.now(UTC).isoformat()
        if self.prior is None:
            self.journal.log(
                "start",
                config=exp.resolved(),
                version=__version__,
                time=now,
                scheduler=exp.scheduler_name,
                executor=exp.executor_name,
                workload=exp.workload_name,
                metric=b.workload.metric,
                mode=b.workload.mode,
                seed=exp.seed,
                space=space_spec(b.space),
            )
        status, error, test_score = "completed", None, None
        real0 = time.monotonic()
        loop = Loop(
            b.scheduler,
            b.executor,
            b.executor.clock,
            self.sinks(progress),
            exp.budget,
            offset_s=self.prior.elapsed_s if self.prior else 0.0,
            failures=exp.failures,
        )
        try:
            if self.prior is not None:
                self.journal.log("resume", time=now, version=__version__, outstanding=len(self.prior.outstanding))
                self.prime(loop, self.prior)
            self.outcome = loop.run()
            if loop.failed and set(loop.failed) == loop.announced:
                raise TrialsFailed(self.rundir.dir, loop.failed)
            test_score = self.test_score(self.outcome)
        except KeyboardInterrupt:
            status, error = "interrupted", "interrupted by the user"
            raise RunInterrupted(self.rundir.dir) from None
        except BaseException as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            wall = loop.elapsed()
            self.journal.log(
                "end",
                status=status,
                error=error,
                wall_time_s=wall,
                real_time_s=time.monotonic() - real0,
                stop_reason=loop.stop_reason or ("scheduler_finished" if status == "completed" else None),
                test_score=test_score,
                evaluations=loop.evaluations,
            )
            self.journal.close()
            out = self.write(b.executor.stats())
        return out

    def prime(self, loop: Loop, prior: Prior) -> None:
        """Give a fresh loop the state of the run so far, and send the Jobs that were out again."""
        loop.steps_done = prior.steps_done
        loop.announced = set(prior.announced)
        loop.attempts = dict(prior.attempts)
        loop.failed = dict(prior.failed)
        scored = list(loop.scored())
        loop.best = max(scored, key=loop.key).trial_id if scored else None
        for job in prior.outstanding:
            loop.submit(job)
        loop.evaluations = prior.evaluations

    def test_score(self, outcome: Outcome) -> float | None:
        """The best trial's test score; if its checkpoint was released, it is retrained along
        its lineage first (journaled as ``retrain_*`` events) and must score as it did."""
        if outcome.best is None:
            return None
        trials, ex = self.built.scheduler.trials, self.built.executor
        best = trials[outcome.best]
        if outcome.best not in outcome.released:
            return float(ex.test_score(outcome.best))
        chain = renumbered(lineage(self.trace.jobs, best.trial_id, best.steps), max(trials) + 1)
        again = run_chain(chain, ex, self.built.scheduler.mode, [JournalSink(self.journal, prefix="retrain_")]).results[-1]
        if not same_score(again.score, best.last_score):
            raise RuntimeError(
                f"trial {best.trial_id} retrained to step {best.steps} scored {again.score}, not {best.last_score}"
            )
        return float(ex.test_score(again.trial_id))

    def write(self, stats: dict[str, Any]) -> RunResult:
        tables = self.rundir.tables()
        summary = self.summary(tables, stats)
        self.rundir.write(tables, summary)
        return RunResult(jsonable(summary), tables.results, tables.trials, self.rundir.dir, tables.extra)

    def summary(self, tables: Tables, stats: dict[str, Any]) -> dict[str, Any]:
        exp, b = self.exp, self.built
        end = tables.end or {}
        wall = float(end.get("wall_time_s") or 0.0)
        scores = counts(tables)
        return {
            "name": exp.name,
            "status": end.get("status", "interrupted"),
            "error": end.get("error"),
            "stop_reason": end.get("stop_reason"),
            "evaluations": end.get("evaluations"),
            "scheduler": exp.scheduler_name,
            "executor": exp.executor_name,
            "workload": exp.workload_name,
            "metric": b.workload.metric,
            "mode": b.workload.mode,
            "seed": exp.seed,
            **scores,
            "test_score": end.get("test_score"),
            **regrets(scores.get("best_score"), end.get("test_score"), getattr(b.workload, "optimum", None), b.workload.mode),
            "wall_time_s": wall,
            "real_time_s": end.get("real_time_s"),
            "virtual_time": bool(b.executor.clock.virtual),
            "utilization": utilization(tables.results, b.executor.slots, wall),
            "metadata": b.scheduler.metadata(),
            "executor_stats": stats,
            "data": self.data.sizes() if self.data is not None else None,
            "config": exp.resolved(),
            "tunebench_version": __version__,
        }
