"""Searchers: random reproduces the searcher-less decisions; TPE and BOHB are seeded, lie about
pending trials (on the bad side only, and not about trials that ended), beat random on a clear
optimum at equal budgets on 1 and 8 workers, fit per budget, and plug into every scheduler and
into the config."""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np
import pytest

from tests.conftest import tiny_config
from tunebench.config import ConfigError, load_experiment
from tunebench.registry import load
from tunebench.searcher import Searcher
from tunebench.space import Space
from tunebench.synthetic import play, seeded_curve
from tunebench.trial import Decision, Job

from schedulers.searchers.bohb import BOHBSearcher
from schedulers.searchers.random_search import RandomSearcher
from schedulers.searchers.tpe import TPESearcher

SPACE = Space.from_spec(
    {
        "x": {"uniform": [0, 1]},
        "y": {"uniform": [0, 1]},
        "lr": {"loguniform": [1e-5, 1]},
        "c": {"choice": ["a", "b", "c"]},
        "loss": "log_loss",
    }
)
SCHEDULERS: dict[str, dict[str, Any]] = {
    "random": {"n_trials": 8, "max_iter": 9, "report_every": 3},
    "successive_halving": {"n_trials": 9, "max_iter": 9},
    "hyperband": {"max_iter": 9},
    "asha": {"max_iter": 9, "n_trials": 14, "brackets": 2},
    "pbt": {"n_trials": 4, "max_iter": 12, "perturbation_interval": 3},
}
SEEDS = range(10)


def quality(config: dict[str, Any]) -> float:
    """One clear optimum at x=0.73, y=0.21, lr=10**-1.5, c='b'."""
    d = (config["x"] - 0.73) ** 2 + (config["y"] - 0.21) ** 2 + ((math.log10(config["lr"]) + 1.5) / 5) ** 2
    return math.exp(-8 * d) + (0.1 if config["c"] == "b" else 0.0)


def objective(job: Job) -> float:
    return quality(job.config) * job.stop_step / (job.stop_step + 2)


def make(scheduler: str, searcher: str | None, seed: int = 0, space: Space = SPACE, **kw: Any) -> Any:
    s = load("searcher", searcher)(space, seed=seed, **kw) if searcher else None
    return load("scheduler", scheduler)(space, seed=seed, searcher=s, **SCHEDULERS[scheduler])


def jobs_of(trace: Any) -> list[tuple[Any, ...]]:
    return [(j.trial_id, j.config, j.start_step, j.stop_step, j.clone_from) for j in trace.jobs]


# -- random: today's decisions, bit for bit ---------------------------------------------


@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_random_searcher_reproduces_the_searcherless_job_sequence(scheduler: str) -> None:
    before = play(make(scheduler, None, seed=5), seeded_curve, concurrency=3)
    after = play(make(scheduler, "random", seed=5), seeded_curve, concurrency=3)
    assert jobs_of(after) == jobs_of(before)
    assert after.decisions == before.decisions and after.rows == before.rows


def test_the_config_default_is_the_random_searcher_on_the_schedulers_rng() -> None:
    exp = load_experiment(raw=tiny_config({"name": "asha", "max_iter": 9, "n_trials": 12, "brackets": 2}))
    sch = exp.build().scheduler
    assert isinstance(sch.searcher, RandomSearcher) and sch.searcher.rng is sch.rng
    assert exp.resolved()["searcher"] == {"name": "random", "pending": "none"}
    plain = load("scheduler", "asha")(sch.space, seed=0, **exp.scheduler_params)
    assert jobs_of(play(sch, seeded_curve, 2)) == jobs_of(play(plain, seeded_curve, 2))


# -- determinism -------------------------------------------------------------------------


@pytest.mark.parametrize("searcher", ["tpe", "bohb"])
@pytest.mark.parametrize("pending", ["none", "constant_liar"])
def test_model_searchers_are_deterministic_per_seed(searcher: str, pending: str) -> None:
    kw = {"pending": pending, "min_points": 4} if searcher == "tpe" else {"pending": pending}
    runs = [jobs_of(play(make("hyperband", searcher, seed, **kw), objective, concurrency=3)) for seed in (1, 1, 2)]
    assert runs[0] == runs[1] != runs[2]


@pytest.mark.parametrize(("searcher", "kw"), [("tpe", {"min_points": 4}), ("bohb", {"random_fraction": 0.0})])
def test_constant_liar_changes_concurrent_proposals(searcher: str, kw: dict[str, Any]) -> None:
    def jobs(pending: str, concurrency: int) -> list[tuple[Any, ...]]:
        s = load("searcher", searcher)(SPACE, seed=0, pending=pending, **kw)
        return jobs_of(
            play(load("scheduler", "asha")(SPACE, seed=0, searcher=s, max_iter=9, n_trials=30), objective, concurrency)
        )

    assert jobs("none", 4) != jobs("constant_liar", 4)
    assert jobs("none", 1) == jobs("constant_liar", 1)  # one worker: nothing is pending when a trial is proposed


