"""The ``suite`` axis of a matrix: recorded tasks as workloads, each replayed on the simulated
executor with its own curves, and the report's aggregate across them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.config import ConfigError
from tunebench.report import build_report
from tunebench.workloads.suite import SUITE, suite

TASKS = ["sgd-digits", "sgd-wine", "sgd-breast_cancer"]
MATRIX: dict[str, Any] = {
    "name": "suite",
    "seeds": [0, 1],
    "workers": 4,
    "max_iter": 27,
    "budget": {"total_steps": 200},
    "suite": TASKS,
    "shared": {"eta": 3, "min_iter": 1},
    "schedulers": [{"label": "hyperband", "name": "hyperband"}, {"label": "asha", "name": "asha", "n_trials": 60}],
}


def test_every_task_is_a_workload_replaying_its_own_curves() -> None:
    m = load_matrix(raw=MATRIX)
    assert m.workloads == tuple(TASKS) and len(m.cells) == 2 * 3 * 2
    for cell in m.cells:
        assert cell.executor_section == {"name": "simulated", "curves": cell.workload, "n_workers": 4}
    task = {t.name: t for t in suite(TASKS)}
    assert all(cell.workload_section["dataset"] == task[cell.workload].workload["dataset"] for cell in m.cells)


def test_all_names_the_whole_suite_and_max_iter_defaults_to_what_every_task_reached() -> None:
    raw = {**MATRIX, "suite": "all"}
    del raw["max_iter"]
    m = load_matrix(raw=raw)
    assert m.workloads == SUITE and m.raw["max_iter"] == min(t.max_iter for t in suite())


def test_a_suite_runs_and_the_report_ranks_across_its_tasks(tmp_path: Path) -> None:
    out = tmp_path / "suite"
    compare(load_matrix(raw=MATRIX), out, say=lambda line: None)
    for task in TASKS:
        results = pd.read_parquet(out / task / "asha@simulated" / "seed0" / "results.parquet")
        assert len(results) > 0 and results["step"].max() <= 27
    md = build_report(out).markdown.read_text()
    assert "## Across workloads" in md and "average rank" in md.lower()
    assert all(f"### {task}" in md for task in TASKS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"suite": ["sgd-digit"]}, "unknown task 'sgd-digit' \\(did you mean 'sgd-digits'\\?\\)"),
        ({"suite": []}, "suite must be 'all' or a non-empty list"),
        ({"workloads": [{"name": "sgd"}]}, "workloads or suite, not both"),
        ({"peers": [{"name": "optuna-hyperband"}]}, "a suite matrix has no peers"),
        ({"executors": [{"name": "dask"}]}, "executor 'dask' cannot replay a recording"),
        ({"executors": [{"name": "simulated", "curves": "sgd-wine"}]}, "drop executors\\[\\].curves"),
        ({"max_iter": 100000}, "max_iter=100000 is past task"),
    ],
)
def test_a_bad_suite_is_one_clear_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_matrix(raw={**MATRIX, **change})
