"""The recording format: round trip, validation, nearest-config lookup, runs as recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tunebench.config import load_experiment
from tunebench.run import run
from tunebench.workloads.curves import Curves, CurvesError, curves_from_run, frame_from_rows, read_curves, shipped, write_curves

SPACE = {"lr": {"loguniform": [1e-4, 1.0]}, "n": {"randint": [1, 9]}, "opt": {"choice": ["sgd", "adam"]}, "c": "fixed"}
CONFIGS = [
    {"lr": 1e-4, "n": 1, "opt": "sgd", "c": "fixed"},
    {"lr": 1e-2, "n": 5, "opt": "adam", "c": "fixed"},
    {"lr": 1.0, "n": 9, "opt": "sgd", "c": "fixed"},
]


def frame(steps: int = 3):  # type: ignore[no-untyped-def]
    return frame_from_rows(
        {
            "config_id": i,
            **{f"config.{k}": v for k, v in c.items()},
            "step": s,
            "score": i + s / 10,
            "test_score": i + s / 100,
            "step_s": 1.0 + i,
            "score_s": 0.5,
        }
        for i, c in enumerate(CONFIGS)
        for s in range(1, steps + 1)
    )


def test_round_trip(tmp_path: Path) -> None:
    path = write_curves(frame(), {"workload": "demo", "metric": "m", "mode": "max", "space": SPACE}, tmp_path / "r.parquet")
    curves = read_curves(path)
    assert curves.configs == CONFIGS and curves.max_iter == 3 and curves.meta["space"] == SPACE
    assert curves.score[2, 3] == pytest.approx(2.3) and curves.test_score[1, 1] == pytest.approx(1.01)
    assert (curves.step_s, curves.score_s) == (2.0, 0.5)
    assert np.isnan(curves.score[:, 0]).all()


def test_missing_step_is_refused() -> None:
    f = frame()
    with pytest.raises(CurvesError, match="every step 1..3"):
        Curves.from_frame(f.drop(index=4), {"space": SPACE})
    with pytest.raises(CurvesError, match="lacks column"):
        Curves.from_frame(f.drop(columns=["test_score"]), {})


def test_lookup_exact_and_nearest() -> None:
    curves = Curves.from_frame(frame(), {"space": SPACE})
    assert curves.lookup(dict(CONFIGS[1])) == (1, True)
    assert curves.lookup({**CONFIGS[1], "lr": 0.011}) == (1, False)
    assert curves.lookup({"lr": 0.9, "n": 8, "opt": "sgd", "c": "fixed"}) == (2, False)
    assert curves.lookup({"lr": 0.9, "n": 8, "opt": "adam", "c": "fixed"}) == (1, False)  # a mismatched choice costs 1
    assert curves.lookup({"lr": 1e-3, "n": 3, "opt": "sgd", "c": "fixed"}) == (0, False)  # log space: 1e-3 is nearer 1e-4
    with pytest.raises(CurvesError, match="lacks 'opt'"):
        curves.lookup({"lr": 0.1, "n": 2})


def test_bad_source_names_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(CurvesError, match=r"\.parquet recording, a finished run directory, or one of"):
        read_curves("no-such-recording")
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(CurvesError, match="not a readable Parquet recording"):
        read_curves(tmp_path / "x.parquet")


def test_a_hyperband_run_is_not_a_recording(tmp_path: Path) -> None:
    exp = load_experiment("configs/sgd-hyperband.yaml", ["scheduler.max_iter=3", "workload.n_samples=200", "executor.name=local"])
    run(exp, tmp_path / "hb", progress=False)
    with pytest.raises(CurvesError, match="every trial trained to the end"):
        curves_from_run(tmp_path / "hb")


def test_shipped_recordings_are_listed() -> None:
    for name, description in shipped():
        assert read_curves(name).n_configs >= 1 and "configs x" in description
