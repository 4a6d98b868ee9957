"""The chain of Jobs that built a trial's weights, read back from a run's Jobs.

A PBT clone began from its donor's checkpoint, which the donor's own Jobs trained, from its own
donor's, and so on back to a trial trained from scratch. Replay, resume (rebuilding lost
checkpoints) and the final test-score retrain all follow that chain; it is a function of the
Jobs alone, so it sits below the loop and the executors that use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tunebench.trial import Job


def lineage(jobs: Sequence[Job], trial_id: int, step: int) -> list[Job]:
    """The Jobs, in order, that built ``trial_id``'s weights at ``step`` from scratch: its own
    Jobs up to ``step`` and, for a clone, its donor's up to the clone step, recursively.

    >>> jobs = [Job(0, {}, 1, 0, 3), Job(1, {}, 2, 3, 6, clone_from=(0, 3)), Job(0, {}, 1, 3, 6)]
    >>> [(j.trial_id, j.start_step, j.stop_step) for j in lineage(jobs, 1, 6)]
    [(0, 0, 3), (1, 3, 6)]
    """
    mine = [j for j in jobs if j.trial_id == trial_id and j.stop_step <= step]
    if not mine:
        raise ValueError(f"trial {trial_id} has no Job ending at or before step {step}")
    at = mine[0].start_step
    for j in mine:
        if j.start_step != at:
            raise ValueError(f"trial {trial_id}: a Job starts at step {j.start_step}, its checkpoint was at {at}")
        at = j.stop_step
    if at != step:
        raise ValueError(f"trial {trial_id} reached step {at}, not {step}")
    first = mine[0]
    before = lineage(jobs, *first.clone_from) if first.clone_from is not None else []
    return before + mine


def renumbered(chain: Sequence[Job], first_id: int) -> list[Job]:
    """``chain`` with every trial given a fresh id from ``first_id`` on (clones re-pointed), so it
    can run again beside the trials it copies.

    >>> chain = renumbered([Job(0, {}, 1, 0, 3), Job(1, {}, 2, 3, 6, clone_from=(0, 3))], 10)
    >>> [(j.trial_id, j.clone_from, j.seed) for j in chain]
    [(10, None, 1), (11, (10, 3), 2)]
    """
    ids: dict[int, int] = {}
    out = []
    for j in chain:
        new = ids.setdefault(j.trial_id, first_id + len(ids))
        clone = (ids[j.clone_from[0]], j.clone_from[1]) if j.clone_from is not None else None
        out.append(replace(j, trial_id=new, clone_from=clone, priority=0.0))
    return out


__all__ = ["lineage", "renumbered"]
