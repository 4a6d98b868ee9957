"""How many partial_fit calls the Ray Tune peers make on a small case, and how many trials they cut.

    python scripts/ray_tune_cuts.py [label]   # writes results/ray_tune_cuts[-label].json
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

MAX_ITER, ETA = 9, 3


def main(label: str) -> None:
    wl = SGDWorkload(dataset="circles", n_samples=600)
    data = wl.load(0)
    n = hyperband_n_trials(MAX_ITER, ETA)
    out: dict[str, dict[str, int]] = {}
    for peer in (RayTuneHyperBand(), RayTuneASHA(), RayTunePBT()):
        task = PeerTask(workload=wl, data=data, space=wl.default_space(), seed=0, n_workers=2, max_iter=MAX_ITER,
                        n_trials=n if peer.name != "ray-tune-pbt" else 8)
        with tempfile.TemporaryDirectory() as d:
            summary = peer.run(task, Path(d) / "run")
            _, results, trials, _ = read_run(Path(d) / "run")
        out[peer.name] = {
            "n_trials": len(trials), "max_iter": MAX_ITER, "partial_fit_calls": int(summary["partial_fit_calls"]),
            "no_cut_calls": len(trials) * MAX_ITER, "trials_below_max_iter": int((trials["steps"] < MAX_ITER).sum()),
            "decisions_stop": int((results["decision"] == "stop").sum()),
        }
        print(peer.name, out[peer.name], flush=True)
    path = Path("results") / f"ray_tune_cuts{'-' + label if label else ''}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print("wrote", path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
