"""A comparison's tables in one: every cell's results and trials stacked, one row per cell.

A comparison directory holds one run directory per cell; these tables put them side by side,
as Syne Tune's ``load_experiments_df`` and Ray Tune's ``ResultGrid.get_dataframe()`` do. Each
cell's rows get the columns :data:`ID_COLUMNS` in front (``contender`` is the cell's label,
``kind`` is ``scheduler`` or ``peer``); a cell's own column of the same name is kept with a
prefix (the trial's ``seed`` becomes ``trial_seed``). ``cells`` has one row per cell of the
matrix: its status (``done``, ``failed``, ``unsupported`` or ``pending``), error or reason, the
seconds it took, and every scalar of a finished cell's ``summary.json`` (``best_config`` as
JSON). Only ``done`` cells contribute rows to ``results`` and ``trials``.

A cell is described by a row of ``matrix.json``'s ``cells`` (a mapping with ``cell_id``,
``label``, ``kind``, ``workload``, ``executor``, ``seed``, ``dir``, ``status`` and optionally
``error``, ``reason``, ``seconds``, ``workers``, ``searcher``), so this module needs nothing of
``compare``. :class:`ComparisonTables` keeps each finished cell's frames once read, and
rewrites the three files atomically: an interrupted writer leaves the previous complete ones.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tunebench.store.files import atomic_write_parquet, jsonable
from tunebench.store.rundir import read_run
from tunebench.store.tables import RESULT_COLUMNS, TRIAL_COLUMNS

ID_COLUMNS = ["contender", "kind", "workload", "executor", "seed", "cell_id"]
CELL_COLUMNS = [
    *ID_COLUMNS,
    "status",
    "error",
    "reason",
    "seconds",
    "dir",
    "workers",
    "searcher",
    "scheduler",
    "best_score",
    "test_score",
    "partial_fit_calls",
    "n_trials",
    "wall_time_s",
    "utilization",
]
FILES = {"results": "results.parquet", "trials": "trials.parquet", "cells": "cells.parquet"}
NOT_FROM_SUMMARY = {"name", "status", "error", "executor", "workload", "seed", "peer"}
SCALAR = (str, int, float, bool, type(None))


@dataclass(frozen=True, eq=False)
class ResultTables:
    """A comparison's (or one run's) tables: ``results`` (one row per result), ``trials`` (one
    row per trial) and ``cells`` (one row per cell), each with :data:`ID_COLUMNS`."""

    results: pd.DataFrame
    trials: pd.DataFrame
    cells: pd.DataFrame


@dataclass(frozen=True, eq=False)
class CellFrames:
    """One finished cell's rows, labelled, and the scalars of its summary."""

    results: pd.DataFrame
    trials: pd.DataFrame
    summary: Mapping[str, Any]


def cell_ids(row: Mapping[str, Any]) -> dict[str, Any]:
    """The identifying columns of a ``matrix.json`` cell row.

    >>> cell_ids({"cell_id": "sgd/asha@local/seed1", "label": "asha", "workload": "sgd", "executor": "local", "seed": 1})
    {'contender': 'asha', 'kind': 'scheduler', 'workload': 'sgd', 'executor': 'local', 'seed': 1, 'cell_id': 'sgd/asha@local/seed1'}
    """
    return {
        "contender": str(row["label"]),
        "kind": str(row.get("kind") or "scheduler"),
        "workload": str(row["workload"]),
        "executor": str(row["executor"]),
        "seed": int(row["seed"]),
        "cell_id": str(row["cell_id"]),
    }


def labelled(frame: pd.DataFrame, ids: Mapping[str, Any], prefix: str) -> pd.DataFrame:
    """``frame`` with the cell's ids as its first columns; a column of the same name gets ``prefix``.

    >>> labelled(pd.DataFrame({"trial_id": [0, 1], "seed": [7, 8]}), {"contender": "asha", "seed": 0}, "trial_").columns.tolist()
    ['contender', 'seed', 'trial_id', 'trial_seed']
    """
    out = frame.rename(columns={c: f"{prefix}{c}" for c in ids if c in frame.columns})
    for i, (key, value) in enumerate(ids.items()):
        out.insert(i, key, pd.Series([value] * len(out), index=out.index, dtype="int64" if key == "seed" else None))
    return out


def summary_scalars(summary: Mapping[str, Any]) -> dict[str, Any]:
    """What a ``summary.json`` says of its run in scalars (``best_config`` as JSON); the keys the
    cell's own columns already give (name, status, error, ids) are left out.

    >>> summary_scalars({"name": "x", "best_score": 0.9, "best_config": {"a": 1}, "metadata": {"n": 3}, "seed": 0})
    {'best_score': 0.9, 'best_config': '{"a": 1}'}
    """
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if key in NOT_FROM_SUMMARY:
            continue
        if key == "best_config":
            out[key] = None if value is None else json.dumps(jsonable(value), sort_keys=True)
        elif isinstance(value, SCALAR):
            out[key] = value
    return out


