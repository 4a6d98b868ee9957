"""Hyperband on SMAC3's tasks through ``tunebench run`` on the local executor, from the shipped
configs shrunk by ``--set``: SMAC's bracket plan, scores a fresh trial reproduces, a diverging MLP
as a failed trial (SMAC's crashed one), one outcome per seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tunebench.cli import main
from tunebench.config import load_experiment
from tunebench.workloads.smac.base import SMACTask

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
TINY_MLP = ["workload.n_samples=100", "workload.n_folds=3", "workload.max_iter=3", "scheduler.max_iter=3"]


def run(tmp_path: Path, name: str, config: str, *sets: str) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    out = tmp_path / name
    args = ["run", str(CONFIGS / config), "--out", str(out), "-q"]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    return summary, pd.read_parquet(out / "results.parquet"), pd.read_parquet(out / "trials.parquet")


def rescored(config: str, sets: list[str], trial_config: dict[str, Any], step: int) -> float:
    """The score a fresh trial of the run's workload gets at ``step``."""
    workload = load_experiment(CONFIGS / config, overrides=sets).build().workload
    assert isinstance(workload, SMACTask)
    trial = workload.build(trial_config, workload.load(0), seed=0)
    trial.train(step)
    return trial.score()


@pytest.mark.parametrize(
    "config, sets, plan",
    [
        ("smac-mlp-hyperband.yaml", TINY_MLP, {"n_models": 5, "partial_fit_calls": 11}),
        ("smac-svm-hyperband.yaml", ["workload.n_folds=2"], {"n_models": 5, "partial_fit_calls": 11}),
    ],
    ids=["mlp", "svm"],
)
def test_hyperband_runs_smacs_plan_and_its_scores_are_the_tasks(
    tmp_path: Path, config: str, sets: list[str], plan: dict[str, int]
) -> None:
    summary, results, trials = run(tmp_path, "hb", config, *sets)
    assert (summary["status"], summary["metric"], summary["mode"]) == ("completed", "accuracy", "max")
    assert {k: summary["metadata"][k] for k in plan} == plan and summary["n_trials"] == plan["n_models"] == len(trials)
    assert summary["partial_fit_calls"] == results["n_steps"].sum() <= plan["partial_fit_calls"]
    failed = trials[trials["status"] == "failed"]
    assert failed["error"].str.contains("non-finite parameter weights").all() and len(failed) == summary["failures"]
    assert set(trials.loc[trials["status"] != "failed", "steps"]) <= {1, 3}
    assert (results["compute_s"] > 0).all() and results["score"].between(0, 1).all()
    assert summary["best_score"] == results["score"].max()
    best = results[(results["trial_id"] == summary["best_trial"]) & (results["score"] == summary["best_score"])]
    best_step = int(best["step"].iloc[0])
    fresh = {step: rescored(config, sets, summary["best_config"], step) for step in {best_step, 3}}
    assert fresh[best_step] == summary["best_score"]
    assert summary["test_score"] == fresh[3]


def test_one_seed_one_outcome_through_the_command(tmp_path: Path) -> None:
    cols = ["trial_id", "step", "score"]
    a, b, c = (
        run(tmp_path, name, "smac-mlp-hyperband.yaml", *TINY_MLP, f"seed={seed}")[1][cols]
        for name, seed in (("a", 0), ("b", 0), ("c", 1))
    )
    assert a.equals(b) and not a.equals(c)


@pytest.mark.parametrize("config", ["smac-mlp-hyperband.yaml", "smac-svm-hyperband.yaml"])
def test_the_shipped_configs_load_with_smacs_budgets(config: str) -> None:
    built = load_experiment(CONFIGS / config).build()
    workload = built.workload
    assert isinstance(workload, SMACTask) and workload.max_iter == built.scheduler.max_iter
    budgets = [workload.budget(k) for k in (1, 3, 9) if k <= workload.max_iter]
    assert budgets == ([3, 9, 25] if workload.name == "smac-mlp" else [16, 50])
