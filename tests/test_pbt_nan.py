"""PBT with diverging members: a NaN score ranks worst, is never a donor and gets replaced."""

from __future__ import annotations

import math

import pytest

from tunebench.space import Space
from tunebench.trial import Job, Result

from schedulers.pbt import PBT
from schedulers.pbt.exploit import quantiles, truncation

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-5, 1e-1]}, "eta0": {"loguniform": [1e-3, 1.0]}})
NAN = float("nan")


def diverging(job: Job) -> float:
    """Trial 0 diverges (NaN from its first result on); the others score by their seed."""
    return NAN if job.trial_id == 0 else (job.seed % 1000) / 1000 + 0.001 * job.stop_step


def barrier(pbt: PBT, scores: dict[int, float], step: int) -> list[Job]:
    """Submit every member's Job, report ``scores`` at ``step``, return the next round's Jobs."""
    jobs = [pbt.suggest() for _ in range(pbt.n_trials)]
    for job in jobs:
        pbt.on_result(Result(job.trial_id, step, scores[job.trial_id], job.n_steps))
    return [pbt.suggest() for _ in range(pbt.n_trials)]


@pytest.mark.parametrize("exploit", ["truncation", "tournament"])
@pytest.mark.parametrize("mode", ["max", "min"])
def test_a_nan_member_is_never_a_donor_and_is_replaced_at_the_barrier(exploit: str, mode: str) -> None:
    for seed in range(10):
        pbt = PBT(
            SPACE,
            seed=seed,
            mode=mode,
            n_trials=4,
            max_iter=6,
            perturbation_interval=3,
            synch=True,
            exploit=exploit,
            quantile_fraction=0.25,
        )
        scores = {0: NAN, 1: 0.5, 2: 0.6, 3: 0.7}
        jobs = barrier(pbt, scores, 3)
        donors = [j.clone_from[0] for j in jobs if j.clone_from is not None]
        assert 0 not in donors
        if exploit == "truncation":
            assert 0 not in pbt.members  # always in the bottom quantile
    # over the seeds, the tournament draws an opponent for member 0 that beats it every time
    pbt = PBT(SPACE, seed=0, n_trials=4, max_iter=6, perturbation_interval=3, synch=True, exploit="tournament")
    barrier(pbt, {0: NAN, 1: 0.5, 2: 0.6, 3: 0.7}, 3)
    assert 0 not in pbt.members


def test_nan_and_infinite_keys_rank_worst_in_the_quantiles() -> None:
    pbt = PBT(SPACE, n_trials=4)
    keys = {t: pbt.key(s) for t, s in {0: NAN, 1: 0.1, 2: float("inf"), 3: 0.3}.items()}
    bottom, top = quantiles(keys, 0.5)
    assert bottom == [0, 2] and top == [1, 3]


def test_truncation_never_picks_a_non_finite_donor_even_in_the_top_quantile() -> None:
    import numpy as np

    keys = {0: -math.inf, 1: -math.inf, 2: -math.inf, 3: 0.2}
    for seed in range(20):
        pairs = truncation(keys, 0.5, np.random.default_rng(seed))
        assert set(pairs) == {1, 2} and set(pairs.values()) == {3}


def test_record_replaces_a_nan_best_score_by_the_first_finite_one() -> None:
    pbt = PBT(SPACE, n_trials=2, max_iter=9, perturbation_interval=3)
    pbt.record(Result(0, 3, NAN, 3))
    assert math.isnan(pbt.trials[0].best_score)
    pbt.record(Result(0, 6, 0.4, 3))
    assert pbt.trials[0].best_score == 0.4
    pbt.record(Result(0, 9, NAN, 3))
    assert pbt.trials[0].best_score == 0.4 and math.isnan(pbt.trials[0].last_score)
