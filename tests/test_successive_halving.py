"""Successive halving: rung arithmetic, synchronous promotion, ties, early-stopped trials."""

from __future__ import annotations

import doctest

import pytest

from tunebench.space import Space
from tunebench.synthetic import play, seeded_curve
from tunebench.trial import Decision, Job, Result, TrialStatus

import schedulers.successive_halving
from schedulers.rungs import ceil_div, planned_steps
from schedulers.successive_halving import SuccessiveHalving, sh_rungs

SPACE = Space.from_spec({"x": {"uniform": [0, 1]}})


def test_rung_arithmetic() -> None:
    assert sh_rungs(81, 1, 81, 3) == [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
    assert sh_rungs(27, 3, 81, 3) == [(27, 3), (9, 9), (3, 27), (1, 81)]
    assert sh_rungs(81, 1, 100, 3) == [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]  # no extra rung at 100
    assert sh_rungs(81, 1, 30, 3) == [(81, 1), (27, 3), (9, 9), (3, 27)]  # capped below max_iter
    assert sh_rungs(10, 1, 81, 3) == [(10, 1), (3, 3), (1, 9)]  # n_i = floor(10 / 3**i) runs out
    assert sh_rungs(16, 2, 16, 2) == [(16, 2), (8, 4), (4, 8), (2, 16)]
    assert sh_rungs(1, 5, 5, 2) == [(1, 5)]


def test_planned_steps_counts_resumption() -> None:
    assert planned_steps([(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]) == 81 + 27 * 2 + 9 * 6 + 3 * 18 + 54
    assert planned_steps([(5, 81)]) == 405
    assert ceil_div(5 * 27, 4) == 34 and ceil_div(9, 3) == 3 and ceil_div(1, 2) == 1


@pytest.mark.parametrize("concurrency", [1, 4, 100])
def test_runs_its_plan_and_is_synchronous(concurrency: int) -> None:
    rungs = sh_rungs(27, 1, 27, 3)
    sh = SuccessiveHalving(SPACE, n_trials=27, min_iter=1, max_iter=27, eta=3)
    meta = sh.metadata()
    trace = play(sh, seeded_curve, concurrency)
    assert len(sh.trials) == meta["n_models"] == 27
    assert trace.steps == meta["partial_fit_calls"] == planned_steps(rungs)
    assert {r: sum(1 for res in trace.results if res.step == r) for _, r in rungs} == {1: 27, 3: 9, 9: 3, 27: 1}
    n_at = dict((r, n) for n, r in rungs)
    for job, seen in zip(trace.jobs, trace.seen):
        if job.start_step > 0:  # a promotion: every result of the rung below was in
            assert sum(1 for res in trace.results[:seen] if res.step == job.start_step) == n_at[job.start_step]


def test_survivors_are_the_top_scores_with_ties_to_the_lower_id() -> None:
    sh = SuccessiveHalving(SPACE, n_trials=9, min_iter=1, max_iter=9, eta=3)
    trace = play(sh, lambda job: 1.0, 3)
    survivors = sorted(j.trial_id for j in trace.jobs if j.start_step == 1)
    assert survivors == [0, 1, 2]
    assert [j.trial_id for j in trace.jobs if j.start_step == 3] == [0]
    assert sh.trials[0].status == TrialStatus.COMPLETED and sh.trials[0].steps == 9
    assert all(sh.trials[t].status == TrialStatus.STOPPED for t in range(1, 9))


@pytest.mark.parametrize("mode", ["max", "min"])
def test_mode_picks_the_right_end(mode: str) -> None:
    sh = SuccessiveHalving(SPACE, mode=mode, n_trials=9, min_iter=1, max_iter=9, eta=3)
    play(sh, lambda job: float(job.trial_id), 2)
    winner = [t.trial_id for t in sh.trials.values() if t.status == TrialStatus.COMPLETED]
    assert winner == ([8] if mode == "max" else [0])


def test_decisions_pause_until_the_rung_closes() -> None:
    sh = SuccessiveHalving(SPACE, n_trials=3, min_iter=1, max_iter=3, eta=3)
    jobs = [sh.suggest() for _ in range(4)]
    assert jobs[3] is None and all(j is not None for j in jobs[:3])
    scores = {0: 0.2, 1: 0.9, 2: 0.5}
    decisions = [sh.on_result(Result(j.trial_id, 1, scores[j.trial_id])) for j in jobs[:2] if j]
    assert decisions == [Decision.PAUSE, Decision.PAUSE]
    assert sh.suggest() is None  # rung 0 is still open
    assert sh.on_result(Result(2, 1, scores[2])) == Decision.STOP  # the last to report loses
    assert sh.trials[0].status == TrialStatus.STOPPED
    job = sh.suggest()
    assert job is not None and (job.trial_id, job.start_step, job.stop_step) == (1, 1, 3)
    assert sh.on_result(Result(1, 3, 0.95)) == Decision.COMPLETE
    assert sh.finished and sh.suggest() is None


def test_a_plateaued_trial_drops_out_and_the_rung_promotes_from_the_rest() -> None:
    def score(job: Job) -> float:
        if job.trial_id == 0:
            return 0.99  # the best, but flat
        return 0.1 * job.trial_id + 0.01 * job.stop_step

    sh = SuccessiveHalving(SPACE, n_trials=9, min_iter=3, max_iter=27, eta=3, patience=3)
    trace = play(sh, score, 2)
    t0 = sh.trials[0]
    assert t0.status == TrialStatus.STOPPED and t0.steps == 6
    at_9 = sorted(r.trial_id for r in trace.results if r.step == 9)
    assert at_9 == [7, 8]  # two of the three promoted to rung 1 remain
    assert [t.trial_id for t in sh.trials.values() if t.status == TrialStatus.COMPLETED] == [8]
    assert sh.trials[8].steps == 27 and sh.finished
    assert max(j.n_steps for j in trace.jobs) <= 3


def test_validation() -> None:
    for kwargs, key in [
        ({"n_trials": 0}, "n_trials"),
        ({"min_iter": 0}, "min_iter"),
        ({"min_iter": 10, "max_iter": 9}, "min_iter"),
        ({"max_iter": "81"}, "max_iter"),
        ({"eta": 1}, "eta"),
        ({"patience": -1}, "patience"),
    ]:
        with pytest.raises(ValueError, match=key):
            SuccessiveHalving(SPACE, **kwargs)


def test_doctests() -> None:
    assert doctest.testmod(schedulers.successive_halving).failed == 0


@pytest.mark.parametrize("mode", ["max", "min"])
def test_nan_and_infinite_scores_rank_last_at_a_rung(mode: str) -> None:
    sh = SuccessiveHalving(Space.from_spec({"x": {"uniform": [0, 1]}}), mode=mode, n_trials=9, min_iter=1, max_iter=9, eta=3)
    jobs = [sh.suggest() for _ in range(9)]
    good = {3: 0.3, 4: 0.4, 5: 0.5}
    bad = {0: float("nan"), 1: float("inf"), 2: float("-inf"), 6: float("nan"), 7: float("nan"), 8: float("nan")}
    for job in jobs:
        sh.on_result(Result(job.trial_id, 1, {**good, **bad}[job.trial_id], 1))
    promoted = sorted(j.trial_id for j in (sh.suggest() for _ in range(3)))
    assert promoted == [3, 4, 5]