def test_lies_are_the_worst_score_at_the_step() -> None:
    s = RandomSearcher(SPACE, seed=0, pending="constant_liar")
    configs = [s.suggest(t) for t in range(3)]
    s.observe(0, configs[0], 1, 0.4)
    s.observe(1, configs[1], 1, float("nan"))
    lies = s.lies(1)
    assert [c for c, _ in lies] == [configs[2]] and math.isnan(lies[0][1])
    assert RandomSearcher(SPACE, seed=0).lies(1) == []


# -- pending trials: lied about by default, never in BOHB's good set, dropped when they end --

PLANE = Space.from_spec({"x": {"uniform": [0, 1]}, "y": {"uniform": [0, 1]}})


def peak(config: dict[str, Any]) -> float:
    return -math.hypot(config["x"] - 0.73, config["y"] - 0.21)


def concurrent_spread(searcher: str, seed: int, **kw: Any) -> float:
    """Mean distance between 8 configs proposed while none of them has reported (8 workers
    starting trials at once), after 20 observations at one step."""
    s = load("searcher", searcher)(PLANE, seed=seed, **kw)
    for t in range(20):
        c = s.suggest(t)
        s.observe(t, c, 1, peak(c))
    batch = np.array([[c["x"], c["y"]] for c in (s.suggest(t) for t in range(20, 28))])
    return float(np.mean([np.hypot(*(a - b)) for i, a in enumerate(batch) for b in batch[i + 1 :]]))


def test_by_default_tpes_concurrent_proposals_spread_out() -> None:
    def spread(**kw: Any) -> float:
        return statistics.median(concurrent_spread("tpe", seed, **kw) for seed in SEEDS)

    lying, ignoring = spread(multivariate=False), spread(multivariate=False, pending="none")
    assert lying > 1.5 * ignoring  # one Parzen estimator per parameter collapses onto the good points without lies
    assert spread() > max(lying, spread(pending="none"))  # the default, multivariate with lies, spreads most


def test_by_default_bohb_proposes_with_the_pending_trials_on_the_bad_side() -> None:
    s = BOHBSearcher(PLANE, seed=0, random_fraction=0.0)
    for t in range(20):
        s.observe(t, s.suggest(t), 1, peak(s.configs[t]))
    pending = [s.suggest(t) for t in range(20, 28)]
    chosen = s.model_for_proposal()
    assert chosen is not None and chosen[1][1].n == s.models[1][1].n + len(pending)


@pytest.mark.parametrize("searcher", ["tpe", "bohb"])
def test_by_default_a_proposal_with_nothing_pending_is_the_one_ignoring_pending_trials(searcher: str) -> None:
    runs = [load("searcher", searcher)(PLANE, seed=3, **kw) for kw in ({}, {"pending": "none"})]
    for s in runs:
        for t in range(20):
            s.observe(t, s.suggest(t), 1, peak(s.configs[t]))
    assert runs[0].suggest(20) == runs[1].suggest(20)  # one worker: nothing to lie about, nothing to tune


def test_bohb_lies_join_the_bad_set_only() -> None:
    s = BOHBSearcher(PLANE, seed=0, pending="constant_liar", min_points_in_model=3, random_fraction=0.0)
    for t in range(20):
        s.observe(t, s.suggest(t), 1, peak(s.configs[t]))
    stored_good, stored_bad = s.models[1]
    for t in range(20, 36):
        s.suggest(t)
    chosen = s.model_for_proposal()
    assert chosen is not None
    budget, (good, bad) = chosen
    assert budget == 1 and good.n == stored_good.n == 3 and np.array_equal(good.data, stored_good.data)
    assert bad.n == stored_bad.n + 16


@pytest.mark.parametrize("searcher", ["tpe", "bohb"])
def test_no_lies_while_the_pending_trials_outnumber_the_observations(searcher: str) -> None:
    s = load("searcher", searcher)(PLANE, seed=0)
    for t in range(20):
        s.observe(t, s.suggest(t), 1, peak(s.configs[t]))
    for t in range(20, 40):
        s.suggest(t)
    assert len(s.pending_trials()) == 20 and len(s.lies(1)) == 20 and len(s.liars(20)) == 20
    s.suggest(40)
    assert s.lies(1) == [] and s.liars(20) == [] and s.liars(21) == s.pending_trials()
    assert load("searcher", searcher)(PLANE, seed=0, pending="none").liars(5) == []


