"""Compare PBT explore strategies over several seeds (configs/pbt-mutations.yaml).

For every workload x strategy x seed it runs one PBT experiment through the public Python
API, then writes

- ``results/pbt_mutations.md`` and ``.json``: the best validation score per strategy (median,
  interquartile range and range over seeds; the median test score of the best trial);
- ``results/pbt_mutations/<workload>-scores.png``: every seed's best score per strategy;
- ``results/pbt_mutations/<workload>-<strategy>/``: the hyperparameter schedules and family
  tree of the first seed's run;
- ``results/pbt_mutations/runs/``: every run directory (replayable with ``tunebench replay``).

Seeds pair the runs: a seed fixes the data split and the initial population, so strategies
differ only in how clones explore.

    python scripts/pbt_mutation_study.py [--config configs/pbt-mutations.yaml] [--seeds 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Task:
    """One run of the study."""

    workload: str
    strategy: str
    seed: int
    raw: dict[str, Any]
    out_dir: Path


def load_study(path: Path) -> dict[str, Any]:
    study = yaml.safe_load(path.read_text())
    for key in ("seeds", "strategies", "workloads"):
        if key not in study:
            raise SystemExit(f"{path}: missing key {key!r}")
    return study


def experiment(study: dict[str, Any], workload: str, strategy: str, seed: int) -> dict[str, Any]:
    """The experiment config of one run: the workload's base with the strategy's explore."""
    spec = study["workloads"][workload]
    raw = copy.deepcopy(spec["experiment"])
    raw["seed"] = seed
    raw["name"] = f"{workload}-{strategy}"
    sched = raw["scheduler"]
    sched["boundary"] = study.get("boundary", "clip")
    chosen = study["strategies"][strategy]
    if chosen.get("strategy") == "pb2":
        sched["strategy"] = "pb2"
    if "chain" in chosen:
        sched["explore"] = {param: copy.deepcopy(chosen["chain"]) for param in spec["explore"]}
    return raw


def tasks(study: dict[str, Any], runs_dir: Path, workloads: Sequence[str], strategies: Sequence[str], seeds: Sequence[int]) -> list[Task]:
    return [
        Task(w, s, seed, experiment(study, w, s, seed), runs_dir / f"{w}-{s}-seed{seed}")
        for w in workloads
        for seed in seeds
        for s in strategies
    ]


def run_task(task: Task) -> dict[str, Any]:
    """Run one experiment (in a worker process); return its row for the table."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from tunebench.config import load_experiment
    from tunebench.run import run

    t0 = time.time()
    result = run(load_experiment(raw=task.raw), task.out_dir, progress=False)
    s = result.summary
    log = result.extra.get("pbt_log")
    return {
        "workload": task.workload, "strategy": task.strategy, "seed": task.seed,
        "best_score": s["best_score"], "test_score": s["test_score"], "best_trial": s["best_trial"],
        "n_trials": s["n_trials"], "exploits": int((log["strategy"] != "init").sum()) if log is not None else 0,
        "partial_fit_calls": s["partial_fit_calls"], "wall_time_s": time.time() - t0, "run_dir": str(task.out_dir),
    }


def summarise(rows: pd.DataFrame, order: Sequence[str], workloads: Sequence[str]) -> pd.DataFrame:
    """Per workload and strategy: median, quartiles and range of the best score over seeds."""
    rows = rows.assign(rank=rows.groupby(["workload", "seed"])["best_score"].rank(ascending=False, method="average"))
    g = rows.groupby(["workload", "strategy"])
    table = pd.DataFrame({
        "seeds": g["seed"].count(),
        "mean_rank": g["rank"].mean(),
        "median": g["best_score"].median(),
        "q25": g["best_score"].quantile(0.25),
        "q75": g["best_score"].quantile(0.75),
        "min": g["best_score"].min(),
        "max": g["best_score"].max(),
        "test_median": g["test_score"].median(),
        "wall_s": g["wall_time_s"].median(),
    }).reset_index()
    table["strategy"] = pd.Categorical(table["strategy"], categories=list(order), ordered=True)
    table["workload"] = pd.Categorical(table["workload"], categories=list(workloads), ordered=True)
    return table.sort_values(["workload", "strategy"]).reset_index(drop=True)


