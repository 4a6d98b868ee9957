"""Benchmark the autoencoder workload at its default size: step and scoring time, memory per worker.

* Time of one step (``partial_fit`` on one chunk) and of one validation scoring, on 1 and 2
  torch threads, for small, middle and large minibatches (median of ``--repeats`` after a
  warm-up step).
* Memory of one worker process (RSS) holding the dataset and 1, then 20 live trials, measured in
  a fresh process: the per-trial increment is the model and optimizer state, not a copy of the
  data.
* With ``--run-dir``, the summary of a finished run (best validation MSE, wall time) goes in too.

Writes ``results/bench_autoencoder.json`` and ``.md`` and prints the table::

    python scripts/bench_autoencoder.py [--run-dir runs/ae-hb] [--set n_images=2000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

BATCH_SIZES = (32, 128, 512)
MB = 1024 * 1024


def base_config(batch_size: int) -> dict[str, Any]:
    return {
        "optimizer": "SGD",
        "batch_size": batch_size,
        "optimizer__lr": 0.5,
        "optimizer__momentum": 0.9,
        "optimizer__weight_decay": 1e-4,
        "module__activation": "ReLU",
        "module__init": "xavier",
    }


def time_steps(options: dict[str, Any], repeats: int) -> list[dict[str, Any]]:
    """Median step and scoring seconds per (threads, batch size)."""
    from tunebench.workloads.autoencoder import AutoencoderWorkload

    rows = []
    for threads in (1, 2):
        workload = AutoencoderWorkload(**{**options, "torch_threads": threads})
        data = workload.load(0)
        for batch_size in BATCH_SIZES:
            trainable = workload.build(base_config(batch_size), data, 0)
            trainable.train(1)
            trainable.score()
            steps, scores = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                trainable.train(1)
                t1 = time.perf_counter()
                trainable.score()
                steps.append(t1 - t0)
                scores.append(time.perf_counter() - t1)
            rows.append(
                {
                    "torch_threads": threads,
                    "batch_size": batch_size,
                    "chunk_size": data.chunk_size,
                    "validation_pairs": len(data.X_val),
                    "step_s": statistics.median(steps),
                    "score_s": statistics.median(scores),
                    "pairs_per_s": data.chunk_size / statistics.median(steps),
                }
            )
    return rows


def _memory_child(options: dict[str, Any], queue: Any) -> None:
    import psutil

    from tunebench.workloads.autoencoder import AutoencoderWorkload

    proc = psutil.Process()
    workload = AutoencoderWorkload(**options)
    data = workload.load(0)
    rss_data = proc.memory_info().rss
    live = []
    out: dict[str, Any] = {"dataset_mb": data.nbytes / MB, "rss_with_data_mb": rss_data / MB}
    for n in range(1, 21):
        trainable = workload.build(base_config(128), data, n)
        trainable.train(1)
        trainable.score()
        live.append(trainable)
        if n in (1, 20):
            out[f"rss_{n}_trials_mb"] = proc.memory_info().rss / MB
    out["per_trial_mb"] = (out["rss_20_trials_mb"] - out["rss_1_trials_mb"]) / 19
    out["checkpoint_mb"] = len(live[0].save()) / MB
    out["data_shared"] = all(t.data is data for t in live)
    queue.put(out)


def measure_memory(options: dict[str, Any]) -> dict[str, Any]:
    """RSS of a fresh worker-like process with the data and 1, then 20 trials."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_memory_child, args=(options, queue))
    child.start()
    try:
        return queue.get(timeout=600)
    finally:
        child.join(timeout=60)


def run_summary(run_dir: Path) -> dict[str, Any]:
    s = json.loads((run_dir / "summary.json").read_text())
    return {
        "run_dir": str(run_dir),
        "scheduler": s["scheduler"],
        "executor": s["executor"],
        "n_trials": s["n_trials"],
        "partial_fit_calls": s["partial_fit_calls"],
        "best_val_mse": -s["best_score"],
        "test_mse": None if s.get("test_score") is None else -s["test_score"],
        "wall_time_s": s["wall_time_s"],
        "best_config": s["best_config"],
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Autoencoder workload benchmark",
        "",
        f"Machine: {report['machine']}; workload options: `{json.dumps(report['options'])}`",
        "",
        "| torch threads | batch size | chunk | step (s) | pairs/s | score (s) on validation pairs |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["timing"]:
        lines.append(
            f"| {r['torch_threads']} | {r['batch_size']} | {r['chunk_size']} | {r['step_s']:.3f} | "
            f"{r['pairs_per_s']:.0f} | {r['score_s']:.3f} ({r['validation_pairs']}) |"
        )
    m = report["memory"]
    lines += [
        "",
        "Memory of one worker process (RSS):",
        "",
        f"- dataset {m['dataset_mb']:.1f} MB; process with data {m['rss_with_data_mb']:.0f} MB",
        f"- with 1 trial {m['rss_1_trials_mb']:.0f} MB, with 20 trials {m['rss_20_trials_mb']:.0f} MB: "
        f"{m['per_trial_mb']:.1f} MB per extra trial (checkpoint {m['checkpoint_mb']:.1f} MB); "
        f"all trials share one dataset: {m['data_shared']}",
    ]
    if report.get("run"):
        r = report["run"]
        lines += [
            "",
            f"Run `{r['run_dir']}` ({r['scheduler']} on {r['executor']}): {r['n_trials']} trials, "
            f"{r['partial_fit_calls']} partial_fit calls, best validation MSE {r['best_val_mse']:.5f}, "
            f"test MSE {r['test_mse']:.5f}, wall time {r['wall_time_s']:.1f} s",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="workload option")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--run-dir", type=Path, help="a finished autoencoder run to summarise too")
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    options = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.set)}
    report: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {multiprocessing.cpu_count()} cores",
        "options": options,
        "timing": time_steps(options, args.repeats),
        "memory": measure_memory(options),
        "run": run_summary(args.run_dir) if args.run_dir else None,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_autoencoder.json").write_text(json.dumps(report, indent=2))
    text = markdown(report)
    (args.out / "bench_autoencoder.md").write_text(text)
    print(text)
    print(f"wrote {args.out / 'bench_autoencoder.md'} and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
