"""How many partial_fit calls the Ray Tune peers make on a small case, and how many trials they cut.

    python scripts/ray_tune_cuts.py [label [max_iter rows peer...]]   # writes results/ray_tune_cuts[-label].json

Defaults: max_iter 9, 600 circles rows, all three peers; ``before 81 10000 ray-tune-hyperband`` is the
bench-sgd cell (``configs/bench-sgd.yaml``, seed 0) for HyperBand alone.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tunebench.compare.peer import PeerTask
from tunebench.compare.peers.optuna import hyperband_n_trials
from tunebench.compare.peers.ray_tune import RayTuneASHA, RayTuneHyperBand, RayTunePBT
from tunebench.store import read_run
from tunebench.workloads.sgd import SGDWorkload

ETA = 3
PEERS = {p.name: p for p in (RayTuneHyperBand(), RayTuneASHA(), RayTunePBT())}


def main(label: str, max_iter: int = 9, rows: int = 600, names: list[str] | None = None) -> None:
    wl = SGDWorkload(dataset="circles", n_samples=rows)
    data = wl.load(0)
    n = hyperband_n_trials(max_iter, ETA)
    out: dict[str, dict[str, int]] = {}
    for peer in [PEERS[k] for k in names or PEERS]:
        task = PeerTask(workload=wl, data=data, space=wl.default_space(), seed=0, n_workers=2, max_iter=max_iter,
                        n_trials=n if peer.name != "ray-tune-pbt" else 8)
        with tempfile.TemporaryDirectory() as d:
            summary = peer.run(task, Path(d) / "run")
            _, results, trials, _ = read_run(Path(d) / "run")
        out[peer.name] = {
            "n_trials": len(trials), "max_iter": max_iter, "partial_fit_calls": int(summary["partial_fit_calls"]),
            "no_cut_calls": len(trials) * max_iter, "trials_below_max_iter": int((trials["steps"] < max_iter).sum()),
            "decisions_stop": int((results["decision"] == "stop").sum()),
        }
        print(peer.name, out[peer.name], flush=True)
    path = Path("results") / f"ray_tune_cuts{'-' + label if label else ''}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print("wrote", path)


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) > 1:
        main(args[0], int(args[1]), int(args[2]), args[3:] or None)
    else:
        main(args[0] if args else "")
