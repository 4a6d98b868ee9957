"""Hyperopt on Trials(): our space converted (every kind), configs reproducible per seed, our run schema."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tunebench.compare.peer import PeerTask, PeerUnsupported
from tunebench.compare.peers.hyperopt import UNBOUNDED_EVALS, HyperoptTPE, HyperoptTPESpark
from tunebench.convert import from_hyperopt, to_hyperopt
from tunebench.space import Space, log_int_probabilities
from tunebench.store import read_run
from tunebench.workloads.sgd import SGDWorkload

EVERY_KIND = {
    "alpha": {"loguniform": [1e-6, 1e-1]},
    "l1_ratio": {"uniform": [0, 1]},
    "batch": {"choice": [32, 64, 128]},
    "optimizer": {"choice": ["SGD", "Adam"], "weights": [5, 2]},
    "n": {"randint": [1, 4]},
    "m": {"lograndint": [1, 4]},
    "decay": {"mixture": [[1, 0.0], [5, {"loguniform": [1e-5, 1e-3]}]]},
    "lr": {"depends_on": "optimizer", "cases": {"SGD": {"loguniform": [0.03, 10]}, "Adam": {"loguniform": [1e-4, 0.1]}}},
    "loss": "log_loss",
}


def draws(spec: dict[str, Any], n: int, seed: int = 0) -> tuple[Space, list[dict[str, Any]]]:
    from hyperopt.pyll.stochastic import sample

    space = Space.from_spec(spec)
    hp_space, rng = to_hyperopt(space), np.random.default_rng(seed)
    return space, [from_hyperopt(space, sample(hp_space, rng=rng)) for _ in range(n)]


def freq(configs: list[dict[str, Any]], key: str) -> dict[Any, float]:
    return {k: v / len(configs) for k, v in Counter(c[key] for c in configs).items()}


def test_every_kind_samples_inside_the_space_with_our_probabilities() -> None:
    space, configs = draws(EVERY_KIND, 1200)
    assert all(space.contains(c) for c in configs) and all(list(c) == list(space.domains) for c in configs)
    for k, p in zip(range(1, 5), log_int_probabilities(1, 4)):
        assert freq(configs, "m")[k] == pytest.approx(p, abs=0.04)
        assert freq(configs, "n")[k] == pytest.approx(0.25, abs=0.04)
    assert freq(configs, "optimizer")["SGD"] == pytest.approx(5 / 7, abs=0.04)
    assert freq(configs, "batch")[64] == pytest.approx(1 / 3, abs=0.04)
    assert np.mean([c["decay"] == 0.0 for c in configs]) == pytest.approx(1 / 6, abs=0.04)
    assert np.median([np.log10(c["alpha"]) for c in configs]) == pytest.approx(-3.5, abs=0.15)
    for c in configs:  # the conditional parameter is drawn from the case of its parent's value
        assert (0.03 <= c["lr"] <= 10) if c["optimizer"] == "SGD" else (1e-4 <= c["lr"] <= 0.1)
    assert all(type(c["n"]) is int and type(c["alpha"]) is float for c in configs)


def test_spaces_hyperopt_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="space.x.*choice or a constant"):
        to_hyperopt(Space.from_spec({"x": {"uniform": [0, 1]}, "y": {"depends_on": "x", "cases": {0.5: 1}}}))
    with pytest.raises(ValueError, match="space.y: no case for x='b'"):
        to_hyperopt(Space.from_spec({"x": {"choice": ["a", "b"]}, "y": {"depends_on": "x", "cases": {"a": 1}}}))


def make_task(seed: int = 0, **kw: Any) -> PeerTask:
    wl = SGDWorkload(dataset="circles", n_samples=600)
    space = kw.pop("space", None)
    return PeerTask(workload=wl, data=wl.load(0), space=space or wl.default_space(), seed=seed, n_workers=2, max_iter=3, **kw)


def check_run(out: Path, task: PeerTask) -> tuple[Any, Any, Any]:
    """Our schema: a result per step with its elapsed time, a trial per config, the summary's counts."""
    summary, results, trials, _ = read_run(out)
    assert summary["status"] == "completed" and summary["peer"] is True and summary["family"] == "hyperopt"
    assert summary["n_trials"] == len(trials) and summary["partial_fit_calls"] == len(results) == task.max_iter * len(trials)
    assert {"trial_id", "step", "score", "decision", "worker", "elapsed_s", "compute_s"} <= set(results.columns)
    assert (results["n_steps"] == 1).all() and (results["elapsed_s"] >= 0).all()
    for _, rows in results.groupby("trial_id"):
        assert list(rows["step"]) == list(range(1, task.max_iter + 1)) and list(rows["decision"])[-1] == "complete"
    assert (trials["status"] == "completed").all()
    best = trials.set_index("trial_id").loc[summary["best_trial"]]
    assert summary["best_score"] == best["last_score"] == trials["last_score"].max()
    assert 0 <= summary["test_score"] <= 1 and summary["notes"]
    return summary, results, trials


