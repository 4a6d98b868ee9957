"""Retrain one trial of a finished run from scratch, following its recorded schedule.

A PBT trial that started as a clone began from its parent's weights, which its parent trained
under its own config and seed, from its own parent's weights, and so on back to an initial
member. :func:`schedule` rebuilds that chain from the run directory (``trials.parquet``:
``parent``, ``config``, ``seed``; ``results.parquet``: each Job's end step and length;
``pbt_log.parquet``, if present: the step each clone started at) as the exact list of Jobs
that produced the trial's weights. :func:`replay` runs those Jobs again on any executor (the
local one by default) and lines the new scores up with the recorded ones, step for step.
Runs of other schedulers replay too: their trials have no parent, so the chain is one trial.

    tunebench replay runs/sgd-pbt --trial 17 --out curve.csv
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tunebench.scheduler import trial_seed
from tunebench.trial import Job


@dataclass(frozen=True)
class RunTables:
    """The parts of a run directory that replay reads."""

    summary: dict[str, Any]
    results: pd.DataFrame
    trials: pd.DataFrame
    pbt_log: pd.DataFrame | None


def read_run(run_dir: str | Path) -> RunTables:
    """Read ``summary.json``, ``results.parquet``, ``trials.parquet`` and ``pbt_log.parquet``."""
    d = Path(run_dir)
    for name in ("summary.json", "results.parquet", "trials.parquet"):
        if not (d / name).is_file():
            raise FileNotFoundError(f"{str(d)!r} is not a finished run: no {name}")
    log = pd.read_parquet(d / "pbt_log.parquet") if (d / "pbt_log.parquet").is_file() else None
    summary = json.loads((d / "summary.json").read_text())
    return RunTables(summary, pd.read_parquet(d / "results.parquet"), pd.read_parquet(d / "trials.parquet"), log)


def ancestry(trials: pd.DataFrame, trial_id: int) -> list[int]:
    """``trial_id`` and its parents, oldest first (an initial member has no parent)."""
    parent = {int(r.trial_id): (None if pd.isna(r.parent) else int(r.parent)) for r in trials.itertuples()}
    if trial_id not in parent:
        raise KeyError(f"no trial {trial_id} in this run (trials 0..{max(parent, default=-1)})")
    chain = [trial_id]
    while parent[chain[-1]] is not None:
        chain.append(parent[chain[-1]])  # type: ignore[arg-type]
        if len(chain) > len(parent):
            raise ValueError(f"trial {trial_id}: the parent links form a cycle")
    return chain[::-1]


def clone_steps(tables: RunTables) -> dict[int, int]:
    """The step each clone started at: the log's ``step``, else its first Job's start."""
    if tables.pbt_log is not None and "donor_step" in tables.pbt_log:
        rows = tables.pbt_log.dropna(subset=["donor"])
        return {int(r.trial): int(r.step) for r in rows.itertuples()}
    first = tables.results.sort_values("step").groupby("trial_id").first()
    return {int(t): int(r.step - r.n_steps) for t, r in first.iterrows()}


def schedule(tables: RunTables, trial_id: int) -> list[Job]:
    """The Jobs, in order, that trained ``trial_id``'s final weights from scratch."""
    chain = ancestry(tables.trials, trial_id)
    starts = clone_steps(tables)
    info = tables.trials.set_index("trial_id")
    exp_seed = int(tables.summary.get("seed", 0))
    jobs: list[Job] = []
    for i, tid in enumerate(chain):
        begin = 0 if i == 0 else starts[tid]
        end = starts[chain[i + 1]] if i + 1 < len(chain) else math.inf
        row = info.loc[tid]
        config = json.loads(row["config"])
        seed = int(row["seed"]) if "seed" in info and not pd.isna(row["seed"]) else trial_seed(exp_seed, tid)
        mine = tables.results[(tables.results["trial_id"] == tid) & (tables.results["step"] > begin) & (tables.results["step"] <= end)]
        at = begin
        for r in mine.sort_values("step").itertuples():
            start = int(r.step) - int(r.n_steps)
            if start != at:
                raise ValueError(f"trial {tid}: a Job ends at step {r.step} after {r.n_steps} steps, but its checkpoint was at {at}")
            clone = (chain[i - 1], begin) if i > 0 and start == begin else None
            jobs.append(Job(tid, config, seed, start, int(r.step), clone))
            at = int(r.step)
        if i + 1 < len(chain) and at != end:
            raise ValueError(f"trial {chain[i + 1]} cloned trial {tid} at step {end}, but trial {tid} reported step {at} last")
    return jobs


