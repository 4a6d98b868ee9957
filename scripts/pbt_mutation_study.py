"""Compare PBT explore strategies over several seeds: the ``configs/study-pbt-mutations-*.yaml`` matrices.

Each matrix (one per workload: ``sgd``, ``autoencoder``) lists one PBT scheduler entry per
strategy; ``tunebench compare`` runs every strategy x seed cell (finished cells are kept, so a
rerun only post-processes), and this script reads the run directories back and writes

- ``results/pbt_mutations.md`` and ``.json``: the best validation score per strategy (median,
  interquartile range and range over seeds; the median test score of the best trial);
- ``results/pbt_mutations/<workload>-scores.png``: every seed's best score per strategy;
- ``results/pbt_mutations/<workload>-<strategy>/``: the hyperparameter schedules and family
  tree of the first seed's run.

The run directories stay under ``--out`` (default ``runs/study-pbt-mutations/<workload>/``),
replayable with ``tunebench replay``; ``tunebench report`` builds each comparison's report.
Seeds pair the runs: a seed fixes the data split and the initial population, so strategies
differ only in how clones explore.

    python scripts/pbt_mutation_study.py [--workloads sgd] [--seeds 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from comparison_cells import cell_table, run_matrix  # noqa: E402
from tunebench.config import load_yaml  # noqa: E402
from tunebench.store import read_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("sgd", "autoencoder")


def matrix_path(workload: str) -> Path:
    return ROOT / "configs" / f"study-pbt-mutations-{workload}.yaml"


def rows_of(out: Path, workload: str) -> pd.DataFrame:
    """One row per finished cell: the strategy (its label), seed, scores, exploits, run dir."""
    cells = cell_table(out)
    rows = []
    for c in cells.itertuples():
        summary, _, _, extra = read_run(c.dir)
        log = extra.get("pbt_log")
        rows.append({
            "workload": workload, "strategy": c.label, "seed": int(c.seed), "best_score": c.best, "test_score": c.test,
            "best_trial": summary.get("best_trial"), "n_trials": c.trials,
            "exploits": int((log["strategy"] != "init").sum()) if log is not None and "strategy" in log else 0,
            "partial_fit_calls": c.calls, "wall_time_s": c.wall_s, "run_dir": c.dir,
        })
    return pd.DataFrame(rows)


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
    p.add_argument("--seeds", type=int, help="use only the first N seeds of the matrices")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset, e.g. sgd")
    p.add_argument("--jobs", type=int, default=2, help="cells run at once (processes)")
    p.add_argument("--out", default=str(ROOT / "runs" / "study-pbt-mutations"), help="one comparison directory per workload under it")
    p.add_argument("--results", default=str(ROOT / "results"), help="output folder")
    args = p.parse_args(argv)

    workloads = args.workloads.split(",")
    unknown = sorted(set(workloads) - set(WORKLOADS))
    if unknown:
        raise SystemExit(f"--workloads: unknown {', '.join(unknown)}; allowed: {', '.join(WORKLOADS)}")
    results, plots = Path(args.results), Path(args.results) / "pbt_mutations"
    frames, strategies, seeds = [], [], []
    t0 = time.time()
    for workload in workloads:
        raw = load_yaml(matrix_path(workload))
        seeds = list(raw["seeds"])[: args.seeds] if args.seeds else list(raw["seeds"])
        out = run_matrix(matrix_path(workload), Path(args.out) / workload, [f"seeds={seeds}"], args.jobs)
        frames.append(rows_of(out, workload))
        strategies += [s["label"] for s in raw["schedulers"] if s["label"] not in strategies]
    frame = pd.concat(frames, ignore_index=True)
    table = summarise(frame, strategies, workloads)
    meta = {"config": ", ".join(os.path.relpath(matrix_path(w), ROOT) for w in workloads), "seeds": seeds, "n_runs": len(frame),
            "jobs": args.jobs, "wall_time_s": time.time() - t0}
    results.mkdir(parents=True, exist_ok=True)
    (results / "pbt_mutations.md").write_text(markdown(table, meta))
    (results / "pbt_mutations.json").write_text(json.dumps(
        {"meta": meta, "summary": json.loads(table.astype({"strategy": str, "workload": str}).to_json(orient="records")),
         "runs": json.loads(frame.to_json(orient="records"))}, indent=2))
    from tunebench.report.lineage import plot_run

    for workload in workloads:
        part = frame[frame["workload"] == workload]
        score_plot(frame, workload, strategies, plots / f"{workload}-scores.png")
        for strategy in strategies:
            first = part[(part["strategy"] == strategy) & (part["seed"] == seeds[0])]
            if len(first):
                plot_run(Path(first["run_dir"].iloc[0]), plots / f"{workload}-{strategy}")
    print((results / "pbt_mutations.md").read_text())
    print(f"tables: {results / 'pbt_mutations.md'}, {results / 'pbt_mutations.json'}; plots: {plots}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