def markdown(table: pd.DataFrame, meta: dict[str, Any]) -> str:
    lines = [
        "# PBT explore strategies", "",
        f"Config: `{meta['config']}`; seeds {meta['seeds']}; {meta['n_runs']} runs in {meta['wall_time_s']:.0f} s "
        f"with {meta['jobs']} processes. Best validation score of each run (the best trial's last score), "
        "then median, interquartile range and range over seeds; the test score is that trial's. Mean rank: "
        "the strategy's rank among all strategies on the same seed (1 = best), averaged over seeds.", "",
    ]
    for workload, part in table.groupby("workload", sort=True, observed=True):
        lines += [f"## {workload}", "", "| strategy | median | IQR | range | mean rank | test (median) | seeds |",
                  "|---|---|---|---|---|---|---|"]
        for r in part.itertuples():
            lines.append(f"| {r.strategy} | {r.median:.4f} | {r.q25:.4f} - {r.q75:.4f} | {r.min:.4f} - {r.max:.4f} | "
                         f"{r.mean_rank:.1f} | {r.test_median:.4f} | {r.seeds} |")
        ranked = part.sort_values("median", ascending=False, kind="stable")
        if len(ranked) > 1:
            a, b = ranked.iloc[0], ranked.iloc[1]
            overlap = "overlap" if a["q25"] <= b["q75"] else "do not overlap"
            lead = "tied with" if a["median"] == b["median"] else "runner-up"
            lines += ["", f"Highest median: **{a['strategy']}** ({a['median']:.4f}); {lead} {b['strategy']} "
                          f"({b['median']:.4f}); their interquartile ranges {overlap}."]
        lines.append("")
    return "\n".join(lines)


def score_plot(rows: pd.DataFrame, workload: str, order: Sequence[str], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = rows[rows["workload"] == workload]
    fig, ax = plt.subplots(figsize=(1.4 * len(order) + 2, 3.5))
    for _, runs in part.groupby("seed"):
        by = runs.set_index("strategy")["best_score"]
        ax.plot(range(len(order)), [by.get(s) for s in order], color="0.8", lw=0.8, zorder=1)
    for i, strategy in enumerate(order):
        scores = part[part["strategy"] == strategy]["best_score"]
        ax.scatter([i] * len(scores), scores, color="C0", alpha=0.7)
        if len(scores):
            ax.hlines(scores.median(), i - 0.3, i + 0.3, color="C3")
    ax.set_xticks(range(len(order)), list(order))
    ax.set_ylabel("best validation score")
    ax.set_title(f"PBT explore strategies on {workload} (grey: one seed; red: median)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(ROOT / "configs" / "pbt-mutations.yaml"))
    p.add_argument("--seeds", type=int, help="use only the first N seeds of the config")
    p.add_argument("--workloads", help="comma-separated subset, e.g. sgd")
    p.add_argument("--strategies", help="comma-separated subset, e.g. perturb,pb2")
    p.add_argument("--jobs", type=int, default=2, help="runs at once (processes)")
    p.add_argument("--results", default=str(ROOT / "results"), help="output folder")
    args = p.parse_args(argv)

    study = load_study(Path(args.config))
    seeds = list(study["seeds"])[: args.seeds] if args.seeds else list(study["seeds"])
    workloads = args.workloads.split(",") if args.workloads else list(study["workloads"])
    strategies = args.strategies.split(",") if args.strategies else list(study["strategies"])
    results = Path(args.results)
    plots = results / "pbt_mutations"
    runs_dir = plots / "runs"
    shutil.rmtree(runs_dir, ignore_errors=True)
    todo = tasks(study, runs_dir, workloads, strategies, seeds)
    print(f"{len(todo)} runs: {', '.join(workloads)} x {', '.join(strategies)} x seeds {seeds}", file=sys.stderr)
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("spawn")) as pool:
        rows = []
        for row in pool.map(run_task, todo):
            rows.append(row)
            print(f"  {row['workload']:<12} {row['strategy']:<17} seed {row['seed']}: best {row['best_score']:.4f} "
                  f"({row['wall_time_s']:.1f} s)", file=sys.stderr)
    frame = pd.DataFrame(rows)
    table = summarise(frame, strategies, workloads)
    meta = {"config": os.path.relpath(args.config, ROOT), "seeds": seeds, "n_runs": len(rows), "jobs": args.jobs,
            "wall_time_s": time.time() - t0}
    results.mkdir(parents=True, exist_ok=True)
    (results / "pbt_mutations.md").write_text(markdown(table, meta))
    (results / "pbt_mutations.json").write_text(json.dumps(
        {"meta": meta, "summary": json.loads(table.astype({"strategy": str, "workload": str}).to_json(orient="records")),
         "runs": json.loads(frame.to_json(orient="records"))}, indent=2))
    from schedulers.pbt.plots import plot_run

    for workload in workloads:
        score_plot(frame, workload, strategies, plots / f"{workload}-scores.png")
        for strategy in strategies:
            plot_run(runs_dir / f"{workload}-{strategy}-seed{seeds[0]}", plots / f"{workload}-{strategy}")
    print((results / "pbt_mutations.md").read_text())
    print(f"tables: {results / 'pbt_mutations.md'}, {results / 'pbt_mutations.json'}; plots: {plots}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
