"""Engine overhead: N no-op Jobs of T seconds each on W workers, through our Ray executor, our
Dask executor, a Ray Tune ``Tuner`` with its ``ASHAScheduler``, and a ``Tuner`` with our ASHA as
its scheduler (``tunebench.integrations.ray_tune``: Ray Tune's overhead, our scheduler deciding).

Our Jobs come from random search (``n_trials=N``, ``max_iter=1``: one one-step Job per trial)
on the ``mfh3`` workload with ``max_iter: 1`` and ``time_scale: T``, so each Job sleeps T seconds
(the cost of one evaluation at the top fidelity is 1) and scores in microseconds; the whole
``run()`` is timed (actors or workers set up, data shipped, the loop, journal and tables
written) on an engine already running (a local Ray with ``num_cpus=W``, or a LocalCluster of W
single-threaded worker processes). Both ``Tuner`` cases run N trials (ours: ASHA with
``max_iter=1``, ``n_trials=N``, W at once) that sleep T seconds and report once, one CPU each,
on a local Ray with ``num_cpus=W``, as Ray Tune's own scalability benchmark does
(``reuse_actors=True``, ``TUNE_GLOBAL_CHECKPOINT_S=100``); ``Tuner.fit()`` is timed.

For each: wall time, the ideal ``N * T / W``, the overhead over the ideal in percent, and the
results absorbed per second; repeats interleaved (each system once per round), medians
reported. Ray Tune's published reference (its scalability page: 10,000 one-second trials on 16
CPUs in 715 s against an ideal of 625 s, +14.4 %) is printed beside. Writes
``results/bench_overhead.json`` (every repeat, the medians, the machine and its load) and
``.md`` (the medians)::

    python scripts/bench_overhead.py                       # 2,000 Jobs of 0.1 s on 2 workers, 3 rounds
    python scripts/bench_overhead.py --jobs 400 --seconds 0.05 --repeat 3
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from tunebench import bench


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


def ours(jobs: int, seconds: float, executor: dict[str, Any], scratch: Path) -> tuple[float, float | None]:
    """Wall time of one run of ours, and its loop's; check that every Job reported."""
    from tunebench.run import run

    t0 = time.perf_counter()
    out = run(experiment(jobs, seconds, executor), tempfile.mkdtemp(dir=scratch), progress=False)
    wall = time.perf_counter() - t0
    if out.summary["partial_fit_calls"] != jobs or out.summary["status"] != "completed":
        raise RuntimeError(
            f"{executor['name']}: {out.summary['partial_fit_calls']} of {jobs} Jobs reported ({out.summary['status']})"
        )
    return wall, out.summary["wall_time_s"]


@contextmanager
def local_ray(workers: int) -> Iterator[None]:
    import ray

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield
    finally:
        ray.shutdown()


def on_ray(jobs: int, seconds: float, workers: int, scratch: Path) -> tuple[float, float | None]:
    with local_ray(workers):
        return ours(jobs, seconds, {"name": "ray", "n_workers": workers}, scratch)


def on_dask(jobs: int, seconds: float, workers: int, scratch: Path) -> tuple[float, float | None]:
    import dask
    from distributed import LocalCluster

    from tunebench.executors.dask_executor import local_cluster_config

    quiet = {"dashboard_address": None, "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"}}
    with dask.config.set(local_cluster_config(2)):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, silence_logs=logging.ERROR, **quiet)
    with cluster:
        executor = {"name": "dask", "n_workers": workers, "address": cluster.scheduler_address}
        return ours(jobs, seconds, executor, scratch)


def sleeper(config: dict[str, Any]) -> None:
    """A Ray Tune trial: sleep, report once."""
    from ray import tune

    time.sleep(config["seconds"])
    tune.report({"score": config["x"]})


