"""Hyperband: the bracket table, the plan against what it does, interleaving, patience."""

from __future__ import annotations

import doctest
import math

import pytest

from tunebench.space import Space
from tunebench.synthetic import play, seeded_curve
from tunebench.trial import Decision, Job, TrialStatus

import schedulers.hyperband
import schedulers.rungs
from schedulers.hyperband import Hyperband, hyperband_brackets, hyperband_plan, max_bracket
from schedulers.rungs import plateaued

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-5, 1e-1]}, "l1_ratio": {"uniform": [0, 1]}})


def improving(job: Job) -> float:
    """Strictly rising curves: nothing ever plateaus."""
    return seeded_curve(job) + job.stop_step * 1e-2


def test_table_r81_eta3_matches_the_paper() -> None:
    assert hyperband_brackets(81, 3) == [
        (4, [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]),
        (3, [(34, 3), (11, 9), (3, 27), (1, 81)]),
        (2, [(15, 9), (5, 27), (1, 81)]),
        (1, [(8, 27), (2, 81)]),
        (0, [(5, 81)]),
    ]


def test_table_r243_eta3_has_six_brackets() -> None:
    assert hyperband_brackets(243, 3) == [
        (5, [(243, 1), (81, 3), (27, 9), (9, 27), (3, 81), (1, 243)]),
        (4, [(98, 3), (32, 9), (10, 27), (3, 81), (1, 243)]),
        (3, [(41, 9), (13, 27), (4, 81), (1, 243)]),
        (2, [(18, 27), (6, 81), (2, 243)]),
        (1, [(9, 81), (3, 243)]),
        (0, [(6, 243)]),
    ]


@pytest.mark.parametrize("eta", [2, 3, 4, 5])
def test_bracket_count_uses_integer_arithmetic(eta: int) -> None:
    for k in range(0, 16):
        assert max_bracket(eta**k, eta) == k
        if k:
            assert max_bracket(eta**k - 1, eta) == k - 1
    assert math.floor(math.log(243) / math.log(3)) == 4  # the float trap the integer loop avoids
    assert max_bracket(243, 3) == 5


def test_every_bracket_ends_at_max_iter_and_rungs_grow() -> None:
    for R, eta in [(81, 3), (100, 3), (64, 2), (30, 4), (1, 2)]:
        for _, rungs in hyperband_brackets(R, eta):
            assert rungs[-1][1] == R
            assert all(a[1] < b[1] and a[0] > b[0] for a, b in zip(rungs, rungs[1:]))
            assert rungs[-1][0] >= 1


def test_metadata_shape() -> None:
    meta = Hyperband(SPACE, max_iter=81, eta=3).metadata()
    assert meta["n_models"] == 143 and meta["partial_fit_calls"] == 1581
    assert [b["bracket"] for b in meta["brackets"]] == [4, 3, 2, 1, 0]
    assert meta["brackets"][1] == {
        "bracket": 3,
        "n_models": 34,
        "partial_fit_calls": 34 * 3 + 11 * 6 + 3 * 18 + 54,
        "rungs": [[34, 3], [11, 9], [3, 27], [1, 81]],
    }
    assert hyperband_plan(81, 3) == {"n_models": 143, "partial_fit_calls": 1581}


@pytest.mark.parametrize(
    "R,eta,concurrency", [(81, 3, 1), (81, 3, 8), (243, 3, 5), (100, 3, 3), (64, 2, 4), (30, 4, 2), (1, 2, 1)]
)
def test_planned_equals_done(R: int, eta: int, concurrency: int) -> None:
    hb = Hyperband(SPACE, max_iter=R, eta=eta, seed=1)
    meta = hb.metadata()
    trace = play(hb, seeded_curve, concurrency)
    assert hb.finished
    assert len(hb.trials) == meta["n_models"]
    assert trace.steps == sum(t.steps for t in hb.trials.values()) == meta["partial_fit_calls"]
    for plan in meta["brackets"]:
        members = [t for t in hb.trials.values() if t.tags["bracket"] == plan["bracket"]]
        assert len(members) == plan["n_models"]
        assert sum(t.steps for t in members) == plan["partial_fit_calls"]
    assert max(t.steps for t in hb.trials.values()) == R
    assert {t.status for t in hb.trials.values()} <= {TrialStatus.STOPPED, TrialStatus.COMPLETED}