def replayed(task: PeerTask, config: dict[str, Any]) -> list[float]:
    """A config's validation score after each step, trained here from scratch with the cell seed."""
    trainable = task.workload.build(config, task.data, task.seed)
    scores = []
    for _ in range(task.max_iter):
        trainable.train(1)
        scores.append(trainable.score())
    return scores


def fingerprint(out: Path) -> list[tuple[str, tuple[float, ...]]]:
    _, results, trials, _ = read_run(out)
    return [
        (str(t.config), tuple(results[results["trial_id"] == t.trial_id]["score"]))
        for t in trials.sort_values("trial_id").itertuples()
    ]


def test_trials_is_deterministic_per_seed_and_writes_our_run(tmp_path: Path) -> None:
    task = make_task(n_trials=6)
    runs = [HyperoptTPE(n_startup_jobs=2).run(task, tmp_path / f"run{k}") for k in range(2)]
    _, results, trials = check_run(tmp_path / "run0", task)
    assert runs[0]["executor"] == "hyperopt-trials:1" and results["worker"].nunique() == 1
    assert fingerprint(tmp_path / "run0") == fingerprint(tmp_path / "run1")  # the exact sequence of configs and scores
    HyperoptTPE(n_startup_jobs=2).run(make_task(seed=1, n_trials=6), tmp_path / "other")
    assert [c for c, _ in fingerprint(tmp_path / "other")] != [c for c, _ in fingerprint(tmp_path / "run0")]
    for t in trials.itertuples():  # every step's score is the one our Trainable gives that config
        assert list(results[results["trial_id"] == t.trial_id]["score"]) == replayed(task, json.loads(t.config))


def test_step_budget_buys_whole_evaluations_and_conditional_spaces_run(tmp_path: Path) -> None:
    space = Space.from_spec(
        {
            "alpha": {"loguniform": [1e-5, 1e-1]},
            "learning_rate": {"choice": ["optimal", "constant"]},
            "eta0": {"depends_on": "learning_rate", "cases": {"optimal": 0.01, "constant": {"loguniform": [1e-3, 1e-1]}}},
        }
    )
    task = make_task(space=space, total_steps=14)
    summary = HyperoptTPE(n_startup_jobs=2).run(task, tmp_path / "run")
    _, _, trials = check_run(tmp_path / "run", task)
    assert summary["partial_fit_calls"] == 12 <= 14 and summary["max_evals"] == 4
    assert set(trials["config.learning_rate"]) <= {"optimal", "constant"}
    assert all(r["config.eta0"] == 0.01 for _, r in trials.iterrows() if r["config.learning_rate"] == "optimal")


def test_a_wall_time_budget_alone_is_fmins_timeout(tmp_path: Path) -> None:
    summary = HyperoptTPE(n_startup_jobs=2).run(make_task(wall_time_s=0.5), tmp_path / "run")
    _, results, trials, _ = read_run(tmp_path / "run")
    assert summary["status"] == "completed" and summary["max_evals"] == UNBOUNDED_EVALS > summary["n_trials"] >= 1
    assert results.groupby("trial_id")["step"].max().le(3).all() and set(trials["status"]) <= {"completed", "stopped"}


def test_failing_trials_keep_their_error_and_the_search_goes_on(tmp_path: Path) -> None:
    space = Space.from_spec({"alpha": {"loguniform": [1e-5, 1e-1]}, "penalty": {"choice": ["elasticnet", "no-such-penalty"]}})
    summary = HyperoptTPE(n_startup_jobs=2).run(make_task(space=space, n_trials=6), tmp_path / "run")
    _, _, trials, _ = read_run(tmp_path / "run")
    bad = trials[trials["config.penalty"] == "no-such-penalty"]
    assert (
        summary["n_trials"] == 6 and len(bad) and (bad["status"] == "failed").all() and bad["error"].str.contains("penalty").all()
    )
    assert (trials[trials["config.penalty"] == "elasticnet"]["status"] == "completed").all()


def test_bad_options_and_tasks_it_cannot_run() -> None:
    with pytest.raises(ValueError, match="n_startup_jobs must be an integer >= 0"):
        HyperoptTPE(n_startup_jobs=-1)
    with pytest.raises(ValueError, match="parallelism must be an integer >= 1 or null"):
        HyperoptTPESpark(parallelism=0)
    with pytest.raises(PeerUnsupported, match="total_steps=2 < max_iter=3"):
        HyperoptTPE().check(make_task(total_steps=2))
    with pytest.raises(PeerUnsupported, match="parallelism=4 is more than the matrix's workers=2"):
        HyperoptTPESpark(parallelism=4).check(make_task())
