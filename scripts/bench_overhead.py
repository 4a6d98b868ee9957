"""Engine overhead: N no-op Jobs of T seconds each on W workers, through our Ray executor, our
Dask executor and a Ray Tune ``Tuner`` with ``ASHAScheduler``.

Our Jobs come from random search (``n_trials=N``, ``max_iter=1``: one one-step Job per trial)
on the ``mfh3`` workload with ``max_iter: 1`` and ``time_scale: T``, so each Job sleeps T seconds
(the cost of one evaluation at the top fidelity is 1) and scores in microseconds; the whole
``run()`` is timed (actors or workers set up, data shipped, the loop, journal and tables
written) on an engine already running (a local Ray with ``num_cpus=W``, or a LocalCluster of W
single-threaded worker processes). Ray Tune runs N trials that sleep T seconds and report once,
one CPU each, on a local Ray with ``num_cpus=W``, as its own scalability benchmark does
(``reuse_actors=True``, ``TUNE_GLOBAL_CHECKPOINT_S=100``); ``Tuner.fit()`` is timed.

For each: wall time, the ideal ``N * T / W``, the overhead over the ideal in percent, and the
results absorbed per second; repeats interleaved (each system once per round), medians
reported. Ray Tune's published reference (its scalability page: 10,000 one-second trials on 16
CPUs in 715 s against an ideal of 625 s, +14.4 %) is printed beside. Writes
``results/bench_overhead.json`` (every repeat, the medians, the machine and its load) and
``results/bench_overhead.csv`` (the medians)::

    python scripts/bench_overhead.py                       # 2,000 Jobs of 0.1 s on 2 workers, 3 rounds
    python scripts/bench_overhead.py --jobs 400 --seconds 0.05 --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "results"
SYSTEMS = ("tunebench-ray", "tunebench-dask", "ray-tune-asha")
REFERENCE = {
    "system": "Ray Tune, published",
    "jobs": 10_000,
    "seconds": 1.0,
    "workers": 16,
    "wall_s": 715.0,
    "ideal_s": 625.0,
    "overhead_pct": 14.4,
    "results_per_s": 10_000 / 715.0,
}


def experiment(jobs: int, seconds: float, executor: dict[str, Any]) -> Any:
    """Random search of ``jobs`` one-step trials on a workload whose step sleeps ``seconds``."""
    from tunebench.config import load_experiment

    raw = {
        "name": "bench-overhead",
        "seed": 0,
        "workload": {"name": "mfh3", "max_iter": 1, "time_scale": seconds},
        "scheduler": {"name": "random", "n_trials": jobs, "max_iter": 1},
        "executor": executor,
    }
    return load_experiment(raw=raw)


def ours(jobs: int, seconds: float, workers: int, executor: dict[str, Any], scratch: Path) -> tuple[float, dict[str, Any]]:
    """Time one run of ours; check that every Job reported."""
    from tunebench.run import run

    exp = experiment(jobs, seconds, executor)
    t0 = time.perf_counter()
    out = run(exp, tempfile.mkdtemp(dir=scratch), progress=False)
    wall = time.perf_counter() - t0
    if out.summary["partial_fit_calls"] != jobs or out.summary["status"] != "completed":
        raise RuntimeError(
            f"{executor['name']}: {out.summary['partial_fit_calls']} of {jobs} Jobs reported ({out.summary['status']})"
        )
    return wall, {"loop_s": out.summary["wall_time_s"]}


def on_ray(jobs: int, seconds: float, workers: int, scratch: Path) -> tuple[float, dict[str, Any]]:
    import ray

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        return ours(jobs, seconds, workers, {"name": "ray", "n_workers": workers}, scratch)
    finally:
        ray.shutdown()


def on_dask(jobs: int, seconds: float, workers: int, scratch: Path) -> tuple[float, dict[str, Any]]:
    import dask
    from distributed import LocalCluster

    from tunebench.executors.dask_executor import local_cluster_config

    quiet = {"dashboard_address": None, "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"}}
    with dask.config.set(local_cluster_config(2)):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, silence_logs=logging.ERROR, **quiet)
    with cluster:
        executor = {"name": "dask", "n_workers": workers, "address": cluster.scheduler_address}
        return ours(jobs, seconds, workers, executor, scratch)


def sleeper(config: dict[str, Any]) -> None:
    """A Ray Tune trial: sleep, report once."""
    from ray import tune

    time.sleep(config["seconds"])
    tune.report({"score": config["x"]})


def ray_tune(jobs: int, seconds: float, workers: int, scratch: Path) -> tuple[float, dict[str, Any]]:
    import ray
    from ray import tune
    from ray.tune import RunConfig, TuneConfig, Tuner
    from ray.tune.schedulers import ASHAScheduler

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        tuner = Tuner(
            tune.with_resources(sleeper, {"cpu": 1}),
            param_space={"seconds": seconds, "x": tune.uniform(0.0, 1.0)},
            tune_config=TuneConfig(
                num_samples=jobs,
                reuse_actors=True,
                scheduler=ASHAScheduler(metric="score", mode="max", max_t=1, grace_period=1),
            ),
            run_config=RunConfig(storage_path=str(Path(tempfile.mkdtemp(dir=scratch)).resolve()), name="overhead", verbose=0),
        )
        t0 = time.perf_counter()
        grid = tuner.fit()
        wall = time.perf_counter() - t0
    finally:
        ray.shutdown()
    if len(grid) != jobs or grid.num_errors:
        raise RuntimeError(f"ray-tune-asha: {len(grid)} trials, {grid.num_errors} failed, of {jobs}")
    return wall, {"loop_s": None}


RUNNERS: dict[str, Callable[[int, float, int, Path], tuple[float, dict[str, Any]]]] = {
    "tunebench-ray": on_ray,
    "tunebench-dask": on_dask,
    "ray-tune-asha": ray_tune,
}


def row(system: str, jobs: int, seconds: float, workers: int, wall: float, **extra: Any) -> dict[str, Any]:
    """One measurement with its ideal, overhead and throughput.

    >>> r = row("x", 100, 0.1, 2, 6.0)
    >>> r["ideal_s"], round(r["overhead_pct"], 1), round(r["results_per_s"], 1)
    (5.0, 20.0, 16.7)
    """
    ideal = jobs * seconds / workers
    return {
        "system": system,
        "jobs": jobs,
        "seconds": seconds,
        "workers": workers,
        "wall_s": wall,
        "ideal_s": ideal,
        "overhead_pct": 100.0 * (wall - ideal) / ideal,
        "results_per_s": jobs / wall,
        **extra,
    }


def medians(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per system, the median of each number over its repeats."""
    out = []
    for system in dict.fromkeys(r["system"] for r in runs):
        mine = [r for r in runs if r["system"] == system]
        first = mine[0]
        wall = statistics.median(r["wall_s"] for r in mine)
        loops = [r["loop_s"] for r in mine if r.get("loop_s") is not None]
        loop = statistics.median(loops) if loops else None
        out.append(row(system, first["jobs"], first["seconds"], first["workers"], wall, loop_s=loop, repeats=len(mine)))
    return out


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'system':<22} {'jobs':>6} {'T s':>5} {'workers':>7} {'wall s':>8} {'ideal s':>8} {'overhead':>9} {'results/s':>10}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['system']:<22} {r['jobs']:>6} {r['seconds']:>5g} {r['workers']:>7} {r['wall_s']:>8.1f} {r['ideal_s']:>8.1f} "
            f"{r['overhead_pct']:>+8.1f}% {r['results_per_s']:>10.1f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000, help="no-op Jobs (Ray Tune: trials) per run (default 2000)")
    parser.add_argument("--seconds", type=float, default=0.1, help="seconds each Job sleeps (default 0.1)")
    parser.add_argument("--workers", type=int, default=2, help="workers / CPUs (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each running every system once (default 3)")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for bench_overhead.json and .csv")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "100")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as scratch:
        for k in range(args.repeat):
            for system in args.systems:
                wall, extra = RUNNERS[system](args.jobs, args.seconds, args.workers, Path(scratch))
                runs.append(row(system, args.jobs, args.seconds, args.workers, wall, round=k, **extra))
                print(f"round {k + 1}/{args.repeat} {system}: {wall:.1f} s", flush=True)
    summary = medians(runs)
    report = {
        "medians": summary,
        "runs": runs,
        "reference": REFERENCE,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }
    (args.out / "bench_overhead.json").write_text(json.dumps(report, indent=2) + "\n")
    with open(args.out / "bench_overhead.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(summary[0]))
        writer.writeheader()
        writer.writerows(summary)
    print()
    print(table([*summary, REFERENCE]))
    print(f"\nmedians of {args.repeat} interleaved round(s); written to {args.out / 'bench_overhead.json'} and .csv")


if __name__ == "__main__":
    main()
