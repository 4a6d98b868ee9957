"""How often a scheduler stopped a trial that would have ended well: the rates on a hand-made
recording whose answer is known, which cells count, and the section a tiny suite comparison's
report carries."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.report.build import build_report
from tunebench.report.curves import Curve
from tunebench.report.runs import CellRun
from tunebench.report.wrongly_stopped import TITLE, TOP_SHARE, recording_of, thrown_away, top_k
from tunebench.store.comparison import Cell
from tunebench.workloads.curves import frame_from_rows, read_curves, write_curves

MAX_ITER = 4


def early_and_final(x: float, step: int) -> float:
    """Configs that look worst early finish best: at step 1 the score is ``1 - x``, at the end ``x``."""
    return (1 - x) + (x - (1 - x)) * (step - 1) / (MAX_ITER - 1)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [
        {
            "config_id": i,
            "config.x": i / 10,
            "step": s,
            "score": early_and_final(i / 10, s),
            "test_score": 0.0,
            "step_s": 1.0,
            "score_s": 0.1,
        }
        for i in range(10)
        for s in range(1, MAX_ITER + 1)
    ]
    meta = {"workload": "demo", "metric": "score", "mode": "max", "space": {"x": {"uniform": [0, 1]}}}
    return write_curves(frame_from_rows(rows), meta, tmp_path_factory.mktemp("recording") / "demo.parquet")


def trials_of(rows: list[tuple[int, float, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"trial_id": t, "status": status, "steps": steps, "config": json.dumps({"x": x})} for t, x, status, steps in rows]
    )


def results_of(trials: pd.DataFrame) -> pd.DataFrame:
    """Each trial's score at every step it trained, as the simulated executor replays it."""
    rows = []
    for t in trials.itertuples():
        x = json.loads(t.config)["x"]
        rows += [{"trial_id": t.trial_id, "step": s, "score": early_and_final(x, s)} for s in range(1, int(t.steps) + 1)]
    return pd.DataFrame(rows)


def test_the_rates_on_a_recording_with_a_known_answer(recording: Path) -> None:
    curves = read_curves(recording)
    assert top_k(curves.n_configs, 0.2) == 2, "the top two recorded configs finish at 0.9 and 0.8"
    trials = trials_of(
        [
            (0, 0.9, "stopped", 1),  # would have finished best: top 2 and above the incumbent
            (1, 0.8, "paused", 2),  # paused and never resumed: top 2 and above the incumbent
            (2, 0.1, "stopped", 1),  # rightly stopped
            (3, 0.5, "completed", 4),
            (4, 0.6, "completed", 4),  # the incumbent: the best score the run reached at max_iter
            (5, 0.7, "stopped", 2),  # not top 2, but above the incumbent
            (6, 0.3, "failed", 1),  # failed, not stopped
            (7, 0.4, "stopped", 4),  # stopped at max_iter: not ended early
        ]
    )
    t = thrown_away(trials, results_of(trials), curves, horizon=MAX_ITER, mode="max", share=0.2)
    assert (t.ended, t.top, t.above, t.k, t.horizon, t.nearest, t.n_configs) == (4, 2, 3, 2, MAX_ITER, 0, 10)
    assert (t.top_rate, t.above_rate) == (0.5, 0.75)
    assert t.thrown == pytest.approx(0.9) and t.kept == pytest.approx(0.6)


def test_a_config_not_in_the_recording_takes_its_nearest_and_no_incumbent_means_no_share(recording: Path) -> None:
    curves = read_curves(recording)
    trials = trials_of([(0, 0.88, "stopped", 1), (1, 0.2, "stopped", 1), (2, 0.5, "paused", 3)])
    t = thrown_away(trials, results_of(trials), curves, horizon=MAX_ITER, mode="max")
    assert top_k(curves.n_configs) == top_k(10, TOP_SHARE) == 1
    assert (t.ended, t.top, t.nearest, t.kept, t.above_rate) == (3, 1, 1, None, None)
    assert t.top_rate == pytest.approx(1 / 3) and t.thrown == pytest.approx(0.9)


def test_only_our_cells_on_the_simulated_executor_with_a_recording_count() -> None:
    def run(kind: str, executor: dict[str, Any], **summary: Any) -> CellRun:
        cell = Cell("w/a/seed0", kind, "a", "w", str(executor.get("name")), 0)
        empty = Curve(np.array([]), np.array([]))
        return CellRun(cell, "a", {"config": {"executor": executor}, **summary}, pd.DataFrame(), empty, empty)

    assert recording_of(run("scheduler", {"name": "simulated", "curves": "sgd-circles"})) == "sgd-circles"
    assert recording_of(run("scheduler", {"name": "simulated", "curves": None})) is None
    assert recording_of(run("scheduler", {"name": "local"})) is None
    assert recording_of(run("peer", {"name": "simulated", "curves": "sgd-circles"}, peer=True)) is None


MATRIX: dict[str, Any] = {
    "name": "wrong",
    "seeds": [0, 1],
    "workers": 4,
    "max_iter": 27,
    "budget": {"total_steps": 150},
    "suite": ["sgd-circles"],
    "shared": {"eta": 3, "min_iter": 1},
    "schedulers": [
        {"label": "asha", "name": "asha", "n_trials": 30},
        {"label": "hyperband", "name": "hyperband"},
        {"label": "random", "name": "random", "n_trials": 3},
    ],
}


def test_a_suite_comparison_reports_how_often_each_scheduler_was_wrong(tmp_path: Path) -> None:
    out = compare(load_matrix(raw=MATRIX), tmp_path / "wrong", say=lambda line: None)
    md = build_report(out).markdown.read_text()
    view = md.split(f"## {TITLE}")[1].split("\n## ")[0]
    assert "top 10%" in view and "exact lookups" in view and "Every lookup was exact" in view
    assert "recording sgd-circles (128 configs): top k = 13 at max_iter 27" in view and "speedup vs random (time)" in view
    for series in ("asha", "hyperband"):
        cells = next(line for line in view.splitlines() if line.startswith(f"| {series} |")).split("|")[1:-1]
        assert cells[1].strip() == "2" and float(cells[2]) > 0
        for share in cells[3:5]:
            numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", share)]
            assert numbers and all(0 <= v <= 1 for v in numbers), share
        assert cells[-2].strip().endswith("x")
