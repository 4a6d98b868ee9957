"""Optuna peers on 600 circles rows, 2 worker processes: the run directory, counts and decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import InProcessPool, calls, wait_gone
from tests.helpers import counting_peer_task as make_task
from tunebench.compare.peer import PeerTask, PeerUnsupported
from tunebench.compare.peers import optuna as optuna_peer
from tunebench.compare.peers.optuna import OptunaHyperband, OptunaSuccessiveHalving, chunk_stop
from tunebench.space import Mixture, Space, Uniform
from tunebench.store import read_run


def check_run(out: Path, summary: dict[str, Any], task: PeerTask, tmp_path: Path) -> None:
    got, results, trials, _ = read_run(out)
    assert got["status"] == "completed" and got["peer"] is True and got["n_trials"] == len(trials)
    assert {"trial_id", "step", "score", "decision", "worker", "elapsed_s", "compute_s"} <= set(results.columns)
    assert {"config.alpha", "config.l1_ratio", "status", "steps"} <= set(trials.columns)
    assert (results["n_steps"] == 1).all() and results["worker"].str.startswith("pid:").all()
    assert got["partial_fit_calls"] == len(results) == calls(tmp_path)  # minus the test-score model, which trains nothing
    assert results["step"].max() <= task.max_iter and (results["elapsed_s"] >= 0).all()
    best = trials.set_index("trial_id").loc[got["best_trial"]]
    assert got["best_score"] == best["last_score"] == max(trials["last_score"])
    assert got["test_score"] is not None and 0 <= got["test_score"] <= 1
    for tid, rows in results.groupby("trial_id"):
        assert list(rows["step"]) == list(range(1, len(rows) + 1))  # one report per step, in order
        status = trials.set_index("trial_id").loc[tid, "status"]
        assert status == ("completed" if rows["step"].max() == task.max_iter else "stopped")


def test_chunks_end_at_every_rung() -> None:
    stops, step = [], 0
    while step < 27:
        step = chunk_stop(step, 3, 27)
        stops.append(step)
    assert stops == [1, 3, 9, 27]


@pytest.mark.parametrize("cls,sampler", [(OptunaHyperband, "tpe"), (OptunaSuccessiveHalving, "random")])
def test_optuna_peer_writes_our_run(tmp_path: Path, cls: type, sampler: str, started_here: Any) -> None:
    # Optuna prunes against the trials that reached a rung before: which those are depends on
    # arrival order, so enough trials that some rung is always contested
    task = make_task(tmp_path, n_trials=16)
    out = tmp_path / "run"
    summary = cls(sampler=sampler).run(task, out)
    check_run(out, summary, task, tmp_path)
    _, results, trials, _ = read_run(out)
    assert len(trials) == 16 and results["worker"].nunique() == 2
    assert (trials["status"] == "stopped").any()  # the pruner cut someone
    assert not wait_gone(started_here(), timeout=10)


def test_step_budget_is_never_overshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(optuna_peer, "ProcessPoolExecutor", InProcessPool)
    monkeypatch.setattr(optuna_peer, "_WORKER", {})
    task = make_task(tmp_path, n_trials=8, total_steps=20)
    summary = OptunaSuccessiveHalving(sampler="random").run(task, tmp_path / "run")
    assert summary["partial_fit_calls"] == calls(tmp_path) <= 20


def test_bad_options_and_unsupported_space(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sampler must be one of tpe, random, got 'cmaes'"):
        OptunaHyperband(sampler="cmaes")
    with pytest.raises(ValueError, match="eta must be an integer >= 2"):
        OptunaHyperband(eta=1)
    task = make_task(tmp_path)
    odd = PeerTask(**{**task.__dict__, "space": Space({"alpha": Mixture(((1.0, Uniform(0.1, 0.2)),))})})
    with pytest.raises(PeerUnsupported, match="space.alpha"):
        OptunaHyperband().check(odd)
