"""CPU an idle 2-worker Dask LocalCluster (driver and workers) keeps busy, at Dask's defaults and
with the Dask executor's ``DIAGNOSTICS`` settings: what a matrix cannot show, since no Job runs.
Writes ``results/dask_idle.json`` and ``.md``::

    python scripts/measure_dask_idle.py [--seconds 20]
"""

from __future__ import annotations

import logging
import os
import time

import dask
import psutil
from distributed import Client, LocalCluster

from tunebench import bench
from tunebench.executors.dask_executor import DIAGNOSTICS


def cpu_seconds(pids: list[int]) -> float:
    return sum(sum(psutil.Process(p).cpu_times()[:2]) for p in pids)


def idle_share(config: dict[str, object], seconds: float) -> float:
    """Percent of one core the cluster's processes use over ``seconds`` of doing nothing."""
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = [os.getpid(), *client.run(os.getpid).values()]
        time.sleep(3)
        before, t0 = cpu_seconds(pids), time.time()
        time.sleep(seconds)
        return 100 * (cpu_seconds(pids) - before) / (time.time() - t0)


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    out = {name: idle_share(config, args.seconds) for name, config in (("dask_defaults", {}), ("diagnostics", DIAGNOSTICS))}
    text = (
        f"idle 2-worker LocalCluster over {args.seconds:g} s: {out['dask_defaults']:.1f}% of a core at Dask's defaults, "
        f"{out['diagnostics']:.1f}% with the executor's DIAGNOSTICS\n"
    )
    bench.write(args.out, "dask_idle", {"seconds": args.seconds, "idle_cpu_pct": out}, text)


if __name__ == "__main__":
    main()
