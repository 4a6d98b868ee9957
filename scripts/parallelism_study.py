"""The parallelism study (issue 13): does model-based sampling still pay as workers grow?

Runs ``configs/bench-parallelism.yaml`` through ``tunebench compare`` (finished cells are kept,
so a rerun only post-processes) and reads its run directories back. Per scheduler, searcher and
worker count, over seeds: the best validation score after the fixed budget (median [25%, 75%]),
the virtual time to the target score, and the median number of evaluations (trials) against
the workers. A model-based searcher *pays* at a worker count when its median paired gain over
``random`` (same scheduler, same seed) is positive; the table says from which worker count on
it stops paying, beside the rule of thumb "parallelism about a tenth of the evaluations".
Writes ``results/parallelism.md``, ``results/parallelism.json`` and ``results/parallelism.png``::

    python scripts/parallelism_study.py [--jobs 2] [--set "seeds=[0,1,2]"] [--out runs/bench-parallelism]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from comparison_cells import cell_table, fmt_seconds, quartiles, run_matrix  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"


def paired_gain(cells: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per scheduler, searcher, workers and seed: ``column`` minus random's on the same seed."""
    base = cells[cells["searcher"] == "random"].set_index(["contender", "workers", "seed"])[column]
    key = pd.MultiIndex.from_frame(cells[["contender", "workers", "seed"]])
    return cells.assign(gain=cells[column].to_numpy() - base.reindex(key).to_numpy())


