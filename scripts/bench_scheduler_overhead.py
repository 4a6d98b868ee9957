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

Writes ``results/scheduler_overhead.md`` and ``results/scheduler_overhead.json`` and prints the
table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from tunebench.scheduler import Scheduler
from tunebench.space import Space
from tunebench.synthetic import play, seeded_curve

from schedulers.asha import ASHA
from schedulers.hyperband import Hyperband, hyperband_plan
from schedulers.random_search import RandomSearch
from schedulers.successive_halving import SuccessiveHalving

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-6, 1e-1]}, "l1_ratio": {"uniform": [0, 1]}})
TARGET = 20_000.0


@dataclass
class Row:
    """One scheduler's measurement."""

    scheduler: str
    params: str
    concurrency: int
    trials: int
    results: int
    steps: int
    cpu_s: float
    wall_s: float
    results_per_s: float
    us_per_result: float
    new_trial_us: float
    new_trial_share: float


def hyperband_max_iter(trials: int, eta: int = 3) -> int:
    """The power of ``eta`` whose Hyperband run creates the number of trials nearest ``trials``."""
    best, R = eta, eta
    while hyperband_plan(R, eta)["n_models"] < trials:
        R *= eta
        if abs(hyperband_plan(R, eta)["n_models"] - trials) < abs(hyperband_plan(best, eta)["n_models"] - trials):
            best = R
    return best


def cases(trials: int, concurrency: int) -> list[tuple[str, str, int, Callable[[], Scheduler]]]:
    """(name, params, concurrency, factory) for every scheduler measured."""
    R = hyperband_max_iter(trials)
    n_sh = 3 ** max(1, round(math.log(trials, 3)))
    return [
        (
            "random",
            f"n_trials={trials}, max_iter=81, report_every=9",
            concurrency,
            lambda: RandomSearch(SPACE, n_trials=trials, max_iter=81, report_every=9),
        ),
        (
            "successive_halving",
            f"n_trials={n_sh}, min_iter=1, max_iter={n_sh}, eta=3",
            concurrency,
            lambda: SuccessiveHalving(SPACE, n_trials=n_sh, min_iter=1, max_iter=n_sh, eta=3),
        ),
        ("hyperband", f"max_iter={R}, eta=3", concurrency, lambda: Hyperband(SPACE, max_iter=R, eta=3)),
        ("hyperband", f"max_iter={R}, eta=3, patience=27", concurrency, lambda: Hyperband(SPACE, max_iter=R, eta=3, patience=27)),
        (
            "asha",
            f"variant=promotion, n_trials={trials}, max_iter=81, eta=3",
            concurrency,
            lambda: ASHA(SPACE, n_trials=trials, max_iter=81, eta=3, variant="promotion"),
        ),
        (
            "asha",
            f"variant=stopping, n_trials={trials}, max_iter=81, eta=3",
            concurrency,
            lambda: ASHA(SPACE, n_trials=trials, max_iter=81, eta=3, variant="stopping"),
        ),
        (
            "asha",
            f"variant=promotion, n_trials={trials}, brackets=3",
            concurrency,
            lambda: ASHA(SPACE, n_trials=trials, max_iter=81, eta=3, brackets=3),
        ),
    ]


def measure(name: str, params: str, concurrency: int, factory: Callable[[], Scheduler], repeat: int) -> Row:
    """Best of ``repeat`` full runs (the least disturbed by the rest of the machine)."""
    best: tuple[float, float, int, int, int] | None = None
    for _ in range(repeat):
        scheduler = factory()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        trace = play(scheduler, seeded_curve, concurrency)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        if best is None or cpu < best[0]:
            best = (cpu, wall, len(scheduler.trials), len(trace.results), trace.steps)
    assert best is not None
    cpu, wall, n_trials, n_results, steps = best
    rate = n_results / cpu
    new_trial_s = new_trial_cost(factory, n_trials)
    return Row(
        name,
        params,
        concurrency,
        n_trials,
        n_results,
        steps,
        round(cpu, 4),
        round(wall, 4),
        round(rate),
        round(1e6 / rate, 2),
        round(1e6 * new_trial_s, 2),
        round(min(1.0, n_trials * new_trial_s / cpu), 3),
    )


def new_trial_cost(factory: Callable[[], Scheduler], n: int) -> float:
    """CPU seconds per ``Scheduler.new_trial`` (the core's config sampling and trial seeding)."""
    scheduler = factory()
    t0 = time.process_time()
    for _ in range(n):
        scheduler.new_trial()
    return (time.process_time() - t0) / n


def markdown(rows: list[Row]) -> str:
    head = (
        "| scheduler | params | concurrency | trials | results | steps | cpu s | wall s | results/s | µs/result "
        "| µs/new_trial | new_trial share |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r.scheduler} | {r.params} | {r.concurrency} | {r.trials} | {r.results} | {r.steps} | "
            f"{r.cpu_s:.3f} | {r.wall_s:.3f} | {r.results_per_s:,} | {r.us_per_result} | {r.new_trial_us} | "
            f"{r.new_trial_share:.0%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000, help="trials per scheduler (default 10000)")
    parser.add_argument("--concurrency", type=int, default=64, help="virtual workers (default 64)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scheduler; the fastest counts (default 3)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output directory (default results/)")
    args = parser.parse_args(argv)
    rows = [measure(*case, repeat=args.repeat) for case in cases(args.trials, args.concurrency)]
    table = markdown(rows)
    env = f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or platform.system()}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scheduler_overhead.md").write_text(
        f"# Scheduler overhead\n\nSynthetic results, no training; best of {args.repeat} runs by CPU time; {env};\n"
        f"load average at the end {os.getloadavg()[0]:.1f}. Target: >= {TARGET:,.0f} results/s (per CPU second)\n"
        f"for hyperband and asha.\n\n{table}\n"
    )
    (args.out / "scheduler_overhead.json").write_text(
        json.dumps(
            {
                "trials": args.trials,
                "concurrency": args.concurrency,
                "repeat": args.repeat,
                "env": env,
                "target_results_per_s": TARGET,
                "load_average": os.getloadavg()[0],
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
        )
    )
    print(table)
    slow = [r for r in rows if r.scheduler in ("hyperband", "asha") and r.results_per_s < TARGET]
    for r in slow:
        print(f"below target: {r.scheduler} ({r.params}): {r.results_per_s:,} results/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
