"""The recorded suite: every shipped recording whole and replayable, the mlp and hgb workloads,
and ``tunebench record`` continuing a stopped recording."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tunebench import registry
from tunebench.cli.record import record
from tunebench.config import ConfigError, load_experiment
from tunebench.run import run
from tunebench.space import Space
from tunebench.workloads.curves import RECORDINGS, read_curves, shipped
from tunebench.workloads.hgb import HGBWorkload
from tunebench.workloads.mlp import MLPWorkload
from tunebench.workloads.sgd import SGDWorkload
from tunebench.workloads.suite import SUITE, common_max_iter, suite

TASKS = suite()


def test_the_suite_is_every_shipped_recording() -> None:
    assert len(SUITE) >= 12 and sorted(SUITE) == sorted(name for name, _ in shipped())
    assert sum((RECORDINGS / f"{name}.parquet").stat().st_size for name in SUITE) < 20e6
    assert common_max_iter(TASKS) == min(read_curves(t.name).max_iter for t in TASKS)


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_a_shipped_recording_is_whole(task: Any) -> None:
    curves = read_curves(task.name)
    n, top = curves.n_configs, curves.max_iter
    steps = curves.frame.groupby("config_id")["step"].apply(list)
    assert len(steps) == n == task.n_configs and all(s == list(range(1, top + 1)) for s in steps)
    assert np.isfinite(curves.score[:, 1:]).all() and np.isfinite(curves.test_score[:, 1:]).all()
    assert (curves.frame["step_s"] > 0).all() and (curves.frame["score_s"] >= 0).all()
    meta = curves.meta
    assert meta["workload"] in registry.names("workload") and task.workload["name"] == meta["workload"]
    assert (meta["metric"], meta["mode"]) == (task.metric, task.mode) and meta["mode"] in ("max", "min")
    space = Space.from_spec(meta["space"])
    assert all(space.contains(c) for c in curves.configs)
    if meta["metric"] == "accuracy":
        assert 0.0 <= curves.score[:, 1:].min() and curves.score[:, 1:].max() <= 1.0


@pytest.mark.parametrize("name", ["sgd-digits", "mlp-digits", "hgb-digits"])
def test_hyperband_replays_a_task_of_each_family(name: str, tmp_path: Path) -> None:
    """Every score of the run is the recorded one, and its best is the best recorded score among
    the configs it reached, at the step it reached them."""
    (task,) = suite([name])
    raw = {"seed": 0, "scheduler": {"name": "hyperband", "max_iter": task.max_iter, "eta": 3}, **task.sections(n_workers=4)}
    out = run(load_experiment(raw=raw), tmp_path / "run", progress=False)
    curves = read_curves(name)
    assert out.summary["status"] == "completed" and out.summary["executor_stats"]["lookups_nearest"] == 0
    configs = {int(t): curves.lookup(json.loads(c))[0] for t, c in zip(out.trials["trial_id"], out.trials["config"])}
    recorded = [curves.score[configs[int(t)], int(s)] for t, s in zip(out.results["trial_id"], out.results["step"])]
    assert np.array_equal(out.results["score"].to_numpy(float), np.array(recorded))
    reached = {int(t): curves.score[configs[int(t)], int(s)] for t, s in zip(out.trials["trial_id"], out.trials["steps"])}
    assert out.summary["best_score"] == max(reached.values())
    best = configs[out.summary["best_trial"]]
    steps = int(out.trials.set_index("trial_id").loc[out.summary["best_trial"], "steps"])
    assert out.summary["test_score"] == curves.test_score[best, steps]


@pytest.mark.parametrize(
    "workload, config",
    [
        (MLPWorkload(dataset="iris"), {"learning_rate": 0.05, "batch_size": 16, "width": 16, "depth": 2, "momentum": 0.9}),
        (HGBWorkload(dataset="wine", iterations_per_step=2), {"learning_rate": 0.3, "max_leaf_nodes": 8, "max_features": 0.5}),
        (SGDWorkload(dataset="breast_cancer"), {"alpha": 1e-3, "l1_ratio": 0.5}),
    ],
    ids=["mlp", "hgb", "sgd"],
)
def test_a_workload_trains_on_tiny_data(workload: Any, config: dict[str, Any]) -> None:
    data = workload.load(0)
    a, b = workload.build(config, data, seed=3), workload.build(config, data, seed=3)
    a.train(2)
    b.train(1)
    b.restore(b.save())
    b.train(1)
    assert a.steps == b.steps == 2 and 0.0 <= a.score() <= 1.0 and 0.0 <= a.test_score() <= 1.0
    assert (a.score(), a.test_score()) == (b.score(), b.test_score())  # deterministic, and save/restore keeps the state


def test_default_spaces_pass_their_own_checks() -> None:
    for name in ("mlp", "hgb"):
        workload = registry.load("workload", name)()
        load_experiment(raw={"workload": {"name": name}, "scheduler": {"name": "random", "n_trials": 2, "max_iter": 3}})
        rng, data = np.random.default_rng(0), workload.load(0)
        for _ in range(20):
            workload.build(workload.default_space().sample(rng), data, seed=0)


def test_a_diverged_mlp_trains_no_further_and_scores_its_constant_prediction() -> None:
    w = MLPWorkload(dataset="iris")
    data = w.load(0)
    t = w.build({"learning_rate": 10.0, "momentum": 0.99, "batch_size": 16, "width": 64, "depth": 3}, data, seed=0)
    t.train(3)
    assert t.diverged and t.steps == 3
    assert t.score() == pytest.approx(float(np.mean(data.y_val == data.classes[0])))


def test_only_in_place_hyperparameters_change_in_place() -> None:
    w = MLPWorkload(dataset="iris")
    t = w.build({"width": 8, "depth": 1}, w.load(0), seed=0)
    t.train(1)
    t.reset_config({"width": 8, "depth": 1, "learning_rate": 0.001})
    assert t.model.learning_rate_init == 0.001 and t.steps == 1
    with pytest.raises(ValueError, match="depth 1 -> 2: a trained network keeps its shape"):
        t.reset_config({"width": 8, "depth": 2})


def experiment(workload: dict[str, Any], space: dict[str, Any] | None = None) -> Any:
    raw = {"workload": workload, "scheduler": {"name": "random", "n_trials": 2, "max_iter": 3}, "space": space}
    return load_experiment(raw={k: v for k, v in raw.items() if v is not None})


@pytest.mark.parametrize(
    "workload, space, message",
    [
        (
            {"name": "mlp", "dataset": "mnist"},
            None,
            "dataset must be one of digits, breast_cancer, wine, iris, synthetic, got 'mnist'",
        ),
        ({"name": "hgb", "dataset": "wines"}, None, r"got 'wines' \(did you mean 'wine'\?\)"),
        ({"name": "hgb", "iterations_per_step": 0}, None, r"iterations_per_step must be an integer >= 1 \(boosting"),
        ({"name": "mlp"}, {"depth": {"randint": [0, 3]}}, r"space: workload 'mlp': depth must be an integer in \[1, 3\], got 0"),
        ({"name": "mlp"}, {"momentum": {"uniform": [0.5, 1.5]}}, r"momentum must be a number in \[0, 1\], got 1.5"),
        ({"name": "hgb"}, {"max_bins": {"choice": [64, 256]}}, r"max_bins must be an integer in \[2, 255\], got 256"),
        (
            {"name": "mlp"},
            {"n_layers": {"randint": [1, 3]}},
            "has no hyperparameter.*n_layers.*allowed: alpha, batch_size, depth",
        ),
    ],
)
def test_bad_options_are_one_clear_error(workload: dict[str, Any], space: dict[str, Any] | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        experiment(workload, space)


def test_a_bad_config_fails_its_trial_with_the_allowed_values() -> None:
    w = MLPWorkload(dataset="iris")
    with pytest.raises(ValueError, match=r"depth must be an integer in \[1, 3\], got 0"):
        w.build({"depth": 0}, w.load(0), seed=0)


def test_a_stopped_recording_continues_and_a_finished_one_is_not_redone(tmp_path: Path) -> None:
    sets = ["workload.dataset=wine", "executor={name: local}"]
    args = ("configs/record-mlp.yaml", 3, tmp_path / "full.parquet", sets)
    full = read_curves(record(*args, max_iter=4, run_dir=tmp_path / "full", progress=False))
    lines = (tmp_path / "full" / "journal.jsonl").read_text().splitlines(keepends=True)
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "journal.jsonl").write_text("".join(lines[: len(lines) // 2]))  # as a kill -9 halfway leaves it
    again = read_curves(
        record("configs/record-mlp.yaml", 3, tmp_path / "cut.parquet", sets, max_iter=4, run_dir=cut, progress=False)
    )
    assert any(json.loads(line)["kind"] == "resume" for line in (cut / "journal.jsonl").read_text().splitlines())
    assert np.array_equal(full.score, again.score, equal_nan=True)
    assert np.array_equal(full.test_score, again.test_score, equal_nan=True) and full.configs == again.configs
    before = (cut / "journal.jsonl").read_text()
    record("configs/record-mlp.yaml", 3, tmp_path / "cut.parquet", sets, max_iter=4, run_dir=cut, progress=False)
    assert (cut / "journal.jsonl").read_text() == before
    assert np.array_equal(read_curves(tmp_path / "cut.parquet").score, again.score, equal_nan=True)
    with pytest.raises(ConfigError, match=r"holds a recording of another experiment \(seed: 0 there, 1 here\)"):
        record("configs/record-mlp.yaml", 3, tmp_path / "x.parquet", [*sets, "seed=1"], max_iter=4, run_dir=cut, progress=False)