def fails_first(job: Job) -> float:
    """Trials 1, 4, 7, ... raise on their first Job; the others score ``objective``."""
    if job.trial_id % 3 == 1:
        raise ValueError("diverged")
    return objective(job)


@pytest.mark.parametrize("searcher", ["tpe", "bohb"])
@pytest.mark.parametrize("scheduler", ["hyperband", "asha", "random"])  # pbt refuses a model-based searcher
def test_failed_trials_are_no_longer_pending(scheduler: str, searcher: str) -> None:
    kw = {"min_points": 3} if searcher == "tpe" else {}
    sch = make(scheduler, searcher, 0, pending="constant_liar", **kw)
    play(sch, fails_first, concurrency=4)
    failed = [t for t, trial in sch.trials.items() if trial.status.value == "failed"]
    assert failed and sch.searcher.pending_trials() == []


def test_a_trial_stopped_before_it_reported_is_no_longer_pending() -> None:
    sch = make("asha", "tpe", 0, pending="constant_liar")
    trial = sch.new_trial()
    assert sch.searcher.pending_trials() == [trial.trial_id]
    sch.set_status(trial, Decision.STOP)
    assert sch.searcher.pending_trials() == [] and sch.searcher.lies(1) == []


# -- model-based beats random at equal budgets and several worker counts ------------------

RACE_MAX_ITER = 27
RACE_BUDGET = 300  # steps for every contender: a little less than one whole Hyperband run
RACES: dict[str, dict[str, Any]] = {  # ASHA without n_trials: the budget ends it
    "hyperband": {"max_iter": RACE_MAX_ITER},
    "asha": {"max_iter": RACE_MAX_ITER},
}
OPTIMUM = 1.1 * RACE_MAX_ITER / (RACE_MAX_ITER + 2)  # objective() at the peak, trained to max_iter


def race(scheduler: str, searcher: str, seed: int, workers: int) -> tuple[float, int]:
    """Regret of the best score a searcher's run finds, and the steps it trained, at
    ``RACE_BUDGET`` steps on ``workers`` virtual workers with the searcher's defaults."""
    s = load("searcher", searcher)(SPACE, seed=seed)
    sch = load("scheduler", scheduler)(SPACE, seed=seed, searcher=s, **RACES[scheduler])
    trace = play(sch, objective, concurrency=workers, total_steps=RACE_BUDGET)
    return OPTIMUM - max(r.score for r in trace.results), trace.steps


@pytest.mark.parametrize("workers", [1, 8])
@pytest.mark.parametrize("scheduler", list(RACES))
@pytest.mark.parametrize("searcher", ["tpe", "bohb"])
def test_model_searchers_beat_random_at_equal_budgets(searcher: str, scheduler: str, workers: int) -> None:
    ours = [race(scheduler, searcher, seed, workers) for seed in SEEDS]
    baseline = [race(scheduler, "random", seed, workers) for seed in SEEDS]
    steps = {n for _, n in ours + baseline}
    assert max(steps) <= RACE_BUDGET and min(steps) > RACE_BUDGET - RACE_MAX_ITER  # one budget, all but spent
    assert statistics.median(r for r, _ in ours) < statistics.median(r for r, _ in baseline)


# -- BOHB's model is per budget ----------------------------------------------------------


def test_bohb_fits_one_model_per_budget_from_that_budgets_observations() -> None:
    bohb = BOHBSearcher(SPACE, seed=0, min_points_in_model=5)
    play(load("scheduler", "hyperband")(SPACE, seed=0, searcher=bohb, max_iter=27), objective)
    assert len(bohb.models) >= 2 and set(bohb.models) <= {1, 3, 9, 27}
    for budget, (good, bad) in bohb.models.items():
        observed = bohb.at_step(budget)
        ranked = sorted(observed, key=lambda cs: -cs[1])
        assert good.n + bad.n <= len(observed)
        best = np.array([bohb.encoding.encode(c) for c, _ in ranked[: good.n]])
        assert np.allclose(np.sort(good.data, axis=0), np.sort(best, axis=0))
    used = [b for b in bohb.budgets_used if b is not None]
    assert used and used == sorted(used)


def test_bohb_proposes_from_the_largest_budget_with_a_model() -> None:
    space = Space.from_spec({"x": {"uniform": [0, 1]}})
    s = BOHBSearcher(space, seed=0, min_points_in_model=3, random_fraction=0.0)
    configs = [s.suggest(t) for t in range(10)]
    for t, c in enumerate(configs):
        s.observe(t, c, 1, -abs(c["x"] - 0.2))
    assert sorted(s.models) == [1]
    for t, c in enumerate(configs[:5]):
        s.observe(t, c, 3, -abs(c["x"] - 0.8))
    assert sorted(s.models) == [1, 3]
    s.suggest(10)
    assert s.budgets_used[-1] == 3
    closest = sorted((c["x"] for c in configs[:5]), key=lambda x: abs(x - 0.8))[:3]
    assert sorted(s.models[3][0].data[:, 0].tolist()) == pytest.approx(sorted(closest))


