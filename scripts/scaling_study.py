"""The scaling studies of Sievert, Augspurger & Rocklin (SciPy 2019), replayed in simulation.

On recorded autoencoder curves (``--curves``, default the shipped ``autoencoder-mnist``), every
run goes through the public :func:`tunebench.run.run` on the ``simulated`` executor, with the
paper's own simulated costs (1 s per ``partial_fit``, 1.5 s per score) unless the recording's
are asked for (``--recorded-costs``):

1. Hyperband (``max_iter=243``, eta 3) with 4, 8, 16, 24 and 32 workers, ``patience`` off and on
   (``max_iter // 3``, dask-ml's ``patience=True``): virtual time to reach the target score;
2. at 4 workers with a queue (Jobs wait for a worker), Dask-style score priority against FIFO;
3. ASHA (promotion, ``max_iter=243``, eta 3) from 8 to 1,000 workers.

The target is a quantile (``--target-quantile``, default 0.9) of the recorded configs' final
validation scores. Medians and interquartile ranges over ``--seeds`` seeds (default 5). Writes
``results/scaling_study.md`` and PNGs under ``results/scaling_study/``; the verdicts on the
paper's two claims are computed from the numbers::

    python scripts/scaling_study.py [--curves autoencoder-mnist] [--seeds 5]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tunebench.config import load_experiment  # noqa: E402
from tunebench.run import run  # noqa: E402
from tunebench.scores import rank_key  # noqa: E402
from tunebench.workloads.curves import Curves, read_curves  # noqa: E402

RESULTS = Path(__file__).resolve().parent.parent / "results"
HB_WORKERS = (4, 8, 16, 24, 32)
ASHA_WORKERS = (8, 32, 128, 512, 1000)
SATURATION_GAIN = 0.10  # a step to more workers that cuts the median time by less than this saturates


def time_to_target(results: Any, target: float, mode: str) -> float:
    """Virtual seconds until the first result at or past ``target`` (inf if never)."""
    hit = [rank_key(s, mode) >= rank_key(target, mode) for s in results["score"]]
    reached = results["elapsed_s"][hit]
    return float(reached.min()) if len(reached) else math.inf


def one_run(curves: Curves, source: str, scheduler: dict[str, Any], executor: dict[str, Any], seed: int, tmp: Path,
            target: float) -> dict[str, float]:
    raw = {"name": "scaling", "seed": seed, "workload": dict(curves.meta.get("workload_config") or {"name": curves.workload}),
           "scheduler": scheduler, "executor": {"name": "simulated", "curves": source, **executor}, "space": curves.meta.get("space")}
    out = run(load_experiment(raw=raw), tmp / f"run{len(list(tmp.iterdir()))}", progress=False)
    best = float(out.summary["best_score"])
    return {"to_target": time_to_target(out.results, target, curves.meta.get("mode", "max")),
            "to_best": time_to_target(out.results, best, curves.meta.get("mode", "max")),
            "total": float(out.summary["wall_time_s"]), "best": float(out.summary["best_score"])}


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


def study(source: str, seeds: int, quantile: float, costs: dict[str, Any], tmp: Path) -> dict[str, Any]:
    curves = read_curves(source)
    finals = curves.score[:, -1]
    target = float(np.nanquantile(finals, quantile if curves.meta.get("mode", "max") == "max" else 1 - quantile))
    hb = {"name": "hyperband", "max_iter": 243, "eta": 3}
    out: dict[str, Any] = {"target": target, "curves": curves, "hb": {}, "priority": {}, "asha": {}}
    for patience in (None, 81):
        for k in HB_WORKERS:
            out["hb"][(patience, k)] = [one_run(curves, source, {**hb, "patience": patience}, {"n_workers": k, **costs}, s, tmp, target)
                                        for s in range(seeds)]
    for priority in ("fifo", "score"):
        ex = {"n_workers": 4, "queue": 64, "priority": priority, **costs}
        out["priority"][priority] = [one_run(curves, source, hb, ex, s, tmp, target) for s in range(seeds)]
    asha = {"name": "asha", "max_iter": 243, "eta": 3, "variant": "promotion", "n_trials": 2000}
    for k in ASHA_WORKERS:
        out["asha"][k] = [one_run(curves, source, asha, {"n_workers": k, **costs}, s, tmp, target) for s in range(seeds)]
    return out


def column(runs: list[dict[str, float]], key: str) -> tuple[float, float, float]:
    return stats([r[key] for r in runs])


def report(res: dict[str, Any], source: str, seeds: int, quantile: float, costs: dict[str, Any], figs: Path) -> str:
    curves: Curves = res["curves"]
    cost_text = "from the recording" if not costs else f"{costs['step_s']} s per partial_fit, {costs['score_s']} s per score"
    lines = [f"# Scaling study on recorded curves `{source}`", "",
             f"{curves.n_configs} recorded configs x {curves.max_iter} steps ({curves.workload}, metric {curves.meta.get('metric')}); "
             f"target validation score {res['target']:.5g} (the {quantile:.0%} quantile of the recorded final scores); "
             f"costs {cost_text}; "
             f"{seeds} seeds; median [25%, 75%] of virtual seconds.", "",
             "## Hyperband (max_iter 243, eta 3): time to target", "",
             "| workers | patience off | speedup vs 4 | patience on (81) | speedup vs 4 | patience saves |", "|---|---|---|---|---|---|"]
    med = {p: [column(res["hb"][(p, k)], "to_target")[0] for k in HB_WORKERS] for p in (None, 81)}
    saves = []
    for i, k in enumerate(HB_WORKERS):
        off, on = column(res["hb"][(None, k)], "to_target"), column(res["hb"][(81, k)], "to_target")
        save = (off[0] - on[0]) / off[0] if math.isfinite(off[0]) and math.isfinite(on[0]) else math.nan
        saves.append(save)
        lines.append(f"| {k} | {fmt(off)} | {med[None][0] / off[0]:.2f}x | {fmt(on)} | {med[81][0] / on[0]:.2f}x | {save:+.0%} |")
    lines += ["", "Total virtual time of the whole Hyperband run (median): " + ", ".join(
        f"{k} workers {column(res['hb'][(None, k)], 'total')[0]:,.0f} s" for k in HB_WORKERS) + ".", ""]
    sat = saturation(HB_WORKERS, med[None])
    agree_sat = sat is not None and 16 <= sat <= 24
    best_save = HB_WORKERS[int(np.nanargmax(saves))] if not all(math.isnan(s) for s in saves) else None
    lines += ["## Against the paper", "",
              f"- Speedup saturation (a further step in workers cuts the median time to target by less than {SATURATION_GAIN:.0%}): "
              + (f"at {sat} workers" if sat is not None else "not within 4-32 workers")
              + f". The paper reports saturation between 16 and 24 workers: {'agrees' if agree_sat else 'does not agree'}.",
              f"- Patience saves the most time at {best_save} workers "
              + f"(savings by workers: {', '.join(f'{k}: {s:+.0%}' for k, s in zip(HB_WORKERS, saves))}). "
              + f"The paper reports patience mattering most with few workers: "
              + f"{'agrees' if best_save == HB_WORKERS[0] else 'does not agree'}.", ""]
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
    lines += ["", "Figures: " + ", ".join(f"`{p.relative_to(RESULTS)}`" for p in sorted(figs.glob("*.png"))), ""]
    return "\n".join(lines)


def errorbar(ax: Any, x: Sequence[int], m: np.ndarray, **kw: Any) -> None:
    """Median with quartile bars; a median that never reached the target is left out."""
    m = np.where(np.isfinite(m), m, np.nan)
    ax.errorbar(x, m[:, 0], yerr=np.nan_to_num([m[:, 0] - m[:, 1], m[:, 2] - m[:, 0]]), marker="o", capsize=3, **kw)


def plot(res: dict[str, Any], figs: Path) -> None:
    figs.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for p, label in ((None, "patience off"), (81, "patience 81")):
        m = np.array([column(res["hb"][(p, k)], "to_target") for k in HB_WORKERS])
        errorbar(ax, HB_WORKERS, m, label=label)
    ax.set(xlabel="workers", ylabel="virtual seconds to target", title="Hyperband, max_iter 243")
    ax.legend()
    fig.tight_layout()
    fig.savefig(figs / "hyperband_time_to_target.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for key, label in (("to_target", "to target"), ("to_best", "to its own best"), ("total", "whole run")):
        errorbar(ax, ASHA_WORKERS, np.array([column(res["asha"][k], key) for k in ASHA_WORKERS]), label=label)
    ax.set(xscale="log", yscale="log", xlabel="workers", ylabel="virtual seconds", title="ASHA, max_iter 243")
    ax.legend()
    fig.tight_layout()
    fig.savefig(figs / "asha_time_to_target.png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", default="autoencoder-mnist")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--target-quantile", type=float, default=0.9)
    parser.add_argument("--recorded-costs", action="store_true", help="use the recording's step and score times")
    args = parser.parse_args()
    costs = {} if args.recorded_costs else {"step_s": 1.0, "score_s": 1.5}
    figs = RESULTS / "scaling_study"
    with tempfile.TemporaryDirectory() as tmp:
        res = study(args.curves, args.seeds, args.target_quantile, costs, Path(tmp))
    plot(res, figs)
    text = report(res, args.curves, args.seeds, args.target_quantile, costs, figs)
    (RESULTS / "scaling_study.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
