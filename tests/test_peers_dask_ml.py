"""Dask-ML peers on 600 circles rows, a 2-worker LocalCluster, max_iter 9: the run directory,
Dask-ML's own counts, scores on exactly our validation rows, the step budget, what is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import SessionCluster, our_scores, wait_gone
from tests.helpers import sgd_peer_task as make_task
from tunebench.compare.peer import PeerTask, PeerUnsupported
from tunebench.compare.peers.dask_ml import DaskMLHyperband, DaskMLSuccessiveHalving, hyperband_brackets
from tunebench.space import Space
from tunebench.store import read_run
from tunebench.workloads.autoencoder import AutoencoderWorkload
from tunebench.workloads.base import Dataset


def check_run(out: Path, task: PeerTask) -> tuple[dict[str, Any], Any, Any]:
    summary, results, trials, _ = read_run(out)
    assert summary["status"] == "completed" and summary["peer"] is True and summary["family"] == "dask-ml"
    assert summary["executor"] == "dask-localcluster:2" and 0 < summary["utilization"] <= 1
    assert {"trial_id", "step", "score", "n_steps", "decision", "elapsed_s"} <= set(results.columns)
    assert summary["partial_fit_calls"] == results["n_steps"].sum() == summary["config"]["planned_partial_fit_calls"]
    assert results["step"].max() == task.max_iter and (results["elapsed_s"].diff().dropna() >= 0).all()
    for tid, rows in results.groupby("trial_id"):
        assert list(rows["step"]) == list(np.cumsum(rows["n_steps"]))
        status = trials.set_index("trial_id").loc[tid, "status"]
        assert status == ("completed" if rows["step"].max() == task.max_iter else "stopped")
    return summary, results, trials


def test_hyperband_runs_every_bracket_and_scores_on_our_validation_rows(tmp_path: Path, started_here: Any) -> None:
    task = make_task()
    DaskMLHyperband().run(task, tmp_path / "run")
    summary, results, trials = check_run(tmp_path / "run", task)
    assert len(trials) == sum(n for n, _ in hyperband_brackets(9, 3).values()) == 17 and summary["partial_fit_calls"] == 69
    assert (trials["status"] == "completed").sum() == 3 + 1 + 1  # bracket 0's three models, one from each other bracket
    for tid, rows in results.groupby("trial_id"):
        config = trials.set_index("trial_id").loc[tid, [c for c in trials.columns if c.startswith("config.")]]
        config = {k.removeprefix("config."): float(v) for k, v in config.items()}
        assert list(rows["score"]) == our_scores(task, config, list(rows["step"]))
    assert summary["test_score"] is not None and 0.5 < summary["test_score"] <= 1
    assert not wait_gone(started_here(), timeout=20)


def test_step_budget_is_reserved_and_never_overshot(dask_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DaskMLHyperband, "cluster", lambda self, task: SessionCluster(dask_address))
    task = make_task(total_steps=40)
    summary = DaskMLHyperband().run(task, tmp_path / "run")
    assert 17 <= summary["partial_fit_calls"] <= 40 and summary["budget_cut_models"] > 0
    assert summary["status"] == "completed"
    with pytest.raises(PeerUnsupported, match="each of its 17 models a first partial_fit call"):
        DaskMLHyperband().check(make_task(total_steps=10))


def test_what_dask_ml_cannot_run_is_unsupported_with_the_reason() -> None:
    task = make_task()
    conditional = Space.from_spec(
        {
            "loss": {"choice": ["log_loss", "hinge"]},
            "alpha": {"depends_on": "loss", "cases": {"log_loss": {"uniform": [0.1, 1]}, "hinge": {"uniform": [1, 2]}}},
        }
    )
    with pytest.raises(PeerUnsupported, match="space.alpha: .*depends_on"):
        DaskMLHyperband().check(PeerTask(**{**task.__dict__, "space": conditional}))
    rng = np.random.default_rng(0)
    pixels = [rng.random((n, 16), dtype=np.float32) for n in (8, 4, 4)]
    images = Dataset(pixels[0], pixels[0], pixels[1], pixels[1], pixels[2], pixels[2], chunk_size=4)
    ae = AutoencoderWorkload(hidden=8, bottleneck=4)
    with pytest.raises(PeerUnsupported, match="trains a AutoencoderTrainable, not a scikit-learn estimator"):
        DaskMLSuccessiveHalving().check(
            PeerTask(workload=ae, data=images, space=ae.default_space(), seed=0, n_workers=2, max_iter=9)
        )
    with pytest.raises(ValueError, match="eta must be an integer >= 2"):
        DaskMLHyperband(eta=1)
    assert DaskMLSuccessiveHalving().n_models(task) == 9 and DaskMLSuccessiveHalving().planned_calls(task) == 21
