"""The anytime view the papers use: best score so far against evaluations (contenders without
evaluations left out and named), regret against a known optimum on a log axis over evaluations
and over the clock, and the time axis called virtual time when every cell ran on the simulated
executor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

from tests.test_report_build import make_comparison
from tunebench.report import markdown
from tunebench.report.analysis import workload_view
from tunebench.report.anytime import REGRET_FLOOR, anytime_of, bands_by_evaluations, clock_of, optimum_regret
from tunebench.report.build import PNGS, anytime_figures, document, views_of
from tunebench.report.curves import Band, calls_curve, time_curve
from tunebench.report.figures import XAxis, small_multiples
from tunebench.report.palette import styles
from tunebench.report.panels import Group
from tunebench.report.runs import CellRun, load_runs, series_order
from tunebench.store.comparison import Cell, Matrix, read_matrix

matplotlib.use("Agg")

RESULTS = pd.DataFrame(
    {"trial_id": [0, 1, 0], "step": [1, 1, 3], "score": [0.5, 0.3, 0.2], "n_steps": [1, 1, 2], "elapsed_s": [1.0, 1.5, 3.0]}
)


def cell_run(label: str, kind: str, seed: int, extra: dict[str, pd.DataFrame] | None = None, **summary: Any) -> CellRun:
    cell = Cell(f"w/{label}/seed{seed}", kind, label, "w", "simulated" if kind == "scheduler" else label, seed, status="done")
    info = {"mode": "min", "metric": "loss", **summary}
    return CellRun(cell, label, info, RESULTS, time_curve(RESULTS, "min"), calls_curve(RESULTS, "min"), extra=extra or {})


def at(b: Band, k: float) -> float:
    """A band's median after ``k`` evaluations (at its first grid point from ``k`` on)."""
    return float(b.median[np.searchsorted(b.grid, k - 1e-9)])


def peer_table(scores: list[float]) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame(
        {"trial_id": list(range(n)), "steps": [1] * n, "status": ["trained"] * n, "score": scores, "elapsed_s": list(range(n))}
    )


def test_evaluation_bands_take_our_results_rows_and_a_peers_evaluations_and_leave_out_the_rest() -> None:
    runs = [
        *(cell_run("hyperband", "scheduler", s, optimum=0.1) for s in (0, 1)),
        *(cell_run("dehb", "peer", s, {"evaluations": peer_table([0.6, 0.4, 0.35, 0.3, 0.25])}) for s in (0, 1)),
        *(cell_run("optuna", "peer", s) for s in (0, 1)),
    ]
    view = workload_view("w", runs, ["hyperband", "dehb", "optuna"])
    best, regret, without = bands_by_evaluations(view, 0.1)
    assert without == ["optuna"] and set(best) == set(regret) == {"hyperband", "dehb"}
    assert [at(best["hyperband"], k) for k in (1, 2, 3, 5)] == [0.5, 0.3, 0.2, 0.2], "one results row, one evaluation"
    assert [at(best["dehb"], k) for k in (1, 5)] == [0.6, 0.25] and at(regret["dehb"], 5) == 0.25 - 0.1
    anytime = anytime_of([view], Matrix("m", {"executors": [{"name": "simulated"}]}))
    assert (
        anytime.without == ("optuna",) and anytime.optima == {"w": 0.1} and set(anytime.regret_by_time["w"]) == set(view.series)
    )


def test_regret_is_the_distance_to_the_optimum_floored_for_the_log_axis() -> None:
    best = np.array([np.nan, -3.5, -3.9, -3.86278])
    got = optimum_regret(best, -3.86278)
    assert np.isnan(got[0]) and got[1:3].tolist() == pytest.approx([0.36278, 0.03722]) and got[3] == REGRET_FLOOR
    assert optimum_regret(np.array([0.9]), 1.0)[0] == pytest.approx(0.1), "optimum - best when maximising"


def test_the_clock_is_virtual_only_when_every_cell_ran_on_the_simulated_executor() -> None:
    ours = [cell_run("hb", "scheduler", 0, virtual_time=True), cell_run("hb", "scheduler", 1)]
    assert clock_of(ours, {"simulated": "simulated"}) == "virtual time", "no record: the executor's name says"
    assert clock_of(ours, {"simulated": "local"}) == "wall time"
    assert clock_of([*ours, cell_run("smac", "peer", 0)], {"simulated": "simulated"}) == "wall time", (
        "a peer ran on the wall clock"
    )


def test_panels_take_a_log_y_axis_and_an_x_axis_per_workload() -> None:
    grid = np.array([1.0, 10.0, 100.0])
    bands = {
        w: {"a": Band(grid, np.array([1.0, 0.1, 0.01]), np.array([1.0, 0.1, 0.01]), np.array([1.0, 0.1, 0.01]), 1)} for w in "xy"
    }
    fig = small_multiples(
        bands,
        groups=[Group("", ("a",))],
        styles=styles(["a"], {"a": ""}, []),
        x={"x": XAxis("virtual time", "s"), "y": XAxis("wall time", "s")},
        ylabel="regret",
        title="t",
        log_y=True,
    )
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_yscale() for ax in shown] == ["log", "log"]
    assert [ax.get_xlabel().split(" (")[0] for ax in shown] == ["virtual time", "wall time"]


def test_the_report_draws_the_evaluation_and_optimum_figures_and_says_what_they_plot(tmp_path: Path) -> None:
    root = make_comparison(tmp_path)
    for summary in root.glob("*-sgd-*/summary.json"):
        summary.write_text(json.dumps({**json.loads(summary.read_text()), "optimum": 1.0}))
    matrix = read_matrix(root)
    runs, missing = load_runs(matrix)
    order = series_order(matrix, runs)
    views = views_of(runs, matrix, order)
    anytime = anytime_of(views, matrix)
    assert anytime.clock == "wall time" and set(anytime.optima) == {"sgd"} and set(anytime.by_evaluations) == {"sgd", "ae"}
    look = {"groups": [Group("", tuple(order))], "styles": styles(order, {s: "" for s in order}, [])}
    drawn = anytime_figures(root, anytime, {"sgd": "best", "ae": "best"}, "median", look)
    assert [p.name for p in drawn] == [PNGS["evaluations"], PNGS["optimum_evaluations"], PNGS["optimum_time"]]
    assert all(p.stat().st_size > 0 for p in drawn)
    md = markdown.render(document(matrix, runs, missing, views, order, anytime=anytime))
    assert "Regret against the known optimum (sgd 1): |best validation score so far - optimum|" in md
    assert "![against wall time](anytime_time.png)" in md and "![against evaluations](anytime_evaluations.png)" in md
    for png in drawn:
        assert f"]({png.name})" in md
