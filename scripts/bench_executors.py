"""Executor benchmark: wall time, utilisation and memory of local / ray / dask / dask-on-ray,
beside dask-ml's HyperbandSearchCV and Ray Tune's ASHAScheduler on the same data and space.

Workload: SGDClassifier on circles with 40,000 training rows, one epoch per step, 2 workers.

* Hyperband (max_iter=81, eta=3) on each executor, and dask-ml's ``HyperbandSearchCV``
  (max_iter=81, aggressiveness=3) on a LocalCluster of the same shape, its workers warmed up
  (sklearn imported): ``dask-ml`` at Dask's default settings, as dask-ml's documentation runs it,
  and ``dask-ml-diag`` with our executor's diagnostics settings (``DIAGNOSTICS``), which take
  part of our lead away. Ours is timed from the first Job (the run's ``wall_time_s``; the data
  is already scattered), dask-ml's around ``fit``. Target: ours on Dask at most 0.8x dask-ml's
  wall time for the same number of partial_fit calls.
* ASHA, stopping variant (max_t=81, grace=1, eta=3, the same number of trials) on our Ray
  executor and in Ray Tune (``reuse_actors=True``), means over seeds 0, 1, 2 (how much work
  ASHA does depends on the order results arrive in). Both wall times include creating the
  actors, in an already running Ray. Target: ours at most 0.8x Ray Tune's wall time at an
  equal or better best score.
* Utilisation (busy worker time over workers x wall time) >= 0.85 everywhere.
* Peak memory (RSS of the driver and every process under it) with 30 and 300 trials: the data
  must not be copied per trial.

Each case runs in a fresh subprocess. Writes ``results/bench_executors.{json,md}`` and prints
the table. ``--quick`` shrinks the data and budgets for a smoke run.

    python scripts/bench_executors.py            # the full benchmark (tens of minutes on 2 cores)
    python scripts/bench_executors.py --quick --only hb-dask dask-ml
    python scripts/bench_executors.py --only hb-dask dask-ml --repeat 3   # medians of 3 runs each, in turn
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import psutil

ROOT = Path(__file__).resolve().parent.parent
N_SAMPLES = 66_668  # 40,000 training rows after the 60/20/20 split
SPACE = {"alpha": (1e-6, 1e-1), "l1_ratio": (0.0, 1.0)}


class PeakRSS:
    """Samples the summed RSS of this process and all its descendants; keeps the peak."""

    def __init__(self, every_s: float = 0.25) -> None:
        self.every_s, self.peak, self._stop = every_s, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        me = psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- the cases, each run in its own process ----------------------------------------------------


def ours(executor: dict[str, Any], scheduler: dict[str, Any], n_samples: int) -> dict[str, Any]:
    """One tunebench run through the public run()."""
    from tunebench.config import load_experiment
    from tunebench.run import run

    raw = {"seed": 0, "workload": {"name": "sgd", "dataset": "circles", "n_samples": n_samples},
           "scheduler": scheduler, "executor": {"n_workers": 2, **executor}}
    with tempfile.TemporaryDirectory() as tmp, PeakRSS() as mem:
        t0 = time.time()
        out = run(load_experiment(raw=raw), Path(tmp) / "run", progress=False)
        total = time.time() - t0
    s = out.summary
    return {"wall_s": s["wall_time_s"], "total_s": total, "utilization": s["utilization"],
            "partial_fit_calls": s["partial_fit_calls"], "n_trials": s["n_trials"], "best_score": s["best_score"],
            "peak_rss_mb": mem.peak / 2**20, "stats": s["executor_stats"]}


def load_data(n_samples: int) -> Any:
    from tunebench.workloads.sgd import SGDWorkload

    return SGDWorkload(dataset="circles", n_samples=n_samples).load(0)


def dask_ml_hyperband(n_samples: int, max_iter: int, diagnostics: bool) -> dict[str, Any]:
    """dask-ml's HyperbandSearchCV on a LocalCluster of the same shape as ours, with Dask's default
    settings or (``diagnostics``) with our executor's ``DIAGNOSTICS``; one epoch per train block."""
    import dask
    import dask.array as da
    import numpy as np
    from dask_ml.model_selection import HyperbandSearchCV
    from distributed import Client, LocalCluster, get_task_stream
    from scipy.stats import loguniform, uniform
    from sklearn.linear_model import SGDClassifier

    from tunebench.executors.dask_executor import DIAGNOSTICS

    data = load_data(n_samples)
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    X_d, y_d = da.from_array(X, chunks=len(X)), da.from_array(y, chunks=len(y))
    params = {"alpha": loguniform(*SPACE["alpha"]), "l1_ratio": uniform(0.0, 1.0)}
    est = SGDClassifier(loss="log_loss", penalty="elasticnet", random_state=0)
    search = HyperbandSearchCV(est, params, max_iter=max_iter, aggressiveness=3, random_state=0,
                               test_size=len(data.X_val) / len(X))
    with PeakRSS() as mem:
        with dask.config.set(DIAGNOSTICS if diagnostics else {}):
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        try:
            client.run(lambda: __import__("sklearn.linear_model") and None)
            with get_task_stream(client) as stream, dask.config.set(scheduler=client.get):
                t0 = time.time()
                search.fit(X_d, y_d, classes=data.classes)
                wall = time.time() - t0
            busy = sum(s["stop"] - s["start"] for task in stream.data for s in task["startstops"] if s["action"] == "compute")
        finally:
            client.close()
            cluster.close()
    return {"wall_s": wall, "utilization": busy / (2 * wall), "partial_fit_calls": search.metadata_["partial_fit_calls"],
            "n_trials": search.metadata_["n_models"], "best_score": float(search.best_score_), "peak_rss_mb": mem.peak / 2**20}


