"""Pure helpers shared by the rung-based schedulers: their parameter checks, step plans, plateaus.

Nothing here holds state; every function can be tested alone.

>>> planned_steps([(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)])
297
>>> ceil_div(5 * 27, 4)
34
"""

from __future__ import annotations

from collections.abc import Sequence

from tunebench.checks import Float, Int
from tunebench.scores import rank_key

VARIANTS = ("promotion", "stopping")


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for integers, exactly (no floating point)."""
    return -(-a // b)


ETA = Int(2, note="the cut rate: each rung keeps 1/eta of the trials")
MAX_ITER = Int(1, note="the most steps any trial may get")
N_TRIALS = Int(1)
PATIENCE = Int(1, optional=True, note="steps without progress before a trial stops; null: never")
TOL = Float(0, note="the least improvement that counts as progress")


def planned_steps(rungs: Sequence[tuple[int, int]]) -> int:
    """Steps a bracket of ``(n_i, r_i)`` rungs plans when survivors resume from checkpoints.

    Rung 0 trains ``n_0`` trials ``r_0`` steps each; every later rung trains ``n_i`` survivors
    only the ``r_i - r_{i-1}`` steps they have not had yet.
    """
    total, previous = 0, 0
    for n, r in rungs:
        total += n * (r - previous)
        previous = r
    return total


def steps_after(rungs: Sequence[tuple[int, int]], rung: int) -> int:
    """Steps the rungs after ``rung`` plan: each of their survivors trains on from the rung before.

    >>> steps_after([(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)], 2)
    108
    >>> steps_after([(5, 81)], 0)
    0
    """
    return sum(n * (r - rungs[i - 1][1]) for i, (n, r) in enumerate(rungs) if i > rung)


def plateaued(scores: dict[int, float], step: int, patience: int, tol: float, mode: str) -> bool:
    """True if the trial has not improved by more than ``tol`` over its last ``patience`` steps.

    ``scores`` maps step -> score in increasing step order (``Trial.scores``). The window is the
    scores recorded at steps in ``[step - patience, step]``; its earliest score is the start of
    the plateau. The trial has plateaued when no later score in the window beats that start by
    more than ``tol`` (dask-ml's ``patience`` / ``tol``). Nothing is judged before ``patience``
    steps or with fewer than two scores in the window. Scores compare by
    :func:`tunebench.scores.rank_key`: a NaN never counts as progress.

    >>> plateaued({1: 0.5, 2: 0.5, 3: 0.5}, 3, 2, 0.001, "max")
    True
    >>> plateaued({1: 0.5, 2: 0.6, 3: 0.6, 4: 0.6}, 4, 2, 0.001, "max")
    True
    >>> plateaued({1: 0.5, 2: 0.6, 3: 0.7}, 3, 2, 0.001, "max")
    False
    >>> plateaued({1: 0.5, 2: 0.4}, 2, 2, 0.001, "min")
    False
    """
    if step < patience:
        return False
    window: list[float] = []
    for s, score in reversed(scores.items()):
        if s > step:
            continue
        if s < step - patience:
            break
        window.append(rank_key(score, mode))
    if len(window) < 2:
        return False
    start = window[-1]
    return max(window[:-1]) <= start + tol
