"""The median stopping rule as pure functions (Golovin et al., Google Vizier, KDD 2017, section
3.2.2; Ray Tune's ``MedianStoppingRule``).

A trial is stopped at step ``t`` if its best score so far is strictly worse than the median of
the *running averages* (mean of every score reported up to ``t``) of the other trials that have
reached ``t``. Scores arrive as keys, larger is better (the scheduler turns them so whatever
the mode, and a NaN is ``-inf``); a tie continues.

>>> running_mean([(1, 0.2), (2, 0.4), (4, 0.9)], 3)
0.30000000000000004
>>> should_stop(0.5, [0.4, 0.6, 0.7]), should_stop(0.6, [0.4, 0.6, 0.7])
(True, False)
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def running_mean(reports: Sequence[tuple[int, float]], step: int) -> float:
    """Mean of the scores reported at steps ``<= step`` (``reports`` in step order, non-empty there)."""
    scores = [score for s, score in reports if s <= step]
    return sum(scores) / len(scores)


def should_stop(own: float, others: Sequence[float]) -> bool:
    """True if ``own`` (the trial's best so far, or its running mean) is below the median of
    ``others`` (the other trials' running means at the same step)."""
    return own < statistics.median(others)
