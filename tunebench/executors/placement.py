"""Where a Job goes: the worker with the least work queued on it.

A worker's load is the steps of the Jobs it holds, the one it runs included. A Job sent to the
least loaded worker starts soonest, so a short Job that closes a rung never waits behind a
long one on a busy worker while another worker gets through its queue. Counting Jobs instead
of steps gets this wrong: with Jobs of 1 to 81 steps, a worker holding one 81-step Job looks
less busy than one holding two of 18.
"""

from __future__ import annotations

from collections.abc import Sequence


def least_loaded(loads: Sequence[int], prefer: int | None = None) -> int:
    """Index of the smallest load; ``prefer`` (the worker that holds the trial live) wins a
    tie, then the lowest index.

    >>> least_loaded([36, 81])
    0
    >>> least_loaded([18, 18], prefer=1)
    1
    >>> least_loaded([0, 54], prefer=1)
    0
    """
    if not loads:
        raise ValueError("no workers to place a Job on")
    low = min(loads)
    if prefer is not None and 0 <= prefer < len(loads) and loads[prefer] == low:
        return prefer
    return loads.index(low)
