"""Hyperband's ``rounds``: whole iterations one after another, the next opening only when the
open ones cannot hand out a Job; ``null`` runs until a budget ends the run."""

from __future__ import annotations

import pytest

from tunebench.config import ConfigError, load_experiment
from tunebench.loop import Budget, Loop
from tunebench.registry import load
from tunebench.sinks import Trace
from tunebench.space import Space
from tunebench.synthetic import ScoreFnExecutor, play, seeded_curve

SPACE = Space.from_spec({"x": {"uniform": [0, 1]}})


def hyperband(**kw: object):
    return load("scheduler", "hyperband")(SPACE, max_iter=9, eta=3, seed=3, **kw)


@pytest.mark.parametrize("workers", [1, 4])
def test_rounds_repeat_the_whole_plan(workers: int) -> None:
    one, two = hyperband(), hyperband(rounds=2)
    t1, t2 = play(one, seeded_curve, workers), play(two, seeded_curve, workers)
    assert t2.steps == 2 * t1.steps == two.metadata()["partial_fit_calls"]
    assert len(two.trials) == 2 * len(one.trials) == two.metadata()["n_models"]
    assert two.metadata()["rounds"] == 2 and len(two.metadata()["brackets"]) == 3


def test_next_round_opens_only_when_the_first_is_done_on_one_worker() -> None:
    hb = hyperband(rounds=2)
    trace = play(hb, seeded_curve, 1)
    first_round = hyperband().metadata()["n_models"]
    created = [tid for tid in hb.trials if tid >= first_round]
    first_result_of_round_two = min(i for i, r in enumerate(trace.results) if r.trial_id in created)
    assert all(r.trial_id < first_round for r in trace.results[:first_result_of_round_two])
    assert {r.trial_id for r in trace.results[:first_result_of_round_two]} == set(range(first_round))


def test_unbounded_rounds_run_until_the_evaluations_budget() -> None:
    hb = hyperband(rounds=None)
    assert not hb.bounded and hb.metadata()["n_models"] is None
    executor = ScoreFnExecutor(seeded_curve, 2)
    trace = Trace()
    outcome = Loop(hb, executor, executor.clock, [trace], Budget(evaluations=100)).run()
    assert outcome.stop_reason == "evaluations" and len(trace.results) == 100
    assert hb.rounds_open >= 5  # one round at max_iter 9 is 13 + 6 + 3 = 22 Jobs


def test_same_seed_same_decisions_across_rounds() -> None:
    a, b = play(hyperband(rounds=3), seeded_curve, 3), play(hyperband(rounds=3), seeded_curve, 3)
    assert [(r.trial_id, r.step, r.score) for r in a.results] == [(r.trial_id, r.step, r.score) for r in b.results]


def test_unbounded_rounds_without_a_budget_are_refused() -> None:
    raw = {"workload": {"name": "mfh3"}, "scheduler": {"name": "hyperband", "max_iter": 9, "rounds": None}}
    with pytest.raises(ConfigError, match="budget.evaluations"):
        load_experiment(raw=raw)
    with pytest.raises(ConfigError, match="rounds"):
        load_experiment(raw={**raw, "scheduler": {"name": "hyperband", "max_iter": 9, "rounds": 0}})
