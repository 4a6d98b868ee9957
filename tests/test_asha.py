"""ASHA: rung levels, the promotion variant's pause and resume, the stopping variant's cuts."""

from __future__ import annotations

import doctest
from collections import Counter

import numpy as np
import pytest

from tunebench.space import Space
from tunebench.synthetic import play, seeded_curve
from tunebench.trial import Decision, Job, Result, TrialStatus

import schedulers.asha
from schedulers.asha import ASHA, PromotionRung, StoppingRung, rung_levels

SPACE = Space.from_spec({"x": {"uniform": [0, 1]}, "kind": {"choice": ["a", "b"]}})


def give(asha: ASHA, job: Job | None, score: float) -> Decision:
    assert job is not None
    return asha.on_result(Result(job.trial_id, job.stop_step, score, n_steps=job.n_steps))


def test_rung_levels() -> None:
    assert rung_levels(1, 3, 81) == [1, 3, 9, 27, 81]
    assert rung_levels(1, 3, 81, 1) == [3, 9, 27, 81]
    assert rung_levels(1, 3, 81, 4) == [81]
    assert rung_levels(1, 3, 100) == [1, 3, 9, 27, 81, 100]
    assert rung_levels(2, 2, 16) == [2, 4, 8, 16]
    assert rung_levels(5, 3, 5) == [5]
    assert rung_levels(10, 4, 12) == [10, 12]


def test_stopping_rung_follows_optunas_rule() -> None:
    rung = StoppingRung(1)
    assert rung.passes(0.5, 3)  # alone: the best so far
    assert not rung.passes(0.4, 3)
    assert rung.passes(0.5, 3)  # ties with the best pass
    assert not rung.passes(0.45, 3)  # 4 recorded: top 1
    assert [rung.passes(k, 3) for k in (0.1, 0.2)] == [False, False]
    assert rung.passes(0.5, 3)  # 7 recorded: top 2 are 0.5 and 0.5
    assert not rung.passes(0.49, 3)


