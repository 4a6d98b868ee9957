"""Draw clean, noisy and denoised test digits for the best model of an autoencoder run.

The best trial is retrained from scratch: a trial's model after ``k`` steps depends only on its
config, its seed and ``k``, so this rebuilds exactly the model the run scored (the script prints
both validation scores to show it). A PBT trial that cloned another's weights is the exception;
its config is then retrained alone, and the script says so.

    python scripts/plot_denoising.py runs/ae-hb                   # writes runs/ae-hb/denoising.png
    python scripts/plot_denoising.py --config '{"optimizer": "Adam", "optimizer__lr": 0.001}' \\
        --steps 27 --set n_images=2000 --out denoising.png        # any config, default workload
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tunebench.config import parse_override  # noqa: E402
from tunebench.scheduler import trial_seed  # noqa: E402
from tunebench.store import read_run  # noqa: E402
from tunebench.workloads.autoencoder import AutoencoderWorkload  # noqa: E402


def best_of_run(run_dir: Path) -> dict[str, Any]:
    """Workload options, seed, and the best trial's id, config, steps, model seed and parent from a run."""
    summary, _, trials, _ = read_run(run_dir)
    if summary.get("workload") != "autoencoder":
        raise SystemExit(f"{run_dir}: workload is {summary.get('workload')!r}, not 'autoencoder'")
    if summary.get("best_trial") is None:
        raise SystemExit(f"{run_dir}: the run has no best trial")
    row = trials[trials["trial_id"] == summary["best_trial"]].iloc[0]
    workload = {k: v for k, v in summary["config"]["workload"].items() if k != "name"}
    parent = row.get("parent")
    return {
        "workload": workload,
        "seed": int(summary["seed"]),
        "trial_id": int(summary["best_trial"]),
        "config": summary["best_config"],
        "steps": int(row["steps"]),
        "trial_seed": int(row["seed"]) if "seed" in row and not pd.isna(row["seed"]) else None,
        "score": summary.get("best_score"),
        "cloned": parent is not None and not pd.isna(parent),
    }


def grid(clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray, title: str, path: Path) -> Path:
    """Three rows (clean, noisy, denoised) of 28x28 digits, one column per test image."""
    n = len(clean)
    fig, axes = plt.subplots(3, n, figsize=(1.1 * n, 3.6), squeeze=False)
    for row, (label, images) in enumerate((("clean", clean), ("noisy input", noisy), ("denoised", denoised))):
        for col in range(n):
            ax = axes[row, col]
            ax.imshow(images[col].reshape(28, 28), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=9)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", type=Path, help="a run directory of the autoencoder workload")
    parser.add_argument("--config", help="a trial config as JSON (instead of the run's best)")
    parser.add_argument("--steps", type=int, help="steps to train (default: the best trial's)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a workload option")
    parser.add_argument("--seed", type=int, help="experiment seed (default: the run's, else 0)")
    parser.add_argument("--n", type=int, default=10, help="test digits to draw")
    parser.add_argument("--out", type=Path, help="PNG path (default: RUN_DIR/denoising.png)")
    args = parser.parse_args(argv)
    if args.run_dir is None and args.config is None:
        parser.error("give a run directory or --config")

    best = best_of_run(args.run_dir) if args.run_dir is not None else {"workload": {}, "seed": 0, "trial_id": 0, "steps": 27}
    config = json.loads(args.config) if args.config else best["config"]
    seed = args.seed if args.seed is not None else best["seed"]
    steps = args.steps if args.steps is not None else best["steps"]
    sets = {".".join(key): value for key, value in map(parse_override, args.set)}
    workload = AutoencoderWorkload(**{**best["workload"], **sets})
    data = workload.load(seed)
    model_seed = best.get("trial_seed") if args.config is None else None
    model_seed = model_seed if model_seed is not None else trial_seed(seed, best["trial_id"])
    trainable = workload.build(config, data, model_seed)
    trainable.train(steps)
    val, test = trainable.score(), trainable.test_score()

    if args.run_dir is not None and args.config is None:
        note = " (a PBT clone: retrained without its donor's weights)" if best["cloned"] else ""
        print(f"trial {best['trial_id']}: run's validation score {best['score']}, retrained {val}{note}")
    print(f"validation MSE {-val:.5f}  test MSE {-test:.5f}  after {steps} steps")

    n = min(args.n, len(data.X_test))
    noisy, clean = data.X_test[:n], data.y_test[:n]
    denoised = trainable.denoise(noisy)
    short = ", ".join(
        f"{k.split('__')[-1]}={v:.3g}" if isinstance(v, float) else f"{k.split('__')[-1]}={v}" for k, v in config.items()
    )
    title = f"{short}\n{steps} steps; test MSE {-test:.4f} (noisy input: {float(np.mean((noisy - clean) ** 2)):.4f})"
    out = args.out or ((args.run_dir or Path(".")) / "denoising.png")
    print(grid(clean, noisy, denoised, title, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
