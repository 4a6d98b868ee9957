"""Runs on the synthetic workloads: Hyperband on mfh3 on the simulated executor (its clock the
cost model) in well under a second with regret in the summary, the same decisions and scores on
the local executor, one outcome per seed, the checks at config load, and the regret column of
a comparison's report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.config import ConfigError, load_experiment
from tunebench.report.build import build_report
from tunebench.report.run_summary import summary_table
from tunebench.run import RunResult, run
from tunebench.workloads.synthetic.hartmann import OPTIMUM3, hartmann_cost


def go(tmp_path: Path, name: str, *sets: str, workload: str = "mfh3", executor: str = "simulated", seed: int = 0) -> RunResult:
    raw = {
        "seed": seed,
        "workload": {"name": workload},
        "scheduler": {"name": "hyperband", "max_iter": 100},
        "executor": {"name": executor, "n_workers": 4},
    }
    return run(load_experiment(raw=raw, overrides=list(sets)), tmp_path / name, progress=False)


def test_hyperband_on_mfh3_runs_on_the_simulated_clock_in_well_under_a_second_and_reports_regret(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    out = go(tmp_path, "hb")
    took = time.perf_counter() - t0
    s = out.summary
    assert took < 1.0
    assert (s["status"], s["metric"], s["mode"], s["n_trials"], s["partial_fit_calls"]) == (
        "completed",
        "value",
        "min",
        143,
        1903,
    )
    assert s["optimum"] == OPTIMUM3 and s["regret"] == pytest.approx(s["best_score"] - OPTIMUM3) and s["regret"] > 0
    assert s["test_regret"] == pytest.approx(s["test_score"] - OPTIMUM3)
    assert s["virtual_time"] and s["executor_stats"]["curves"] == "the workload"
    assert "regret vs optimum -3.863" in summary_table(s, out.trials)
    results = out.results.sort_values(["trial_id", "step"])
    first = results.groupby("trial_id").head(1)
    assert first["compute_s"].tolist() == pytest.approx([hartmann_cost(step) for step in first["step"]])


def test_virtual_time_is_the_cost_of_the_fidelities_reached(tmp_path: Path) -> None:
    out = go(tmp_path, "random", "scheduler.name=random", "scheduler.n_trials=8", "executor.n_workers=1")
    assert out.summary["wall_time_s"] == pytest.approx(8 * hartmann_cost(100))
    assert out.summary["partial_fit_calls"] == 800


def test_one_seed_one_outcome_and_the_local_executor_agrees(tmp_path: Path) -> None:
    a, b, c = (go(tmp_path, n, seed=s) for n, s in (("a", 1), ("b", 1), ("c", 2)))
    cols = ["trial_id", "step", "score"]
    assert a.results[cols].equals(b.results[cols]) and a.summary["best_config"] == b.summary["best_config"]
    assert not a.results[cols].equals(c.results[cols])
    local = go(tmp_path, "local", "executor.n_workers=1", executor="local", seed=1)
    serial = go(tmp_path, "serial", "executor.n_workers=1", seed=1)
    assert local.results[cols].equals(serial.results[cols])
    assert local.summary["regret"] == serial.summary["regret"] and not local.summary["virtual_time"]


@pytest.mark.parametrize("workload", ["mfh6", "counting-ones", "mf-branin"])
def test_every_synthetic_workload_runs_on_the_simulated_executor(tmp_path: Path, workload: str) -> None:
    max_iter = 162 if workload == "counting-ones" else 100
    out = go(tmp_path, workload, f"scheduler.max_iter={max_iter}", workload=workload)
    assert out.summary["status"] == "completed" and out.summary["regret"] is not None and out.summary["regret"] >= 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"workload": {"name": "sgd", "n_samples": 600}}, r"needs executor.curves .* workload 'sgd'; only a synthetic workload"),
        ({"scheduler": {"name": "hyperband", "max_iter": 243}}, r"scheduler max_iter=243 is past workload 'mfh3'.*max_iter=100"),
        ({"workload": {"name": "mfh3", "seed": 3}}, r"unknown key workload.seed"),
        ({"workload": {"name": "mfh3", "preset": "awful"}}, r"preset must be one of good, moderate, bad, terrible"),
    ],
)
def test_what_cannot_run_is_refused_when_the_config_loads(change: dict[str, Any], message: str) -> None:
    raw = {
        "workload": {"name": "mfh3"},
        "scheduler": {"name": "hyperband", "max_iter": 100},
        "executor": {"name": "simulated"},
        **change,
    }
    with pytest.raises(ConfigError, match=message):
        load_experiment(raw=raw)


def test_the_run_seed_seeds_the_noise() -> None:
    raw = {"seed": 5, "workload": {"name": "mfh3"}, "scheduler": {"name": "random", "n_trials": 1, "max_iter": 100}}
    assert load_experiment(raw=raw).build().workload.seed == 5


def test_a_matrix_hands_its_max_iter_to_the_workload_and_the_report_shows_regret(tmp_path: Path) -> None:
    matrix = load_matrix(
        raw={
            "name": "tiny-synthetic",
            "seeds": [0, 1],
            "workers": 2,
            "max_iter": 27,
            "workloads": [{"label": "mfh3", "name": "mfh3"}],
            "executors": [{"name": "simulated"}],
            "schedulers": [{"label": "hyperband", "name": "hyperband"}, {"label": "random", "name": "random", "n_trials": 5}],
        }
    )
    assert {c.workload_section["max_iter"] for c in matrix.cells} == {27}
    out = compare(matrix, tmp_path / "c", say=lambda line: None)
    summary = json.loads((out / "mfh3/hyperband@simulated/seed0/summary.json").read_text())
    assert summary["config"]["workload"]["max_iter"] == 27 and summary["regret"] is not None
    build_report(out)
    text = (out / "report.md").read_text()
    assert "regret vs optimum" in text and "known optimum, -3.863" in text