def test_stopping_rung_matches_a_full_sort() -> None:
    rng = np.random.default_rng(0)
    rung, seen = StoppingRung(1), []
    for key in np.round(rng.random(500), 2):  # rounded: many ties
        seen.append(float(key))
        kth = sorted(seen, reverse=True)[max(1, len(seen) // 3) - 1]
        assert rung.passes(float(key), 3) == (key >= kth)


def test_promotion_rung() -> None:
    rung = PromotionRung(1)
    for tid, key in enumerate([0.5, 0.4, 0.5]):
        rung.add(key, tid)
    assert rung.promotable(3) == 0  # top floor(3/3) = 1: trial 0 (ties to the lower id)
    assert rung.pop() == 0
    assert rung.promotable(3) is None  # trial 2 ties with 0 but is not in the top 1
    rung.add(0.1, 3)
    assert rung.promotable(3) is None
    rung.add(0.1, 4)
    rung.add(0.1, 5)
    assert rung.promotable(3) == 2  # 6 recorded: the top 2 are trials 0 and 2
    assert rung.pop() == 2 and rung.promotable(3) is None


def test_promotion_rung_matches_a_full_sort() -> None:
    rng = np.random.default_rng(1)
    rung = PromotionRung(1)
    scores: dict[int, float] = {}
    promoted: set[int] = set()
    for tid in range(400):
        scores[tid] = float(np.round(rng.random(), 2))
        rung.add(scores[tid], tid)
        while True:
            ranked = sorted(scores, key=lambda t: (-scores[t], t))[: len(scores) // 3]
            expected = next((t for t in ranked if t not in promoted), None)
            assert rung.promotable(3) == expected
            if expected is None or rng.random() < 0.5:
                break
            promoted.add(rung.pop())


def test_promotion_pauses_and_resumes_from_the_highest_rung_first() -> None:
    asha = ASHA(SPACE, max_iter=4, grace=1, eta=2, n_trials=10)
    j0 = asha.suggest()
    assert (j0.trial_id, j0.start_step, j0.stop_step) == (0, 0, 1)  # type: ignore[union-attr]
    assert give(asha, j0, 0.5) == Decision.PAUSE
    assert asha.trials[0].status == TrialStatus.PAUSED
    j1 = asha.suggest()  # one result at rung 0: floor(1/2) = 0, so a new trial
    assert j1.trial_id == 1  # type: ignore[union-attr]
    give(asha, j1, 0.9)
    j = asha.suggest()  # trial 1 is the top half of rung 0: resumed from its checkpoint
    assert (j.trial_id, j.start_step, j.stop_step) == (1, 1, 2)  # type: ignore[union-attr]
    give(asha, j, 0.9)
    j2 = asha.suggest()
    assert j2.trial_id == 2  # type: ignore[union-attr]
    give(asha, j2, 0.7)
    j3 = asha.suggest()
    give(asha, j3, 0.8)  # rung 0: 1, 3, 2, 0 -> trial 3 is now in the top 2
    j = asha.suggest()
    assert (j.trial_id, j.start_step, j.stop_step) == (3, 1, 2)  # type: ignore[union-attr]
    j4 = asha.suggest()  # nothing else promotable yet: a new trial
    assert j4.trial_id == 4  # type: ignore[union-attr]
    give(asha, j, 0.85)  # rung 1: 1, 3 -> trial 1 promotable
    give(asha, j4, 0.95)  # rung 0: 4, 1, 3, 2, 0 -> trial 4 promotable too
    top = asha.suggest()
    assert (top.trial_id, top.start_step, top.stop_step) == (1, 2, 4)  # type: ignore[union-attr]
    j = asha.suggest()
    assert (j.trial_id, j.start_step, j.stop_step) == (4, 1, 2)  # type: ignore[union-attr]
    assert give(asha, top, 0.99) == Decision.COMPLETE
    assert asha.trials[1].steps == 4 and asha.trials[1].status == TrialStatus.COMPLETED


@pytest.mark.parametrize("concurrency", [1, 8])
def test_promotion_resumes_from_checkpoints_and_caps_steps(concurrency: int) -> None:
    asha = ASHA(SPACE, max_iter=27, grace=1, eta=3, n_trials=120, brackets=2)
    trace = play(asha, seeded_curve, concurrency)
    assert asha.finished and asha.suggest() is None
    last: dict[int, int] = {}
    for job in trace.jobs:
        assert job.start_step == last.get(job.trial_id, 0)
        last[job.trial_id] = job.stop_step
    assert any(j.start_step > 0 for j in trace.jobs)
    assert max(t.steps for t in asha.trials.values()) == 27
    assert all(t.steps <= 27 for t in asha.trials.values())
    assert Decision.PAUSE in trace.decisions and Decision.STOP not in trace.decisions[:-1]
    statuses = Counter(t.status for t in asha.trials.values())
    assert set(statuses) == {TrialStatus.COMPLETED, TrialStatus.STOPPED}  # left-over pauses are closed
    assert len(asha.trials) == 120
    for t in asha.trials.values():
        assert t.steps in rung_levels(1, 3, 27, t.tags["bracket"])
    assert {t.tags["bracket"] for t in asha.trials.values()} == {0, 1}
    assert all(j.stop_step == 3 for j in trace.jobs if j.start_step == 0 and asha.trials[j.trial_id].tags["bracket"] == 1)


def test_stopping_variant_stops_trials_by_optunas_rule() -> None:
    asha = ASHA(SPACE, max_iter=9, grace=1, eta=3, variant="stopping", n_trials=5)
    jobs = [asha.suggest() for _ in range(5)]
    assert [j.trial_id for j in jobs if j] == [0, 1, 2, 3, 4]
    assert asha.suggest() is None
    assert give(asha, jobs[0], 0.5) == Decision.CONTINUE  # best so far
    assert give(asha, jobs[1], 0.4) == Decision.STOP  # fewer than eta recorded and not the best
    assert give(asha, jobs[2], 0.6) == Decision.CONTINUE
    assert give(asha, jobs[3], 0.55) == Decision.STOP  # 4 recorded: top 1
    assert give(asha, jobs[4], 0.7) == Decision.CONTINUE
    assert asha.trials[1].status == TrialStatus.STOPPED
    resumed = [asha.suggest() for _ in range(3)]
    assert [(j.trial_id, j.start_step, j.stop_step) for j in resumed if j] == [(0, 1, 3), (2, 1, 3), (4, 1, 3)]


def test_stopping_variant_runs_to_the_end() -> None:
    asha = ASHA(SPACE, max_iter=27, variant="stopping", n_trials=60)
    trace = play(asha, seeded_curve, 6)
    assert asha.finished
    assert Decision.STOP in trace.decisions and Decision.PAUSE not in trace.decisions
    assert Counter(t.status for t in asha.trials.values()).keys() == {TrialStatus.STOPPED, TrialStatus.COMPLETED}
    assert all(t.steps <= 27 for t in asha.trials.values())


def test_unbounded_asha_never_finishes_by_itself() -> None:
    asha = ASHA(SPACE, max_iter=9)
    assert not asha.bounded
    trace = play(asha, seeded_curve, 4, total_steps=200)
    assert 200 - 9 < trace.steps <= 200 and not asha.finished
    with pytest.raises(ValueError, match="total_steps"):
        play(ASHA(SPACE), seeded_curve)


def test_min_mode_promotes_the_lowest() -> None:
    asha = ASHA(SPACE, mode="min", max_iter=4, grace=1, eta=2, n_trials=2)
    give(asha, asha.suggest(), 0.9)
    give(asha, asha.suggest(), 0.1)
    job = asha.suggest()
    assert job is not None and job.trial_id == 1 and job.start_step == 1


def test_validation() -> None:
    for kwargs, key in [
        ({"variant": "pruning"}, "variant"),
        ({"grace": 0}, "grace"),
        ({"grace": 100, "max_iter": 81}, "grace"),
        ({"brackets": 0}, "brackets"),
        ({"brackets": 6}, "brackets"),
        ({"n_trials": 0}, "n_trials"),
        ({"eta": 1}, "eta"),
        ({"max_iter": -3}, "max_iter"),
    ]:
        with pytest.raises(ValueError, match=key):
            ASHA(SPACE, **kwargs)


def test_doctests() -> None:
    assert doctest.testmod(schedulers.asha).failed == 0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_stopping_variant_stops_a_non_finite_score_even_first_at_a_rung(bad: float) -> None:
    for mode in ("max", "min"):
        asha = ASHA(SPACE, mode=mode, max_iter=9, grace=1, eta=3, variant="stopping", n_trials=3)
        jobs = [asha.suggest() for _ in range(3)]
        assert give(asha, jobs[0], bad) == Decision.STOP
        assert give(asha, jobs[1], 0.5) == Decision.CONTINUE


def test_promotion_variant_never_promotes_a_nan() -> None:
    asha = ASHA(SPACE, max_iter=9, grace=1, eta=3, n_trials=3)
    jobs = [asha.suggest() for _ in range(3)]
    for job in jobs:
        assert give(asha, job, float("nan")) == Decision.PAUSE or asha.finished
    assert asha.suggest() is None and asha.finished
    assert all(t.status == TrialStatus.STOPPED for t in asha.trials.values())


def bracket_shares(asha: ASHA, trace: object) -> list[float]:
    steps = [0] * asha.n_brackets
    for job in trace.jobs:  # type: ignore[attr-defined]
        steps[asha.trials[job.trial_id].tags["bracket"]] += job.n_steps
    return [s / sum(steps) for s in steps]


@pytest.mark.parametrize("variant", ["promotion", "stopping"])
def test_every_bracket_gets_a_comparable_share_of_the_steps(variant: str) -> None:
    from schedulers.asha import bracket_weights

    asha = ASHA(SPACE, seed=0, max_iter=27, grace=1, eta=3, brackets=4, variant=variant, n_trials=1500)
    shares = bracket_shares(asha, play(asha, seeded_curve, 4))
    assert max(abs(s - 0.25) for s in shares) < 0.05, shares
    assert sum(bracket_weights(asha.levels, 3)) == pytest.approx(1.0)


def test_bracket_draws_are_seeded() -> None:
    first = ASHA(SPACE, seed=5, max_iter=27, brackets=3, n_trials=60)
    second = ASHA(SPACE, seed=5, max_iter=27, brackets=3, n_trials=60)
    play(first, seeded_curve, 2)
    play(second, seeded_curve, 2)
    assert [t.tags["bracket"] for t in first.trials.values()] == [t.tags["bracket"] for t in second.trials.values()]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_promotion_a_failed_trial_gives_its_place_to_the_next_best(concurrency: int) -> None:
    """The best third of the trials crash once promoted past rung 0. Each leaves the rung's
    ranking (it can never be promoted again), so the next best waiting trials are promoted in
    its place, and trials still reach max_iter; a failed trial used to keep its place for good."""

    def good(job: Job) -> bool:
        return (job.seed % 10007) / 10007 > 0.7

    def crash_after_rung_0(job: Job) -> float:
        if job.start_step > 0 and good(job):
            raise RuntimeError("diverged")
        return seeded_curve(job)

    asha = ASHA(SPACE, max_iter=9, eta=3, n_trials=27)
    trace = play(asha, crash_after_rung_0, concurrency)
    failed = {t for t, trial in asha.trials.items() if trial.status is TrialStatus.FAILED}
    at_rung_0 = {r.trial_id: r.score for r in trace.results if r.step == 1}
    healthy = sorted((t for t in at_rung_0 if t not in failed), key=lambda t: (-at_rung_0[t], t))
    assert len(failed) == 27 // 3  # as many as rung 0 ever promotes: they held every place
    assert set(healthy[: 27 // 3]) <= {r.trial_id for r in trace.results if r.step == 3}
    assert any(r.step == 9 for r in trace.results)
    assert asha.finished


def test_an_unbounded_promotion_run_keeps_a_bounded_number_of_paused_checkpoints() -> None:
    """Without ``n_trials`` a promotion run goes on while its budget lasts; trials pause at
    rungs and most are never promoted. At most ``max_paused`` wait at each rung (the best: a
    promotion always takes the best waiting trial); one more stops the worst, and the loop
    releases its checkpoint. So the checkpoints held for paused trials stay bounded by
    ``max_paused`` times the rungs, whatever the number of trials; with no limit they grow
    with the trials."""
    from tunebench.loop import Budget, Loop
    from tunebench.synthetic import ScoreFnExecutor

    class Counting(ScoreFnExecutor):
        def __init__(self) -> None:
            super().__init__(seeded_curve, 4)
            self.released: set[int] = set()

        def release(self, trial_id: int) -> None:
            self.released.add(trial_id)

    def most_paused_held(asha: ASHA) -> int:
        ex, most = Counting(), [0]

        class Watch:
            def on_result(self, result: Result, decision: Decision) -> None:
                paused = [t for t, trial in asha.trials.items() if trial.status is TrialStatus.PAUSED and t not in ex.released]
                most[0] = max(most[0], len(paused))

            def __getattr__(self, name: str) -> object:
                return lambda *args: None

        Loop(asha, ex, ex.clock, [Watch()], Budget(total_steps=6000)).run()  # type: ignore[list-item]
        return most[0]

    assert ASHA(SPACE).max_paused == 64
    capped = ASHA(SPACE, max_iter=27, eta=3, max_paused=8)
    n_rungs = len(capped.rungs[0])
    assert most_paused_held(capped) <= 8 * n_rungs
    assert len(capped.trials) > 1000
    assert most_paused_held(ASHA(SPACE, max_iter=27, eta=3, max_paused=None)) > 20 * n_rungs


def test_the_paused_cap_changes_no_promotion_when_it_is_not_reached() -> None:
    """Promotion takes the best waiting trial, so stopping the worst ones changes no Job while
    the trials that would be promoted rank within ``max_paused`` of their rung's waiting ones."""
    jobs = [
        play(ASHA(SPACE, seed=3, max_iter=27, eta=3, n_trials=400, max_paused=cap), seeded_curve, 4).jobs for cap in (16, None)
    ]
    assert jobs[0] == jobs[1]
    with pytest.raises(ValueError, match="max_paused"):
        ASHA(SPACE, max_paused=0)
