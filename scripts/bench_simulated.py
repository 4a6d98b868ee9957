"""Time the simulated executor through the full ``run()``: journal on disk, tables written.

Two cases, each the median of ``--repeat`` seeded runs (default 3), interleaved:

- ASHA (promotion, ``n_trials=10000``, ``max_iter=81``, eta 3) on 1,000 virtual workers;
- Hyperband (``max_iter=243``, eta 3) on 32 virtual workers.

Beside each, the bare :func:`tunebench.synthetic.play` of the same scheduler (no journal, no
tables, a score function instead of recorded curves), so the loop's and the store's share of
the time shows. Writes ``results/bench_simulated.md`` and ``.json`` and prints the table::

    python scripts/bench_simulated.py [--curves sgd-circles] [--repeat 3]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from tunebench import bench, registry
from tunebench.config import load_experiment
from tunebench.run import run
from tunebench.synthetic import play, seeded_curve
from tunebench.workloads.curves import read_curves

CASES = {
    "asha": ({"name": "asha", "variant": "promotion", "n_trials": 10_000, "max_iter": 81, "eta": 3}, 1000, 5.0),
    "hyperband": ({"name": "hyperband", "max_iter": 243, "eta": 3}, 32, 1.0),
}


def experiment(curves: str, scheduler: dict[str, Any], n_workers: int, seed: int) -> Any:
    meta = read_curves(curves).meta
    workload = dict(meta.get("workload_config") or {"name": meta["workload"]})
    raw = {
        "name": "bench-simulated",
        "seed": seed,
        "workload": workload,
        "scheduler": dict(scheduler),
        "executor": {"name": "simulated", "curves": curves, "n_workers": n_workers},
        "space": meta.get("space"),
    }
    return load_experiment(raw=raw)


def once(curves: str, name: str, seed: int) -> dict[str, Any]:
    """One seeded ``run()`` of a case, timed, and the bare play of the same scheduler."""
    scheduler, n_workers, target = CASES[name]
    exp = experiment(curves, scheduler, n_workers, seed)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = run(exp, Path(tmp) / "run", progress=False).summary
        run_s = time.perf_counter() - t0
    params = {k: v for k, v in scheduler.items() if k != "name"}
    bare = registry.load("scheduler", scheduler["name"])(exp.build().space, seed=seed, **params)
    t0 = time.perf_counter()
    play(bare, seeded_curve, n_workers)
    return {
        "case": name,
        "scheduler": scheduler,
        "n_workers": n_workers,
        "target_s": target,
        "run_s": run_s,
        "play_s": time.perf_counter() - t0,
        "n_trials": summary["n_trials"],
        "n_results": summary["n_results"],
        "partial_fit_calls": summary["partial_fit_calls"],
        "virtual_time_s": summary["wall_time_s"],
        "lookups_exact": summary["executor_stats"]["lookups_exact"],
        "lookups_nearest": summary["executor_stats"]["lookups_nearest"],
    }


def table(rows: list[dict[str, Any]], curves: str, repeat: int) -> str:
    head = ["case", "workers", "trials", "results", "partial_fit calls", "virtual time (s)", "run() (s)", "target (s)"]
    body = [
        [f"{r['case']} ({', '.join(f'{k}={v}' for k, v in r['scheduler'].items() if k != 'name')})"]
        + [r["n_workers"], r["n_trials"], r["n_results"], r["partial_fit_calls"], f"{r['virtual_time_s']:.1f}"]
        + [f"{r['run_s']:.3f}", f"{r['target_s']:.0f}", f"{r['play_s']:.3f}", f"{r['run_s'] / r['play_s']:.1f}x"]
        for r in rows
    ]
    return (
        f"# Simulated executor through the full run() (curves `{curves}`, median of {repeat})\n\n"
        + bench.table([*head, "bare play (s)", "run / play"], body)
        + "\n\nrun(): load the experiment's plugins, loop with the journal sink, derive and write the tables and "
        "summary.json; bare play: the same scheduler through the loop with no sinks and a score function.\n"
    )


def main() -> None:
    parser = bench.parser(__doc__, repeat=3)
    parser.add_argument("--curves", default="sgd-circles", help="recording to replay (default sgd-circles)")
    args = parser.parse_args()
    runs = bench.interleaved({name: lambda k, name=name: once(args.curves, name, k) for name in CASES}, args.repeat)
    rows = [bench.medians(rs) for rs in runs.values()]
    bench.write(args.out, "bench_simulated", {"medians": rows, "runs": runs}, table(rows, args.curves, args.repeat))


if __name__ == "__main__":
    main()
