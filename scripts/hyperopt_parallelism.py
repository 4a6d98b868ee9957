"""Hyperopt TPE with ``SparkTrials`` at parallelism 1, 2 and 4 on real work: the parallelism trade-off.

The talk's rule of thumb: TPE proposes each config from the results it has, so with ``P`` trials
running it proposes ``P - 1`` configs blind, and at ``P`` equal to the number of evaluations it
is random search. Here: the SGD workload (circles, 10,000 rows, ``max_iter`` 81 ``partial_fit``
calls per config, Hyperopt has no early stopping), a fixed number of evaluations (``--evals``,
default 32) with TPE's random start-up ``--startup`` (default 8) configs, on one local Spark
with 4 task slots (``local[4]``) that every run shares, so only ``parallelism`` changes. Two
references: ``Trials()`` (sequential, in the driver: no Spark) and random search on
``SparkTrials`` at parallelism 2 (TPE that never leaves its start-up: ``n_startup_jobs = evals``).

Runs are interleaved (for each seed, every contender in a rotated order); per contender: the
median over seeds of the best validation score (the best trial's last score), its test score,
the search's wall time and its ratio to parallelism 1 on the same seed. Writes
``results/hyperopt_parallelism.md`` and ``results/hyperopt_parallelism.png``; each run directory
goes under ``results/hyperopt_parallelism/``::

    python scripts/hyperopt_parallelism.py [--seeds 3] [--evals 32] [--max-iter 81]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tunebench.compare.peer import PeerTask  # noqa: E402
from tunebench.compare.peers.hyperopt import HyperoptTPE, HyperoptTPESpark  # noqa: E402
from tunebench.compare.peers.spark import start_spark  # noqa: E402
from tunebench.report.curves import running_best  # noqa: E402
from tunebench.store import read_run  # noqa: E402
from tunebench.workloads.sgd import SGDWorkload  # noqa: E402

RESULTS = Path(__file__).resolve().parent.parent / "results"
SLOTS = 4


def contenders(evals: int, startup: int) -> dict[str, Any]:
    """Label -> peer; the Spark ones share the one ``local[4]`` session."""
    return {
        "Trials (sequential)": HyperoptTPE(n_trials=evals, n_startup_jobs=startup),
        "SparkTrials P=1": HyperoptTPESpark(n_trials=evals, n_startup_jobs=startup, parallelism=1),
        "SparkTrials P=2": HyperoptTPESpark(n_trials=evals, n_startup_jobs=startup, parallelism=2),
        "SparkTrials P=4": HyperoptTPESpark(n_trials=evals, n_startup_jobs=startup, parallelism=4),
        "random, SparkTrials P=2": HyperoptTPESpark(n_trials=evals, n_startup_jobs=evals, parallelism=2),
    }


def one_run(peer: Any, workload: SGDWorkload, seed: int, max_iter: int, out: Path) -> dict[str, Any]:
    task = PeerTask(workload=workload, data=workload.load(seed), space=workload.default_space(), seed=seed, n_workers=SLOTS,
                    max_iter=max_iter)
    if out.exists():
        shutil.rmtree(out)
    summary = peer.run(task, out)
    _, results, trials, _ = read_run(out)
    finals = trials.sort_values("trial_id")["last_score"].to_numpy(dtype=float)  # in the order Hyperopt proposed them
    return {"best": summary["best_score"], "test": summary["test_score"], "wall": summary["wall_time_s"],
            "evals": summary["n_trials"], "finals": finals, "status": summary["status"]}


def med(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def table(runs: dict[str, list[dict[str, Any]]], seeds: list[int]) -> list[str]:
    """Markdown rows: medians over seeds, and each seed's best score."""
    base = {r["seed"]: r["wall"] for r in runs["SparkTrials P=1"]}
    lines = ["| contender | seeds | best validation (median) | per seed | test of best (median) | wall time s (median) "
             "| wall time / P=1 (median of per-seed ratios) | best of the first half of the evaluations (median) |",
             "|---|---|---|---|---|---|---|---|"]
    for label, rs in runs.items():
        ratios = [r["wall"] / base[r["seed"]] for r in rs if r["seed"] in base]
        half = [float(np.nanmax(r["finals"][: len(r["finals"]) // 2])) for r in rs]
        lines.append(f"| {label} | {len(rs)} | {med([r['best'] for r in rs]):.4f} | "
                     f"{', '.join(format(r['best'], '.4f') for r in sorted(rs, key=lambda r: r['seed']))} | "
                     f"{med([r['test'] for r in rs]):.4f} | {med([r['wall'] for r in rs]):.1f} | {med(ratios):.2f} | {med(half):.4f} |")
    return lines


def plot(runs: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Best validation score so far against the evaluation number (median over seeds), and the wall times."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for label, rs in runs.items():
        curves = np.array([running_best(r["finals"], "max") for r in rs])
        left.plot(np.arange(1, curves.shape[1] + 1), np.nanmedian(curves, axis=0), label=label)
    left.set(xlabel="evaluation (in the order Hyperopt proposed them)", ylabel="best validation accuracy so far (median over seeds)")
    left.legend(fontsize=8)
    labels = list(runs)
    right.bar(range(len(labels)), [med([r["wall"] for r in runs[k]]) for k in labels])
    right.set_xticks(range(len(labels)), [k.replace(", ", "\n").replace(" P=", "\nP=") for k in labels], fontsize=7)
    right.set(ylabel="search wall time, s (median over seeds)")
    fig.suptitle("Hyperopt TPE: SparkTrials parallelism on SGD (circles, 10,000 rows)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(runs: dict[str, list[dict[str, Any]]], args: argparse.Namespace, seeds: list[int], seconds: float) -> Path:
    """The table and the figure for the seeds finished so far (rewritten after each seed)."""
    done = sorted({r["seed"] for rs in runs.values() for r in rs})
    png = RESULTS / "hyperopt_parallelism.png"
    plot(runs, png)
    md = RESULTS / "hyperopt_parallelism.md"
    lines = [
        "# Hyperopt TPE: SparkTrials parallelism", "",
        f"`python scripts/hyperopt_parallelism.py --seeds {args.seeds} --evals {args.evals} --startup {args.startup} "
        f"--max-iter {args.max_iter} --n-samples {args.n_samples}`: SGD workload (circles, {args.n_samples} rows), "
        f"{args.evals} evaluations of {args.max_iter} partial_fit calls each, TPE start-up {args.startup} random configs, "
        f"seeds {done} of {seeds}, one local[{SLOTS}] Spark shared by every Spark run, on a machine with "
        f"{len(os.sched_getaffinity(0))} usable CPUs (parallelism above that shares cores). "
        f"Total {seconds:.0f} s; load average (1, 5, 15 min) when written: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.", "",
        *table(runs, done), "",
        "Wall time is the search's (Spark start-up excluded, reported apart by each run). SparkTrials polls about once "
        "a second and is not reproducible once TPE leaves its random start-up; Trials() is (same seed, same configs).", "",
        f"![best so far and wall time]({png.name})", "",
    ]
    md.write_text("\n".join(lines))
    return md


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--evals", type=int, default=32)
    ap.add_argument("--startup", type=int, default=8)
    ap.add_argument("--max-iter", type=int, default=81)
    ap.add_argument("--n-samples", type=int, default=10_000)
    args = ap.parse_args(argv)
    seeds = list(range(args.seeds))
    workload = SGDWorkload(dataset="circles", n_samples=args.n_samples)
    peers = contenders(args.evals, args.startup)
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in peers}
    root = RESULTS / "hyperopt_parallelism"
    t0 = time.monotonic()
    spark = start_spark(SLOTS)
    try:
        for seed in seeds:
            labels = list(peers)
            k = seed % len(labels)
            for label in labels[k:] + labels[:k]:  # interleaved: a rotated order per seed
                r = one_run(peers[label], workload, seed, args.max_iter, root / label.replace(" ", "_").replace(",", "").replace("=", "") / f"seed{seed}")
                runs[label].append({**r, "seed": seed})
                print(f"seed {seed} {label}: best {r['best']:.4f} in {r['wall']:.1f} s ({r['evals']} evals, {r['status']})", flush=True)
            write(runs, args, seeds, time.monotonic() - t0)
    finally:
        spark.close()
    md = write(runs, args, seeds, time.monotonic() - t0)
    print(md.read_text())
    return md


if __name__ == "__main__":
    main()
