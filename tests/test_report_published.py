"""Published numbers beside measured ones: a matrix's ``published`` entries are validated before any
cell runs, reach ``matrix.json`` and :func:`read_matrix`, and the report prints the published row,
one measured row per contender (the best score among each seed's first k evaluations, at any
fidelity or at the top one) and, for the contender that runs the published system, Welch's verdict."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml

from tunebench.cli import main
from tunebench.compare.matrix import load_matrix
from tunebench.config import ConfigError
from tunebench.report.evaluations import best_among_first, ordered, peer_evaluations
from tunebench.report.published import per_seed, summarise, verdict_text
from tunebench.store.comparison import read_matrix
from tunebench.store.published import parse_published

matplotlib.use("Agg")

ENTRY: dict[str, Any] = {
    "workload": "mfh3",
    "system": "DEHB 0.1.2",
    "contender": "hyperband",
    "source": {"repository": "automl/DEHB", "file": "benchmarking/results/benchmark_results.md", "version": "0.1.2"},
    "statistic": "mean ± std over 10 seeds",
    "incumbent": "any",
    "at": [60, 120],
    "mean": [-2.861, -3.506],
    "std": [0.06878, 0.07627],
    "n": 10,
}
MATRIX: dict[str, Any] = {
    "name": "tiny-published",
    "seeds": [0, 1],
    "workers": 4,
    "max_iter": 100,
    "budget": {"total_steps": 200},
    "shared": {"eta": 3, "min_iter": 1},
    "workloads": [{"label": "mfh3", "name": "mfh3"}],
    "executors": [{"name": "simulated"}],
    "schedulers": [{"label": "random", "name": "random", "n_trials": 10}, {"label": "hyperband", "name": "hyperband"}],
    "published": [ENTRY],
}


def with_entry(**changes: Any) -> dict[str, Any]:
    """The matrix with its entry changed (a value of ``None`` drops the key)."""
    raw = copy.deepcopy(MATRIX)
    entry = {**ENTRY, **changes}
    raw["published"] = [{k: v for k, v in entry.items() if v is not None}]
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": {"file": "results.md"}}, r"published\[0\]\.source\.repository is required"),
        ({"mean": [-2.861]}, r"published\[0\]\.mean has 1 value\(s\) but `at` has 2"),
        (
            {"workload": "mfh6"},
            r"published\[0\]\.workload 'mfh6' is not a workload label of this matrix \(did you mean 'mfh3'\?\)",
        ),
        ({"contender": "hyperbnd"}, r"published\[0\]\.contender 'hyperbnd' is not a contender label.*did you mean 'hyperband'"),
        ({"incumbent": "best"}, r"published\[0\]\.incumbent must be one of any .*; top .*, got 'best'"),
        ({"statistc": "x"}, r"unknown key\(s\) published\[0\]\.statistc \(did you mean 'statistic'\?\)"),
        ({"n": None}, r"published\[0\]\.n is required with std"),
        ({"at": [120, 60]}, r"published\[0\]\.at must be strictly increasing"),
        ({"values": [[1.0, 2.0], [3.0, 4.0]]}, r"give either values or mean"),
        ({"mean_scale": 0}, r"mean_scale must be a finite non-zero number"),
    ],
)
def test_a_bad_entry_is_one_error_naming_key_and_value(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_matrix(raw=with_entry(**changes))


def test_values_give_mean_std_ddof1_and_n_and_the_entry_round_trips() -> None:
    raw = with_entry(mean=None, std=None, n=None, values=[[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]], mean_scale=-1, offset=1)
    (p,) = load_matrix(raw=raw).published
    assert p.n == 3 and p.mean == (2.0, 2.0) and p.std == (1.0, 0.0)
    assert p.means == (-1.0, -1.0) and p.stds == (1.0, 0.0)
    assert parse_published(json.loads(json.dumps(p.as_json())), "x") == p
    single = load_matrix(raw=with_entry(at=300, mean=-3.7, std=0.1)).published[0]
    assert single.at == (300,) and single.mean == (-3.7,) and single.std == (0.1,)


def test_matrix_json_carries_the_entries_back(tmp_path: Path) -> None:
    matrix = load_matrix(raw=MATRIX)
    raw = {
        "name": "hand-made",
        "cells": [],
        "contenders": [c.as_json() for c in matrix.contenders],
        "published": [p.as_json() for p in matrix.published],
    }
    (tmp_path / "matrix.json").write_text(json.dumps(raw))
    assert read_matrix(tmp_path).published == matrix.published


def test_the_best_among_the_first_k_is_ordered_by_elapsed_s_and_top_counts_only_max_iter() -> None:
    results = pd.DataFrame(
        {
            "trial_id": [0, 1, 0, 1],
            "step": [1, 1, 9, 9],
            "score": [0.5, 0.1, 0.3, 0.4],  # journal order; observed order is by elapsed_s
            "elapsed_s": [1.0, 3.0, 2.0, 3.0],
        }
    )
    frame = ordered(results)
    assert frame["score"].tolist() == [0.5, 0.3, 0.1, 0.4], "by elapsed_s, journal order on the tie at 3.0"
    assert best_among_first(frame, [1, 2, 3, 10], "min").tolist() == [0.5, 0.3, 0.1, 0.1]
    assert best_among_first(frame, [1, 2, 3, 4], "min", top=9).tolist()[1:] == [0.3, 0.3, 0.3]
    assert math.isnan(best_among_first(frame, [1], "min", top=9)[0]), "no top-fidelity score yet"
    late = ordered(pd.DataFrame({"step": [1, 1, 9], "score": [0.2, 0.1, 0.6], "elapsed_s": [1.0, 2.0, 3.0]}))
    table = per_seed([frame, late], [2, 3], "min", [9, 9])
    assert table[0].tolist() == [0.3, 0.3] and math.isnan(table[1, 0]) and table[1, 1] == 0.6
    mean, std, n = summarise(table[:, 0])
    assert (mean, std, n) == (0.3, 0.0, 1), "the seed without a top-fidelity score yet is left out"
    assert summarise(table[:, 1]) == (pytest.approx(0.45), pytest.approx(0.15), 2), "np.std, ddof 0"


def test_a_peers_evaluations_are_its_table_rows_that_ran() -> None:
    table = pd.DataFrame(
        {
            "trial_id": [0, 1, 0, None],
            "steps": [1, 1, 3, 9],
            "status": ["trained", "trained", "trained", "cut"],
            "score": [0.4, 0.2, 0.3, None],
            "elapsed_s": [1.0, 2.0, 3.0, 3.0],
        }
    )
    frame = peer_evaluations(table)
    assert frame["step"].tolist() == [1, 1, 3] and best_among_first(frame, [1, 2, 5], "min").tolist() == [0.4, 0.2, 0.2]


def test_welch_verdict_both_ways_and_without_a_spread() -> None:
    close = verdict_text([-3.70, -3.75, -3.72, -3.76], -3.741, 0.098, 10)
    assert close.startswith("reproduced (p = ")
    far = verdict_text([-3.0, -3.02, -3.01], -3.741, 0.098, 10)
    assert far.startswith("not reproduced: measured -3.01 ± 0.008165 (n=3) against published -3.741 ± 0.098 (n=10) (p = ")
    p_far = float(far.rsplit("p = ", 1)[1].rstrip(")"))
    assert p_far < 0.05 < float(close.split("p = ")[1].rstrip(")"))
    assert verdict_text([-3.0, -3.02], -3.741, None, None) == "no spread published; measured -3.01 ± 0.01 (n=2) against -3.741"
    assert verdict_text([np.nan, np.nan], -3.741, 0.1, 10).startswith("no verdict")


def test_compare_prints_published_beside_measured_and_ends_with_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(MATRIX, allow_unicode=True))
    out = tmp_path / "out"
    assert main(["compare", str(path), "--out", str(out)]) == 0
    assert read_matrix(out).published == load_matrix(raw=MATRIX).published
    md = (out / "report.md").read_text()
    section = md.split("## Published against measured")[1].split("\n## ")[0]
    rows = {line.split("|")[1].strip(): line for line in section.splitlines() if line.startswith("| ")}
    assert "-2.861 ± 0.06878" in rows["DEHB 0.1.2 (published)"] and "| 10 |" in rows["DEHB 0.1.2 (published)"]
    assert set(rows) >= {"random", "hyperband"} and "| 2 |" in rows["random"]
    assert "reproduced (p = " in rows["hyperband"], "the verdict sits in the contender's row"
    assert "source: automl/DEHB/benchmarking/results/benchmark_results.md @ 0.1.2" in section
    verdict = "mfh3, hyperband against DEHB 0.1.2 (published) at 120 evaluations, incumbent any: "
    assert verdict in md.split("## Verdict")[1].split("\n## ")[0]
    assert verdict in capsys.readouterr().out, "compare ends with the verdict"
    for png in ("anytime_evaluations.png", "regret_optimum_evaluations.png", "regret_optimum_time.png"):
        assert (out / png).stat().st_size > 0 and f"]({png})" in md
    assert "against virtual time" in md
