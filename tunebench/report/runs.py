"""The finished cells of a comparison, read back once: summary, results and anytime curves.

A *series* is one contender on one executor: its name is the contender's label, with
``@executor`` added when our schedulers ran on more than one executor (a peer brings its own
engine, so its series is its label). Lines, table rows and ranks
are per series; seeds are what a series is summarised over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tunebench.report.curves import Curve, calls_curve, time_curve
from tunebench.store import read_run
from tunebench.store.comparison import Cell, Matrix


@dataclass(frozen=True)
class CellRun:
    """A finished cell: its matrix entry, ``summary.json``, results, both anytime curves, its
    trials and its scheduler's own tables (PBT's ``pbt_log``)."""

    cell: Cell
    series: str
    summary: Mapping[str, Any]
    results: pd.DataFrame
    by_time: Curve
    by_calls: Curve
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)
    extra: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return str(self.summary.get("mode") or "max")

    @property
    def seed(self) -> int:
        return self.cell.seed

    def get(self, key: str) -> float | None:
        value = self.summary.get(key)
        return None if value is None else float(value)


@dataclass(frozen=True)
class Missing:
    """A cell the report could not use, and why."""

    cell: Cell
    reason: str


def series_name(cell: Cell, matrix: Matrix) -> str:
    ours = {c.executor for c in matrix.cells if matrix.kind_of(c.label) == "scheduler"}
    return f"{cell.label}@{cell.executor}" if len(ours) > 1 and matrix.kind_of(cell.label) == "scheduler" else cell.label


def load_runs(matrix: Matrix) -> tuple[list[CellRun], list[Missing]]:
    """Every ``done`` cell that reads back as a finished run; the rest, each with its reason."""
    runs: list[CellRun] = []
    missing: list[Missing] = []
    for cell in matrix.cells:
        if not cell.done:
            missing.append(Missing(cell, cell.why or ("not run yet" if cell.status == "pending" else cell.status)))
            continue
        try:
            summary, results, trials, extra = read_run(matrix.path(cell))
        except (FileNotFoundError, OSError, ValueError) as exc:
            missing.append(Missing(cell, f"marked done but unreadable: {exc}"))
            continue
        mode = str(summary.get("mode") or "max")
        runs.append(
            CellRun(
                cell,
                series_name(cell, matrix),
                summary,
                results,
                time_curve(results, mode),
                calls_curve(results, mode),
                trials,
                extra,
            )
        )
    return runs, missing


def series_order(matrix: Matrix, runs: Iterable[CellRun]) -> list[str]:
    """Series in matrix order: contenders as ``matrix.json`` lists them, then as cells appear."""
    rank = {c.label: i for i, c in enumerate(matrix.contenders)}
    present = {r.series: r.cell.label for r in runs}
    seen = [series_name(c, matrix) for c in matrix.cells]
    first = {s: i for i, s in reversed(list(enumerate(seen)))}
    return sorted(present, key=lambda s: (rank.get(present[s], len(rank)), first.get(s, len(seen))))


def scoring_frequency(results: pd.DataFrame) -> str:
    """What a run's results say about when it scored: every step, only at the end of each
    trial, or at rungs / intervals (how many steps apart, at the median).

    >>> scoring_frequency(pd.DataFrame({"trial_id": [0, 0, 1], "step": [1, 2, 1], "n_steps": [1, 1, 1]}))
    'scores every step'
    >>> scoring_frequency(pd.DataFrame({"trial_id": [0, 1], "step": [9, 9], "n_steps": [9, 9]}))
    'scores only at the end of each trial (after 9 steps at the median)'
    >>> scoring_frequency(pd.DataFrame({"trial_id": [0, 0, 1], "step": [1, 3, 1], "n_steps": [1, 2, 1]}))
    'scores at rungs or intervals (1 step apart at the median, up to 2)'
    """
    if results.empty:
        return "no scores"
    n = results["n_steps"].astype(int)
    if int(n.max()) <= 1:
        return "scores every step"
    per_trial = results.groupby("trial_id").size()
    if int(per_trial.max()) == 1:
        return f"scores only at the end of each trial (after {_steps(np.median(results['step']))} at the median)"
    return f"scores at rungs or intervals ({_steps(np.median(n))} apart at the median, up to {int(n.max())})"


def _steps(v: float) -> str:
    k = int(v) if float(v).is_integer() else round(float(v), 1)
    return f"{k} step" if k == 1 else f"{k} steps"


def describe_contender(runs: Iterable[CellRun]) -> str:
    """One line per series of what its cells did, from their results (the cells agree, or
    each distinct behaviour is listed)."""
    seen = list(dict.fromkeys(scoring_frequency(r.results) for r in runs))
    return "; ".join(seen) if seen else "no finished cells"
