"""Searchers and worker counts as axes of a comparison matrix: scheduler x searcher x workers x
executor x workload x seed, labelled, validated whole, run on recorded curves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tunebench.compare.matrix import experiment_raw, load_matrix
from tunebench.compare.runner import compare, peer_task
from tunebench.config import ConfigError
from tunebench.report.build import build_report

SPACE = {"alpha": {"loguniform": [1.0e-6, 1.0e-1]}, "l1_ratio": {"uniform": [0.0, 1.0]}}
MATRIX: dict[str, Any] = {
    "name": "tiny-searchers",
    "seeds": [0, 1],
    "workers": 4,
    "max_iter": 9,
    "space": SPACE,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 10000}],
    "executors": [{"name": "simulated", "curves": "sgd-circles"}],
    "schedulers": [
        {"label": "hyperband", "name": "hyperband", "eta": 3},
        {"name": "asha", "n_trials": 20, "searcher": {"name": "bohb", "min_points_in_model": 3}},
        {"label": "BOHB-cl", "name": "hyperband", "searcher": {"name": "bohb", "pending": "constant_liar"}},
    ],
    "searchers": ["random", {"label": "tpe-cl", "name": "tpe", "pending": "constant_liar", "min_points": 3}],
}


def test_searchers_cross_the_schedulers_without_one_and_label_the_cells() -> None:
    matrix = load_matrix(raw=MATRIX)
    labels = list(dict.fromkeys(c.label for c in matrix.cells))
    assert labels == ["hyperband+random", "hyperband+tpe-cl", "asha+bohb", "BOHB-cl"]
    assert len(matrix.cells) == 2 * len(labels)
    cell = next(c for c in matrix.cells if c.label == "hyperband+tpe-cl" and c.seed == 1)
    assert cell.cell_id == "sgd/hyperband+tpe-cl@simulated/seed1" and cell.searcher == "tpe-cl"
    raw = experiment_raw(cell, matrix.raw)
    assert raw["searcher"] == {"name": "tpe", "pending": "constant_liar", "min_points": 3}
    assert "searcher" not in raw["scheduler"] and raw["executor"]["n_workers"] == 4
    plain = load_matrix(raw={**MATRIX, "searchers": None})
    assert "searcher" not in experiment_raw(plain.cells[0], plain.raw) and plain.cells[0].label == "hyperband"


def test_a_searcher_matrix_runs_and_the_report_names_each_searcher(tmp_path: Path) -> None:
    out = compare(load_matrix(raw={**MATRIX, "seeds": [0]}), tmp_path / "c", say=lambda line: None)
    state = json.loads((out / "matrix.json").read_text())
    assert {c["status"] for c in state["cells"]} == {"done"}
    assert [(c["label"], c["searcher"]) for c in state["contenders"]] == [
        ("hyperband+random", "random"),
        ("hyperband+tpe-cl", "tpe-cl"),
        ("asha+bohb", "bohb"),
        ("BOHB-cl", "bohb"),
    ]
    summary = json.loads((out / "sgd/hyperband+tpe-cl@simulated/seed0/summary.json").read_text())
    assert summary["config"]["searcher"]["name"] == "tpe" and summary["config"]["searcher"]["pending"] == "constant_liar"
    build_report(out)
    text = (out / "report.md").read_text()
    assert "hyperband+tpe-cl (our scheduler hyperband with searcher tpe" in text and "asha+bohb" in text


def test_a_workers_axis_runs_every_contender_at_each_count() -> None:
    raw = {
        **MATRIX,
        "workers": [1, 8],
        "searchers": None,
        "schedulers": [{"label": "hb", "name": "hyperband"}],
        "peers": [{"label": "optuna", "name": "optuna-hyperband"}],
        "seeds": [3],
    }
    matrix = load_matrix(raw=raw)
    assert [c.cell_id for c in matrix.cells] == [
        "sgd/hb-1w@simulated/seed3",
        "sgd/hb-8w@simulated/seed3",
        "sgd/optuna-1w@optuna-hyperband/seed3",
        "sgd/optuna-8w@optuna-hyperband/seed3",
    ]
    assert [c.label for c in matrix.cells][:2] == ["hb/1w", "hb/8w"]
    assert [experiment_raw(c, matrix.raw)["executor"]["n_workers"] for c in matrix.cells[:2]] == [1, 8]
    assert peer_task(matrix.cells[3], matrix.raw).n_workers == 8


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"searchers": ["random", "nope"]},
            r"searchers\[1\]: searcher.name: unknown searcher 'nope'; registered: bohb, random, tpe",
        ),
        ({"schedulers": [{"name": "hyperband", "searcher": "gp"}]}, r"schedulers\[hyperband\].searcher: .*unknown searcher 'gp'"),
        ({"searchers": []}, "searchers must be a non-empty list"),
        ({"searchers": [{"pending": "none"}]}, r"searchers\[0\] must be a searcher name or a mapping with a 'name'"),
        ({"searchers": [{"name": "tpe", "gamma": 2}]}, r"cell sgd/hyperband\+tpe@simulated/seed0: unknown key searcher.gamma"),
        ({"workers": [2, 2]}, "workers must be an integer >= 1 or a non-empty list of distinct ones"),
        ({"workers": [0, 2]}, "workers must be an integer >= 1 or a non-empty list"),
    ],
)
def test_the_searcher_and_worker_axes_are_validated_before_anything_runs(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_matrix(raw={**MATRIX, **change})


def test_with_a_workers_axis_each_count_is_held_against_random_search_at_that_count(tmp_path: Path) -> None:
    from tunebench.report.analysis import baseline_of, baselines
    from tunebench.report.runs import load_runs
    from tunebench.store.comparison import read_matrix

    raw = {
        **MATRIX,
        "seeds": [0],
        "workers": [1, 8],
        "searchers": None,
        "schedulers": [{"name": "random", "n_trials": 3}, {"name": "hyperband"}],
    }
    out = compare(load_matrix(raw=raw), tmp_path / "c", say=lambda line: None)
    matrix = read_matrix(out)
    runs, missing = load_runs(matrix)
    base = baselines(runs, matrix)
    assert not missing and base == {"simulated/1": "random/1w", "simulated/8": "random/8w"}
    assert {r.series: baseline_of(r, base) for r in runs}["hyperband/8w"] == "random/8w"