def test_brackets_run_side_by_side_longest_work_first() -> None:
    hb = Hyperband(SPACE, max_iter=81, eta=3, bracket_order="longest_first")
    assert [b.steps_to_go for b in hb.brackets] == [p["partial_fit_calls"] for p in hb.metadata()["brackets"]]
    jobs = [hb.suggest() for _ in range(40)]
    brackets = [hb.trials[j.trial_id].tags["bracket"] for j in jobs if j]
    # bracket 0 plans 405 steps, bracket 1 324, bracket 4 297, bracket 2 279, bracket 3 276
    assert brackets[:4] == [0, 1, 0, 4]
    assert set(brackets) == {0, 1, 2, 3, 4}
    assert sum(b.steps_to_go for b in hb.brackets) == 1581 - sum(j.n_steps for j in jobs if j)


@pytest.mark.parametrize("R,workers,slack", [(81, 2, 1.01), (243, 2, 1.02), (27, 4, 1.03), (81, 8, 1.10)])
def test_longest_work_first_keeps_workers_busy_to_the_end(R: int, workers: int, slack: float) -> None:
    hb = Hyperband(SPACE, max_iter=R, eta=3, bracket_order="longest_first")
    trace = play(hb, seeded_curve, workers)
    makespan = trace.results[-1].elapsed_s
    assert makespan <= slack * trace.steps / workers
    assert all(b.steps_to_go == 0 and b.ready_steps == 0 for b in hb.brackets)


@pytest.mark.parametrize("R,workers,slack", [(81, 2, 1.03), (243, 2, 1.04), (27, 4, 1.16), (81, 8, 1.09)])
def test_aggressive_first_default_still_keeps_workers_busy(R: int, workers: int, slack: float) -> None:
    """The default serves the most aggressive bracket that can hand out a Job, so the passive
    brackets' long Jobs start later than under longest-first and the plan can end a little
    later (a few percent with few workers, up to the length of one deep Job on a small plan
    with many); every Job still goes out while any bracket has one, and the whole plan runs."""
    hb = Hyperband(SPACE, max_iter=R, eta=3)
    trace = play(hb, seeded_curve, workers)
    assert trace.results[-1].elapsed_s <= slack * trace.steps / workers
    assert trace.steps == hb.metadata()["partial_fit_calls"]


def test_survivors_resume_from_their_checkpoint() -> None:
    hb = Hyperband(SPACE, max_iter=27, eta=3)
    trace = play(hb, seeded_curve, 4)
    last: dict[int, int] = {}
    for job in trace.jobs:
        assert job.start_step == last.get(job.trial_id, 0)
        last[job.trial_id] = job.stop_step
    assert any(job.start_step > 0 for job in trace.jobs)


def test_plateau_rule() -> None:
    assert not plateaued({3: 0.5}, 3, 3, 0.0, "max")
    assert plateaued({3: 0.5, 6: 0.5}, 6, 3, 0.0, "max")
    assert not plateaued({3: 0.5, 6: 0.6}, 6, 3, 0.001, "max")
    assert plateaued({3: 0.5, 6: 0.5005}, 6, 3, 0.001, "max")
    assert plateaued({3: 0.5, 6: 0.6}, 6, 3, 0.001, "min")
    assert not plateaued({3: 0.5, 6: 0.4}, 6, 3, 0.001, "min")
    assert plateaued({1: 0.1, 2: 0.9, 3: 0.9, 4: 0.9}, 4, 2, 0.0, "max")  # only the last 2 steps count
    assert plateaued({1: float("nan"), 2: float("nan")}, 2, 1, 0.0, "max")


def test_patience_splits_jobs_and_keeps_the_plan_when_nothing_plateaus() -> None:
    hb = Hyperband(SPACE, max_iter=27, eta=3, patience=4)
    meta = hb.metadata()
    trace = play(hb, improving, 3)
    assert max(j.n_steps for j in trace.jobs) == 4
    assert len(hb.trials) == meta["n_models"] and trace.steps == meta["partial_fit_calls"]
    assert Decision.CONTINUE in trace.decisions


