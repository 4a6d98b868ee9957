"""The anytime views the papers draw: the best score so far against evaluations
(:mod:`tunebench.report.evaluations`), and, on a workload with a known optimum, the regret
against it on a log axis, against evaluations and against the cells' clock. Each is a band over
seeds (median and interquartile range) on a grid shared by a workload's contenders, like the
other anytime curves. The clock is virtual time when every cell of the workload ran on the
simulated executor, else wall time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunebench.report.analysis import WorkloadView, optimum_of
from tunebench.report.curves import Band, Curve, band, grid_for, on_grid
from tunebench.report.evaluations import evaluations_curve, evaluations_of
from tunebench.report.runs import CellRun
from tunebench.store.comparison import Matrix, name_of

REGRET_FLOOR = 1e-12  # regret below this is drawn at it, so a log axis can show it
VIRTUAL, WALL = "virtual time", "wall time"


@dataclass(frozen=True)
class Anytime:
    """Per workload: its clock, the bands against evaluations, and (with a known optimum) the
    regret bands against evaluations and against the clock; the series left out of the
    evaluation figures because their cells record no evaluations."""

    clocks: Mapping[str, str]
    by_evaluations: Mapping[str, Mapping[str, Band]]
    without: tuple[str, ...]
    optima: Mapping[str, float]
    regret_by_evaluations: Mapping[str, Mapping[str, Band]]
    regret_by_time: Mapping[str, Mapping[str, Band]]

    @property
    def clock(self) -> str:
        """The clock of every workload, said once: virtual time, wall time, or time when they differ."""
        seen = set(self.clocks.values())
        return seen.pop() if len(seen) == 1 else "time"


def on_virtual_clock(summary: Mapping[str, Any], executor: str) -> bool:
    """Whether a cell's clock was virtual: as its summary records it, else as its executor's name says.

    >>> on_virtual_clock({"virtual_time": True}, "fifo"), on_virtual_clock({}, "simulated"), on_virtual_clock({}, "dask")
    (True, True, False)
    """
    recorded = summary.get("virtual_time")
    return bool(recorded) if recorded is not None else executor == "simulated"


def executor_names(matrix: Matrix) -> dict[str, str]:
    """Executor label (as cells name it) -> the executor's registered name, from the matrix."""
    given = matrix.raw.get("executors") or []
    return {name_of(e): str(e.get("name") if isinstance(e, Mapping) else e) for e in given}


def clock_of(runs: Sequence[CellRun], names: Mapping[str, str]) -> str:
    """The clock of a workload's cells: virtual time when every one ran on the simulated executor's clock, else wall time."""
    virtual = [on_virtual_clock(r.summary, names.get(r.cell.executor, r.cell.executor)) for r in runs]
    return VIRTUAL if virtual and all(virtual) else WALL


def optimum_regret(best: np.ndarray, optimum: float, floor: float = REGRET_FLOOR) -> np.ndarray:
    """|best so far - optimum| (best - optimum when minimising, optimum - best when maximising,
    and a noisy score past the optimum by its distance), at least ``floor``; NaN stays NaN.

    >>> optimum_regret(np.array([np.nan, -3.5, -3.9, -3.86278]), -3.86278).round(5).tolist()
    [nan, 0.36278, 0.03722, 0.0]
    >>> float(optimum_regret(np.array([-3.86278]), -3.86278)[0])
    1e-12
    """
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(best), np.nan, np.maximum(np.abs(best - optimum), floor))


def bands_by_evaluations(view: WorkloadView, optimum: float | None) -> tuple[dict[str, Band], dict[str, Band], list[str]]:
    """The workload's bands against evaluations (best so far, and regret with an optimum), and
    the series whose cells record no evaluations."""
    curves: dict[str, list[Curve]] = {}
    without = []
    for s in view.series:
        frames = [evaluations_of(r) for r in view.of(s)]
        if not frames or any(f is None for f in frames):
            without.append(s)
            continue
        curves[s] = [evaluations_curve(f, view.mode) for f in frames if f is not None]
    grid = grid_for((c for cs in curves.values() for c in cs), log=True)
    best = {s: [on_grid(c, grid) for c in cs] for s, cs in curves.items()}
    regret = {} if optimum is None else {s: band(grid, [optimum_regret(y, optimum) for y in ys]) for s, ys in best.items()}
    return {s: band(grid, ys) for s, ys in best.items()}, regret, without


def regret_by_time(view: WorkloadView, optimum: float) -> dict[str, Band]:
    """The regret against the optimum over the cells' clock, per series."""
    grid = grid_for((r.by_time for r in view.runs), log=True)
    return {s: band(grid, [optimum_regret(on_grid(r.by_time, grid), optimum) for r in view.of(s)]) for s in view.series}


def anytime_of(views: Sequence[WorkloadView], matrix: Matrix) -> Anytime:
    """Every workload's views against evaluations and against its optimum."""
    names = executor_names(matrix)
    by_evals, regret_evals, regret_time, optima = {}, {}, {}, {}
    without: list[str] = []
    for v in views:
        optimum = optimum_of(v.runs)
        best, regret, left = bands_by_evaluations(v, optimum)
        without += [s for s in left if s not in without]
        if best:
            by_evals[v.workload] = best
        if optimum is not None:
            optima[v.workload] = optimum
            regret_evals[v.workload] = regret
            regret_time[v.workload] = regret_by_time(v, optimum)
    clocks = {v.workload: clock_of(v.runs, names) for v in views}
    return Anytime(clocks, by_evals, tuple(without), optima, regret_evals, regret_time)
