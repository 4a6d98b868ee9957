"""Hyperband against random search on the SGD workload: steps used and best scores, same seed.

Random search gets as many trials as Hyperband's plan (``metadata["n_models"]``), each trained
to ``max_iter``. With the same seed both draw the same configs in the same order, so the
comparison isolates early stopping: random search is Hyperband's candidates trained in full. Writes ``results/hyperband_vs_random.md`` and ``.json``.

    python scripts/bench_hyperband_vs_random.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tunebench.config import load_experiment
from tunebench.run import run


def one(scheduler: dict, seed: int, args: argparse.Namespace, root: Path) -> dict:
    raw = {
        "seed": seed,
        "workload": {"name": "sgd", "dataset": args.dataset, "n_samples": args.n_samples},
        "scheduler": scheduler,
        "executor": {"name": args.executor, "n_workers": 2},
    }
    exp = load_experiment(raw=raw)
    out = run(exp, root / f"{scheduler['name']}-{seed}", progress=False)
    s = out.summary
    return {k: s[k] for k in ("scheduler", "seed", "n_trials", "partial_fit_calls", "best_score", "test_score", "wall_time_s")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, default=81)
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--dataset", default="circles")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--executor", default="local")
    parser.add_argument("--out", default="results/hyperband_vs_random")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            hb = one({"name": "hyperband", "max_iter": args.max_iter, "eta": args.eta}, seed, args, Path(tmp))
            rs = one({"name": "random", "n_trials": hb["n_trials"], "max_iter": args.max_iter, "report_every": args.max_iter}, seed, args, Path(tmp))
            rows += [hb, rs]
            print(f"seed {seed}: hyperband {hb['partial_fit_calls']} steps, best {hb['best_score']:.4f}; "
                  f"random {rs['partial_fit_calls']} steps, best {rs['best_score']:.4f}", flush=True)
    lines = [
        f"# Hyperband vs random search: sgd on {args.dataset} ({args.n_samples} rows), max_iter={args.max_iter}, eta={args.eta}, executor={args.executor}",
        "",
        "Same seed, same candidate configs: random search trains every one of Hyperband's candidates to max_iter.",
        "",
        "| scheduler | seed | trials | partial_fit calls | best val accuracy | test accuracy | wall (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['scheduler']} | {r['seed']} | {r['n_trials']} | {r['partial_fit_calls']} | {r['best_score']:.4f} | {r['test_score']:.4f} | {r['wall_time_s']:.1f} |"
        for r in rows
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(rows, indent=2))
    print("\n".join(lines))
    print(f"written: {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
