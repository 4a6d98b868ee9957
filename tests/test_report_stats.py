"""The comparison arithmetic on hand-made curves: regret, rank, interquartile mean and its
bootstrap interval, time and calls to target, speedup over random search, wins and losses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tunebench.report.curves import Curve, band, calls_curve, grid_for, on_grid, running_best, time_curve
from tunebench.report.stats import (
    average_rank,
    iqm,
    iqm_interval,
    matched_score,
    normalized_regret,
    ranks,
    reach,
    regret_bounds,
    speedup,
    win_loss,
)

NAN = float("nan")


def results(elapsed, scores, n_steps=None) -> pd.DataFrame:
    n = n_steps or [1] * len(scores)
    return pd.DataFrame({"trial_id": range(len(scores)), "step": n, "score": scores, "n_steps": n, "elapsed_s": elapsed})


def test_best_so_far_follows_observation_time_not_row_order() -> None:
    r = results([3.0, 1.0, 2.0], [0.9, 0.5, 0.7], [4, 1, 2])
    c = time_curve(r, "max")
    assert c.x.tolist() == [1.0, 2.0, 3.0] and c.y.tolist() == [0.5, 0.7, 0.9]
    assert calls_curve(r, "max").x.tolist() == [1.0, 3.0, 7.0]


def test_non_finite_scores_never_lead_the_curve() -> None:
    assert running_best([NAN, 0.4, float("inf"), 0.6], "max")[1:].tolist() == [0.4, 0.4, 0.6]
    assert math.isnan(running_best([NAN], "max")[0])


def test_regret_is_normalized_per_workload_over_all_contenders() -> None:
    a = [NAN, 0.60, 0.70, 0.80]
    b = [0.50, 0.90, 0.90, 1.00]
    best, worst = regret_bounds(a + b, "max")
    assert (best, worst) == (1.0, 0.5)
    assert normalized_regret(a, best, worst, "max").round(9).tolist() == [1.0, 0.8, 0.6, 0.4]
    assert normalized_regret(b, best, worst, "max").round(9).tolist() == [1.0, 0.2, 0.2, 0.0]


def test_regret_for_a_minimised_metric_mirrors_the_maximised_one() -> None:
    losses = [0.5, 0.4, 0.1]
    best, worst = regret_bounds(losses, "min")
    assert (best, worst) == (0.1, 0.5)
    mirrored = normalized_regret([-v for v in losses], -0.1, -0.5, "max")
    np.testing.assert_allclose(normalized_regret(losses, best, worst, "min"), mirrored)
    assert normalized_regret([0.05, 0.9], best, worst, "min").tolist() == [0.0, 1.0], "outside the bounds clips"


def test_rank_over_time_and_ties() -> None:
    out = average_rank({"a": np.array([NAN, 0.5, 0.9]), "b": np.array([0.3, 0.5, 0.8]), "c": np.array([NAN, 0.1, 0.7])}, "max")
    assert out["a"].tolist() == [2.5, 1.5, 1.0]
    assert out["b"].tolist() == [1.0, 1.5, 2.0]
    assert out["c"].tolist() == [2.5, 3.0, 3.0]
    assert ranks([0.1, 0.3], "min").tolist() == [1.0, 2.0]


def test_interquartile_mean_ignores_the_tails() -> None:
    assert iqm([0.1, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 5.0]) == pytest.approx(0.8)
    assert iqm([1.0, 2.0, 3.0, 4.0]) == pytest.approx(2.5)


def test_bootstrap_interval_contains_the_iqm_and_is_seeded() -> None:
    x = [0.71, 0.74, 0.80, 0.81, 0.83, 0.85, 0.90]
    e = iqm_interval(x, seed=3)
    assert e.low < e.iqm < e.high and e.n == 7
    assert e == iqm_interval(x, seed=3)
    assert iqm_interval([NAN, 0.5, 0.5]).low == 0.5 == iqm_interval([NAN, 0.5, 0.5]).high
    assert iqm_interval([NAN]) is None


def test_time_and_calls_to_target() -> None:
    r = results([2.0, 5.0, 9.0], [0.6, 0.85, 0.95], [3, 3, 9])
    t, c = time_curve(r, "max"), calls_curve(r, "max")
    assert reach(t.x, t.y, 0.8, "max") == 5.0
    assert reach(c.x, c.y, 0.8, "max") == 6.0
    assert reach(t.x, t.y, 0.95, "max") == 9.0, "reaching the target exactly counts"
    assert reach(t.x, t.y, 0.99, "max") is None
    assert reach([1.0, 2.0], [0.3, 0.2], 0.25, "min") == 2.0


def test_speedup_over_random_search_at_the_matched_score() -> None:
    random_x, random_y = [10.0, 40.0, 90.0], [0.5, 0.7, 0.8]
    hb_x, hb_y = [5.0, 15.0, 30.0], [0.6, 0.8, 0.85]
    assert matched_score(0.8, 0.85, "max") == 0.8
    assert speedup(random_x, random_y, hb_x, hb_y, "max") == pytest.approx(90.0 / 15.0)
    # a contender worse than random: matched at its own final best, which random reached sooner
    assert speedup(random_x, random_y, [20.0, 80.0], [0.5, 0.7], "max") == pytest.approx(40.0 / 80.0)
    assert speedup(random_x, random_y, random_x, random_y, "max") == 1.0
    assert speedup(random_x, random_y, [1.0], [NAN], "max") is None


def test_win_loss_counts_shared_seeds_only() -> None:
    a = {0: 0.9, 1: 0.7, 2: 0.8, 5: 1.0}
    b = {0: 0.8, 1: 0.75, 2: 0.8, 3: 0.1}
    assert win_loss(a, b, "max") == (1, 1, 1)
    assert win_loss(b, a, "max") == (1, 1, 1)
    assert win_loss(a, b, "min") == (1, 1, 1)
    assert win_loss({0: NAN}, {0: 0.1}, "max") == (0, 1, 0), "a score that is not a number loses"


def test_curves_share_one_grid_and_keep_their_final_best() -> None:
    short = Curve(np.array([1.0, 2.0]), np.array([0.5, 0.6]))
    long = Curve(np.array([1.0, 8.0]), np.array([0.4, 0.9]))
    grid = grid_for([short, long], n=5)
    assert grid.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert on_grid(short, grid)[1:].tolist() == [0.6, 0.6, 0.6, 0.6]
    b = band(grid, [on_grid(short, grid), on_grid(long, grid)])
    assert math.isnan(b.median[0]) and b.median[-1] == pytest.approx(0.75)
    assert b.low[-1] <= b.median[-1] <= b.high[-1]
