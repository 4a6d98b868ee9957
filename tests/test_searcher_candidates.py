"""Searchers over a finite table of configs (issue 22): the simulated executor names its
recorded configs, the loop hands them through the scheduler to the searcher, random draws them
without replacement, TPE and BOHB score the fresh ones by their density ratio; TPE counts a
rung's losers as pruned; and on the shipped recording TPE and BOHB beat random sampling under
Hyperband and ASHA at 1 and 8 workers."""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np
import pytest

from tunebench.executors.simulated import SimulatedExecutor
from tunebench.loop import Budget, Loop
from tunebench.registry import load
from tunebench.space import Space
from tunebench.synthetic import play

from schedulers.searchers.kde import kde_logpdf
from schedulers.searchers.tpe import TPESearcher

PLANE = Space.from_spec({"x": {"uniform": [0, 1]}, "y": {"uniform": [0, 1]}})
GRID = [{"x": float(x), "y": float(y)} for x in np.linspace(0.05, 0.95, 10) for y in np.linspace(0.05, 0.95, 10)]


def peak(config: dict[str, Any]) -> float:
    return -math.hypot(config["x"] - 0.73, config["y"] - 0.21)


def observed(searcher: str, n: int = 20, seed: int = 0, **kw: Any) -> Any:
    """A searcher on ``GRID`` after ``n`` of its proposals were observed, one at a time, at step 1."""
    s = load("searcher", searcher)(PLANE, seed=seed, **kw)
    s.candidates(GRID)
    for t in range(n):
        c = s.suggest(t)
        s.observe(t, c, 1, peak(c))
    return s


# -- the hook --------------------------------------------------------------------------------


def test_the_table_keeps_the_configs_of_the_space_once_each() -> None:
    s = load("searcher", "random")(PLANE, seed=0)
    s.candidates([{"x": 0.5, "y": 0.5}, {"x": 0.5, "y": 0.5}, {"x": 2.0, "y": 0.5}, {"x": 0.1}])
    assert s.table == ({"x": 0.5, "y": 0.5},)
    s.candidates([{"x": 2.0, "y": 0.5}])
    assert s.table is None  # nothing of the space: proposals stay free
    assert PLANE.contains(s.suggest(0))


def test_random_draws_the_table_without_replacement_then_again() -> None:
    s = load("searcher", "random")(PLANE, seed=0)
    s.candidates(GRID)
    first = [s.suggest(t) for t in range(len(GRID))]
    assert sorted(map(str, first)) == sorted(map(str, GRID))  # each config exactly once
    assert first != GRID  # in a seeded random order
    second = [s.suggest(t) for t in range(len(GRID), len(GRID) + 10)]
    assert len({str(c) for c in second}) == 10 and all(c in GRID for c in second)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("searcher", ["tpe", "bohb"])
def test_model_searchers_propose_fresh_table_configs_better_than_a_draw(searcher: str, seed: int) -> None:
    s = observed(searcher, seed=seed)
    unseen = [c for c in GRID if c not in s.configs.values()]
    picks = [dict(c) for c in observed(searcher, 30, seed).configs.values()][20:]
    assert all(c in unseen for c in picks) and len({str(c) for c in picks}) == len(picks)
    assert statistics.median(peak(c) for c in picks) > statistics.median(peak(c) for c in unseen)


def test_bohb_proposes_the_fresh_candidate_with_the_largest_density_ratio() -> None:
    s = observed("bohb", random_fraction=0.0)
    chosen = s.model_for_proposal()
    assert chosen is not None
    good, bad = chosen[1]
    fresh = [s.table[i] for i in s.fresh()]
    vectors = np.array([s.encoding.encode(c) for c in fresh])
    best = fresh[int(np.argmax(kde_logpdf(good, vectors) - kde_logpdf(bad, vectors)))]
    assert s.suggest(20) == best


def test_tpe_scores_the_table_jointly_even_when_asked_for_one_estimator_per_parameter() -> None:
    s = observed("tpe", multivariate=False)
    assert all(s.suggest(t) in GRID for t in range(20, 25))


def test_a_table_configs_constants_are_filled_in_from_the_space() -> None:
    space = Space.from_spec({"x": {"uniform": [0, 1]}, "loss": "log_loss"})
    s = TPESearcher(space, seed=0, min_points=3)
    s.candidates([{"x": x} for x in np.linspace(0, 1, 9)])
    for t in range(6):
        c = s.suggest(t)
        s.observe(t, c, 1, -abs(c["x"] - 0.3))
    assert s.suggest(6) in s.table and s.table[0] == {"x": 0.0, "loss": "log_loss"}


# -- TPE's view of a rung's losers -------------------------------------------------------------


