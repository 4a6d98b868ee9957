"""Worker utilisation of the README's default run with and without a per-worker queue.

The default run (``configs/sgd-hyperband.yaml``: SGD on 10,000 circles rows, Hyperband
``max_iter=81``, 2 workers) on ``dask`` and ``ray``, each with ``queue_depth: 1`` (a worker gets
its next Job only after the driver has taken in its last result) and the default depth (it
holds its next Job while the driver works). Runs are interleaved (every repeat runs each
executor at each depth, the order rotating) and each cell is the median over ``--repeat`` runs.
Utilisation is the summary's: summed Job compute and scoring time over workers x wall time.
Every run's per-trial steps and statuses are compared with the first run's: Hyperband's
decisions must not change with the depth or the executor.

``--workers 1`` runs one worker instead of the config's 2, which leaves the driver a core of its
own on a 2-core machine (with 2 workers the driver, the scheduler and the workers share both).

Writes ``results/bench_utilisation.md`` and ``.json`` (``bench_utilisation-1w.*`` with
``--workers 1``)::

    python scripts/bench_utilisation.py [--repeat 3] [--executors dask ray] [--depths 1 2] [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tunebench.config import load_experiment
from tunebench.run import run

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
CONFIG = ROOT / "configs" / "sgd-hyperband.yaml"


def decisions(out: Any) -> list[tuple[int, int, str]]:
    """Each trial's final steps and status: what Hyperband decided."""
    return sorted((int(r.trial_id), int(r.steps), str(r.status)) for r in out.trials.itertuples())


def one_run(executor: str, depth: int, workers: int | None) -> dict[str, Any]:
    sets = [f"executor.name={executor}", f"executor.queue_depth={depth}"]
    exp = load_experiment(CONFIG, sets + ([f"executor.n_workers={workers}"] if workers else []))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = run(exp, Path(tmp) / "run", progress=False)
        total = time.perf_counter() - t0
    s = out.summary
    return {"executor": executor, "queue_depth": depth, "utilization": s["utilization"], "wall_time_s": s["wall_time_s"],
            "total_s": total, "partial_fit_calls": s["partial_fit_calls"], "n_trials": s["n_trials"],
            "busy_s": float(out.results["compute_s"].sum() + out.results["score_s"].sum()),
            "best_score": s["best_score"], "decisions": decisions(out)}


def schedule(executors: list[str], depths: list[int], repeat: int) -> list[tuple[str, int]]:
    """Every (executor, depth) once per repeat, the order rotated by one each repeat.

    >>> schedule(["dask"], [1, 2], 2)
    [('dask', 1), ('dask', 2), ('dask', 2), ('dask', 1)]
    """
    cells = [(e, d) for e in executors for d in depths]
    out: list[tuple[str, int]] = []
    for i in range(repeat):
        k = i % len(cells)
        out.extend(cells[k:] + cells[:k])
    return out


def table(runs: list[dict[str, Any]], executors: list[str], depths: list[int]) -> list[str]:
    """Medians per (executor, depth); the wall-time ratio to the first depth is taken within
    each repeat (runs next to each other in time) and then the median of those ratios."""
    lines = ["| executor | queue_depth | utilisation (median) | all runs | wall s (median) | wall / wall at first depth, same repeat (median) | busy s, Jobs summed (median) |",
             "|---|---|---|---|---|---|---|"]
    for e in executors:
        base = [r["wall_time_s"] for r in runs if r["executor"] == e and r["queue_depth"] == depths[0]]
        for d in depths:
            mine = [r for r in runs if r["executor"] == e and r["queue_depth"] == d]
            util = statistics.median(r["utilization"] for r in mine)
            wall = statistics.median(r["wall_time_s"] for r in mine)
            ratio = statistics.median(r["wall_time_s"] / b for r, b in zip(mine, base))
            every = ", ".join(f"{r['utilization']:.3f}" for r in mine)
            busy = statistics.median(r["busy_s"] for r in mine)
            lines.append(f"| {e} | {d} | {util:.3f} | {every} | {wall:.1f} | {ratio:.2f} | {busy:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--executors", nargs="+", default=["dask", "ray"])
    parser.add_argument("--depths", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--workers", type=int, default=None, help="n_workers instead of the config's")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    runs = []
    for executor, depth in schedule(args.executors, args.depths, args.repeat):
        r = one_run(executor, depth, args.workers)
        runs.append(r)
        print(f"{executor} queue_depth={depth}: utilisation {r['utilization']:.3f}, wall {r['wall_time_s']:.1f} s", flush=True)
    same = all(r["decisions"] == runs[0]["decisions"] for r in runs)
    load = os.getloadavg()
    lines = [
        "# Utilisation of the default run (configs/sgd-hyperband.yaml) by queue depth",
        "",
        f"`python scripts/bench_utilisation.py --repeat {args.repeat}{f' --workers {args.workers}' if args.workers else ''}`: "
        f"{len(runs)} runs, interleaved; medians over "
        f"{args.repeat} repeats. Utilisation = summed Job compute + scoring time / (workers x wall time).",
        "",
        *table(runs, args.executors, args.depths),
        "",
        f"Hyperband's decisions (every trial's steps and status) identical in all runs: {'yes' if same else 'NO'}; "
        f"{runs[0]['n_trials']} trials, {runs[0]['partial_fit_calls']} partial_fit calls each.",
        f"Load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs (a shared machine).",
    ]
    RESULTS.mkdir(exist_ok=True)
    stem = "bench_utilisation" + (f"-{args.workers}w" if args.workers else "")
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{stem}.json").write_text(
        json.dumps([{k: v for k, v in r.items() if k != "decisions"} for r in runs], indent=1)
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
