"""The arithmetic of a comparison, as pure functions of scores and curves.

Scores are turned by :func:`tunebench.scores.rank_key` first, so every function here is right
for ``mode="min"`` as well as ``"max"``, and a score that is not a finite number (a diverged
trial, a failed Job) ranks worst. A *curve* is a pair of equally long sequences ``x``
(seconds since the search started, or ``partial_fit`` calls so far) and ``y`` (best score so
far, NaN until the first score was observed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from tunebench.scores import better, finite, rank_key


def regret_bounds(scores: Sequence[float], mode: str) -> tuple[float, float] | None:
    """The best and the worst finite score of ``scores``, or ``None`` if there is none.

    >>> regret_bounds([0.5, float("nan"), 0.9, 0.7], "max")
    (0.9, 0.5)
    >>> regret_bounds([0.5, 0.9], "min")
    (0.5, 0.9)
    """
    good = [float(s) for s in scores if finite(s)]
    if not good:
        return None
    return (max(good), min(good)) if mode == "max" else (min(good), max(good))


def normalized_regret(y: Sequence[float], best: float, worst: float, mode: str) -> np.ndarray:
    """``(best - y) / (best - worst)`` in the metric's own direction, clipped to [0, 1], as
    Syne Tune compares methods across benchmarks: 0 is the best score any contender found on
    the workload, 1 the worst. No score yet (NaN) is regret 1; if best and worst are equal,
    every score is regret 0.

    >>> normalized_regret([float("nan"), 0.5, 0.75, 1.0], best=1.0, worst=0.5, mode="max").tolist()
    [1.0, 1.0, 0.5, 0.0]
    >>> normalized_regret([0.3, 0.1], best=0.1, worst=0.5, mode="min").round(6).tolist()
    [0.5, 0.0]
    """
    keys = np.array([rank_key(float(v), mode) for v in y], dtype=float)
    b, w = rank_key(best, mode), rank_key(worst, mode)
    if b == w:
        return np.where(np.isfinite(keys), 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        out = (b - keys) / (b - w)
    return np.clip(np.where(np.isfinite(keys), out, 1.0), 0.0, 1.0)


def ranks(scores: Sequence[float], mode: str) -> np.ndarray:
    """Rank of each score among ``scores``: 1 is the best, ties share the mean rank, a
    non-finite score ranks last.

    >>> ranks([0.7, 0.9, 0.7, float("nan")], "max").tolist()
    [2.5, 1.0, 2.5, 4.0]
    >>> ranks([0.2, 0.1], "min").tolist()
    [2.0, 1.0]
    """
    return st.rankdata([-rank_key(float(s), mode) for s in scores], method="average")


def average_rank(curves: Mapping[str, np.ndarray], mode: str) -> dict[str, np.ndarray]:
    """Rank over time of each contender on one workload and seed: ``curves`` maps a contender
    to its best-so-far values on a grid shared by all; the result maps it to its rank at each
    grid point (average the result over seeds for Syne Tune's average rank).

    >>> out = average_rank({"a": np.array([0.5, 0.9]), "b": np.array([0.7, 0.8])}, "max")
    >>> out["a"].tolist(), out["b"].tolist()
    ([2.0, 1.0], [1.0, 2.0])
    """
    names = list(curves)
    stacked = np.vstack([np.asarray(curves[n], dtype=float) for n in names])
    per_point = np.column_stack([ranks(stacked[:, j], mode) for j in range(stacked.shape[1])]) if stacked.size else stacked
    return {n: per_point[i] for i, n in enumerate(names)}


@dataclass(frozen=True)
class Estimate:
    """An interquartile mean over seeds with its bootstrap interval (``None`` below two values)."""

    iqm: float
    low: float | None
    high: float | None
    n: int


def iqm(values: Sequence[float]) -> float:
    """Interquartile mean: the mean of the middle half (``scipy.stats.trim_mean(x, 0.25)``).

    >>> iqm([0.0, 1.0, 2.0, 3.0, 100.0, 4.0, 5.0, 6.0])
    3.5
    """
    return float(st.trim_mean(np.asarray(values, dtype=float), 0.25))


def iqm_interval(values: Sequence[float], confidence: float = 0.95, seed: int = 0, n_resamples: int = 2000) -> Estimate | None:
    """The IQM of the finite ``values`` with a seeded percentile-bootstrap interval
    (``scipy.stats.bootstrap``); ``None`` if no value is finite.

    >>> e = iqm_interval([0.80, 0.82, 0.85, 0.86, 0.90])
    >>> round(e.iqm, 4), e.low <= e.iqm <= e.high, e.n
    (0.8433, True, 5)
    >>> iqm_interval([0.7])
    Estimate(iqm=0.7, low=None, high=None, n=1)
    """
    x = np.array([v for v in values if finite(v)], dtype=float)
    if x.size == 0:
        return None
    centre = iqm(x)
    if x.size < 2 or np.all(x == x[0]):
        return Estimate(centre, None if x.size < 2 else centre, None if x.size < 2 else centre, int(x.size))
    res = st.bootstrap(
        (x,),
        lambda a, axis=-1: st.trim_mean(a, 0.25, axis=axis),
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return Estimate(centre, float(res.confidence_interval.low), float(res.confidence_interval.high), int(x.size))


def reach(x: Sequence[float], y: Sequence[float], target: float, mode: str) -> float | None:
    """The first ``x`` at which the best-so-far ``y`` reaches ``target`` (as good or better),
    ``None`` if it never does. With ``x`` in seconds this is the time to target, with ``x``
    in calls the calls to target; both count from when a score was observed.

    >>> reach([1.0, 2.0, 5.0], [0.6, 0.8, 0.95], 0.8, "max")
    2.0
    >>> reach([1.0, 2.0], [0.6, 0.7], 0.8, "max") is None
    True
    >>> reach([3, 4], [0.5, 0.2], 0.3, "min")
    4.0
    """
    goal = rank_key(target, mode)
    for xi, yi in zip(x, y):
        if rank_key(float(yi), mode) >= goal:
            return float(xi)
    return None


def matched_score(a: float | None, b: float | None, mode: str) -> float | None:
    """The score both of two runs reached: the worse of their final bests.

    >>> matched_score(0.9, 0.85, "max"), matched_score(0.1, 0.2, "min"), matched_score(0.9, None, "max")
    (0.85, 0.2, None)
    """
    if not (finite(a) and finite(b)):
        return None
    return b if better(a, b, mode) else a


def speedup(base_x: Sequence[float], base_y: Sequence[float], x: Sequence[float], y: Sequence[float], mode: str) -> float | None:
    """How many times sooner a contender reaches the score its baseline (random search) also
    reaches than the baseline does: time (or calls) to the matched score of the baseline over
    that of the contender. ``None`` if either never scored.

    >>> speedup([10, 20, 30], [0.5, 0.7, 0.8], [1, 5, 9], [0.6, 0.8, 0.9], "max")
    6.0
    """
    score = matched_score(_last(base_y), _last(y), mode)
    if score is None:
        return None
    t_base, t = reach(base_x, base_y, score, mode), reach(x, y, score, mode)
    if t_base is None or t is None or t <= 0:
        return None
    return t_base / t


def _last(y: Sequence[float]) -> float | None:
    return float(y[-1]) if len(y) else None


def win_loss(a: Mapping[int, float], b: Mapping[int, float], mode: str) -> tuple[int, int, int]:
    """Wins, losses and ties of ``a`` against ``b`` over the seeds (or any keys) both have,
    comparing final best scores.

    >>> win_loss({0: 0.9, 1: 0.8, 2: 0.7, 3: 0.5}, {0: 0.85, 1: 0.8, 2: 0.75}, "max")
    (1, 1, 1)
    """
    wins = losses = ties = 0
    for key in sorted(set(a) & set(b)):
        if better(a[key], b[key], mode):
            wins += 1
        elif better(b[key], a[key], mode):
            losses += 1
        else:
            ties += 1
    return wins, losses, ties


def median_or_none(values: Sequence[float | None]) -> float | None:
    """The median of the values that are numbers, ``None`` if there is none.

    >>> median_or_none([3.0, None, 1.0, 2.0]), median_or_none([None])
    (2.0, None)
    """
    good = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return float(np.median(good)) if good else None
