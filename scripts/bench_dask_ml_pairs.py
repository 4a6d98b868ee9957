"""Our Hyperband on Dask against Dask-ML's ``HyperbandSearchCV`` at equal partial_fit calls, in interleaved pairs.

Ours: ``configs/sgd-hyperband-dask.yaml`` (SGDClassifier on 10,000 circles rows, max_iter 81,
eta 3, our Dask executor on a 2-worker LocalCluster) through ``tunebench.run``; its time is the
run's ``wall_time_s`` (from the first Job, the data already on the workers, to the best
model's test score). Theirs: the ``dask-ml-hyperband`` peer on the same task (the same data
arrays and split, space, seed, max_iter 81, aggressiveness 3, 2 workers, our diagnostics
settings), timed by its ``fit_s`` (``fit`` alone, which persists the data itself) and its
``wall_time_s`` (``fit`` plus the test score). Neither stops a trial early, so both make
every call Hyperband plans; the table shows the counts.

Pair ``k`` runs both with seed ``k``, each in a fresh process, ours first in even pairs and
theirs first in odd ones, so drift on a shared machine falls on both alike. The ratio is
ours / theirs per pair; the verdict is on the median (target: at most 0.8).

    python scripts/bench_dask_ml_pairs.py                 # 5 pairs -> results/bench_dask_ml_pairs.{md,json}
    python scripts/bench_dask_ml_pairs.py --pairs 7
    python scripts/bench_dask_ml_pairs.py --quick         # 2,000 rows, max_iter 27: a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "sgd-hyperband-dask.yaml"
TARGET = 0.8


def sizes(quick: bool) -> tuple[int, int]:
    return (2000, 27) if quick else (10_000, 81)


def ours(seed: int, quick: bool) -> dict[str, Any]:
    from tunebench.config import load_experiment
    from tunebench.run import run

    n_samples, max_iter = sizes(quick)
    exp = load_experiment(CONFIG, [f"seed={seed}", f"workload.n_samples={n_samples}", f"scheduler.max_iter={max_iter}"])
    with tempfile.TemporaryDirectory() as tmp:
        s = run(exp, Path(tmp) / "run", progress=False).summary
    return {"time_s": s["wall_time_s"], "wall_time_s": s["wall_time_s"], "partial_fit_calls": s["partial_fit_calls"],
            "n_trials": s["n_trials"], "best_score": s["best_score"], "utilization": s["utilization"]}


def theirs(seed: int, quick: bool) -> dict[str, Any]:
    from tunebench.compare.peer import PeerTask
    from tunebench.compare.peers.dask_ml import DaskMLHyperband
    from tunebench.workloads.sgd import SGDWorkload

    n_samples, max_iter = sizes(quick)
    wl = SGDWorkload(dataset="circles", n_samples=n_samples)
    task = PeerTask(workload=wl, data=wl.load(seed), space=wl.default_space(), seed=seed, n_workers=2, max_iter=max_iter)
    with tempfile.TemporaryDirectory() as tmp:
        s = DaskMLHyperband(eta=3).run(task, Path(tmp) / "run")
    return {"time_s": s["fit_s"], "wall_time_s": s["wall_time_s"], "partial_fit_calls": s["partial_fit_calls"],
            "n_trials": s["n_trials"], "best_score": s["best_score"], "utilization": s["utilization"]}


def run_case(case: str, seed: int, quick: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--case", case, "--seed", str(seed)] + (["--quick"] if quick else [])
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{case} seed {seed} failed:\n{(proc.stderr or proc.stdout)[-2000:]}")
    return {**json.loads(lines[-1]), "load": load}


def table(pairs: list[dict[str, Any]]) -> list[str]:
    out = ["| pair | first | ours wall (s) | Dask-ML fit (s) | Dask-ML wall (s) | ours / fit | ours / wall | calls ours / theirs "
           "| best ours / theirs | utilisation ours / theirs | load avg |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in pairs:
        a, b = p["ours"], p["theirs"]
        out.append(f"| {p['seed']} | {p['first']} | {a['time_s']:.2f} | {b['time_s']:.2f} | {b['wall_time_s']:.2f} | {p['ratio']:.3f} "
                   f"| {p['ratio_wall']:.3f} | {a['partial_fit_calls']} / {b['partial_fit_calls']} | {a['best_score']:.4f} / {b['best_score']:.4f} "
                   f"| {a['utilization']:.2f} / {b['utilization']:.2f} | {a['load']:.1f} / {b['load']:.1f} |")
    return out


def report(pairs: list[dict[str, Any]], quick: bool) -> str:
    ratios = [p["ratio"] for p in pairs]
    walls = [p["ratio_wall"] for p in pairs]
    med = statistics.median(ratios)
    q = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [med, med, med]
    n_samples, max_iter = sizes(quick)
    lines = [
        "# Our Hyperband on Dask vs Dask-ML HyperbandSearchCV, equal calls, interleaved pairs", "",
        f"SGDClassifier on {n_samples:,} circles rows, max_iter {max_iter}, eta 3, 2 workers; "
        f"{len(pairs)} pairs, seed = pair, each run in a fresh process (`python scripts/bench_dask_ml_pairs.py"
        f"{' --quick' if quick else ''} --pairs {len(pairs)}`).", "",
        *table(pairs), "",
        f"- ours / Dask-ML fit time: median **{med:.3f}**, quartiles {q[0]:.3f} to {q[2]:.3f}, range {min(ratios):.3f} to {max(ratios):.3f}",
        f"- ours / Dask-ML wall time (fit + test score): median {statistics.median(walls):.3f}, range {min(walls):.3f} to {max(walls):.3f}",
        f"- equal calls in every pair: {all(p['ours']['partial_fit_calls'] == p['theirs']['partial_fit_calls'] for p in pairs)}",
        f"- target median ours / theirs <= {TARGET}: {'met' if med <= TARGET else 'not met'}",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case", choices=("ours", "theirs"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.case:
        print(json.dumps((ours if args.case == "ours" else theirs)(args.seed, args.quick)))
        return
    pairs = []
    for k in range(args.pairs):
        order = ("ours", "theirs") if k % 2 == 0 else ("theirs", "ours")
        got = {case: run_case(case, k, args.quick) for case in order}
        pair = {"seed": k, "first": order[0], **got, "ratio": got["ours"]["time_s"] / got["theirs"]["time_s"],
                "ratio_wall": got["ours"]["wall_time_s"] / got["theirs"]["wall_time_s"], "at": time.strftime("%H:%M:%S")}
        pairs.append(pair)
        print(f"pair {k}: ours {got['ours']['time_s']:.2f} s, dask-ml fit {got['theirs']['time_s']:.2f} s, ratio {pair['ratio']:.3f}", flush=True)
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / f"bench_dask_ml_pairs{'_quick' if args.quick else ''}.json").write_text(json.dumps(pairs, indent=1))
    md = report(pairs, args.quick)
    (out / f"bench_dask_ml_pairs{'_quick' if args.quick else ''}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
