"""The report opens with the verdict and the final tables, before any figure, and keeps the
details (what was compared, settings, versions) for the end; the verdict lines say who leads,
by how much, whether the paired tests separate it and the seeds a tie would need."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest

from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.report import build_report
from tunebench.report.sections import TITLES
from tunebench.report.significance import seeds_needed, verdict
from tunebench.report.verdict import criterion_line

SIMULATED: dict[str, Any] = {
    "name": "tiny-simulated",
    "seeds": [0, 1, 2],
    "workers": 8,
    "max_iter": 27,
    "target_score": 0.9,
    "space": {"alpha": {"loguniform": [1.0e-6, 1.0e-1]}, "l1_ratio": {"uniform": [0.0, 1.0]}},
    "shared": {"eta": 3, "min_iter": 1, "random": {"n_trials": 8}, "asha": {"n_trials": 20}},
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 10000}],
    "executors": [{"name": "simulated", "curves": "sgd-circles"}],
    "schedulers": [
        {"label": "random", "name": "random", "report_every": 1},
        {"label": "hyperband", "name": "hyperband"},
        {"label": "asha", "name": "asha", "variant": "stopping"},
    ],
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = compare(load_matrix(raw=SIMULATED), tmp_path_factory.mktemp("c") / "c", say=lambda line: None)
    return build_report(out)


def test_the_markdown_opens_with_the_verdict_and_the_final_table_before_any_figure(report) -> None:
    lines = report.markdown.read_text().splitlines()
    first_table = next(i for i, x in enumerate(lines) if x.startswith("|"))
    first_figure = next(i for i, x in enumerate(lines) if x.startswith("!["))
    assert lines[2] == f"## {TITLES['verdict']}" and first_table < first_figure and first_table < 30
    assert lines[first_table].startswith("| contender | seeds | best validation")
    assert len(report.verdict) == 2, "one line on final score, one on time to target"
    for said in report.verdict:
        assert f"- {said}" in lines[:30]
    heads = [x for x in lines if x.startswith("## ")]
    assert heads.index(f"## {TITLES['final']}") == 1
    assert (
        heads.index(f"## {TITLES['anytime']}")
        < heads.index(f"## {TITLES['compared']}")
        < heads.index("## Settings: what each contender ran")
        < heads.index(f"## {TITLES['environment']}")
    )
    last_figure = max(i for i, x in enumerate(lines) if x.startswith("!["))
    assert last_figure < lines.index(f"## {TITLES['compared']}"), "the details come after every figure"


def test_the_html_page_says_the_verdict_and_shows_the_table_before_the_first_figure(report) -> None:
    page = report.html.read_text()
    figure = min(page.index("<figure"), page.index("<img"))
    assert page.index(f"<h2>{TITLES['verdict']}</h2>") < page.index("<table") < figure
    for said in report.verdict:
        assert page.index(escape(said)) < figure


def test_the_verdict_lines_name_the_leader_its_lead_and_the_tests(report) -> None:
    score, time = report.verdict
    assert score.startswith("sgd, final validation accuracy: ") and time.startswith("sgd, time to accuracy 0.9: ")
    for said in (score, time):
        assert re.search(r": (random|hyperband|asha) leads ", said)
        assert "Holm-corrected paired tests over 3 seeds" in said
        assert "IQM" in said
        assert ("Not significant: tied with" in said) != ("Significant against every other contender" in said)
    assert re.search(r"with IQM 0\.9\d*, (ahead of \S+ \(0\.\d+\) by \d|level with)", score)
    assert "would need about" in score or "average zero" in score, "three seeds separate no one: the seeds a tie needs"
    assert report.figure is not None and report.figure.name == "anytime_time.png"


def by_seed(values: list[float]) -> dict[int, float]:
    return {i: v for i, v in enumerate(values)}


def test_a_clear_winner_is_called_significant_with_its_lead() -> None:
    values = {"a": by_seed([0.9 + 0.01 * i for i in range(8)]), "b": by_seed([0.8 + 0.01 * i for i in range(8)])}
    said = criterion_line("w, final validation accuracy", verdict(values, "max", "s"), values, "max", None, "")
    assert said == (
        "w, final validation accuracy: a leads with IQM 0.935, ahead of b (0.835) by 0.1. Significant "
        "against every other contender (Holm-corrected paired tests over 8 seeds, largest p=0.0078)."
    )


def test_a_tie_names_who_it_is_tied_with_and_the_seeds_it_would_need() -> None:
    values = {"a": by_seed([3.0, 4.0, 5.0, 6.0]), "b": by_seed([4.0, 3.0, 6.0, 7.0]), "c": by_seed([9.0, 9.0, 9.0, 9.0])}
    v = verdict(values, "min", "time to target")
    needed = seeds_needed("a", "b", [1.0, -1.0, 1.0, 1.0])
    said = criterion_line("w, time to accuracy 0.9", v, values, "min", needed, " s")
    assert said == (
        "w, time to accuracy 0.9: a leads with IQM 4.5 s, ahead of b (5 s) by 0.5 s. Not significant: "
        "tied with b and c (Holm-corrected paired tests over 4 seeds, alpha 0.05). A lead like a's over b "
        f"(mean 0.5 s, sd 1 s over 4 paired seeds) would need about {needed.seeds} seeds for 80% power."
    )


def test_a_leader_tied_with_one_and_separated_from_another_says_both() -> None:
    a = [0.9 + 0.01 * i for i in range(10)]
    values = {
        "a": by_seed(a),
        "b": by_seed([x + (0.001 if i % 2 else -0.002) for i, x in enumerate(a)]),
        "c": by_seed([x - 0.1 for x in a]),
    }
    said = criterion_line("w, final x", verdict(values, "max", "s"), values, "max", None, "")
    assert said.endswith(
        ". Not significant: tied with b, separated from c (Holm-corrected paired tests over 10 seeds, alpha 0.05)."
    )


def test_no_target_reached_and_a_lone_contender_give_no_verdict() -> None:
    never = {"a": by_seed([float("nan")] * 3), "b": by_seed([float("nan")] * 3)}
    assert (
        criterion_line("w, time to x 1", verdict(never, "min", "t"), never, "min", None, " s")
        == "w, time to x 1: no contender reached it: no verdict."
    )
    alone = {"a": by_seed([0.5, 0.6])}
    assert (
        criterion_line("w, final x", verdict(alone, "max", "s"), alone, "max", None, "")
        == "w, final x: only a finished: no verdict."
    )


def test_an_empty_comparison_says_there_is_no_verdict(tmp_path: Path) -> None:
    cell = {"cell_id": "a", "label": "a", "executor": "e", "workload": "w", "seed": 0, "dir": "a", "status": "pending"}
    (tmp_path / "matrix.json").write_text(json.dumps({"cells": [cell]}))
    paths = build_report(tmp_path)
    assert paths.verdict == ("No cell finished: no verdict.",)
    assert paths.markdown.read_text().splitlines()[4] == "- No cell finished: no verdict."


def test_a_leader_that_made_more_calls_is_read_at_the_runner_ups_calls_too() -> None:
    from types import SimpleNamespace

    import numpy as np

    from tunebench.report.significance import verdict
    from tunebench.report.verdict import compute_clause

    def run(seed: int, calls: int, xs: list[float], ys: list[float]) -> SimpleNamespace:
        return SimpleNamespace(
            seed=seed,
            by_calls=SimpleNamespace(x=np.array(xs), y=np.array(ys)),
            get=lambda key: float(calls) if key == "partial_fit_calls" else None,
        )

    runs = {
        "big": [run(s, 200, [10, 100, 200], [0.5, 0.6 + s / 100, 0.9]) for s in range(6)],
        "small": [run(s, 100, [10, 100], [0.5, 0.7 + s / 100]) for s in range(6)],
    }
    view = SimpleNamespace(mode="max", of=lambda series: runs[series])
    finals = {name: {r.seed: float(r.by_calls.y[-1]) for r in rs} for name, rs in runs.items()}
    clause = compute_clause(view, verdict(finals, "max", "s"))
    assert clause == (
        " It made 2x the partial_fit calls of small (200 against 100, medians). "
        "The best score it had seen by 100 calls was IQM 0.625 (0.9 by its end)."
    )
    even = {"big": runs["big"], "small": [run(s, 190, [10], [0.1]) for s in range(6)]}
    assert compute_clause(SimpleNamespace(mode="max", of=lambda series: even[series]), verdict(finals, "max", "s")) == ""