def make_executor(tables: RunTables, executor: Any) -> Any:
    """An executor instance: the one given, or one named (with the run's options if the same name)."""
    from tunebench import registry
    from tunebench.executors.local import LocalExecutor

    if executor is None:
        return LocalExecutor()
    if not isinstance(executor, str):
        return executor
    cfg = dict(tables.summary.get("config", {}).get("executor") or {})
    params = {k: v for k, v in cfg.items() if k != "name"} if cfg.get("name") == executor else {}
    return registry.load("executor", executor)(**params)


def replay(run_dir: str | Path, trial_id: int | None = None, executor: Any = None, *, atol: float = 1e-9) -> pd.DataFrame:
    """Retrain ``trial_id`` (default: the run's best) from scratch; one row per recorded step.

    Columns: ``step``, ``trial_id`` (whose config trained up to that step), ``config`` (JSON),
    ``score`` (now), ``recorded_score`` (in the run), ``match`` (within ``atol``).
    """
    from tunebench.config import load_experiment

    tables = read_run(run_dir)
    if trial_id is None:
        trial_id = int(tables.summary["best_trial"])
    jobs = schedule(tables, int(trial_id))
    exp = load_experiment(raw=tables.summary["config"])
    workload = exp.make_workload()
    data = workload.load(exp.seed)
    recorded = tables.results.set_index(["trial_id", "step"])["score"]
    rows = []
    with make_executor(tables, executor) as ex:
        ex.start(workload, data)
        for job in jobs:
            ex.submit(job)
            (result,) = ex.wait()
            before = float(recorded.loc[(job.trial_id, job.stop_step)])
            rows.append({
                "step": job.stop_step, "trial_id": job.trial_id, "config": json.dumps(dict(job.config), sort_keys=True),
                "score": result.score, "recorded_score": before, "match": abs(result.score - before) <= atol,
            })
    return pd.DataFrame(rows, columns=["step", "trial_id", "config", "score", "recorded_score", "match"])


def add_replay_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``tunebench replay DIR [--trial ID] [--executor NAME] [--out FILE]``."""
    p = subparsers.add_parser("replay", help="retrain one trial of a run from scratch, following its recorded schedule")
    p.add_argument("run_dir", metavar="DIR", help="a finished run's output directory")
    p.add_argument("--trial", type=int, help="trial id (default: the run's best trial)")
    p.add_argument("--executor", help="executor name (default: local)")
    p.add_argument("--out", help="write the curve to this file (.csv or .parquet)")
    p.add_argument("--atol", type=float, default=1e-9, help="score difference still counted as a match")
    p.set_defaults(func=replay_main)
    return p


def replay_main(args: argparse.Namespace) -> int:
    """Run :func:`replay`, print the curve, optionally write it; exit 1 if any step differs."""
    try:
        curve = replay(args.run_dir, args.trial, args.executor, atol=args.atol)
    except (FileNotFoundError, KeyError) as exc:
        from tunebench.config import ConfigError

        raise ConfigError(str(exc).strip("'\"")) from None
    print(curve.drop(columns=["config"]).to_string(index=False))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        curve.to_parquet(out, index=False) if out.suffix == ".parquet" else curve.to_csv(out, index=False)
        print(f"curve: {out}")
    n_bad = int((~curve["match"]).sum())
    print(f"{len(curve) - n_bad}/{len(curve)} steps match the recorded scores")
    return 0 if n_bad == 0 else 1
