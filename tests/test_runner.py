"""The run loop: budgets, the journal, best-trial bookkeeping, determinism."""

from __future__ import annotations

import json

import pandas as pd

from tests.helpers import tiny_config
from tunebench.config import load_experiment
from tunebench.run import run, utilization
from tunebench.store import read_journal


def experiment(scheduler: dict, **extra):
    return load_experiment(raw=tiny_config(scheduler, **extra))


def test_total_steps_budget_stops_starting_jobs(tmp_path) -> None:
    exp = experiment({"name": "random", "n_trials": 50, "max_iter": 10, "report_every": 5}, budget={"total_steps": 40})
    out = run(exp, tmp_path / "r", progress=False)
    assert out.summary["stop_reason"] == "total_steps"
    assert out.summary["partial_fit_calls"] == 40
    assert out.summary["n_trials"] < 50


def test_target_score_stops_early(tmp_path) -> None:
    exp = experiment({"name": "random", "n_trials": 30, "max_iter": 4}, budget={"target_score": 0.3})
    out = run(exp, tmp_path / "r", progress=False)
    assert out.summary["stop_reason"] == "target_score"
    assert out.results["score"].max() >= 0.3
    assert out.summary["n_trials"] < 30


def test_journal_replays_to_the_results_table(tmp_path) -> None:
    exp = experiment({"name": "asha", "max_iter": 9, "n_trials": 12, "variant": "promotion"})
    out = run(exp, tmp_path / "r", progress=False)
    events = list(read_journal(out.out_dir))
    results = pd.DataFrame([e for e in events if e["kind"] == "result"])
    pd.testing.assert_frame_equal(
        results[["trial_id", "step", "score", "decision"]].reset_index(drop=True),
        out.results[["trial_id", "step", "score", "decision"]].reset_index(drop=True),
    )
    trials = [e for e in events if e["kind"] == "trial"]
    assert sorted(t["trial_id"] for t in trials) == sorted(out.trials["trial_id"])
    assert (out.results.groupby("trial_id")["step"].max() <= 9).all()


def test_best_trial_is_the_best_last_score_and_has_a_test_score(tmp_path) -> None:
    exp = experiment({"name": "hyperband", "max_iter": 9, "eta": 3})
    out = run(exp, tmp_path / "r", progress=False)
    best = out.trials.sort_values(["last_score", "trial_id"], ascending=[False, True]).iloc[0]
    assert out.summary["best_trial"] == int(best["trial_id"])
    assert out.summary["best_score"] == best["last_score"]
    assert out.summary["best_config"] == json.loads(best["config"])
    assert 0.0 <= out.summary["test_score"] <= 1.0


def test_same_seed_same_run(tmp_path) -> None:
    a = run(experiment({"name": "asha", "max_iter": 9, "n_trials": 10, "variant": "stopping"}), tmp_path / "a", progress=False)
    b = run(experiment({"name": "asha", "max_iter": 9, "n_trials": 10, "variant": "stopping"}), tmp_path / "b", progress=False)
    cols = ["trial_id", "step", "score", "decision"]
    pd.testing.assert_frame_equal(a.results[cols], b.results[cols])
    c = run(
        load_experiment(raw={**tiny_config({"name": "asha", "max_iter": 9, "n_trials": 10, "variant": "stopping"}), "seed": 1}),
        tmp_path / "c",
        progress=False,
    )
    assert not a.trials["config"].equals(c.trials["config"])


def test_utilization_formula() -> None:
    frame = pd.DataFrame({"compute_s": [1.0, 2.0], "score_s": [0.5, 0.5]})
    assert utilization(frame, slots=2, wall_time_s=2.0) == 1.0
    assert utilization(frame.iloc[:0], slots=2, wall_time_s=2.0) == 0.0
