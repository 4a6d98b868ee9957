"""Benchmark the autoencoder workload at its default size: step and scoring time, memory per worker.

* Time of one step (``partial_fit`` on one chunk) and of one validation scoring, on 1 and 2
  torch threads, for small, middle and large minibatches (median of ``--repeat`` after a
  warm-up step).
* Memory of one worker process (RSS) holding the dataset and 1, then 20 live trials, measured in
  a fresh process: the per-trial increment is the model and optimizer state, not a copy of the
  data.
* With ``--run-dir``, a finished run's summary (as ``tunebench run`` prints it) goes in too.

Writes ``results/bench_autoencoder.json`` and ``.md`` and prints the table::

    python scripts/bench_autoencoder.py [--run-dir runs/ae-hb] [--set n_images=2000]
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tunebench import bench
from tunebench.config import parse_override
from tunebench.report import summary_table
from tunebench.store import read_run

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


def markdown(report: dict[str, Any]) -> str:
    head = ["torch threads", "batch size", "chunk", "step (s)", "pairs/s", "score (s) on validation pairs"]
    rows = [
        [r["torch_threads"], r["batch_size"], r["chunk_size"], f"{r['step_s']:.3f}", f"{r['pairs_per_s']:.0f}"]
        + [f"{r['score_s']:.3f} ({r['validation_pairs']})"]
        for r in report["timing"]
    ]
    options = json.dumps(report["options"])
    lines = ["# Autoencoder workload benchmark", "", f"Machine: {report['machine']}; workload options: `{options}`", ""]
    lines.append(bench.table(head, rows))
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
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = bench.parser(__doc__, repeat=5)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="workload option")
    parser.add_argument("--run-dir", type=Path, help="a finished autoencoder run to summarise too")
    args = parser.parse_args()
    options = {".".join(key): value for key, value in map(parse_override, args.set)}
    report: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {multiprocessing.cpu_count()} cores",
        "options": options,
        "timing": time_steps(options, args.repeat),
        "memory": measure_memory(options),
        "run": None,
    }
    text = markdown(report)
    if args.run_dir:
        summary, _, trials, _ = read_run(args.run_dir)
        report["run"] = {"run_dir": args.run_dir, **summary}
        text += f"\nRun `{args.run_dir}`:\n\n```\n{summary_table(summary, trials)}\n```\n"
    bench.write(args.out, "bench_autoencoder", report, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
