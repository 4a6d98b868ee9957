"""Scheduler overhead: how many results per second each scheduler absorbs with no training.

Every scheduler is played to the end by :func:`tunebench.synthetic.play` on synthetic scores,
so the time measured is the scheduler's ``suggest`` / ``on_result`` (including creating and
seeding trials) plus the small cost of the virtual workers. Rates are results per second of
this process's CPU time (``time.process_time``), which a busy machine distorts less than wall
time; wall time is recorded too. ``µs/new_trial`` times ``Scheduler.new_trial`` alone (the
core's config sampling and per-trial seeding) and ``new_trial share`` is its part of the CPU
time, so the schedulers' own cost can be told apart. Target: >= 20,000 results/s for Hyperband
and ASHA at ~10,000 trials.

    python scripts/bench_scheduler_overhead.py --trials 10000

Runs are interleaved (every scheduler once per round); the fastest by CPU time counts. Writes
``results/scheduler_overhead.md`` and ``.json`` and prints the table.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from tunebench import bench
from tunebench.algorithm import hyperband_n_trials
from tunebench.scheduler import Scheduler
from tunebench.space import Space
from tunebench.synthetic import play, seeded_curve

from schedulers.asha import ASHA
from schedulers.hyperband import Hyperband
from schedulers.random_search import RandomSearch
from schedulers.successive_halving import SuccessiveHalving

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-6, 1e-1]}, "l1_ratio": {"uniform": [0, 1]}})
TARGET = 20_000.0


def hyperband_max_iter(trials: int, eta: int = 3) -> int:
    """The power of ``eta`` whose Hyperband run creates the number of trials nearest ``trials``."""
    best, R = eta, eta
    while hyperband_n_trials(R, eta) < trials:
        R *= eta
        if abs(hyperband_n_trials(R, eta) - trials) < abs(hyperband_n_trials(best, eta) - trials):
            best = R
    return best


def cases(trials: int) -> dict[tuple[str, str], Callable[[], Scheduler]]:
    """A factory for every scheduler measured, by (name, params)."""
    R = hyperband_max_iter(trials)
    n_sh = 3 ** max(1, round(math.log(trials, 3)))
    asha = {"n_trials": trials, "max_iter": 81, "eta": 3}
    settings: list[tuple[type[Scheduler], dict[str, Any]]] = [
        (RandomSearch, {"n_trials": trials, "max_iter": 81, "report_every": 9}),
        (SuccessiveHalving, {"n_trials": n_sh, "min_iter": 1, "max_iter": n_sh, "eta": 3}),
        (Hyperband, {"max_iter": R, "eta": 3}),
        (Hyperband, {"max_iter": R, "eta": 3, "patience": 27}),
        (ASHA, {"variant": "promotion", **asha}),
        (ASHA, {"variant": "stopping", **asha}),
        (ASHA, {"variant": "promotion", **asha, "brackets": 3}),
    ]
    return {(cls.name, ", ".join(f"{k}={v}" for k, v in kw.items())): partial(cls, SPACE, **kw) for cls, kw in settings}


def once(factory: Callable[[], Scheduler], concurrency: int) -> dict[str, Any]:
    """One full run: CPU and wall seconds, trials, results and steps."""
    scheduler = factory()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    trace = play(scheduler, seeded_curve, concurrency)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"cpu_s": cpu, "wall_s": wall, "trials": len(scheduler.trials), "results": len(trace.results), "steps": trace.steps}


def new_trial_cost(factory: Callable[[], Scheduler], n: int) -> float:
    """CPU seconds per ``Scheduler.new_trial`` (the core's config sampling and trial seeding)."""
    scheduler = factory()
    t0 = time.process_time()
    for _ in range(n):
        scheduler.new_trial()
    return (time.process_time() - t0) / n


def row(name: str, params: str, concurrency: int, best: dict[str, Any], new_trial_s: float) -> dict[str, Any]:
    """The fastest run of a scheduler, as rates."""
    rate = best["results"] / best["cpu_s"]
    return {
        "scheduler": name,
        "params": params,
        "concurrency": concurrency,
        **best,
        "results_per_s": round(rate),
        "us_per_result": round(1e6 / rate, 2),
        "new_trial_us": round(1e6 * new_trial_s, 2),
        "new_trial_share": round(min(1.0, best["trials"] * new_trial_s / best["cpu_s"]), 3),
    }


def main() -> int:
    parser = bench.parser(__doc__, repeat=3)
    parser.add_argument("--trials", type=int, default=10_000, help="trials per scheduler (default 10000)")
    parser.add_argument("--concurrency", type=int, default=64, help="virtual workers (default 64)")
    args = parser.parse_args()
    factories = cases(args.trials)
    runs = bench.interleaved(
        {f"{n} ({p})": lambda k, f=f: once(f, args.concurrency) for (n, p), f in factories.items()}, args.repeat
    )
    rows = []
    for ((name, params), factory), rs in zip(factories.items(), runs.values(), strict=True):
        best = min(rs, key=lambda r: r["cpu_s"])
        rows.append(row(name, params, args.concurrency, best, new_trial_cost(factory, best["trials"])))
    head = ["scheduler", "params", "concurrency", "trials", "results", "steps", "cpu s", "wall s", "results/s", "µs/result"]
    keys = ["scheduler", "params", "concurrency", "trials", "results", "steps", "cpu_s", "wall_s"]
    body = [
        [*(r[k] for k in keys), f"{r['results_per_s']:,}", r["us_per_result"], r["new_trial_us"], f"{r['new_trial_share']:.0%}"]
        for r in rows
    ]
    load = os.getloadavg()[0]
    env = f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or platform.system()}"
    text = (
        f"# Scheduler overhead\n\nSynthetic results, no training; best of {args.repeat} runs by CPU time; {env};\n"
        f"load average at the end {load:.1f}. Target: >= {TARGET:,.0f} results/s (per CPU second)\n"
        f"for hyperband and asha.\n\n{bench.table([*head, 'µs/new_trial', 'new_trial share'], body)}\n"
    )
    data = {"trials": args.trials, "concurrency": args.concurrency, "repeat": args.repeat, "env": env, "load_average": load}
    bench.write(args.out, "scheduler_overhead", {**data, "target_results_per_s": TARGET, "rows": rows}, text)
    for r in rows:
        if r["scheduler"] in ("hyperband", "asha") and r["results_per_s"] < TARGET:
            print(f"below target: {r['scheduler']} ({r['params']}): {r['results_per_s']:,} results/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