# -- every scheduler, every searcher -----------------------------------------------------


@pytest.mark.parametrize("searcher", ["random", "tpe", "bohb"])
@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_searchers_work_with_every_scheduler(scheduler: str, searcher: str) -> None:
    kw = {"min_points": 3} if searcher == "tpe" else {}
    if scheduler == "pbt" and searcher != "random":  # it would steer only PBT's first population
        with pytest.raises(ValueError, match=f"searcher {searcher!r}: pbt takes only its first population"):
            make(scheduler, searcher, 3, **kw)
        return
    sch = make(scheduler, searcher, 3, **kw)
    trace = play(sch, objective, concurrency=2)
    s: Searcher = sch.searcher
    proposed = [t for t, trial in sch.trials.items() if trial.parent is None]
    assert s.pending_trials() == [] and sorted(s.configs) == sorted(sch.trials)
    assert all(SPACE.contains(sch.trials[t].config) for t in proposed)
    assert sum(len(v) for v in s.scores.values()) == len({(r.trial_id, r.step) for r in trace.results})
    if scheduler == "pbt":  # the initial population is the searcher's
        assert proposed == list(range(SCHEDULERS["pbt"]["n_trials"]))


# -- config and errors -------------------------------------------------------------------


def test_config_builds_the_named_searcher_into_the_scheduler() -> None:
    raw = {**tiny_config({"name": "hyperband", "max_iter": 9}), "searcher": {"name": "bohb", "top_n_percent": 20}}
    exp = load_experiment(raw=raw, overrides=["searcher.pending=constant_liar"])
    sch = exp.build().scheduler
    assert isinstance(sch.searcher, BOHBSearcher) and sch.searcher.top_n_percent == 20 and sch.searcher.pending == "constant_liar"
    assert exp.resolved()["searcher"]["name"] == "bohb"


@pytest.mark.parametrize(
    ("searcher", "message"),
    [
        ({"name": "nope"}, r"unknown searcher 'nope'; registered: bohb, random, tpe"),
        ({"name": "tpe", "gamma": 1}, r"unknown key searcher.gamma .*allowed: pending"),
        ({"name": "bohb", "pending": "always"}, r"searcher 'bohb': pending must be one of none, constant_liar, got 'always'"),
        ({"name": "bohb", "top_n_percent": 100}, r"top_n_percent must be a number in \(0, 100\), got 100"),
    ],
)
def test_searcher_config_errors_name_the_key(searcher: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_experiment(raw={**tiny_config({"name": "random", "n_trials": 2, "max_iter": 2}), "searcher": searcher})


def test_spaces_a_model_cannot_hold_are_refused_naming_the_parameter() -> None:
    space = Space.from_spec(
        {
            "opt": {"choice": ["a", "b"]},
            "lr": {"depends_on": "opt", "cases": {"a": {"uniform": [0, 1]}, "b": {"uniform": [1, 2]}}},
        }
    )
    with pytest.raises(ValueError, match=r"space.lr: a conditional domain"):
        BOHBSearcher(space)
    with pytest.raises(ValueError, match=r"searcher tpe: space.lr"):
        TPESearcher(space)
    with pytest.raises(ValueError, match="has mode 'min', the scheduler 'max'"):
        load("scheduler", "hyperband")(SPACE, searcher=TPESearcher(SPACE, mode="min"))


def test_a_scheduler_that_takes_no_searcher_refuses_a_model_one_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from tunebench import registry

    base = load("scheduler", "random")

    class Plain(base):  # type: ignore[misc, valid-type]
        """A third party's scheduler written before searchers: it samples the space itself."""

        name = "plain"

        def __init__(self, space: Any, *, seed: int = 0, mode: str = "max", n_trials: int = 2, max_iter: int = 2) -> None:
            super().__init__(space, seed=seed, mode=mode, n_trials=n_trials, max_iter=max_iter)

    real = registry.load
    monkeypatch.setattr(
        registry, "load", lambda kind, name: Plain if (kind, name) == ("scheduler", "plain") else real(kind, name)
    )
    raw = tiny_config({"name": "plain"})
    assert load_experiment(raw=raw).build().scheduler.searcher is None  # the default, random, is its own sampling
    with pytest.raises(ConfigError, match="scheduler 'plain' takes no searcher; leave out searcher 'tpe'"):
        load_experiment(raw={**raw, "searcher": {"name": "tpe"}})
    with pytest.raises(ConfigError, match="scheduler 'plain' takes no searcher"):
        load_experiment(raw={**raw, "searcher": {"name": "random", "pending": "constant_liar"}})
