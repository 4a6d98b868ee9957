"""The plugin run by name through tunebench: on the local and the simulated executor, the same
decisions for the same seed, and in a comparison matrix beside Hyperband and ASHA."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tunebench import compare, load_experiment, load_matrix, run

SGD = {"name": "sgd", "dataset": "circles", "n_samples": 600}
SCHEDULER = {"name": "median_stopping", "n_trials": 8, "max_iter": 9, "min_samples": 2, "report_every": 3}
EXECUTORS = {
    "local": {"name": "local"},
    "simulated": {"name": "simulated", "curves": "sgd-circles", "n_workers": 4},
}


def experiment(executor: str, seed: int = 0) -> Any:
    return load_experiment(raw={"seed": seed, "workload": SGD, "scheduler": SCHEDULER, "executor": EXECUTORS[executor]})


@pytest.mark.parametrize("executor", sorted(EXECUTORS))
def test_completes_and_stops_some_trials(executor: str, tmp_path: Path) -> None:
    out = run(experiment(executor), tmp_path / "run", progress=False)
    assert out.summary["status"] == "completed" and out.summary["scheduler"] == "median_stopping"
    trials = out.trials
    assert len(trials) == 8 and set(trials["status"]) <= {"completed", "stopped"}
    assert (trials["status"] == "stopped").any() and (trials["status"] == "completed").any()
    assert set(trials.loc[trials["status"] == "stopped", "steps"]) <= {3, 6}  # the rule acts at reports only
    assert out.summary["partial_fit_calls"] == int(trials["steps"].sum()) < 8 * 9


@pytest.mark.parametrize("executor", sorted(EXECUTORS))
def test_deterministic_per_seed(executor: str, tmp_path: Path) -> None:
    a, b, c = (run(experiment(executor, seed), tmp_path / f"run{i}", progress=False) for i, seed in enumerate((0, 0, 1)))
    columns = ["trial_id", "status", "steps", "best_score"]
    pd.testing.assert_frame_equal(a.trials[columns], b.trials[columns])
    assert a.summary["best_config"] == b.summary["best_config"] != c.summary["best_config"]


def test_compare_puts_it_beside_hyperband_and_asha(tmp_path: Path) -> None:
    matrix = load_matrix(
        raw={
            "name": "median-vs-rungs",
            "seeds": [0],
            "workers": 4,
            "max_iter": 9,
            "workloads": [{"label": "sgd", **SGD}],
            "executors": [EXECUTORS["simulated"]],
            "schedulers": [
                {"label": "median", **{k: v for k, v in SCHEDULER.items() if k != "max_iter"}},
                {"label": "hyperband", "name": "hyperband", "eta": 3},
                {"label": "asha", "name": "asha", "eta": 3, "n_trials": 12},
            ],
        }
    )
    out = compare(matrix, tmp_path / "cmp", say=lambda line: None)
    cells = {c["cell_id"]: c["status"] for c in json.loads((out / "matrix.json").read_text())["cells"]}
    assert cells == {f"sgd/{label}@simulated/seed0": "done" for label in ("median", "hyperband", "asha")}
    summary = json.loads((out / "sgd/median@simulated/seed0/summary.json").read_text())
    assert summary["scheduler"] == "median_stopping" and summary["n_trials"] == 8
