"""The scaling studies of Sievert, Augspurger & Rocklin (SciPy 2019), replayed in simulation.

Three matrices under ``configs/`` run by ``tunebench compare`` on the ``simulated`` executor over
the shipped ``autoencoder-mnist`` recording, with the paper's own simulated costs (1 s per
``partial_fit``, 1.5 s per score; the executors' ``step_s`` / ``score_s`` in the matrices):

1. ``study-scaling-hyperband.yaml``: Hyperband (``max_iter=243``, eta 3) with 4, 8, 16, 24 and
   32 workers, ``patience`` off and on (``max_iter // 3``, dask-ml's ``patience=True``): virtual
   time to reach the target score;
2. ``study-scaling-priority.yaml``: at 4 workers with a queue (Jobs wait for a worker),
   Dask-style score priority against FIFO;
3. ``study-scaling-asha.yaml``: ASHA (promotion, ``max_iter=243``, eta 3) from 8 to 1,000 workers.

The target is a quantile (``--target-quantile``, default 0.9) of the recorded configs' final
validation scores, handed to every matrix as its ``target_score`` (so each comparison's report
has the same target). Cells already finished under ``--out`` are kept. Medians and interquartile
ranges over the matrices' seeds (``--seeds N``: the first N). Writes ``results/scaling_study.md``
and PNGs under ``results/scaling_study/``; the verdicts on the paper's two claims are computed
from the numbers::

    python scripts/scaling_study.py [--seeds 5] [--jobs 2] [--out runs/study-scaling]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from comparison_cells import cell_table, run_matrix  # noqa: E402
from tunebench.config import load_yaml  # noqa: E402
from tunebench.workloads.curves import Curves, read_curves  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
MATRICES = ("hyperband", "priority", "asha")
SATURATION_GAIN = 0.10  # a step to more workers that cuts the median time by less than this saturates
COLUMNS = {"to_target": "to_target_s", "to_best": "to_best_s", "total": "wall_s", "best": "best"}


def stats(values: Sequence[float]) -> tuple[float, float, float]:
    """Median and quartiles (inf-aware: a run that never reached the target counts as inf)."""
    a = np.asarray(values, dtype=float)
    return tuple(float(np.percentile(a, q, method="lower" if not np.isfinite(a).all() else "linear")) for q in (50, 25, 75))


def fmt(m: tuple[float, float, float]) -> str:
    return "not reached" if not math.isfinite(m[0]) else f"{m[0]:,.0f} [{m[1]:,.0f}, {m[2]:,.0f}]"


def saturation(workers: Sequence[int], medians: Sequence[float]) -> int | None:
    """The first worker count past which one more step of workers cuts the median time by less
    than :data:`SATURATION_GAIN` (``None`` if every step still helps)."""
    for i in range(len(workers) - 1):
        if medians[i + 1] > (1 - SATURATION_GAIN) * medians[i]:
            return workers[i]
    return None


def runs_of(cells: pd.DataFrame) -> list[dict[str, float]]:
    """A group of cells as the rows the tables below read (one per seed)."""
    return [{k: float(r[c]) for k, c in COLUMNS.items()} for _, r in cells.sort_values("seed").iterrows()]


def study(seeds: int | None, quantile: float, out: Path, jobs: int) -> dict[str, Any]:
    """Run the three matrices through compare; group their cells as the report reads them."""
    source = load_yaml(ROOT / "configs" / "study-scaling-hyperband.yaml")["executors"][0]["curves"]
    curves = read_curves(source)
    finals = curves.score[:, -1]
    target = float(np.nanquantile(finals, quantile if curves.meta.get("mode", "max") == "max" else 1 - quantile))
    sets = [f"target_score={target!r}"] + ([f"seeds={list(range(seeds))}"] if seeds else [])
    cells = {}
    for name in MATRICES:
        cells[name] = cell_table(run_matrix(ROOT / "configs" / f"study-scaling-{name}.yaml", out / name, sets, jobs))
    hb, pr, asha = cells["hyperband"], cells["priority"], cells["asha"]
    patience = {"patience-off": None, "patience-81": 81}
    return {
        "target": target, "curves": curves, "source": source, "seeds": int(hb["seed"].nunique()),
        "hb": {(patience[c], int(k)): runs_of(g) for (c, k), g in hb.groupby(["contender", "workers"])},
        "hb_workers": sorted(int(k) for k in hb["workers"].unique()),
        "priority": {str(e): runs_of(g) for e, g in pr.groupby("executor", sort=False)},
        "asha": {int(k): runs_of(g) for k, g in asha.groupby("workers")},
        "costs": load_yaml(ROOT / "configs" / "study-scaling-hyperband.yaml")["executors"][0],
    }


def column(runs: list[dict[str, float]], key: str) -> tuple[float, float, float]:
    return stats([r[key] for r in runs])


def report(res: dict[str, Any], quantile: float, out: Path, figs: Path) -> str:
    curves: Curves = res["curves"]
    source, seeds, costs = res["source"], res["seeds"], res["costs"]
    hb_workers = res["hb_workers"]
    cost_text = "from the recording" if costs.get("step_s") is None else f"{costs['step_s']} s per partial_fit, {costs['score_s']} s per score"
    lines = [f"# Scaling study on recorded curves `{source}`", "",
             f"{curves.n_configs} recorded configs x {curves.max_iter} steps ({curves.workload}, metric {curves.meta.get('metric')}); "
             f"target validation score {res['target']:.5g} (the {quantile:.0%} quantile of the recorded final scores); "
             f"costs {cost_text}; "
             f"{seeds} seeds; median [25%, 75%] of virtual seconds. Matrices `configs/study-scaling-{{{','.join(MATRICES)}}}.yaml`, "
             f"run by `tunebench compare` into `{out}/<matrix>/`.", "",
             "## Hyperband (max_iter 243, eta 3): time to target", "",
             "| workers | patience off | speedup vs 4 | patience on (81) | speedup vs 4 | patience saves |", "|---|---|---|---|---|---|"]
    med = {p: [column(res["hb"][(p, k)], "to_target")[0] for k in hb_workers] for p in (None, 81)}
    saves = []
    for i, k in enumerate(hb_workers):
        off, on = column(res["hb"][(None, k)], "to_target"), column(res["hb"][(81, k)], "to_target")
        save = (off[0] - on[0]) / off[0] if math.isfinite(off[0]) and math.isfinite(on[0]) else math.nan
        saves.append(save)
        lines.append(f"| {k} | {fmt(off)} | {med[None][0] / off[0]:.2f}x | {fmt(on)} | {med[81][0] / on[0]:.2f}x | {save:+.0%} |")
    lines += ["", "Total virtual time of the whole Hyperband run (median): " + ", ".join(
        f"{k} workers {column(res['hb'][(None, k)], 'total')[0]:,.0f} s" for k in hb_workers) + ".", ""]
    sat = saturation(hb_workers, med[None])
    agree_sat = sat is not None and 16 <= sat <= 24
    best_save = hb_workers[int(np.nanargmax(saves))] if not all(math.isnan(s) for s in saves) else None
    lines += ["## Against the paper", "",
              f"- Speedup saturation (a further step in workers cuts the median time to target by less than {SATURATION_GAIN:.0%}): "
              + (f"at {sat} workers" if sat is not None else "not within 4-32 workers")
              + f". The paper reports saturation between 16 and 24 workers: {'agrees' if agree_sat else 'does not agree'}.",
              f"- Patience saves the most time at {best_save} workers "
              + f"(savings by workers: {', '.join(f'{k}: {s:+.0%}' for k, s in zip(hb_workers, saves))}). "
              + f"The paper reports patience mattering most with few workers: "
              + f"{'agrees' if best_save == hb_workers[0] else 'does not agree'}.", ""]
    lines += ["## Score priority vs FIFO (Hyperband, 4 workers, queue 64)", "",
              "| priority | time to target | total time | best score |", "|---|---|---|---|"]
    for p, runs in res["priority"].items():
        lines.append(f"| {p} | {fmt(column(runs, 'to_target'))} | {fmt(column(runs, 'total'))} | {column(runs, 'best')[0]:.5g} |")
    fifo, score = column(res["priority"]["fifo"], "to_target")[0], column(res["priority"]["score"], "to_target")[0]
    lines += ["", f"Score priority reaches the target {'sooner' if score < fifo else 'later' if score > fifo else 'at the same time'} "
              f"({score:,.0f} s against {fifo:,.0f} s for FIFO).", "",
              "## ASHA (promotion, max_iter 243, eta 3, 2,000 trials)", "",
              "| workers | time to target | time to its own best | total time | best score |", "|---|---|---|---|---|"]
    for k, runs in res["asha"].items():
        lines.append(f"| {k} | {fmt(column(runs, 'to_target'))} | {fmt(column(runs, 'to_best'))} | {fmt(column(runs, 'total'))} | "
                     f"{column(runs, 'best')[0]:.5g} |")
    key = 1.0 if curves.meta.get("mode", "max") == "max" else -1.0
    best = int(np.nanargmax(key * curves.score[:, -1]))
    early = [int((key * curves.score[:, s] > key * curves.score[best, s]).sum()) + 1 for s in (1, 3, 9)]
    lines += ["", f"ASHA's 2,000 trials replay {curves.n_configs} recorded curves (each trial takes its config's nearest "
              f"recorded neighbour). The recorded config with the best score at step {curves.max_iter} ranks "
              f"{early[0]}, {early[1]} and {early[2]} of {curves.n_configs} at steps 1, 3 and 9 (ASHA's first rungs).", ""]
    lines += ["", "Figures: " + ", ".join(f"`{p.relative_to(figs.parent)}`" for p in sorted(figs.glob("*.png"))), ""]
    return "\n".join(lines)


def errorbar(ax: Any, x: Sequence[int], m: np.ndarray, **kw: Any) -> None:
    """Median with quartile bars; a median that never reached the target is left out."""
    m = np.where(np.isfinite(m), m, np.nan)
    ax.errorbar(x, m[:, 0], yerr=np.nan_to_num([m[:, 0] - m[:, 1], m[:, 2] - m[:, 0]]), marker="o", capsize=3, **kw)


def plot(res: dict[str, Any], figs: Path) -> None:
    figs.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for p, label in ((None, "patience off"), (81, "patience 81")):
        m = np.array([column(res["hb"][(p, k)], "to_target") for k in res["hb_workers"]])
        errorbar(ax, res["hb_workers"], m, label=label)
    ax.set(xlabel="workers", ylabel="virtual seconds to target", title="Hyperband, max_iter 243")
    ax.legend()
    fig.tight_layout()
    fig.savefig(figs / "hyperband_time_to_target.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for key, label in (("to_target", "to target"), ("to_best", "to its own best"), ("total", "whole run")):
        errorbar(ax, sorted(res["asha"]), np.array([column(res["asha"][k], key) for k in sorted(res["asha"])]), label=label)
    ax.set(xscale="log", yscale="log", xlabel="workers", ylabel="virtual seconds", title="ASHA, max_iter 243")
    ax.legend()
    fig.tight_layout()
    fig.savefig(figs / "asha_time_to_target.png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, help="the first N seeds of the matrices (default: all of them)")
    parser.add_argument("--target-quantile", type=float, default=0.9)
    parser.add_argument("--jobs", type=int, default=2, help="cells run at once")
    parser.add_argument("--out", default=str(ROOT / "runs" / "study-scaling"), help="one comparison directory per matrix under it")
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args()
    out, results = Path(args.out), Path(args.results)
    figs = results / "scaling_study"
    res = study(args.seeds, args.target_quantile, out, args.jobs)
    plot(res, figs)
    text = report(res, args.target_quantile, out, figs)
    (results / "scaling_study.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
