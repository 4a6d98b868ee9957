"""``tunebench.load``: a comparison's (or a run's) tables in one call, and the top-level tables
``compare`` keeps, rewritten atomically as each cell finishes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import tunebench
import tunebench.cli
from tests.helpers import python_blocks
from tunebench.compare import runner
from tunebench.compare.matrix import load_matrix
from tunebench.loop import Loop
from tunebench.store import ID_COLUMNS, ComparisonTables, NotResultsError, StoreError, combined

MATRIX: dict[str, Any] = {
    "name": "tiny",
    "seeds": [0, 1],
    "workers": 1,
    "max_iter": 3,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 300}],
    "executors": [{"name": "local"}],
    "schedulers": [
        {"label": "hyperband", "name": "hyperband", "eta": 3},
        {"label": "random", "name": "random", "n_trials": 3},
    ],
}
CELLS = ["sgd/hyperband@local/seed0", "sgd/random@local/seed0", "sgd/hyperband@local/seed1", "sgd/random@local/seed1"]
TOP = ("results.parquet", "trials.parquet", "cells.parquet")


def run_compare(out: Path, raw: dict[str, Any] = MATRIX, say: Any = None) -> Path:
    return runner.compare(load_matrix(raw=raw), out, say=say or (lambda line: None))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_compare(tmp_path_factory.mktemp("load") / "c")


@pytest.fixture
def comparison(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished comparison that a test may change."""
    return Path(shutil.copytree(finished, tmp_path / "c"))


def cell_rows(out: Path, cell_id: str, table: str) -> pd.DataFrame:
    return pd.read_parquet(out / cell_id / f"{table}.parquet")


def done_cells(out: Path) -> list[str]:
    cells = pd.read_parquet(out / "cells.parquet")
    return cells.loc[cells["status"] == "done", "cell_id"].tolist()


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def test_a_comparison_loads_as_every_cells_rows_with_their_ids(finished: Path) -> None:
    runs = tunebench.load(finished)
    for table in ("results", "trials"):
        frame = getattr(runs, table)
        assert frame.columns[: len(ID_COLUMNS)].tolist() == ID_COLUMNS
        assert len(frame) == sum(len(cell_rows(finished, c, table)) for c in CELLS)
        assert frame["cell_id"].unique().tolist() == CELLS
    one = runs.results[runs.results["cell_id"] == CELLS[3]]
    assert set(one["contender"]) == {"random"} and set(one["seed"]) == {1} and set(one["executor"]) == {"local"}
    own = cell_rows(finished, CELLS[3], "results")
    pd.testing.assert_frame_equal(one[own.columns.tolist()].reset_index(drop=True), own)
    trials = runs.trials[runs.trials["cell_id"] == CELLS[3]]
    assert trials["trial_seed"].tolist() == cell_rows(finished, CELLS[3], "trials")["seed"].tolist()
    assert runs.cells["cell_id"].tolist() == CELLS and set(runs.cells["status"]) == {"done"}
    for cell in runs.cells.itertuples():
        summary = json.loads((finished / cell.cell_id / "summary.json").read_text())
        for key in ("best_score", "test_score", "partial_fit_calls", "n_trials", "wall_time_s", "utilization"):
            assert getattr(cell, key) == summary[key], key
        assert json.loads(cell.best_config) == summary["best_config"] and cell.seconds > 0 and cell.kind == "scheduler"
    assert runs.cells.groupby("contender")["partial_fit_calls"].sum().to_dict() == {"hyperband": 2 * 11, "random": 2 * 3 * 3}


