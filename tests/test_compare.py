"""``tunebench compare``: a matrix validated whole, one run directory per cell, finished cells
kept, failing cells reported while the others go on."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.config import ConfigError

MATRIX: dict[str, Any] = {
    "name": "tiny",
    "seeds": [0, 1],
    "workers": 1,
    "max_iter": 9,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 600}],
    "executors": [{"name": "local"}],
    "schedulers": [
        {"label": "hyperband", "name": "hyperband", "eta": 3},
        {"label": "random", "name": "random", "n_trials": 4},
    ],
}


def statuses(out: Path) -> dict[str, str]:
    return {c["cell_id"]: c["status"] for c in json.loads((out / "matrix.json").read_text())["cells"]}


def test_cells_run_once_and_a_rerun_redoes_nothing(tmp_path: Path) -> None:
    matrix = load_matrix(raw=MATRIX)
    assert [c.cell_id for c in matrix.cells][:2] == ["sgd/hyperband@local/seed0", "sgd/random@local/seed0"]
    out = compare(matrix, tmp_path / "c", say=lambda line: None)
    assert set(statuses(out).values()) == {"done"} and len(statuses(out)) == 4
    summary = json.loads((out / "sgd/random@local/seed1/summary.json").read_text())
    assert summary["seed"] == 1 and summary["partial_fit_calls"] == 4 * 9
    lines: list[str] = []
    before = (out / "sgd/hyperband@local/seed0/summary.json").stat().st_mtime_ns
    compare(load_matrix(raw=MATRIX), out, say=lines.append)
    assert "4 finished already, 0 to run" in lines[0]
    assert (out / "sgd/hyperband@local/seed0/summary.json").stat().st_mtime_ns == before


def test_an_interrupted_cell_is_resumed_and_a_failing_cell_does_not_stop_the_others(tmp_path: Path) -> None:
    out = tmp_path / "c"
    compare(load_matrix(raw={**MATRIX, "seeds": [0]}), out, say=lambda line: None)
    cell = out / "sgd/random@local/seed0"
    lines = (cell / "journal.jsonl").read_text().splitlines()
    (cell / "summary.json").unlink()
    (cell / "journal.jsonl").write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    broken = {
        **MATRIX,
        "seeds": [0],
        "workloads": [
            *MATRIX["workloads"],
            {"label": "missing", "name": "sgd", "dataset": "file", "path": str(tmp_path / "none.csv")},
        ],
    }
    said: list[str] = []
    compare(load_matrix(raw=broken), out, say=said.append)
    state = statuses(out)
    assert state["sgd/random@local/seed0"] == "done"
    assert state["missing/hyperband@local/seed0"] == "failed" and state["missing/random@local/seed0"] == "failed"
    rows = json.loads((out / "matrix.json").read_text())["cells"]
    assert all("none.csv" in r["error"] for r in rows if r["status"] == "failed")
    results = [json.loads(x) for x in (cell / "journal.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "resume" for e in results) == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"seeds": []}, "seeds must be a non-empty list"),
        (
            {"schedulers": [{"name": "hyperband", "max_iter": 27}]},
            "sets max_iter=27, but the matrix gives every contender max_iter=9",
        ),
        ({"schedulers": [{"name": "nope"}]}, "unknown scheduler 'nope'"),
        ({"schedulers": [{"name": "hyperband", "eta": 1}]}, "eta must be an integer >= 2"),
        ({"schedulers": [{"name": "random"}, {"name": "random"}]}, "distinct labels"),
        ({"colour": "blue"}, "unknown matrix key"),
    ],
)
def test_the_whole_matrix_is_validated_before_anything_runs(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_matrix(raw={**MATRIX, **change})
    assert not (tmp_path / "c").exists()


# One seed and one worker: every family runs end to end into the report, each peer on its own
# executor (LocalCluster, Ray Tune, Optuna's process pool, joblib); two workers and their
# parallel pools are tested peer by peer in tests/test_peers_*.py.
PEERS_MATRIX: dict[str, Any] = {
    **MATRIX,
    "seeds": [0],
    "workers": 1,
    "max_iter": 3,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 300}],
    "schedulers": [{"label": "hyperband", "name": "hyperband", "eta": 3}, {"label": "random", "name": "random", "n_trials": 3}],
    "peers": [
        {"label": "dask-ml-hyperband", "name": "dask-ml-hyperband"},
        {"label": "ray-tune-asha", "name": "ray-tune-asha", "n_trials": 2},
        {"label": "optuna-hyperband", "name": "optuna-hyperband", "sampler": "random"},  # Hyperband's 5 trials, as ours
        {"label": "sklearn-random", "name": "sklearn-random", "n_trials": 3},
    ],
}


def test_ours_and_a_peer_of_every_family_run_end_to_end_into_a_full_report(
    ray_session: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Also: every peer's console output (Ray Tune's banner and temporary paths among it) goes to
    its cell's log; the terminal sees compare's own lines only (more in tests/test_peer_output.py)."""
    from tunebench.compare.capture import PEER_LOG
    from tunebench.report import build_report
    from tunebench.report.sections import TITLES

    said: list[str] = []

    def say(line: str) -> None:  # as the CLI does
        said.append(line)
        print(line, file=sys.stderr, flush=True)

    out = compare(load_matrix(raw=PEERS_MATRIX), tmp_path / "c", say=say)  # Ray Tune's cells join the shared Ray
    captured_out, captured_err = capfd.readouterr()
    assert captured_out == "" and captured_err.splitlines() == said
    assert not any("/tmp/ray" in line or "tensorboard" in line for line in said)
    tune_log = (
        out / next(c.dir for c in load_matrix(raw=PEERS_MATRIX).cells if c.label == "ray-tune-asha") / PEER_LOG
    ).read_text()
    assert "Configuration for experiment" in tune_log and "View detailed results here" in tune_log
    assert "tensorboard --logdir" in tune_log
    rows = json.loads((out / "matrix.json").read_text())["cells"]
    assert len(rows) == 6 and {r["status"] for r in rows} == {"done"}, [(r["cell_id"], r["error"]) for r in rows if r["error"]]
    families = {json.loads((out / r["dir"] / "summary.json").read_text()).get("family") for r in rows if r["kind"] == "peer"}
    assert families == {"dask-ml", "ray-tune", "optuna", "sklearn"}
    md = build_report(out).markdown.read_text()
    for title in TITLES.values():
        if title != TITLES["missing"]:
            assert f"## {title}" in md, title
    for label in ("hyperband", "random", "dask-ml-hyperband", "ray-tune-asha", "optuna-hyperband", "sklearn-random"):
        assert label in md
