"""The report's study views on small simulated matrices (recorded curves, virtual workers): a
workers axis gets "Against workers" and its figure, PBT contenders get their lineage figures, a
crossed ``bracket_order`` gets its own view and the steps per bracket; a matrix that varies
none of these gets none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.report.axes import Place, axes_of
from tunebench.report.brackets import TITLE as BRACKETS
from tunebench.report.build import ReportPaths, build_report
from tunebench.report.pbt import TITLE as LINEAGE

BASE: dict[str, Any] = {
    "seeds": [0, 1],
    "workers": 2,
    "max_iter": 9,
    "target_score": 0.85,
    "space": {"alpha": {"loguniform": [1e-6, 0.1]}, "l1_ratio": {"uniform": [0.0, 1.0]}},
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 10000}],
    "executors": [{"name": "simulated", "curves": "sgd-circles"}],
}


def report_of(tmp_path: Path, name: str, **raw: Any) -> tuple[Path, str, ReportPaths]:
    out = compare(load_matrix(raw={**BASE, "name": name, **raw}), tmp_path / name, say=lambda line: None)
    paths = build_report(out)
    return out, paths.markdown.read_text(), paths


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, ReportPaths]:
    return report_of(
        tmp_path_factory.mktemp("studies"),
        "scaled",
        workers=[1, 4],
        schedulers=[
            {"label": "hyperband", "name": "hyperband"},
            {"label": "pbt", "name": "pbt", "n_trials": 4, "perturbation_interval": 3},
        ],
    )


def test_a_workers_axis_gets_the_speedup_view_and_its_figure(scaled: tuple[Path, str, ReportPaths]) -> None:
    out, md, _ = scaled
    view = md.split("## Against workers")[1].split("\n## ")[0]
    assert "| hyperband | 1 | 2 |" in view and "| hyperband | 4 | 2 |" in view and "| pbt | 4 | 2 |" in view
    assert "reference" in view and "speedup" in view and "from 1 to 4 workers" in view
    assert "| vs first |" in view and ("tied (p " in view or "better (p " in view or "worse (p " in view)
    assert (out / "against_workers.png").stat().st_size > 0 and "](against_workers.png)" in view


def test_pbt_contenders_get_their_lineage_figures(scaled: tuple[Path, str, ReportPaths]) -> None:
    out, md, paths = scaled
    view = md.split(f"## {LINEAGE}")[1].split("\n## ")[0]
    assert "| pbt/1w | 2 |" in view and "| pbt/4w | 2 |" in view and "hyperband" not in view
    for series in ("pbt-1w", "pbt-4w"):
        for png in ("hyperparameters.png", "family_tree.png"):
            assert (out / "lineage" / "sgd" / series / png).stat().st_size > 0
            assert f"](lineage/sgd/{series}/{png})" in view
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(paths.figures)


def test_a_crossed_bracket_order_gets_its_view_and_the_steps_per_bracket(tmp_path: Path) -> None:
    _, md, _ = report_of(
        tmp_path,
        "orders",
        budget={"total_steps": 40},
        schedulers=[
            {"label": "aggressive", "name": "hyperband", "bracket_order": "aggressive_first"},
            {"label": "longest", "name": "hyperband", "bracket_order": "longest_first"},
        ],
    )
    view = md.split("## Against bracket_order")[1].split("\n## ")[0]
    assert "| hyperband | aggressive_first | 2 |" in view and "| hyperband | longest_first | 2 |" in view
    steps = md.split(f"## {BRACKETS}")[1].split("\n## ")[0]
    assert "| aggressive | 2 |" in steps and "bracket 2" in steps and "bracket 0" in steps
    assert "## Against workers" not in md and f"## {LINEAGE}" not in md


def test_a_matrix_that_varies_nothing_gets_none_of_the_views(tmp_path: Path) -> None:
    out, md, _ = report_of(
        tmp_path,
        "plain",
        seeds=[0],
        schedulers=[{"label": "random", "name": "random", "n_trials": 4}, {"label": "hyperband", "name": "hyperband"}],
    )
    assert "## Against" not in md and f"## {BRACKETS}" not in md and f"## {LINEAGE}" not in md
    assert not (out / "against_workers.png").exists() and not (out / "lineage").exists()


def test_an_axis_is_what_changes_while_everything_else_stays() -> None:
    def at(system: str, **coords: Any) -> Place:
        return Place(system, "{}", {"workers": 1, "executor": "local", "searcher": "random", **coords})

    places = {
        "a": at("scheduler hyperband", bracket_order="aggressive_first", patience=None),
        "b": at("scheduler hyperband", bracket_order="longest_first", patience=None),
        "c": at("scheduler hyperband", bracket_order="longest_first", patience=27),  # differs from a in two settings
        "d": Place("scheduler pbt", '{"explore": {"x": []}}', {"workers": 1, "executor": "local", "searcher": "random"}),
        "e": Place("scheduler pbt", '{"explore": {"x": [1]}}', {"workers": 1, "executor": "local", "searcher": "random"}),
    }
    axes = {a.name: a for a in axes_of(places, list(places))}
    assert set(axes) == {"bracket_order", "patience"}, "a PBT explore chain tells series apart but is no axis"
    assert [dict(r.series) for r in axes["bracket_order"].rows] == [{"aggressive_first": "a", "longest_first": "b"}]
    assert axes["patience"].values == (None, 27) and [dict(r.series) for r in axes["patience"].rows] == [{None: "b", 27: "c"}]
