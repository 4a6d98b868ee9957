"""A serial study shares one local Dask cluster per executor setting; a resumed cell continues
on it; cells with their own address or in parallel keep their own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tunebench.compare.clusters import SharedClusters, shared_key
from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare

MATRIX: dict[str, Any] = {
    "name": "shared",
    "seeds": [0, 1],
    "workers": 2,
    "max_iter": 9,
    "workloads": [{"label": "mfh3", "name": "mfh3"}],
    "executors": [{"name": "dask"}],
    "schedulers": [{"label": "hyperband", "name": "hyperband"}, {"label": "random", "name": "random", "n_trials": 3}],
}


def summaries(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("mfh3/*/seed*/summary.json"))]


@pytest.fixture(scope="module")
def shared_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The matrix's four cells, run one after another (so on one shared cluster)."""
    return compare(load_matrix(raw=MATRIX), tmp_path_factory.mktemp("shared") / "c", say=lambda line: None)


def test_serial_cells_on_dask_share_one_cluster_and_decide_as_alone(shared_study: Path, tmp_path: Path) -> None:
    out = shared_study
    stats = [s["executor_stats"] for s in summaries(out)]
    assert len(stats) == 4 and all(s["status"] == "completed" for s in summaries(out))
    assert len({s["address"] for s in stats}) == 1 and not any(s["started_cluster"] for s in stats)
    hyperband = [MATRIX["schedulers"][0]]  # a cell under --jobs starts a LocalCluster of its own: one is enough to compare
    alone = compare(
        load_matrix(raw={**MATRIX, "seeds": [1], "schedulers": hyperband}), tmp_path / "alone", say=lambda line: None, jobs=2
    )
    ours = {s["name"]: s for s in summaries(out) if s["seed"] == 1}
    assert len(summaries(alone)) == 1
    for s in summaries(alone):
        assert s["executor_stats"]["started_cluster"]
        assert (s["best_trial"], s["best_score"], s["partial_fit_calls"]) == (
            ours[s["name"]]["best_trial"],
            ours[s["name"]]["best_score"],
            ours[s["name"]]["partial_fit_calls"],
        )


def test_a_cell_cut_off_mid_way_resumes_on_the_shared_cluster(shared_study: Path, tmp_path: Path) -> None:
    out = Path(shutil.copytree(shared_study, tmp_path / "c"))  # a copy of the finished study; one cell is cut below
    cell = out / "mfh3/random@dask/seed0"
    whole = json.loads((cell / "summary.json").read_text())
    lines = (cell / "journal.jsonl").read_text().splitlines()
    (cell / "summary.json").unlink()
    (cell / "journal.jsonl").write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    said: list[str] = []
    compare(load_matrix(raw=MATRIX), out, say=said.append)
    assert "3 finished already, 1 to run" in said[0]
    again = json.loads((cell / "summary.json").read_text())
    assert again["status"] == "completed" and again["best_score"] == whole["best_score"]
    events = [json.loads(x)["kind"] for x in (cell / "journal.jsonl").read_text().splitlines()]
    assert events.count("resume") == 1


def test_only_a_local_dask_executor_without_an_address_is_shared() -> None:
    assert shared_key({"name": "dask", "n_workers": 3, "queue_depth": 2}) == (3, 2)
    assert shared_key({"name": "dask", "address": "tcp://127.0.0.1:8786"}) is None
    assert shared_key({"name": "dask-on-ray"}) is None
    with SharedClusters() as clusters:
        assert clusters.executor_section({"name": "local"}) == {"name": "local"}