def test_patience_stops_flat_trials_early() -> None:
    hb = Hyperband(SPACE, max_iter=27, eta=3, patience=2)
    planned = hb.metadata()["partial_fit_calls"]
    trace = play(hb, lambda job: 0.5, 2)
    assert hb.finished
    assert trace.steps < planned
    assert {t.status for t in hb.trials.values()} == {TrialStatus.STOPPED}
    # a flat trial is judged once it has two scores at most `patience` steps apart
    assert max(t.steps for t in hb.trials.values()) == 4


def test_validation_errors_name_the_key() -> None:
    for kwargs, key in [
        ({"eta": 1}, "eta"),
        ({"eta": 2.5}, "eta"),
        ({"eta": "3"}, "eta"),
        ({"eta": True}, "eta"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 81.0}, "max_iter"),
        ({"patience": 0}, "patience"),
        ({"patience": 1.5}, "patience"),
        ({"tol": -0.1}, "tol"),
        ({"tol": "small"}, "tol"),
        ({"mode": "up"}, "mode"),
    ]:
        with pytest.raises(ValueError, match=key):
            Hyperband(SPACE, **kwargs)


def test_result_without_a_job_is_refused() -> None:
    from tunebench.trial import Result

    hb = Hyperband(SPACE, max_iter=9)
    job = hb.suggest()
    assert job is not None
    hb.on_result(Result(job.trial_id, job.stop_step, 0.5))
    with pytest.raises(ValueError, match="no Job out"):
        hb.on_result(Result(job.trial_id, job.stop_step, 0.5))


@pytest.mark.parametrize("module", [schedulers.hyperband, schedulers.rungs])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_nan_scores_rank_last_in_every_bracket() -> None:
    """Every third trial diverges; a diverged trial is promoted only when a rung has too few others."""

    def sometimes_nan(job: Job) -> float:
        return float("nan") if job.trial_id % 3 == 0 else seeded_curve(job)

    for mode in ("max", "min"):
        hb = Hyperband(SPACE, mode=mode, max_iter=27, eta=3)
        trace = play(hb, sometimes_nan, concurrency=3)
        assert trace.steps == hb.metadata()["partial_fit_calls"]
        for bracket in {t.tags["bracket"] for t in hb.trials.values()}:
            members = [t for t in hb.trials.values() if t.tags["bracket"] == bracket]
            finite_ids = [t for t in members if t.trial_id % 3]
            promoted = [t for t in members if t.steps > min(m.steps for m in members)]
            if len(promoted) <= len(finite_ids):
                assert all(t.trial_id % 3 for t in promoted)


def bracket_shares(hb: Hyperband, trace: object) -> dict[int, float]:
    steps = {b.index: 0 for b in hb.brackets}
    for r in trace.results:  # type: ignore[attr-defined]
        steps[hb.trials[r.trial_id].tags["bracket"]] += r.n_steps
    total = sum(steps.values())
    return {b: s / total for b, s in steps.items()}


@pytest.mark.parametrize("workers", [1, 4])
def test_under_a_step_budget_the_most_aggressive_bracket_goes_first(workers: int) -> None:
    """300 of R=81's 1,581 steps: every Job goes to the most aggressive bracket that can hand
    one out, so bracket s=4 gets more than any other and at least its planned share."""
    hb = Hyperband(SPACE, max_iter=81, eta=3)
    hb.set_budget(300)
    assert hb.order == "aggressive_first"
    trace = play(hb, improving, workers, total_steps=300)
    shares = bracket_shares(hb, trace)
    planned = {p["bracket"]: p["partial_fit_calls"] / 1581 for p in hb.metadata()["brackets"]}
    assert shares[4] == max(shares.values()) and shares[4] >= planned[4]
    assert shares[0] == 0.0
    assert hb.metadata()["partial_fit_calls"] == 1581


