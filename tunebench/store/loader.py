"""``tunebench.load(DIR)``: a comparison's (or one run's) tables as DataFrames in one call.

A comparison directory (``matrix.json`` at the top) is read from the ``results.parquet``,
``trials.parquet`` and ``cells.parquet`` that ``compare`` keeps beside it; a directory without
them (written by an older version) has them built from its finished cells. A run directory
(``summary.json``) gives the same columns, its ids read from the summary. Either way every row
carries ``contender``, ``kind``, ``workload``, ``executor``, ``seed`` and ``cell_id``
(see :mod:`tunebench.store.combined`)::

    runs = tunebench.load("runs/bench-sgd")
    runs.cells.groupby("contender")["best_score"].median()
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tunebench.store.combined import FILES, ComparisonTables, ResultTables
from tunebench.store.comparison import MATRIX, read_matrix
from tunebench.store.journal import JOURNAL
from tunebench.store.rundir import SUMMARY, StoreError

RUN_STATUS = {"completed": "done", "interrupted": "pending"}


class NotResultsError(StoreError, FileNotFoundError):
    """The path holds neither a comparison nor a finished run; the message names it."""


def load(path: str | Path) -> ResultTables:
    """The tables of the comparison or run directory ``path``: ``.results``, ``.trials`` and ``.cells``."""
    root = Path(path)
    if (root / MATRIX).is_file():
        return load_comparison(root)
    if (root / SUMMARY).is_file():
        return load_run(root)
    if (root / JOURNAL).is_file():
        raise NotResultsError(
            f"{str(root)!r} holds a run that has not finished (a {JOURNAL} but no {SUMMARY}): "
            f"finish it with tunebench resume {root}, then load it"
        )
    what = (
        "does not exist"
        if not root.exists()
        else "is not a directory"
        if not root.is_dir()
        else f"has no {MATRIX} and no {SUMMARY}"
    )
    raise NotResultsError(
        f"{str(root)!r} {what}: expected a comparison directory (tunebench compare --out DIR, with {MATRIX}) "
        f"or a finished run directory (tunebench run --out DIR, with {SUMMARY})"
    )


def load_comparison(root: Path) -> ResultTables:
    """The top-level tables if all three are there, else built from the finished cells."""
    if all((root / f).is_file() for f in FILES.values()):
        return consistent(ResultTables(**{name: pd.read_parquet(root / f) for name, f in FILES.items()}))
    return ComparisonTables(root).update(matrix_cells(root))


def consistent(tables: ResultTables) -> ResultTables:
    """Rows of the cells ``cells`` says are done, only: the files are rewritten one at a time,
    ``cells`` last, so a writer stopped between two of them left results and trials a cell ahead."""
    done = set(tables.cells.loc[tables.cells["status"] == "done", "cell_id"])
    keep = [t[t["cell_id"].isin(done)].reset_index(drop=True) for t in (tables.results, tables.trials)]
    return ResultTables(keep[0], keep[1], tables.cells)


def matrix_cells(root: Path) -> list[Mapping[str, Any]]:
    """The ``cells`` rows of ``root/matrix.json``."""
    try:
        return [c.row() for c in read_matrix(root).cells]
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def run_row(summary: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A run directory named ``name`` as a one-cell comparison's cell row, its ids from its
    ``summary.json`` (a peer's run is named after its peer; ours after the experiment, else its
    scheduler).

    >>> row = run_row({"scheduler": "optuna-asha", "peer": True, "workload": "sgd", "seed": 3, "status": "completed"}, "seed3")
    >>> {k: row[k] for k in ("label", "kind", "cell_id", "seed", "status")}
    {'label': 'optuna-asha', 'kind': 'peer', 'cell_id': 'seed3', 'seed': 3, 'status': 'done'}
    """
    peer = bool(summary.get("peer"))
    label = summary.get("scheduler") if peer else summary.get("name") or summary.get("scheduler")
    return {
        "cell_id": name,
        "label": label,
        "kind": "peer" if peer else "scheduler",
        "workload": summary.get("workload"),
        "executor": summary.get("executor"),
        "seed": summary.get("seed", 0),
        "dir": ".",
        "status": RUN_STATUS.get(str(summary.get("status")), "failed"),
        "error": summary.get("error"),
    }


def load_run(root: Path) -> ResultTables:
    """One run directory's tables, with the columns a comparison's have (one row in ``cells``);
    a run that did not complete still gives the rows it has."""
    row = run_row(json.loads((root / SUMMARY).read_text(encoding="utf-8")), root.resolve().name)
    tables = ComparisonTables(root).update([{**row, "status": "done"}])
    return ResultTables(tables.results, tables.trials, tables.cells.assign(status=row["status"], error=row["error"]))
