"""Anytime curves: the best validation score so far against wall time and against
``partial_fit`` calls, per cell, put on a grid shared by every contender of a workload, then
summarised over seeds by the median and the interquartile band.

A result counts from when its score was observed (``elapsed_s``), so a contender that scores
only at the end of long Jobs is credited late; calls count every ``partial_fit`` call reported
so far, whoever made it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tunebench.scores import rank_key

GRID_POINTS = 200


@dataclass(frozen=True)
class Curve:
    """A step function: ``y[i]`` holds from ``x[i]`` until ``x[i + 1]`` (and after the last)."""

    x: np.ndarray
    y: np.ndarray

    @property
    def end(self) -> float:
        return float(self.x[-1]) if len(self.x) else 0.0

    @property
    def final(self) -> float:
        return float(self.y[-1]) if len(self.y) else float("nan")


@dataclass(frozen=True)
class Band:
    """A contender's curve over seeds on a grid: median and the 25th and 75th percentiles."""

    grid: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int


def running_best(scores: Iterable[float], mode: str) -> np.ndarray:
    """The best score so far after each score; NaN until the first finite one.

    >>> running_best([float("nan"), 0.5, 0.4, 0.7], "max").tolist()
    [nan, 0.5, 0.5, 0.7]
    >>> running_best([0.5, 0.3, 0.4], "min").tolist()
    [0.5, 0.3, 0.3]
    """
    out, best, key = [], float("nan"), float("-inf")
    for s in scores:
        k = rank_key(float(s), mode)
        if k > key:
            best, key = float(s), k
        out.append(best)
    return np.array(out, dtype=float)


def observed(results: pd.DataFrame) -> pd.DataFrame:
    """Results in the order their scores were observed (by ``elapsed_s``, journal order on ties)."""
    return results.sort_values("elapsed_s", kind="stable") if len(results) else results


def time_curve(results: pd.DataFrame, mode: str) -> Curve:
    """Best score so far against seconds since the search started."""
    r = observed(results)
    return Curve(r["elapsed_s"].to_numpy(dtype=float), running_best(r["score"], mode))


def calls_curve(results: pd.DataFrame, mode: str) -> Curve:
    """Best score so far against ``partial_fit`` calls reported so far."""
    r = observed(results)
    return Curve(r["n_steps"].cumsum().to_numpy(dtype=float), running_best(r["score"], mode))


def grid_for(curves: Iterable[Curve], n: int = GRID_POINTS, log: bool = False) -> np.ndarray:
    """``n`` evenly spaced points from 0 to the end of the longest curve; with ``log``, ``n``
    more evenly spaced on a log scale from the first positive x of any curve, so a figure
    with a log axis shows the first second as finely as the last minute.

    >>> grid_for([Curve(np.array([1.0, 4.0]), np.array([0.1, 0.2]))], n=5).tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0]
    >>> grid_for([Curve(np.array([0.01, 10.0]), np.array([0.1, 0.2]))], n=4, log=True).round(3).tolist()
    [0.0, 0.01, 0.1, 1.0, 3.333, 6.667, 10.0]
    """
    curves = list(curves)
    end = max((c.end for c in curves), default=0.0)
    linear = np.linspace(0.0, end if end > 0 else 1.0, n)
    first = min((float(c.x[c.x > 0].min()) for c in curves if np.any(c.x > 0)), default=0.0)
    if not log or not 0.0 < first < end:
        return linear
    return np.union1d(linear, np.geomspace(first, end, max(n, 2)))


def on_grid(curve: Curve, grid: np.ndarray) -> np.ndarray:
    """The curve's value at each grid point: its last value at or before it (NaN before the
    first); a finished run keeps its final best to the end of the grid.

    >>> on_grid(Curve(np.array([1.0, 3.0]), np.array([0.5, 0.8])), np.array([0.0, 1.0, 2.0, 5.0])).tolist()
    [nan, 0.5, 0.5, 0.8]
    """
    idx = np.searchsorted(curve.x, grid, side="right") - 1
    out = np.full(len(grid), np.nan)
    ok = idx >= 0
    out[ok] = curve.y[idx[ok]]
    return out


def band(grid: np.ndarray, rows: Sequence[np.ndarray]) -> Band:
    """Median and interquartile band over seeds at each grid point; as in Syne Tune's plots, a
    point counts once every seed has a score (before that it stays NaN), so the line never
    jumps where a seed merely starts scoring.

    >>> b = band(np.array([0.0, 1.0, 2.0]), [np.array([np.nan, 0.2, 0.2]), np.array([np.nan, np.nan, 0.4]), np.array([0.1, 0.6, 0.6])])
    >>> b.median.tolist(), b.low.round(3).tolist(), b.high.round(3).tolist()
    ([nan, nan, 0.4], [nan, nan, 0.3], [nan, nan, 0.5])
    """
    m = np.vstack(rows) if rows else np.full((1, len(grid)), np.nan)
    full = np.all(np.isfinite(m), axis=0)
    med, lo, hi = (np.full(len(grid), np.nan) for _ in range(3))
    if full.any():
        sub = m[:, full]
        med[full] = np.median(sub, axis=0)
        lo[full] = np.percentile(sub, 25, axis=0)
        hi[full] = np.percentile(sub, 75, axis=0)
    return Band(grid, med, lo, hi, len(rows))


def mean_rows(grid: np.ndarray, rows: Sequence[np.ndarray]) -> Band:
    """The mean over seeds at each grid point, as a band without width (for average rank)."""
    m = np.vstack(rows) if rows else np.full((1, len(grid)), np.nan)
    mean = np.nanmean(m, axis=0) if rows else m[0]
    return Band(grid, mean, mean, mean, len(rows))
