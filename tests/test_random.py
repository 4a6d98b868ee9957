"""Random search: every trial trains to max_iter, reporting every ``report_every`` steps."""

from __future__ import annotations

import doctest

import pytest

from tunebench.space import Space
from tunebench.synthetic import play, seeded_curve
from tunebench.trial import Decision, TrialStatus

import schedulers.random_search
from schedulers.random_search import RandomSearch, report_steps

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-5, 1e-1]}, "penalty": {"choice": ["l2", "l1"]}})


def test_report_steps() -> None:
    assert report_steps(10, 4) == [4, 8, 10]
    assert report_steps(9, 3) == [3, 6, 9]
    assert report_steps(5, 1) == [1, 2, 3, 4, 5]
    assert report_steps(3, 10) == [3]


@pytest.mark.parametrize("report_every,concurrency", [(1, 1), (4, 3), (100, 2)])
def test_every_trial_gets_max_iter_steps(report_every: int, concurrency: int) -> None:
    rs = RandomSearch(SPACE, n_trials=6, max_iter=10, report_every=report_every)
    trace = play(rs, seeded_curve, concurrency)
    assert rs.finished and rs.suggest() is None
    assert len(rs.trials) == 6
    assert all(t.steps == 10 and t.status == TrialStatus.COMPLETED for t in rs.trials.values())
    assert trace.steps == rs.metadata()["partial_fit_calls"] == 60
    per_trial = report_steps(10, report_every)
    for tid in rs.trials:
        assert [r.step for r in trace.results if r.trial_id == tid] == per_trial
        assert sorted(rs.trials[tid].scores) == per_trial
    assert trace.decisions.count(Decision.COMPLETE) == 6
    assert set(trace.decisions) <= {Decision.CONTINUE, Decision.COMPLETE}
    assert all(j.n_steps <= report_every for j in trace.jobs)


def test_configs_come_from_the_space() -> None:
    rs = RandomSearch(SPACE, n_trials=30, max_iter=1, seed=3)
    play(rs, seeded_curve, 4)
    configs = [t.config for t in rs.trials.values()]
    assert all(SPACE.contains(c) for c in configs)
    assert len({c["alpha"] for c in configs}) == 30


def test_validation() -> None:
    for kwargs, key in [
        ({"n_trials": 0}, "n_trials"),
        ({"n_trials": None}, "n_trials"),
        ({"max_iter": 0}, "max_iter"),
        ({"report_every": 0}, "report_every"),
        ({"report_every": 2.0}, "report_every"),
    ]:
        with pytest.raises(ValueError, match=key):
            RandomSearch(SPACE, **kwargs)


def test_doctests() -> None:
    assert doctest.testmod(schedulers.random_search).failed == 0
