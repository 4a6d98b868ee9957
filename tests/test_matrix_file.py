"""One record type for a comparison's cells and contenders: what ``compare`` resolves is what
``matrix.json`` holds and what :func:`read_matrix` (the report's and ``tunebench.load``'s
reader) gives back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tunebench
from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.store import StoreError
from tunebench.store.comparison import Cell, read_matrix

RAW = {
    "name": "roundtrip",
    "seeds": [0, 1],
    "workers": [1, 4],
    "max_iter": 9,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 10000}],
    "executors": [{"name": "simulated", "curves": "sgd-circles"}],
    "schedulers": [{"label": "hyperband", "name": "hyperband"}, {"label": "random", "name": "random", "n_trials": 3}],
}


def test_what_compare_resolves_reads_back_from_matrix_json(tmp_path: Path) -> None:
    resolved = load_matrix(raw=RAW)
    out = compare(resolved, tmp_path / "c", say=lambda line: None)
    read = read_matrix(out)
    assert [c.cell_id for c in read.cells] == [c.cell_id for c in resolved.cells]
    assert all(c.done and c.seconds is not None and c.section == {} for c in read.cells), "sections stay out of the file"
    assert [c.as_json() for c in read.contenders] == [c.as_json() for c in resolved.contenders]
    assert read.contender("hyperband/4w").workers == 4 and read.contender("hyperband/4w").algorithm == "hyperband"
    assert read.workers == (1, 4) and read.seeds == (0, 1) and read.workloads == ("sgd",) and read.executors == ("simulated",)
    assert tunebench.load(out).cells["cell_id"].tolist() == [c.cell_id for c in read.cells]


def test_a_cell_row_is_what_matrix_json_lists() -> None:
    cell = Cell("sgd/asha@local/seed0", "scheduler", "asha", "sgd", "local", 0, {"name": "asha"}, status="failed", error="boom")
    row = cell.row()
    assert row["dir"] == cell.cell_id and row["error"] == "boom" and "section" not in row
    assert cell.why == "boom" and not cell.done


def test_a_broken_file_is_one_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "matrix.json").write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        read_matrix(tmp_path)
    with pytest.raises(StoreError, match="not JSON"):
        tunebench.load(tmp_path)
    (tmp_path / "matrix.json").write_text(json.dumps({"cells": {}}))
    with pytest.raises(ValueError, match="no list of cells"):
        read_matrix(tmp_path)
