"""Every scheduler runs to completion on the SGD workload through the loop (local executor)."""

from __future__ import annotations

import pytest

from tests.helpers import tiny_config
from tunebench.config import load_experiment
from tunebench.run import run

SCHEDULERS = [
    {"name": "random", "n_trials": 4, "max_iter": 6, "report_every": 2},
    {"name": "successive_halving", "n_trials": 9, "max_iter": 9, "eta": 3},
    {"name": "hyperband", "max_iter": 9, "eta": 3},
    {"name": "hyperband", "max_iter": 9, "eta": 3, "patience": 2, "tol": 0.5},
    {"name": "asha", "max_iter": 9, "n_trials": 9, "variant": "promotion"},
    {"name": "asha", "max_iter": 9, "n_trials": 9, "variant": "stopping", "brackets": 2},
]


@pytest.mark.parametrize("scheduler", SCHEDULERS, ids=lambda s: "-".join(str(v) for v in s.values())[:40])
def test_scheduler_completes_on_sgd(tmp_path, scheduler) -> None:
    out = run(load_experiment(raw=tiny_config(scheduler)), tmp_path / "run", progress=False)
    s = out.summary
    assert s["status"] == "completed" and s["stop_reason"] == "scheduler_finished"
    assert s["n_results"] > 0 and 0.0 < s["best_score"] <= 1.0
    steps = out.results.groupby("trial_id")["step"].max()
    assert (steps <= scheduler["max_iter"]).all()
    assert set(out.trials["status"]) <= {"completed", "stopped"}
    ordered = out.results.sort_values(["trial_id", "step"])
    previous = ordered.groupby("trial_id")["step"].shift(fill_value=0)
    assert ((ordered["step"] - ordered["n_steps"]) == previous).all(), "every Job resumes where the last one stopped"
    assert int(out.results["n_steps"].sum()) == s["partial_fit_calls"]
    if scheduler["name"] == "random":
        assert (steps == scheduler["max_iter"]).all()
    if scheduler["name"] == "hyperband" and "patience" not in scheduler:
        assert s["partial_fit_calls"] == s["metadata"]["partial_fit_calls"]
