"""``tunebench record`` round-trips: the recording holds the run's own scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tunebench.cli import main
from tunebench.workloads.curves import read_curves


def test_record_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "tiny.parquet"
    argv = [
        "record",
        "configs/sgd-random.yaml",
        "--n-configs",
        "3",
        "--max-iter",
        "5",
        "--out",
        str(out),
        "--set",
        "workload.n_samples=600",
        "--set",
        "executor.name=local",
        "--run-dir",
        str(tmp_path / "run"),
        "-q",
    ]
    assert main(argv) == 0
    curves = read_curves(out)
    assert (curves.n_configs, curves.max_iter, curves.workload) == (3, 5, "sgd")
    import pandas as pd

    results = pd.read_parquet(tmp_path / "run" / "results.parquet")
    trials = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    assert len(results) == 15 and results["test_score"].notna().all()
    for i, tid in enumerate(sorted(trials["trial_id"])):
        mine = results[results["trial_id"] == tid].sort_values("step")
        assert np.array_equal(curves.score[i, 1:], mine["score"].to_numpy())
        assert np.array_equal(curves.test_score[i, 1:], mine["test_score"].to_numpy())
    assert [c for c in curves.configs] == [__import__("json").loads(c) for c in trials.sort_values("trial_id")["config"]]


def test_record_refuses_a_bad_out(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["record", "configs/sgd-random.yaml", "--n-configs", "2", "--out", str(tmp_path / "x.csv")]) == 2
    assert ".parquet" in capsys.readouterr().err