def test_a_run_directory_loads_with_the_same_columns(finished: Path) -> None:
    runs, one = tunebench.load(finished), tunebench.load(finished / CELLS[1])
    for table in ("results", "trials", "cells"):
        assert getattr(one, table).columns.tolist() == [
            c for c in getattr(runs, table).columns if c in getattr(one, table).columns
        ]
    assert one.results.columns.tolist() == runs.results.columns.tolist()
    assert len(one.results) == len(cell_rows(finished, CELLS[1], "results")) and len(one.cells) == 1
    assert (
        set(one.results["contender"]) == {"random"} and set(one.trials["seed"]) == {0} and set(one.trials["workload"]) == {"sgd"}
    )
    cell = one.cells.iloc[0]
    assert (cell["status"], cell["kind"], cell["executor"], cell["cell_id"]) == ("done", "scheduler", "local", "seed0")
    assert cell["best_score"] == runs.cells.set_index("cell_id").loc[CELLS[1], "best_score"]


def test_a_comparison_without_top_level_tables_is_built_from_its_cells(comparison: Path) -> None:
    before = tunebench.load(comparison)
    for name in TOP:
        (comparison / name).unlink()
    after = tunebench.load(comparison)
    assert not any((comparison / name).exists() for name in TOP), "loading writes nothing"
    for table in ("results", "trials", "cells"):
        pd.testing.assert_frame_equal(getattr(after, table), getattr(before, table), check_dtype=False)


def test_a_cell_marked_done_that_does_not_read_back_adds_no_rows_and_says_why(comparison: Path) -> None:
    for name in TOP:
        (comparison / name).unlink()
    (comparison / CELLS[2] / "results.parquet").unlink()
    runs = tunebench.load(comparison)
    row = runs.cells.set_index("cell_id").loc[CELLS[2]]
    assert row["status"] == "done" and "unreadable" in row["error"] and "results.parquet" in row["error"]
    assert CELLS[2] not in set(runs.results["cell_id"]) and runs.results["cell_id"].nunique() == 3


def test_the_tables_grow_as_cells_finish_and_each_cell_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no limit on the writer's share of the time, every finished cell rewrites the tables."""
    reads: list[str] = []
    real = combined.read_run
    monkeypatch.setattr(combined, "read_run", lambda path: reads.append(str(path)) or real(path))
    monkeypatch.setattr(runner, "WRITER_SHARE", 1.0)
    out = tmp_path / "c"
    seen: list[tuple[list[str], int]] = []

    def say(line: str) -> None:
        if line.startswith("["):
            seen.append((done_cells(out), len(pd.read_parquet(out / "results.parquet"))))

    run_compare(out, say=say)
    assert [cells for cells, _ in seen] == [CELLS[: k + 1] for k in range(4)]
    assert [n for _, n in seen] == [sum(len(cell_rows(out, c, "results")) for c in CELLS[: k + 1]) for k in range(4)]
    assert sorted(reads) == sorted(str(out / c) for c in CELLS)


def test_a_writer_held_to_a_small_share_rewrites_the_tables_less_often_and_all_of_them_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[int] = []
    real = ComparisonTables.write
    monkeypatch.setattr(ComparisonTables, "write", lambda self, rows: writes.append(1) or real(self, rows))
    monkeypatch.setattr(runner, "WRITER_SHARE", 1e-6)
    out = run_compare(tmp_path / "c")
    assert len(writes) == 2  # before the first cell and at the end
    assert len(pd.read_parquet(out / "results.parquet")) == sum(len(cell_rows(out, c, "results")) for c in CELLS)
    assert set(pd.read_parquet(out / "cells.parquet")["status"]) == {"done"}