def summarise(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per (scheduler, searcher, workers): medians and quartiles over seeds."""
    cells = paired_gain(cells, "best")
    rows = []
    for (contender, searcher, workers), g in cells.groupby(["contender", "searcher", "workers"], sort=False):
        best, t = quartiles(g["best"]), quartiles(g["to_target_s"])
        rows.append({
            "scheduler": contender, "searcher": searcher, "workers": int(workers), "seeds": len(g),
            "best": best[0], "best_q25": best[1], "best_q75": best[2], "best_final": float(g["best_final"].median()),
            "gain": float(g["gain"].median()), "wins": float((g["gain"] > 0).mean()), "losses": float((g["gain"] < 0).mean()),
            "to_target": t[0], "to_target_q25": t[1], "to_target_q75": t[2], "reached": float(np.isfinite(g["to_target_s"]).mean()),
            "trials": float(g["trials"].median()), "calls": float(g["calls"].median()),
        })
    return pd.DataFrame(rows)


def stops_paying(table: pd.DataFrame, scheduler: str, searcher: str) -> int | None:
    """The smallest worker count from which the searcher's median paired gain is never positive
    again (``None``: it still pays at the largest count)."""
    part = table[(table["scheduler"] == scheduler) & (table["searcher"] == searcher)].sort_values("workers")
    pays = list(part["gain"] > 0)
    workers = list(part["workers"])
    for i in range(len(pays)):
        if not any(pays[i:]):
            return int(workers[i])
    return None


def markdown(table: pd.DataFrame, meta: dict[str, Any]) -> str:
    lines = [
        "# Parallelism study: model-based sampling under early stopping", "",
        f"Matrix `{meta['matrix']}` run by `tunebench compare` into `{meta['out']}` ({meta['cells']} finished cells): "
        f"recorded curves `{meta['curves']}` on the simulated executor, budget {meta['budget']} partial_fit calls, "
        f"max_iter {meta['max_iter']}, target {meta['target']}, seeds {meta['seeds']}. Best: best validation score after "
        "the budget, median [25%, 75%] over seeds; gain: median over seeds of (searcher - random) on the same scheduler "
        "and seed, with the share of seeds won; time to target: virtual seconds, median [25%, 75%] (not reached counts "
        "as the longest); trials: evaluations started (median).", "",
    ]
    for scheduler, part in table.groupby("scheduler", sort=False):
        lines += [f"## {scheduler}", "",
                  "| workers | trials | trials / workers | " + " | ".join(
                      f"{s} best" for s in part["searcher"].unique()) + " | " + " | ".join(
                      f"{s} gain (won)" for s in part["searcher"].unique() if s != "random") + " | " + " | ".join(
                      f"{s} time to target" for s in part["searcher"].unique()) + " |"]
        searchers = list(part["searcher"].unique())
        lines.append("|" + "---|" * (3 + len(searchers) * 2 + len(searchers) - 1))
        for workers, row in part.groupby("workers", sort=True):
            by = row.set_index("searcher")
            trials = float(by.loc["random", "trials"]) if "random" in by.index else float(row["trials"].median())
            best = [f"{by.loc[s, 'best']:.4f} [{by.loc[s, 'best_q25']:.4f}, {by.loc[s, 'best_q75']:.4f}]" for s in searchers]
            gain = [f"{by.loc[s, 'gain']:+.4f} ({by.loc[s, 'wins']:.0%})" for s in searchers if s != "random"]
            ttt = [fmt_seconds((by.loc[s, "to_target"], by.loc[s, "to_target_q25"], by.loc[s, "to_target_q75"]))
                   + (f" ({by.loc[s, 'reached']:.0%} reached)" if by.loc[s, "reached"] < 1 else "") for s in searchers]
            lines.append(f"| {workers} | {trials:.0f} | {trials / workers:.1f} | " + " | ".join(best + gain + ttt) + " |")
        lines.append("")
        for s in searchers:
            if s == "random":
                continue
            stop = stops_paying(table, scheduler, s)
            sub = part[part["searcher"] == s].sort_values("workers")
            trials = float(part[part["searcher"] == "random"]["trials"].median())
            lines.append(f"- {s} under {scheduler}: " + (
                f"its median gain over random is never positive from {stop} workers on" if stop is not None
                else f"still gains at {int(sub['workers'].max())} workers")
                + f" (gain by workers: {', '.join(f'{int(w)}: {g:+.4f}' for w, g in zip(sub['workers'], sub['gain']))}); "
                + f"the rule of thumb (a tenth of ~{trials:.0f} evaluations) puts the limit near {max(1, round(trials / 10))} workers.")
        lines.append("")
    lines += [f"Figure: `{meta['figure']}`", ""]
    return "\n".join(lines)


def plot(table: pd.DataFrame, path: Path) -> None:
    schedulers = list(table["scheduler"].unique())
    fig, axes = plt.subplots(2, len(schedulers), figsize=(4.2 * len(schedulers), 6.5), squeeze=False, sharex=True)
    for j, scheduler in enumerate(schedulers):
        part = table[table["scheduler"] == scheduler]
        for i, (key, ylabel) in enumerate((("best", "best validation score"), ("to_target", "virtual s to target"))):
            ax = axes[i][j]
            for s, g in part.groupby("searcher", sort=False):
                g = g.sort_values("workers")
                mid = np.where(np.isfinite(g[key]), g[key], np.nan)
                lo = np.where(np.isfinite(g[f"{key}_q25"]), g[f"{key}_q25"], np.nan)
                hi = np.where(np.isfinite(g[f"{key}_q75"]), g[f"{key}_q75"], np.nan)
                ax.plot(g["workers"], mid, marker="o", label=s)
                ax.fill_between(g["workers"], lo, hi, alpha=0.15)
            ax.set_xscale("log", base=2)
            if key == "to_target":
                ax.set_yscale("log")
            ax.set(xlabel="workers" if i == 1 else None, ylabel=ylabel if j == 0 else None, title=scheduler if i == 0 else None)
            ax.legend(fontsize=8)
    fig.suptitle("Searchers vs workers (median and interquartile band over seeds)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--matrix", default=str(ROOT / "configs" / "bench-parallelism.yaml"))
    p.add_argument("--out", default=str(ROOT / "runs" / "bench-parallelism"))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a matrix key")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--results", default=str(RESULTS))
    args = p.parse_args()
    out = run_matrix(args.matrix, args.out, args.set, args.jobs)
    state = json.loads((out / "matrix.json").read_text())
    raw = state["matrix"]
    cells = cell_table(out)
    table = summarise(cells)
    results = Path(args.results)
    figure = results / "parallelism.png"
    plot(table, figure)
    meta = {"matrix": str(Path(args.matrix).relative_to(ROOT)) if Path(args.matrix).is_relative_to(ROOT) else args.matrix,
            "out": str(out), "cells": len(cells), "curves": raw["executors"][0].get("curves"),
            "budget": (raw.get("budget") or {}).get("total_steps"), "max_iter": raw.get("max_iter"),
            "target": raw.get("target_score"), "seeds": raw.get("seeds"), "figure": str(figure.relative_to(results.parent))}
    text = markdown(table, meta)
    (results / "parallelism.md").write_text(text)
    (results / "parallelism.json").write_text(json.dumps({"meta": meta, "table": json.loads(table.to_json(orient="records"))}, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