def dask_idle(seconds: float) -> dict[str, Any]:
    """CPU share (percent of one core) of an idle 2-worker LocalCluster's driver and workers,
    at Dask's defaults and with the executor's ``DIAGNOSTICS``."""
    import logging

    import dask
    import psutil
    from distributed import Client, LocalCluster

    from tunebench.executors.dask_executor import DIAGNOSTICS

    def cpu(pids: list[int]) -> float:
        return sum(sum(psutil.Process(p).cpu_times()[:2]) for p in pids)

    out: dict[str, Any] = {}
    for name, config in (("dask_defaults", {}), ("diagnostics", DIAGNOSTICS)):
        with dask.config.set(config), LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR,
            scheduler_kwargs={"dashboard": False},
        ) as cluster, Client(cluster) as client:
            pids = [os.getpid(), *client.run(os.getpid).values()]
            time.sleep(3)
            a, t0 = cpu(pids), time.time()
            time.sleep(seconds)
            out[f"idle_cpu_pct_{name}"] = 100 * (cpu(pids) - a) / (time.time() - t0)
    return out


def start_local_ray() -> None:
    import logging

    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)


def mean_over_seeds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Means of the per-seed numbers (ASHA's work depends on arrival order, so one run is noisy)."""
    keys = ("wall_s", "utilization", "partial_fit_calls", "n_trials", "best_score")
    return {**{k: sum(r[k] for r in runs) / len(runs) for k in keys}, "per_seed": runs}


def ours_asha(n_samples: int, max_iter: int, n_trials: int, seeds: list[int]) -> dict[str, Any]:
    """Our ASHA (stopping variant) on the Ray executor; wall time includes creating the actors."""
    import ray

    from tunebench.config import load_experiment
    from tunebench.run import run

    scheduler = {"name": "asha", "max_iter": max_iter, "grace": 1, "eta": 3, "variant": "stopping", "n_trials": n_trials}
    runs = []
    with PeakRSS() as mem, tempfile.TemporaryDirectory() as tmp:
        start_local_ray()
        try:
            for seed in seeds:
                raw = {"seed": seed, "workload": {"name": "sgd", "dataset": "circles", "n_samples": n_samples},
                       "scheduler": scheduler, "executor": {"name": "ray", "n_workers": 2}}
                t0 = time.time()
                out = run(load_experiment(raw=raw), Path(tmp) / f"s{seed}", progress=False)
                s = out.summary
                runs.append({"wall_s": time.time() - t0, "loop_s": s["wall_time_s"], "utilization": s["utilization"],
                             "partial_fit_calls": s["partial_fit_calls"], "n_trials": s["n_trials"], "best_score": s["best_score"]})
        finally:
            ray.shutdown()
    return {**mean_over_seeds(runs), "peak_rss_mb": mem.peak / 2**20}


def ray_tune_asha(n_samples: int, max_iter: int, n_trials: int, seeds: list[int]) -> dict[str, Any]:
    """Ray Tune's ASHAScheduler; one report per partial_fit call; actors reused."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator
    from sklearn.linear_model import SGDClassifier

    def trainable(config: dict[str, Any], data: Any) -> None:
        model = SGDClassifier(loss="log_loss", penalty="elasticnet", random_state=0, **config)
        for step in range(max_iter):
            t0 = time.time()
            X, y = data.chunk(step)
            model.partial_fit(X, y, classes=data.classes)
            score = float(model.score(data.X_val, data.y_val))
            tune.report({"score": score, "busy_s": time.time() - t0})

    data = load_data(n_samples)
    runs = []
    with PeakRSS() as mem, tempfile.TemporaryDirectory() as tmp:
        start_local_ray()
        try:
            for seed in seeds:
                tuner = tune.Tuner(
                    tune.with_parameters(trainable, data=data),
                    param_space={"alpha": tune.loguniform(*SPACE["alpha"]), "l1_ratio": tune.uniform(0.0, 1.0)},
                    tune_config=tune.TuneConfig(
                        metric="score", mode="max", num_samples=n_trials, reuse_actors=True,
                        search_alg=BasicVariantGenerator(random_state=seed),
                        scheduler=ASHAScheduler(max_t=max_iter, grace_period=1, reduction_factor=3),
                    ),
                    run_config=tune.RunConfig(storage_path=str(Path(tmp).resolve()), name=f"asha{seed}", verbose=0),
                )
                t0 = time.time()
                grid = tuner.fit()
                wall = time.time() - t0
                frames = [r.metrics_dataframe for r in grid if r.metrics_dataframe is not None]
                best = grid.get_best_result(metric="score", mode="max", scope="last").metrics["score"]
                runs.append({"wall_s": wall, "utilization": sum(f["busy_s"].sum() for f in frames) / (2 * wall),
                             "partial_fit_calls": int(sum(len(f) for f in frames)), "n_trials": len(grid),
                             "best_score": float(best)})
        finally:
            ray.shutdown()
    return {**mean_over_seeds(runs), "peak_rss_mb": mem.peak / 2**20}


def cases(quick: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    n = 6_668 if quick else N_SAMPLES
    r = 27 if quick else 81
    asha_trials = 27 if quick else 81
    hb = {"name": "hyperband", "max_iter": r, "eta": 3}
    out: dict[str, Callable[[], dict[str, Any]]] = {
        f"hb-{ex}": (lambda ex=ex: ours({"name": ex}, hb, n)) for ex in ("local", "ray", "dask", "dask-on-ray")
    }
    out["hb-dask-fifo"] = lambda: ours({"name": "dask", "priority": "fifo"}, hb, n)
    out["dask-ml"] = lambda: dask_ml_hyperband(n, r, diagnostics=False)
    out["dask-ml-diag"] = lambda: dask_ml_hyperband(n, r, diagnostics=True)
    out["dask-idle"] = lambda: dask_idle(5.0 if quick else 20.0)
    seeds = [0, 1, 2]
    out["asha-ray"] = lambda: ours_asha(n, r, asha_trials, seeds)
    out["ray-tune"] = lambda: ray_tune_asha(n, r, asha_trials, seeds)
    for ex in ("ray", "dask", "dask-on-ray"):
        for k in (30, 300):
            out[f"mem-{ex}-{k}"] = lambda ex=ex, k=k: ours({"name": ex}, {"name": "random", "n_trials": k, "max_iter": 2}, n)
    return out


# -- the driver: run each case in a subprocess, tabulate --------------------------------------


def run_case(name: str, quick: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--case", name] + (["--quick"] if quick else [])
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    t0, load = time.time(), os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr or proc.stdout)[-1500:], "process_s": time.time() - t0, "load": load}
    return {**json.loads(lines[-1]), "process_s": time.time() - t0, "load": load}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time (the lower middle one of an even count), with every
    run's wall time beside it; a case without wall times keeps its last run."""
    timed = sorted((r for r in runs if "wall_s" in r), key=lambda r: r["wall_s"])
    if not timed:
        return runs[-1]
    return {**timed[(len(timed) - 1) // 2], "wall_s_runs": [r["wall_s"] for r in runs if "wall_s" in r]}


def verdicts(res: dict[str, dict[str, Any]]) -> list[str]:
    out = []

    def get(case: str, key: str) -> float | None:
        return res.get(case, {}).get(key)

    for base, how in (("dask-ml", "at Dask's defaults"), ("dask-ml-diag", "with our DIAGNOSTICS")):
        theirs = get(base, "wall_s")
        for case in ("hb-dask", "hb-dask-fifo"):
            mine = get(case, "wall_s")
            if not (mine and theirs):
                continue
            same = get(case, "partial_fit_calls") == get(base, "partial_fit_calls")
            ratio = mine / theirs
            floor = (get(case, "utilization") or 0) * mine / theirs
            if res[case].get("batch") is not None and res[case].get("batch") == res[base].get("batch"):
                pairs = zip(res[case].get("wall_s_runs", [mine]), res[base].get("wall_s_runs", [theirs]))
                each = "run by run " + ", ".join(f"{a / b:.2f}x" for a, b in pairs)
            else:
                each = "measured in different invocations, so not paired run by run"
            out.append(f"Hyperband on Dask ({case}) vs dask-ml {how} ({base}): {ratio:.2f}x median wall time "
                       f"(target <= 0.8x: {'met' if ratio <= 0.8 else 'MISSED'}; {each}); partial_fit calls "
                       f"{get(case, 'partial_fit_calls')} vs {get(base, 'partial_fit_calls')}{'' if same else ' (differ)'}; "
                       f"with no idle worker time at all it would be {floor:.2f}x")
    ours_asha, tune_wall = get("asha-ray", "wall_s"), get("ray-tune", "wall_s")
    if ours_asha and tune_wall:
        ratio = ours_asha / tune_wall
        better = (get("asha-ray", "best_score") or 0) >= (get("ray-tune", "best_score") or 0)
        per_call = [get(c, "wall_s") / max(1, get(c, "partial_fit_calls") or 1) * 1000 for c in ("asha-ray", "ray-tune")]
        out.append(f"ASHA on Ray vs Ray Tune (means over seeds): {ratio:.2f}x wall time (target <= 0.8x: {'met' if ratio <= 0.8 else 'MISSED'}); "
                   f"best score {get('asha-ray', 'best_score'):.4f} vs {get('ray-tune', 'best_score'):.4f} "
                   f"({'equal or better' if better else 'WORSE'}); partial_fit calls {get('asha-ray', 'partial_fit_calls'):.0f} "
                   f"vs {get('ray-tune', 'partial_fit_calls'):.0f} ({per_call[0]:.0f} vs {per_call[1]:.0f} ms of wall time per call)")
    mine = {k: v for k, v in res.items() if "utilization" in v and k.startswith(("hb-", "asha-", "mem-"))}
    low = [f"{k} {v['utilization']:.2f}" for k, v in mine.items() if v["utilization"] < 0.85]
    if mine:
        out.append("utilisation >= 0.85 on our runs: " + ("met everywhere" if not low else "MISSED for " + ", ".join(low)))
    idle = res.get("dask-idle", {})
    if "idle_cpu_pct_diagnostics" in idle:
        out.append(f"idle 2-worker LocalCluster (driver and workers): {idle['idle_cpu_pct_dask_defaults']:.1f}% of a core "
                   f"at Dask's defaults, {idle['idle_cpu_pct_diagnostics']:.1f}% with the executor's DIAGNOSTICS")
    for ex in ("ray", "dask", "dask-on-ray"):
        a, b = get(f"mem-{ex}-30", "peak_rss_mb"), get(f"mem-{ex}-300", "peak_rss_mb")
        if a and b:
            out.append(f"peak RSS on {ex}: {a:.0f} MB with 30 trials, {b:.0f} MB with 300 ({b - a:+.0f} MB, "
                       f"{(b - a) / 270 * 1024:.0f} kB per extra trial)")
    return out


def table(res: dict[str, dict[str, Any]]) -> str:
    cols = ("wall_s", "utilization", "partial_fit_calls", "n_trials", "best_score", "peak_rss_mb", "load")
    lines = ["| case | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for name, r in res.items():
        if "error" in r:
            lines.append(f"| {name} | error: {r['error'].splitlines()[-1][:80] if r['error'] else '?'} |" + " |" * (len(cols) - 1))
            continue
        cells = [f"{r[c]:.3g}" if c == "load" and isinstance(r.get(c), float) else
                 f"{r[c]:.3f}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small data and budgets (a smoke run)")
    parser.add_argument("--only", nargs="+", help="run only these cases (merged into the last results)")
    parser.add_argument("--repeat", type=int, default=1, help="run the cases this many times, in turn; report the median")
    args = parser.parse_args()
    all_cases = cases(args.quick)
    if args.case:
        print(json.dumps(all_cases[args.case](), default=str))
        return
    names = args.only or list(all_cases)
    out_dir = ROOT / "results"
    suffix = "-quick" if args.quick else ""
    previous = out_dir / f"bench_executors{suffix}.json"
    res: dict[str, dict[str, Any]] = {}
    if args.only and previous.exists():
        res = {k: v for k, v in json.loads(previous.read_text()).items() if k in all_cases}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    batch = time.strftime("%Y-%m-%d %H:%M:%S")
    for rep in range(args.repeat):
        for name in names:
            runs[name].append({**run_case(name, args.quick), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"), "batch": batch})
            shown = {k: v for k, v in runs[name][-1].items() if k != "stats"}
            print(f"{name} (run {rep + 1}/{args.repeat}): {json.dumps(shown, default=str)[:300]}", flush=True)
    for name in names:
        res[name] = median_run(runs[name])
    report = "\n".join([
        f"# Executor benchmark{' (quick)' if args.quick else ''}", "",
        f"2 workers on {os.cpu_count()} cores; SGD on circles, {'4,000' if args.quick else '40,000'} training rows, "
        "one epoch per step. `load`: the machine's 1-minute load average when the case started (other jobs "
        "may share the machine; wall times are only comparable at similar load).", "",
        table(res), "", *[f"- {v}" for v in verdicts(res)], "",
    ])
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"bench_executors{suffix}.json").write_text(json.dumps(res, indent=2, default=str))
    (out_dir / f"bench_executors{suffix}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
