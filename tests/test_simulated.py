"""The simulated executor: replayed curves through the real loop, checkpoint checks, queues,
budgets, and Hyperband deciding exactly as it does on the local executor."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tunebench.cli.record import record
from tunebench.config import ConfigError, load_experiment
from tunebench.executors.base import ExecutorError
from tunebench.executors.simulated import SimulatedExecutor
from tunebench.run import run
from tunebench.trial import Job

TINY = ["workload.n_samples=600", "executor.name=local"]


@pytest.fixture(scope="module")
def curves(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six SGD configs recorded to step 9 on the local executor."""
    d = tmp_path_factory.mktemp("curves")
    return record("configs/sgd-random.yaml", 6, d / "tiny.parquet", TINY, max_iter=9, run_dir=d / "run", progress=False)


def sim(curves: Path, tmp_path: Path, *sets: str, name: str = "out") -> object:
    raw = {
        "seed": 0,
        "workload": {"name": "sgd", "dataset": "circles", "n_samples": 600},
        "scheduler": {"name": "hyperband", "max_iter": 9},
        "executor": {"name": "simulated", "curves": str(curves), "n_workers": 4},
    }
    return run(load_experiment(raw=raw, overrides=list(sets)), tmp_path / name, progress=False)


SCHEDULERS = {
    "random": ["scheduler.name=random", "scheduler.n_trials=5"],
    "successive_halving": ["scheduler.name=successive_halving", "scheduler.n_trials=9"],
    "hyperband": ["scheduler.name=hyperband"],
    "asha-promotion": ["scheduler.name=asha", "scheduler.n_trials=12", "scheduler.variant=promotion"],
    "asha-stopping": ["scheduler.name=asha", "scheduler.n_trials=12", "scheduler.variant=stopping"],
    "pbt-synch": ["scheduler.name=pbt", "scheduler.n_trials=4", "scheduler.synch=true"],
    "pbt-async": ["scheduler.name=pbt", "scheduler.n_trials=4", "scheduler.synch=false"],
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_scheduler_completes(curves: Path, tmp_path: Path, name: str) -> None:
    out = sim(curves, tmp_path, *SCHEDULERS[name])
    s = out.summary
    assert s["status"] == "completed" and s["virtual_time"] is True
    assert s["partial_fit_calls"] > 0 and s["test_score"] is not None
    stats = s["executor_stats"]
    assert stats["lookups_exact"] + stats["lookups_nearest"] >= 1
    assert s["wall_time_s"] == pytest.approx(stats["virtual_time_s"])


def test_deterministic_run_to_run(curves: Path, tmp_path: Path) -> None:
    sets = ["scheduler.name=asha", "scheduler.n_trials=20", "executor.arrival=shuffled", "executor.arrival_seed=3"]
    a, b = sim(curves, tmp_path, *sets, name="a"), sim(curves, tmp_path, *sets, name="b")
    pd.testing.assert_frame_equal(a.results, b.results)
    pd.testing.assert_frame_equal(a.trials, b.trials)
    c = sim(curves, tmp_path, *sets[:-1], "executor.arrival_seed=4", name="c")
    assert list(c.results["trial_id"]) != list(a.results["trial_id"])


def test_hyperband_same_decisions_on_local_and_simulated(tmp_path: Path) -> None:
    hb = ["scheduler.max_iter=9", "scheduler.eta=3", *TINY]
    local = run(load_experiment("configs/sgd-hyperband.yaml", hb), tmp_path / "local", progress=False)
    n = local.summary["metadata"]["n_models"]
    replay = run(
        load_experiment("configs/sgd-random.yaml", [f"scheduler.n_trials={n}", "scheduler.max_iter=9", *TINY]),
        tmp_path / "random",
        progress=False,
    )
    configs = lambda t: dict(zip(t["trial_id"], t["config"]))  # noqa: E731
    assert configs(replay.trials) == configs(local.trials)  # same seed: the same configs in trial-id order
    exp = load_experiment(
        "configs/sgd-hyperband.yaml",
        [
            *hb,
            "executor.name=simulated",
            f"executor.curves={tmp_path / 'random'}",
            "executor.n_workers=3",
            "executor.configs=nearest",
        ],
    )  # the configs as drawn
    simulated = run(exp, tmp_path / "sim", progress=False)
    steps = lambda r: dict(zip(r.trials["trial_id"], r.trials["steps"]))  # noqa: E731
    assert steps(simulated) == steps(local)
    for key in ("best_trial", "best_score", "best_config", "partial_fit_calls"):
        assert simulated.summary[key] == local.summary[key]
    assert simulated.summary["executor_stats"]["lookups_nearest"] == 0


@pytest.mark.parametrize("budget, reason", [("budget.total_steps=20", "total_steps"), ("budget.wall_time_s=0.05", "wall_time_s")])
def test_budgets_stop_simulated_runs(curves: Path, tmp_path: Path, budget: str, reason: str) -> None:
    out = sim(curves, tmp_path, "scheduler.name=asha", "executor.step_s=0.01", "executor.score_s=0.0", budget)
    assert out.summary["stop_reason"] == reason
    if reason == "total_steps":
        assert out.summary["partial_fit_calls"] <= 20
    else:
        assert out.summary["wall_time_s"] >= 0.05 and out.results["elapsed_s"].iloc[:-4].max() < 0.05 + 0.09


def test_target_score_stops(curves: Path, tmp_path: Path) -> None:
    out = sim(curves, tmp_path, "scheduler.name=asha", "scheduler.n_trials=50", "budget.target_score=0.0")
    assert out.summary["stop_reason"] == "target_score"
    assert out.summary["n_results"] <= 4


def test_bad_curves_value_is_one_clear_error(curves: Path) -> None:
    with pytest.raises(ConfigError, match=r"executor.curves|curves 'nope'.*\.parquet.*run directory"):
        load_experiment("configs/sgd-hyperband.yaml", ["executor.name=simulated", "executor.curves=nope"])
    with pytest.raises(ConfigError, match="needs executor.curves"):
        load_experiment("configs/sgd-hyperband.yaml", ["executor.name=simulated"])
    with pytest.raises(ConfigError, match="priority must be one of fifo, score"):
        load_experiment(
            "configs/sgd-hyperband.yaml", ["executor.name=simulated", f"executor.curves={curves}", "executor.priority=x"]
        )


def test_steps_past_the_recording_are_refused(curves: Path, tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match="recorded to step 9 only"):
        sim(curves, tmp_path, "scheduler.name=random", "scheduler.max_iter=27", "scheduler.n_trials=2")


def test_checkpoints_are_checked(curves: Path) -> None:
    ex = SimulatedExecutor(curves, n_workers=2)
    ex.start()
    with pytest.raises(ExecutorError, match="checkpoint is at step 0"):
        ex.submit(Job(0, {"alpha": 1e-3, "l1_ratio": 0.5}, 1, 3, 5))
    ex.submit(Job(0, {"alpha": 1e-3, "l1_ratio": 0.5}, 1, 0, 3))
    (first,) = ex.wait()
    assert (first.step, first.worker) == (3, "sim-0") and ex.clock.now() > 0
    ex.submit(Job(1, {"alpha": 1e-2, "l1_ratio": 0.1}, 2, 3, 5, clone_from=(0, 3)))
    with pytest.raises(ExecutorError, match="clone of trial 0 at step 2"):
        ex.submit(Job(2, {"alpha": 1e-2, "l1_ratio": 0.1}, 2, 2, 5, clone_from=(0, 2)))
    ex.wait()
    ex.release(0)
    with pytest.raises(ExecutorError, match="released"):
        ex.submit(Job(0, {"alpha": 1e-3, "l1_ratio": 0.5}, 1, 3, 5))
    assert ex.test_score(1) == pytest.approx(
        float(ex.curves.test_score[ex.curves.lookup({"alpha": 1e-2, "l1_ratio": 0.1})[0], 5])
    )


def test_score_priority_queue_serves_the_best_first(curves: Path) -> None:
    ex = SimulatedExecutor(curves, n_workers=1, queue=3, priority="score", step_s=1.0, score_s=0.5)
    ex.start()
    assert ex.capacity == 4
    for tid, prio in enumerate([0.0, 0.1, 0.9, 0.5]):
        ex.submit(Job(tid, {"alpha": 1e-3, "l1_ratio": 0.5}, tid, 0, 1, priority=prio))
    order = [ex.wait()[0] for _ in range(4)]
    assert [r.trial_id for r in order] == [0, 2, 3, 1]
    assert [r.queue_s for r in order] == [0.0, 1.5, 3.0, 4.5] and ex.clock.now() == 6.0


@pytest.mark.parametrize("scheduler,workers", [({"name": "hyperband", "max_iter": 81}, 2), ({"name": "asha"}, 8)])
def test_the_wall_time_guarantee_holds_exactly_on_the_virtual_clock(scheduler: dict[str, object], workers: int) -> None:
    """What ``wall_time_s`` promises: no Job goes out once the clock reaches it; the Jobs
    already out run to their end, and the run ends when the last of them reports. So the run
    ends past the deadline by at most the longest Job out at the deadline (no queue here)."""
    from tunebench import registry
    from tunebench.loop import Budget, Loop
    from tunebench.sinks import Sink, Trace
    from tunebench.workloads.sgd import SGDWorkload

    deadline = 10.0
    ex = SimulatedExecutor("sgd-circles", n_workers=workers)
    ex.start()

    class Submitted(Sink):
        def __init__(self) -> None:
            self.at: dict[tuple[int, int], float] = {}

        def on_job(self, job: Job) -> None:
            self.at[(job.trial_id, job.stop_step)] = ex.clock.now()

    space = SGDWorkload(dataset="circles", n_samples=10000).default_space()
    sched = registry.load("scheduler", str(scheduler["name"]))
    submitted, trace = Submitted(), Trace()
    params = {k: v for k, v in scheduler.items() if k != "name"}
    outcome = Loop(sched(space, **params), ex, ex.clock, [submitted, trace], Budget(wall_time_s=deadline)).run()
    assert outcome.stop_reason == "wall_time_s"
    assert max(submitted.at.values()) < deadline
    assert outcome.elapsed_s == trace.results[-1].elapsed_s  # ends when the last Job out reports
    out_at_deadline = [r for r in trace.results if submitted.at[(r.trial_id, r.step)] < deadline <= r.elapsed_s]
    longest = max(r.compute_s + r.score_s for r in out_at_deadline)
    assert deadline <= outcome.elapsed_s <= deadline + longest
    assert all(r.elapsed_s <= deadline for r in trace.results if r not in out_at_deadline)