def test_balanced_order_keeps_every_bracket_near_its_planned_share() -> None:
    hb = Hyperband(SPACE, max_iter=81, eta=3, bracket_order="balanced")
    hb.set_budget(300)
    trace = play(hb, improving, 4, total_steps=300)
    shares = bracket_shares(hb, trace)
    planned = {p["bracket"]: p["partial_fit_calls"] / 1581 for p in hb.metadata()["brackets"]}
    assert all(abs(shares[b] - planned[b]) < 0.05 for b in planned), shares


def test_bracket_order_defaults_and_validation() -> None:
    hb = Hyperband(SPACE)
    assert hb.bracket_order == hb.order == "aggressive_first"
    hb.set_budget(None)
    assert hb.order == "aggressive_first"
    assert hb.metadata()["bracket_order"] == "aggressive_first"
    assert Hyperband(SPACE, bracket_order="balanced").order == "balanced"
    legacy = Hyperband(SPACE, bracket_order="auto")  # what runs journaled before the default changed resume with
    assert legacy.order == "longest_first"
    legacy.set_budget(300)
    assert legacy.order == legacy.metadata()["bracket_order"] == "aggressive_first"
    with pytest.raises(
        ValueError, match="bracket_order must be one of aggressive_first, longest_first, balanced, auto, got 'fifo'"
    ):
        Hyperband(SPACE, bracket_order="fifo")
    first = play(Hyperband(SPACE, max_iter=27, bracket_order="aggressive_first"), seeded_curve, 3)
    again = play(Hyperband(SPACE, max_iter=27, bracket_order="aggressive_first"), seeded_curve, 3)
    assert first.jobs == again.jobs


def time_to_target(order: str | None, seed: int, workers: int, target: float) -> float:
    """Virtual seconds until a result reaches ``target``: Hyperband (R=81) on the shipped SGD
    recording, as bench-sgd runs it, on the simulated executor."""
    from tunebench.executors.simulated import SimulatedExecutor
    from tunebench.loop import Budget, Loop
    from tunebench.sinks import Trace
    from tunebench.workloads.sgd import SGDWorkload

    ex = SimulatedExecutor("sgd-circles", n_workers=workers)
    ex.start()
    trace = Trace()
    space = SGDWorkload(dataset="circles", n_samples=10000).default_space()
    kwargs = {} if order is None else {"bracket_order": order}
    Loop(Hyperband(space, seed=seed, max_iter=81, **kwargs), ex, ex.clock, [trace], Budget(target_score=target)).run()
    return next((r.elapsed_s for r in trace.results if r.score >= target), math.inf)


@pytest.mark.parametrize("workers", [2, 8])
def test_default_order_reaches_a_target_no_later_than_longest_first(workers: int) -> None:
    """Under the old default (longest-first without a step budget) Hyperband ran like random
    search until its full-length brackets finished; the default reaches bench-sgd's 0.92 sooner
    over ten seeds, and no later on all but a couple of them."""
    seeds = range(10)
    default = [time_to_target(None, s, workers, 0.92) for s in seeds]
    old = [time_to_target("longest_first", s, workers, 0.92) for s in seeds]
    assert max(default) < math.inf
    assert sorted(default)[5] < sorted(old)[5]
    assert sum(d <= o for d, o in zip(default, old)) >= 8


def test_the_run_records_the_bracket_order(tmp_path: object) -> None:
    from pathlib import Path

    from tunebench.config import load_experiment
    from tunebench.run import run
    from tunebench.store import read_journal

    raw = {
        "seed": 0,
        "workload": {"name": "sgd", "dataset": "circles", "n_samples": 10000},
        "scheduler": {"name": "hyperband", "max_iter": 9},
        "executor": {"name": "simulated", "curves": "sgd-circles", "n_workers": 2},
    }
    out = run(load_experiment(raw=raw), Path(str(tmp_path)) / "r", progress=False)
    start = next(e for e in read_journal(out.out_dir) if e["kind"] == "start")
    assert start["config"]["scheduler"]["bracket_order"] == "aggressive_first"
    assert out.summary["metadata"]["bracket_order"] == "aggressive_first"
    assert out.summary["config"]["scheduler"]["bracket_order"] == "aggressive_first"
