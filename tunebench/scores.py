"""How scores rank: larger is better after :func:`rank_key`, and a score that is not a finite
number ranks worst everywhere (rungs, PBT quantiles, tournaments, the best trial).

A validation metric here is bounded (accuracy, negative MSE), so NaN and +-inf both mean a
trial diverged or a Job failed, never a genuinely best model.

>>> rank_key(0.9, "max"), rank_key(0.1, "min")
(0.9, -0.1)
>>> rank_key(float("nan"), "max") == rank_key(float("inf"), "min") == float("-inf")
True
>>> better(float("nan"), 0.2, "max"), better(0.2, None, "max")
(False, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeGuard

MODES = ("max", "min")
WORST = float("-inf")


def finite(score: float | None) -> TypeGuard[float]:
    """True for a real, finite score."""
    return score is not None and math.isfinite(score)


def rank_key(score: float | None, mode: str) -> float:
    """``score`` turned so that larger is better; ``-inf`` for a missing or non-finite score."""
    if score is None or not math.isfinite(score):
        return WORST
    return score if mode == "max" else -score


def better(a: float | None, b: float | None, mode: str) -> bool:
    """True if score ``a`` ranks strictly above ``b``."""
    return rank_key(a, mode) > rank_key(b, mode)


def best_of(scores: Sequence[float | None], mode: str) -> float | None:
    """The best finite score, else the first score given (NaN stays NaN), else ``None``."""
    good = [s for s in scores if finite(s)]
    if good:
        return max(good) if mode == "max" else min(good)
    return scores[0] if scores else None


def same_score(a: float, b: float | None) -> bool:
    """Equal scores, NaN equal to NaN: a retrained step matches its journaled score.

    >>> same_score(float("nan"), float("nan")), same_score(0.5, None)
    (True, False)
    """
    return b is not None and (a == b or (math.isnan(a) and math.isnan(b)))


def regret(score: float | None, optimum: float | None, mode: str) -> float | None:
    """How far ``score`` is from the best score there is, ``optimum`` (0 at it, positive below
    it in either mode); ``None`` without both, or for a score that is not a finite number.

    >>> round(regret(-3.5, -3.86278, "min"), 5), round(regret(0.9, 1.0, "max"), 5), regret(0.9, None, "max")
    (0.36278, 0.1, None)
    """
    if optimum is None or not finite(score):
        return None
    return rank_key(optimum, mode) - rank_key(score, mode)


def regrets(best: float | None, test: float | None, optimum: float | None, mode: str) -> dict[str, float | None]:
    """A run's distance from the workload's known optimum (``None`` where it has none): of its
    best validation score and of the best trial's test score.

    >>> regrets(-3.8, -3.7, -3.86278, "min")["optimum"], regrets(0.9, None, None, "max")["regret"]
    (-3.86278, None)
    """
    return {"optimum": optimum, "regret": regret(best, optimum, mode), "test_regret": regret(test, optimum, mode)}
