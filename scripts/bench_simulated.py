"""Time the simulated executor through the full ``run()``: journal on disk, tables written.

Two cases, each the median of ``--repeat`` runs (default 3):

- ASHA (promotion, ``n_trials=10000``, ``max_iter=81``, eta 3) on 1,000 virtual workers;
- Hyperband (``max_iter=243``, eta 3) on 32 virtual workers.

Beside each, the bare :func:`tunebench.synthetic.play` of the same scheduler (no journal, no
tables, a score function instead of recorded curves), so the loop's and the store's share of
the time shows. Writes ``results/bench_simulated.md`` and ``.json`` and prints the table::

    python scripts/bench_simulated.py [--curves sgd-circles] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunebench import registry
from tunebench.config import load_experiment
from tunebench.run import run
from tunebench.synthetic import play, seeded_curve
from tunebench.workloads.curves import read_curves

RESULTS = Path(__file__).resolve().parent.parent / "results"
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


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_case(curves: str, name: str, repeat: int) -> dict[str, Any]:
    scheduler, n_workers, target = CASES[name]
    runs, bare, summary = [], [], {}
    for seed in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            exp = experiment(curves, scheduler, n_workers, seed)
            seconds, out = timed(lambda: run(exp, Path(tmp) / "run", progress=False))  # noqa: B023 (called at once)
            runs.append(seconds)
            summary = out.summary
        params = {k: v for k, v in scheduler.items() if k != "name"}
        space = exp.build().space
        cls = registry.load("scheduler", scheduler["name"])
        bare.append(timed(lambda: play(cls(space, seed=seed, **params), seeded_curve, n_workers))[0])  # noqa: B023 (called at once)
    return {
        "case": name,
        "scheduler": scheduler,
        "n_workers": n_workers,
        "target_s": target,
        "run_s": statistics.median(runs),
        "run_s_all": runs,
        "play_s": statistics.median(bare),
        "n_trials": summary["n_trials"],
        "n_results": summary["n_results"],
        "partial_fit_calls": summary["partial_fit_calls"],
        "virtual_time_s": summary["wall_time_s"],
        "lookups_exact": summary["executor_stats"]["lookups_exact"],
        "lookups_nearest": summary["executor_stats"]["lookups_nearest"],
    }


def table(rows: list[dict[str, Any]], curves: str, repeat: int) -> str:
    lines = [
        f"# Simulated executor through the full run() (curves `{curves}`, median of {repeat})",
        "",
        "| case | workers | trials | results | partial_fit calls | virtual time (s) | run() (s) | target (s) | bare play (s) | run / play |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        args = ", ".join(f"{k}={v}" for k, v in r["scheduler"].items() if k != "name")
        lines.append(
            f"| {r['case']} ({args}) | {r['n_workers']} | {r['n_trials']} | {r['n_results']} | {r['partial_fit_calls']} | "
            f"{r['virtual_time_s']:.1f} | {r['run_s']:.3f} | {r['target_s']:.0f} | {r['play_s']:.3f} | {r['run_s'] / r['play_s']:.1f}x |"
        )
    lines += [
        "",
        "run(): load the experiment's plugins, loop with the journal sink, derive and write the tables and "
        "summary.json; bare play: the same scheduler through the loop with no sinks and a score function.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", default="sgd-circles", help="recording to replay (default sgd-circles)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [bench_case(args.curves, name, args.repeat) for name in CASES]
    text = table(rows, args.curves, args.repeat)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_simulated.md").write_text(text)
    (RESULTS / "bench_simulated.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