def test_tpe_fits_a_step_with_the_trials_that_stopped_below_it_as_pruned() -> None:
    from optuna.trial import TrialState

    s = TPESearcher(PLANE, seed=0, min_points=2)
    configs = [s.suggest(t) for t in range(4)]
    for t, c in enumerate(configs):
        s.observe(t, c, 1, 0.1 * t)
    s.observe(3, configs[3], 3, 0.5)
    s.observe(2, configs[2], 3, 0.4)
    s.observe(0, configs[0], 9, 0.9)  # first seen above step 3 only by its step-1 score: pruned at 1
    extra = s.suggest(4)
    s.observe(4, extra, 9, 0.7)  # seen only above step 3: not in a model at 3
    states = {t.params["x"]: t.state for t in s.study(3, 0).get_trials()}
    assert states == {
        configs[0]["x"]: TrialState.PRUNED,
        configs[1]["x"]: TrialState.PRUNED,
        configs[2]["x"]: TrialState.COMPLETE,
        configs[3]["x"]: TrialState.COMPLETE,
    }
    pruned = [t for t in s.study(3, 0).get_trials() if t.state == TrialState.PRUNED]
    assert sorted(t.intermediate_values[1] for t in pruned) == [0.0, 0.1]


# -- through the loop: executor -> scheduler -> searcher ---------------------------------------


@pytest.mark.parametrize("searcher", ["random", "tpe", "bohb"])
def test_on_the_simulated_executor_every_trial_replays_a_recorded_config_none_twice(searcher: str) -> None:
    ex = SimulatedExecutor("sgd-circles", n_workers=4)
    space = Space.from_spec(ex.curves.meta["space"])
    sch = load("scheduler", "asha")(space, seed=1, searcher=load("searcher", searcher)(space, seed=1), max_iter=9)
    Loop(sch, ex, ex.clock, [], Budget(total_steps=150)).run()
    configs = [t.config for t in sch.trials.values()]
    assert len(configs) > 40 and all(c in ex.curves.configs for c in configs)
    assert len({str(c) for c in configs}) == len(configs)
    assert ex.stats()["lookups_nearest"] == 0 and ex.stats()["lookups_exact"] == len(configs)


def test_without_a_searcher_or_under_configs_nearest_proposals_are_free() -> None:
    assert SimulatedExecutor("sgd-circles", configs="nearest").candidates() is None
    ex = SimulatedExecutor("sgd-circles", n_workers=2)
    assert ex.candidates() == ex.curves.configs and ex.stats()["configs"] == "table"
    space = Space.from_spec(ex.curves.meta["space"])
    sch = load("scheduler", "hyperband")(space, seed=5, max_iter=9)  # samples the space itself
    Loop(sch, ex, ex.clock, []).run()
    assert ex.stats()["lookups_nearest"] == len(sch.trials)
    with pytest.raises(ValueError, match="configs must be one of table, nearest"):
        SimulatedExecutor("sgd-circles", configs="grid")


def test_synthetic_play_has_no_table() -> None:
    s = load("searcher", "random")(PLANE, seed=0)
    play(load("scheduler", "asha")(PLANE, seed=0, searcher=s, max_iter=3, n_trials=4), lambda job: 0.5)
    assert s.table is None


# -- the recording: model-based search beats random sampling at equal budgets -------------------

RECORDED_BUDGET = 180  # steps: half of Hyperband's plan at max_iter 27 (357), so neither covers the table
RECORDED_SEEDS = range(10)


def best_on_recording(scheduler: str, searcher: str, seed: int, workers: int) -> float:
    """The best trial's last score after ``RECORDED_BUDGET`` steps on the sgd-circles recording
    (the report's final validation score), with every searcher's defaults."""
    ex = SimulatedExecutor("sgd-circles", n_workers=workers)
    space = Space.from_spec(ex.curves.meta["space"])
    sch = load("scheduler", scheduler)(space, seed=seed, searcher=load("searcher", searcher)(space, seed=seed), max_iter=27)
    out = Loop(sch, ex, ex.clock, [], Budget(total_steps=RECORDED_BUDGET)).run()
    assert out.best is not None and RECORDED_BUDGET - 27 < out.steps <= RECORDED_BUDGET
    return float(sch.trials[out.best].last_score)


@pytest.mark.parametrize("workers", [1, 8])
@pytest.mark.parametrize("scheduler", ["hyperband", "asha"])
@pytest.mark.parametrize("searcher", ["tpe", "bohb"])
def test_model_searchers_beat_random_sampling_on_the_recording(searcher: str, scheduler: str, workers: int) -> None:
    ours = statistics.median(best_on_recording(scheduler, searcher, seed, workers) for seed in RECORDED_SEEDS)
    baseline = statistics.median(best_on_recording(scheduler, "random", seed, workers) for seed in RECORDED_SEEDS)
    assert ours > baseline
