"""Hyperband against random search on the SGD workload: steps used and best scores, same seed.

Runs ``configs/bench-hyperband-vs-random.yaml`` through ``tunebench compare`` (finished cells are
kept) and tabulates its cells. Random search gets as many trials as Hyperband's plan
(``metadata["n_models"]``), each trained to ``max_iter``; with the same seed both draw the same
configs in the same order, so the comparison isolates early stopping: random search is
Hyperband's candidates trained in full. ``--max-iter`` / ``--eta`` change both contenders (random
search's trial count follows Hyperband's plan); ``--executor`` names our executor. Writes
``results/hyperband_vs_random.md`` and ``.json``::

    python scripts/bench_hyperband_vs_random.py [--seeds 0 1 2] [--executor dask]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from comparison_cells import cell_table, run_matrix  # noqa: E402
from schedulers.hyperband import hyperband_plan  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / "configs" / "bench-hyperband-vs-random.yaml"


def overrides(args: argparse.Namespace) -> list[str]:
    """The ``--set`` overrides the options stand for (none at the defaults)."""
    sets = []
    if args.seeds is not None:
        sets.append(f"seeds={args.seeds}")
    if args.executor is not None:
        sets.append(f"executors=[{{name: {args.executor}}}]")
    if args.max_iter is not None or args.eta is not None:
        max_iter, eta = args.max_iter or 81, args.eta or 3
        n = hyperband_plan(max_iter, eta)["n_models"]
        sets += [f"max_iter={max_iter}", f"schedulers=[{{label: hyperband, name: hyperband, eta: {eta}}}, "
                 f"{{label: random, name: random, n_trials: {n}, report_every: {max_iter}}}]"]
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--max-iter", type=int)
    parser.add_argument("--eta", type=int)
    parser.add_argument("--executor")
    parser.add_argument("--jobs", type=int, default=1, help="cells at once (wall times are cleanest with 1)")
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench-hyperband-vs-random"))
    parser.add_argument("--results", default=str(ROOT / "results" / "hyperband_vs_random"))
    args = parser.parse_args()
    out = run_matrix(MATRIX, args.out, overrides(args), args.jobs)
    raw = json.loads((out / "matrix.json").read_text())["matrix"]
    cells = cell_table(out)
    cells = cells.assign(order=cells["label"].ne("hyperband")).sort_values(["seed", "order"])
    w = raw["workloads"][0]
    lines = [
        f"# Hyperband vs random search: sgd on {w.get('dataset')} ({w.get('n_samples')} rows), max_iter={raw['max_iter']}, "
        f"eta={raw['schedulers'][0].get('eta', 3)}, executor={raw['executors'][0]['name']}", "",
        f"Same seed, same candidate configs: random search trains every one of Hyperband's candidates to max_iter. "
        f"Cells run by `tunebench compare` into `{out}`.", "",
        "| scheduler | seed | trials | partial_fit calls | best val accuracy | test accuracy | wall (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.label} | {r.seed} | {r.trials} | {r.calls} | {r.best:.4f} | {r.test:.4f} | {r.wall_s:.1f} |" for r in cells.itertuples()]
    path = Path(args.results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")
    keep = ["label", "seed", "trials", "calls", "best", "test", "wall_s", "dir"]
    path.with_suffix(".json").write_text(json.dumps(cells[keep].to_dict(orient="records"), indent=2))
    print("\n".join(lines))
    print(f"written: {path.with_suffix('.md')}")


if __name__ == "__main__":
    main()