def test_an_interrupted_compare_keeps_the_tables_of_its_finished_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = runner.run_ours

    def interrupt(self: Loop) -> None:
        raise KeyboardInterrupt

    def second_cell_interrupted(cell: Any, data: Any, path: Path, clusters: Any = None) -> dict[str, Any]:
        calls.append(cell.cell_id)
        if len(calls) == 2:
            monkeypatch.setattr(Loop, "run", interrupt)
        return real(cell, data, path, clusters)

    monkeypatch.setattr(runner, "run_ours", second_cell_interrupted)
    out = tmp_path / "c"
    with pytest.raises(KeyboardInterrupt):
        run_compare(out)
    runs = tunebench.load(out)
    assert runs.cells["status"].tolist() == ["done", "pending", "pending", "pending"]
    assert runs.results["cell_id"].unique().tolist() == [CELLS[0]] and len(runs.results) == len(
        cell_rows(out, CELLS[0], "results")
    )
    assert runs.trials["cell_id"].unique().tolist() == [CELLS[0]] and leftovers(out) == []
    monkeypatch.undo()
    run_compare(out)
    runs = tunebench.load(out)
    assert set(runs.cells["status"]) == {"done"} and runs.results["cell_id"].unique().tolist() == CELLS
    assert len(runs.trials) == sum(len(cell_rows(out, c, "trials")) for c in CELLS)


def test_a_rewrite_cut_off_midway_leaves_the_previous_file(comparison: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tunebench.load(comparison)
    rows = json.loads((comparison / "matrix.json").read_text())["cells"]
    rows[-1]["status"] = "pending"

    def torn(self: pd.DataFrame, path: str, **kwargs: Any) -> None:
        Path(path).write_bytes(b"PAR1 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", torn)
    with pytest.raises(KeyboardInterrupt):
        ComparisonTables(comparison).write(rows)
    monkeypatch.undo()
    after = tunebench.load(comparison)
    pd.testing.assert_frame_equal(after.results, before.results)
    pd.testing.assert_frame_equal(after.cells, before.cells)
    assert leftovers(comparison) == []


def test_a_rerun_keeps_the_tables_whole(comparison: Path) -> None:
    before = tunebench.load(comparison)
    lines: list[str] = []
    run_compare(comparison, say=lines.append)
    assert "4 finished already, 0 to run" in lines[0]
    for table in ("results", "trials", "cells"):
        pd.testing.assert_frame_equal(getattr(tunebench.load(comparison), table), getattr(before, table))
    (comparison / "results.parquet").write_bytes(b"stale")
    (comparison / "cells.parquet").unlink()
    run_compare(comparison)
    pd.testing.assert_frame_equal(tunebench.load(comparison).results, before.results)


def test_failed_cells_are_listed_with_their_error_and_add_no_rows(tmp_path: Path) -> None:
    broken = {
        **MATRIX,
        "seeds": [0],
        "workloads": [
            *MATRIX["workloads"],
            {"label": "missing", "name": "sgd", "dataset": "file", "path": str(tmp_path / "none.csv")},
        ],
    }
    runs = tunebench.load(run_compare(tmp_path / "c", broken))
    failed = runs.cells[runs.cells["workload"] == "missing"]
    assert failed["status"].tolist() == ["failed", "failed"] and all("none.csv" in e for e in failed["error"])
    assert failed["best_score"].isna().all() and set(runs.results["workload"]) == {"sgd"}
    assert len(runs.trials) == sum(len(cell_rows(tmp_path / "c", c, "trials")) for c in CELLS[:2])


def test_a_path_that_is_neither_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "running").mkdir()
    (tmp_path / "running" / "journal.jsonl").write_text("")
    cases = {
        "nowhere": "does not exist",
        "empty": "has no matrix.json and no summary.json",
        "file.txt": "is not a directory",
        "running": "has not finished",
    }
    for name, message in cases.items():
        with pytest.raises(NotResultsError, match=message) as caught:
            tunebench.load(tmp_path / name)
        assert str(tmp_path / name) in str(caught.value)
        assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, tunebench.cli._user_errors())
    assert issubclass(NotResultsError, StoreError)


def test_the_readme_example_runs(
    finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(finished, tmp_path / "runs" / "bench-sgd")
    monkeypatch.chdir(tmp_path)
    exec(compile(python_blocks()["Results in one call"], "README.md", "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out
    assert "hyperband" in printed and "random" in printed and "best_score" in printed