def tuner(jobs: int, seconds: float, workers: int, scratch: Path, tune_config: Any, space: dict[str, Any]) -> tuple[float, None]:
    """Wall time of ``Tuner.fit()`` over ``jobs`` sleeper trials; check that each one ran."""
    from ray import tune

    with local_ray(workers):
        run_config = tune.RunConfig(storage_path=str(Path(tempfile.mkdtemp(dir=scratch)).resolve()), name="overhead", verbose=0)
        fit = tune.Tuner(
            tune.with_resources(sleeper, {"cpu": 1}),
            param_space={"seconds": seconds, **space},
            tune_config=tune_config,
            run_config=run_config,
        )
        t0 = time.perf_counter()
        grid = fit.fit()
        wall = time.perf_counter() - t0
    if len(grid) != jobs or grid.num_errors:
        raise RuntimeError(f"Tuner: {len(grid)} trials, {grid.num_errors} failed, of {jobs}")
    return wall, None


def ray_tune(jobs: int, seconds: float, workers: int, scratch: Path) -> tuple[float, None]:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    asha = ASHAScheduler(metric="score", mode="max", max_t=1, grace_period=1)
    config = tune.TuneConfig(num_samples=jobs, reuse_actors=True, scheduler=asha)
    return tuner(jobs, seconds, workers, scratch, config, {"x": tune.uniform(0.0, 1.0)})


def asha_in_tune(jobs: int, seconds: float, workers: int, scratch: Path) -> tuple[float, None]:
    from tunebench.integrations.ray_tune import tune_config
    from tunebench.space import Space

    from schedulers.asha import ASHA

    asha = ASHA(Space.from_spec({"x": {"uniform": [0, 1]}}), max_iter=1, n_trials=jobs, seed=0)
    config = tune_config(asha, metric="score", mode="max", max_concurrent_trials=workers, reuse_actors=True)
    return tuner(jobs, seconds, workers, scratch, config, {})


RUNNERS: dict[str, Callable[[int, float, int, Path], tuple[float, float | None]]] = {
    "tunebench-ray": on_ray,
    "tunebench-dask": on_dask,
    "ray-tune-asha": ray_tune,
    "tunebench-asha-in-ray-tune": asha_in_tune,
}


def row(system: str, jobs: int, seconds: float, workers: int, wall: float, loop: float | None = None) -> dict[str, Any]:
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
        "loop_s": loop,
    }


REFERENCE = row("Ray Tune, published", 10_000, 1.0, 16, 715.0)


def measure(system: str, args: argparse.Namespace, scratch: Path, k: int) -> dict[str, Any]:
    """Round ``k`` of ``system``."""
    wall, loop = RUNNERS[system](args.jobs, args.seconds, args.workers, scratch)
    print(f"round {k + 1}/{args.repeat} {system}: {wall:.1f} s", flush=True)
    return row(system, args.jobs, args.seconds, args.workers, wall, loop)


def main() -> None:
    parser = bench.parser(__doc__, repeat=3)
    parser.add_argument("--jobs", type=int, default=2000, help="no-op Jobs (Ray Tune: trials) per run (default 2000)")
    parser.add_argument("--seconds", type=float, default=0.1, help="seconds each Job sleeps (default 0.1)")
    parser.add_argument("--workers", type=int, default=2, help="workers / CPUs (default 2)")
    parser.add_argument("--systems", nargs="+", choices=list(RUNNERS), default=list(RUNNERS))
    args = parser.parse_args()
    for key, value in (("RAY_AUTH_MODE", "disabled"), ("TUNE_GLOBAL_CHECKPOINT_S", "100"), ("RAY_USAGE_STATS_ENABLED", "0")):
        os.environ.setdefault(key, value)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as scratch:
        runs = bench.interleaved({system: partial(measure, system, args, Path(scratch)) for system in args.systems}, args.repeat)
    summary = [bench.medians(rs) for rs in runs.values()]
    report = {
        "medians": summary,
        "runs": runs,
        "reference": REFERENCE,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }
    head = ["system", "jobs", "T (s)", "workers", "wall (s)", "ideal (s)", "overhead (%)", "results/s", "loop (s)"]
    text = (
        f"# Engine overhead\n\nMedians of {args.repeat} interleaved round(s); loop: our run's own wall time, "
        f"inside the run() timed; load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after.\n\n"
        + bench.table(head, [list(r.values()) for r in [*summary, REFERENCE]])
        + "\n"
    )
    bench.write(args.out, "bench_overhead", report, text)


if __name__ == "__main__":
    main()