def read_cell(row: Mapping[str, Any], path: Path) -> CellFrames:
    """A finished run directory's results and trials, labelled with the cell's ids."""
    summary, results, trials, _ = read_run(path)
    ids = cell_ids(row)
    return CellFrames(labelled(results, ids, "result_"), labelled(trials, ids, "trial_"), summary_scalars(summary))


def cell_record(row: Mapping[str, Any], frames: CellFrames | None) -> dict[str, Any]:
    """One row of ``cells``: the cell's ids and status, then its summary's scalars if it finished."""
    record = {
        **cell_ids(row),
        "status": row.get("status") or "pending",
        "error": row.get("error"),
        "reason": row.get("reason"),
        "seconds": row.get("seconds"),
        "dir": str(row.get("dir") or row["cell_id"]),
        "workers": row.get("workers"),
        "searcher": row.get("searcher"),
    }
    if frames is not None:
        record.update({k: v for k, v in frames.summary.items() if k not in record})
    return record


def stack(frames: Iterable[pd.DataFrame], empty: list[str]) -> pd.DataFrame:
    """The frames one under another (columns united, in order of appearance); with no rows, the
    columns ``empty``."""
    parts = [f for f in frames if len(f)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "seed" else "object") for c in empty})
    return plain_columns(pd.concat(parts, ignore_index=True, sort=False))


def plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet wants one type per column: a column that mixes types across cells (a ``config.*``
    that is a number in one workload and a string in another) is written as text.

    >>> plain_columns(pd.DataFrame({"x": [1.5, "a", None]}))["x"].dropna().tolist()
    ['1.5', 'a']
    """
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        if len({value_kind(v) for v in frame[col]} - {"missing"}) > 1:
            frame[col] = frame[col].map(as_text)
    return frame


def as_text(value: Any) -> str | None:
    """A value of a mixed column as text (JSON unless it is a string); missing stays missing."""
    if value_kind(value) == "missing":
        return None
    return value if isinstance(value, str) else json.dumps(jsonable(value))


def value_kind(value: Any) -> str:
    """``missing``, ``text``, ``bool``, ``number`` or the type's name: what parquet tells apart.

    >>> [value_kind(v) for v in (None, float("nan"), "a", True, 3, 2.5)]
    ['missing', 'missing', 'text', 'bool', 'number', 'number']
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    return "number" if isinstance(value, numbers.Number) else type(value).__name__


def cells_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The ``cells`` table: :data:`CELL_COLUMNS` first, then the other summary keys as they appear."""
    columns = list(dict.fromkeys([*CELL_COLUMNS, *(k for r in records for k in r)]))
    frame = pd.DataFrame(records, columns=columns)
    return plain_columns(frame.astype({"seed": "int64"}))


class ComparisonTables:
    """The tables of the comparison in ``root``, kept up to date as its cells finish: a finished
    cell's run directory is read once, the first time its row says ``done``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.frames: dict[str, CellFrames] = {}

    def update(self, rows: Iterable[Mapping[str, Any]]) -> ResultTables:
        """The tables for ``rows`` (``matrix.json``'s cells, in matrix order). A ``done`` cell
        whose run directory does not read back adds no rows; its ``error`` says why."""
        rows = list(rows)
        done = {str(r["cell_id"]): r for r in rows if r.get("status") == "done"}
        for gone in set(self.frames) - set(done):
            del self.frames[gone]
        unreadable: dict[str, str] = {}
        for cell_id, row in done.items():
            if cell_id not in self.frames:
                try:
                    self.frames[cell_id] = read_cell(row, self.root / str(row.get("dir") or cell_id))
                except (OSError, ValueError) as exc:  # kept out of the tables, said in its row, tried again next time
                    unreadable[cell_id] = f"marked done but unreadable: {exc}"
        kept = [self.frames[str(r["cell_id"])] for r in rows if str(r["cell_id"]) in self.frames]
        records = [
            cell_record({**r, "error": unreadable.get(str(r["cell_id"]), r.get("error"))}, self.frames.get(str(r["cell_id"])))
            for r in rows
        ]
        return ResultTables(
            results=stack((f.results for f in kept), [*ID_COLUMNS, *RESULT_COLUMNS]),
            trials=stack((f.trials for f in kept), [*ID_COLUMNS, *(f"trial_{c}" if c == "seed" else c for c in TRIAL_COLUMNS)]),
            cells=cells_frame(records),
        )

    def write(self, rows: Iterable[Mapping[str, Any]]) -> ResultTables:
        """Update the tables and rewrite ``results.parquet``, ``trials.parquet`` and, last,
        ``cells.parquet``, each atomically."""
        tables = self.update(rows)
        for name, file in FILES.items():
            atomic_write_parquet(self.root / file, getattr(tables, name))
        return tables
