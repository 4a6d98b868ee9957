"""The command line: outputs of a run, `tunebench list`, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import tiny_config
from tunebench.cli import main

SUMMARY_KEYS = {
    "scheduler",
    "executor",
    "workload",
    "seed",
    "n_trials",
    "partial_fit_calls",
    "best_score",
    "best_config",
    "test_score",
    "wall_time_s",
    "utilization",
}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    return subprocess.run(
        [sys.executable, "-m", "tunebench", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_run_writes_summary_and_tables(write_config, tmp_path, capsys) -> None:
    path = write_config(tiny_config({"name": "hyperband", "max_iter": 9, "eta": 3}))
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "hyperband on local / sgd" in printed and "top 5 trials" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["status"] == "completed"
    results = pd.read_parquet(out / "results.parquet")
    trials = pd.read_parquet(out / "trials.parquet")
    assert {"trial_id", "step", "score", "elapsed_s", "worker", "queue_s", "compute_s", "score_s"} <= set(results.columns)
    assert {"trial_id", "parent", "status", "steps", "best_score", "config.alpha", "config.l1_ratio"} <= set(trials.columns)
    assert summary["partial_fit_calls"] == int(results["n_steps"].sum()) == summary["metadata"]["partial_fit_calls"]
    assert summary["n_trials"] == len(trials) == summary["metadata"]["n_models"]
    assert 0 <= summary["test_score"] <= 1
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "result" for e in journal) == len(results)
    assert journal[0]["kind"] == "start" and journal[-1]["kind"] == "end"


def test_list_shows_every_plugin(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("random", "successive_halving", "hyperband", "asha", "local", "sgd"):
        assert name in out


def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    pd.DataFrame({"a": range(30), "label": [0, 1] * 15}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("config", "extra", "needle"),
    [
        (tiny_config({"name": "hyperbandx"}), [], "unknown scheduler 'hyperbandx'"),
        ({**tiny_config({"name": "random"}), "workload": {"name": "nosuch"}}, [], "unknown workload 'nosuch'"),
        (tiny_config({"name": "hyperband", "eta": 1}), [], "eta must be"),
        (tiny_config({"name": "hyperband", "max_iter": 0}), [], "max_iter must be"),
        (tiny_config({"name": "random"}), ["--set", "scheduler.nope=3"], "unknown key scheduler.nope"),
        ("workload: {name: sgd\n", [], "not valid YAML"),
        (
            {**tiny_config({"name": "random"}), "workload": {"name": "sgd", "dataset": "file", "path": "DATA"}},
            [],
            "no 'target' column",
        ),
    ],
)
def test_bad_input_is_one_line_without_traceback(write_config, tmp_path, capfd, config, extra, needle) -> None:
    """In this process (``main``); that ``python -m tunebench`` exits with what ``main`` returns,
    its stderr one line, is checked once, by a subprocess, in the next test."""
    if isinstance(config, dict) and config["workload"].get("path") == "DATA":
        config["workload"]["path"] = str(bad_file(tmp_path))
    path = write_config(config)
    capfd.readouterr()
    assert main(["run", str(path), "--out", str(tmp_path / "out"), *extra]) == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], err
    assert not (tmp_path / "out").exists()


def test_existing_run_is_never_overwritten(write_config, tmp_path) -> None:
    path = write_config(tiny_config({"name": "random", "n_trials": 2, "max_iter": 2}))
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run_cli("run", str(path), "--out", str(out), "-q")
    assert again.returncode == 2 and "already holds a run" in again.stderr and "Traceback" not in again.stderr
    assert len([line for line in again.stderr.splitlines() if line.strip()]) == 1, again.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_csv_file_with_target_runs(write_config, tmp_path) -> None:
    data = tmp_path / "ok.parquet"
    pd.DataFrame(
        {"a": [float(i % 7) for i in range(60)], "b": [float(i % 3) for i in range(60)], "target": [i % 2 for i in range(60)]}
    ).to_parquet(data)
    config = {
        **tiny_config({"name": "random", "n_trials": 2, "max_iter": 2}),
        "workload": {"name": "sgd", "dataset": "file", "path": str(data)},
    }
    out = tmp_path / "run"
    assert main(["run", str(write_config(config)), "--out", str(out), "-q"]) == 0
    assert json.loads((out / "summary.json").read_text())["n_trials"] == 2


def test_a_reader_that_leaves_early_stops_the_command_quietly(tmp_path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        f"{sys.executable} -m tunebench list | head -c 10", shell=True, capture_output=True, text=True, timeout=120
    )
    assert len(proc.stdout) == 10
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
