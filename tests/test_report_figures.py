"""The report's figures as a reader meets them: a panel per algorithm family with random search
in each, a log time axis where times span decades, a colour-blind-safe look that stays apart
in grey, legends clear of every curve, and the regret heatmap only across several workloads."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from tests.test_report_build import fake_run, make_comparison
from tunebench.report import build_report
from tunebench.report.curves import Band
from tunebench.report.figures import XAxis, small_multiples
from tunebench.report.heatmap import regret_table
from tunebench.report.palette import COLOURS, REFERENCE_COLOUR
from tunebench.report.panels import Group, axis_label, groups, log_scale, report_styles
from tunebench.report.sections import figures

# bench-sgd's fourteen contenders and their families, in matrix order
BENCH = {
    "random": "random",
    "hyperband": "hyperband",
    "asha-promotion": "asha",
    "asha-stopping": "asha",
    "pbt": "pbt",
    "dask-ml-hyperband": "hyperband",
    "dask-ml-sha": "successive_halving",
    "ray-tune-asha": "asha",
    "ray-tune-hyperband": "hyperband",
    "ray-tune-pbt": "pbt",
    "optuna-hyperband-tpe": "hyperband",
    "optuna-sha-random": "asha",
    "sklearn-random": "random",
    "sklearn-halving": "successive_halving",
}
ORDER = list(BENCH)


def rising(start: float, end: float, top: float, n: int = 5) -> Band:
    """A best-score-so-far band that starts at ``start`` seconds and climbs to ``top``."""
    grid = np.geomspace(start / 2, end, 120)
    median = np.where(grid >= start, top - 0.2 * np.exp(-(grid - start) / end), np.nan)
    return Band(grid, median, median - 0.01, median + 0.01, n)


def bench_panels(workloads: tuple[str, ...] = ("sgd",)) -> dict[str, dict[str, Band]]:
    return {w: {s: rising(0.05 * (i + 1), 30.0, 0.9 + 0.002 * i) for i, s in enumerate(ORDER)} for w in workloads}


def draw(panels: dict[str, dict[str, Band]], order: list[str] = ORDER, laid_out: bool = True) -> tuple[Figure, list[Group]]:
    """The figure of ``panels`` and its groups; ``laid_out``: with constrained layout applied,
    so positions and extents are final (nothing is rasterized)."""
    panes = groups(order, BENCH, ["random"])
    look = report_styles(order, BENCH, ["random"])
    fig = small_multiples(
        panels,
        groups=panes,
        styles=look,
        x=XAxis("wall time", "s"),
        ylabel="best accuracy so far",
        title="Best validation score against wall time",
    )
    if laid_out:
        fig.draw_without_rendering()
    return fig, panes


@pytest.fixture(scope="module")
def bench_figure() -> Callable[[tuple[str, ...], int], tuple[Figure, list[Group]]]:
    """``bench_figure(workloads, n)``: the laid-out figure of the first ``n`` contenders on
    ``workloads``, drawn once for the module."""

    @functools.cache
    def figure(workloads: tuple[str, ...], n: int) -> tuple[Figure, list[Group]]:
        order = ORDER[:n]
        return draw({w: {s: b for s, b in bench_panels()["sgd"].items() if s in order} for w in workloads}, order)

    return figure


def visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def labels_in(ax) -> list[str]:  # type: ignore[no-untyped-def]
    """The series of each line in a panel (a label may add "(reference)" or the seeds)."""
    return [line.get_label().split(" (")[0] for line in ax.get_lines()]


def test_log_axis_when_the_positive_range_spans_decades() -> None:
    assert log_scale([0.0, 0.05, 0.4, 31.0]) and log_scale([1, 1600])
    assert not log_scale([2.0, 9.0, 60.0]), "1.48 decades is drawn linear"
    assert not log_scale([0.0, 0.0, float("nan")]) and not log_scale([5.0])
    assert axis_label("wall time", "s", True) == "wall time (s, log scale)"
    fig, _ = draw({"fast": bench_panels()["sgd"], "slow": {s: rising(10.0, 60.0, 0.9) for s in ORDER}}, laid_out=False)
    scales = {ax.get_xscale() for ax in visible_axes(fig)[::2]} | {ax.get_xscale() for ax in visible_axes(fig)[1::2]}
    assert scales == {"log", "linear"}, "each workload's row decides from its own data"
    for ax in visible_axes(fig):
        assert ax.get_xlabel() == ("wall time (s, log scale)" if ax.get_xscale() == "log" else "wall time (s)")


def test_families_become_panels_with_random_search_in_each() -> None:
    fig, panes = draw(bench_panels(), laid_out=False)
    assert [g.name for g in panes] == ["random", "successive_halving", "hyperband", "asha", "pbt"]
    axes = visible_axes(fig)
    assert len(axes) == 5
    assert [ax.get_title() for ax in axes] == ["random search", "successive halving", "Hyperband", "ASHA", "PBT"]
    for ax, group in zip(axes, panes):
        assert labels_in(ax)[0] == "random", "random search first, underneath the family's own lines"
        assert set(labels_in(ax)) == {"random", *group.members}
        assert ax.get_lines()[0].get_color() == REFERENCE_COLOUR and ax.get_lines()[0].get_linestyle() == "--"
    hyperband = axes[2]
    assert labels_in(hyperband) == ["random", "hyperband", "dask-ml-hyperband", "ray-tune-hyperband", "optuna-hyperband-tpe"]


def test_few_contenders_share_one_panel_and_workloads_become_rows(bench_figure) -> None:
    few = ["random", "hyperband", "asha-promotion", "dask-ml-hyperband"]
    fig, panes = draw(
        {w: {s: b for s, b in bench_panels()["sgd"].items() if s in few} for w in ("sgd", "ae")}, few, laid_out=False
    )
    assert len(panes) == 1 and len(visible_axes(fig)) == 2
    assert all(set(labels_in(ax)) == set(few) for ax in visible_axes(fig))
    fig, panes = bench_figure(("sgd", "ae", "mf"), len(ORDER))
    axes = fig.axes
    assert len(visible_axes(fig)) == 15, "three workloads (rows) by five families (columns)"
    assert [ax.get_title() for ax in axes[:5]] == ["random search", "successive halving", "Hyperband", "ASHA", "PBT"]
    assert [ax.get_ylabel().split("\n")[0] for ax in axes[::5]] == ["sgd", "ae", "mf"]
    rows = [[ax.get_position().y0 for ax in axes[r * 5 : (r + 1) * 5]] for r in range(3)]
    assert all(max(r) - min(r) < 1e-6 for r in rows), "the panels of a workload line up across families"
    assert all(axes[r * 5].get_xlim() == axes[r * 5 + 4].get_xlim() for r in range(3)), "and share their x axis"


def test_fourteen_series_get_distinct_colour_blind_safe_styles() -> None:
    panes = groups(ORDER, BENCH, ["random"])
    look = report_styles(ORDER, BENCH, ["random"])
    assert len({look[s].key for s in ORDER}) == 14, "colour and dash tell every pair apart, also in grey"
    assert all(look[s].colour in COLOURS for s in ORDER if s != "random") and look["random"].colour == REFERENCE_COLOUR
    assert len({look[s].marker for s in ORDER if s != "random"}) == 10
    for g in panes:
        own = [look[s] for s in g.members if s != "random"]
        assert len({s.colour for s in own}) == len(own), f"no two lines of the {g.name} panel share a colour"
        assert len({repr(s.dash) for s in own}) == len(own), f"nor a dash: the {g.name} panel reads in grey"
    assert report_styles(ORDER, BENCH, ["random"]) == look, "the same looks every time they are asked for"
    fig, _ = draw(bench_panels(("sgd", "ae")), laid_out=False)
    seen = {}
    for ax in visible_axes(fig):
        for line in ax.get_lines():
            seen.setdefault(line.get_label().split(" (")[0], set()).add((line.get_color(), line.get_marker()))
    assert all(len(v) == 1 for v in seen.values()), "one look per contender in every panel"


@pytest.mark.parametrize("workloads,n", [(("sgd",), 14), (("sgd", "ae", "mf"), 14), (("sgd", "ae"), 4)])
def test_legends_lie_outside_every_axes_and_inside_the_figure(bench_figure, workloads, n) -> None:
    order = ORDER[:n]
    fig, panes = bench_figure(workloads, n)
    renderer = fig.canvas.get_renderer()
    legends = [a for a in fig.findobj(Legend)]
    assert len(legends) == len(panes)
    drawn = set()
    for legend in legends:
        box = legend.get_window_extent(renderer)
        drawn |= {t.get_text() for t in legend.get_texts()}
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
        for ax in visible_axes(fig):
            assert not box.overlaps(ax.get_window_extent(renderer)), (legend.get_texts()[0].get_text(), ax.get_title())
            assert not box.overlaps(ax.xaxis.label.get_window_extent(renderer)), "nor over an x label"
    assert drawn == {*(s for s in order if s != "random"), "random (reference)"}


def one_workload_comparison(root: Path) -> Path:
    cells = []
    for label in ("random", "hyperband"):
        for seed in (0, 1):
            cid = f"{label}-local-sgd-{seed}"
            fake_run(root / cid, label, "sgd", seed)
            cells.append(
                {
                    "cell_id": cid,
                    "label": label,
                    "executor": "local",
                    "workload": "sgd",
                    "seed": seed,
                    "dir": cid,
                    "status": "done",
                }
            )
    contenders = [
        {"label": "random", "kind": "scheduler", "algorithm": "random"},
        {"label": "hyperband", "kind": "scheduler", "algorithm": "hyperband"},
    ]
    (root / "matrix.json").write_text(
        json.dumps({"contenders": contenders, "workloads": ["sgd"], "seeds": [0, 1], "cells": cells})
    )
    return root


def test_regret_heatmap_with_several_workloads_only(tmp_path: Path) -> None:
    several = build_report(make_comparison(tmp_path / "two"))
    md = several.markdown.read_text()
    assert "regret_heatmap.png" in {p.name for p in several.figures} and "](regret_heatmap.png)" in md
    one = build_report(one_workload_comparison(tmp_path / "one"))
    assert "regret_heatmap.png" not in {p.name for p in one.figures} and not (tmp_path / "one" / "regret_heatmap.png").exists()
    assert "One workload: no heatmap of final regret across workloads" in one.markdown.read_text()
    for png in (*several.figures, *one.figures):
        assert png.stat().st_size < 300_000


def test_regret_table_is_the_median_final_regret_per_contender_and_workload(tmp_path: Path) -> None:
    from tunebench.report.build import views_of
    from tunebench.report.runs import load_runs, series_order
    from tunebench.store.comparison import read_matrix

    matrix = read_matrix(make_comparison(tmp_path))
    runs, _ = load_runs(matrix)
    order = series_order(matrix, runs)
    table = regret_table(views_of(runs, matrix, order), order)
    assert table.series == ("random", "hyperband") and table.workloads == ("sgd", "ae")
    # sgd: best 0.90, worst 0.49 (hyperband's first score on seed 1); random ends at 0.86 and 0.85
    assert table.values[0, 0] == pytest.approx(0.045 / 0.41) and table.values[1, 0] == pytest.approx(0.005 / 0.41)
    assert np.all(table.values[1] < table.values[0]), "the lower loss is the lower regret on the minimised workload too"


def test_figures_section_shows_the_heatmap_or_says_why_not() -> None:
    _, several = figures("t.png", "c.png", "r.png", "k.png", "h.png", 3)
    _, one = figures("t.png", "c.png", "r.png", "k.png", "h.png", 1)
    assert "h.png" in [getattr(b, "path", None) for b in several.blocks]
    assert "h.png" not in [getattr(b, "path", None) for b in one.blocks]
    assert any(isinstance(b, str) and b.startswith("One workload") for b in one.blocks)
