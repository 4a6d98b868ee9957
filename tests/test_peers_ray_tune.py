"""Ray Tune peers on 600 circles rows, 2 workers: the run directory, counts, decisions, PBT's log, clean-up."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import calls, ship_test_classes_by_value, wait_gone
from tests.helpers import counting_peer_task as make_task
from tunebench.compare.peer import PeerTask
from tunebench.compare.peers.ray_tune import RayTuneASHA, RayTuneHyperBand, RayTunePBT
from tunebench.store import read_run

from schedulers.pbt import PBT

ray = pytest.importorskip("ray")
ship_test_classes_by_value()  # the counting workload goes to Ray's workers by value


def check_run(out: Path, task: PeerTask, tmp_path: Path) -> tuple[dict[str, Any], Any, Any, dict[str, Any]]:
    summary, results, trials, extra = read_run(out)
    assert summary["status"] == "completed" and summary["peer"] is True and summary["executor"] == f"ray:{task.n_workers}"
    assert {"trial_id", "step", "score", "decision", "worker", "elapsed_s", "compute_s", "score_s"} <= set(results.columns)
    assert {"config.alpha", "config.l1_ratio", "status", "steps"} <= set(trials.columns)
    assert (results["n_steps"] == 1).all() and results["worker"].str.startswith("pid:").all()
    assert summary["partial_fit_calls"] == len(results) == calls(tmp_path) - int(extra_retrain(summary, trials))
    assert results["step"].max() <= task.max_iter and (results["elapsed_s"] >= 0).all()
    best = trials.set_index("trial_id").loc[summary["best_trial"]]
    assert summary["best_score"] == best["last_score"] == max(trials["last_score"])
    assert summary["test_score"] is not None and summary["startup_s"] > 0
    assert set(trials["status"]) <= {"completed", "stopped"}
    return summary, results, trials, extra


def extra_retrain(summary: dict[str, Any], trials: Any) -> int:
    """ASHA keeps no checkpoints: the best trial's model is retrained for its test score."""
    if summary["scheduler"] != "ray-tune-asha":
        return 0
    return int(trials.set_index("trial_id").loc[summary["best_trial"], "steps"])


def test_hyperband_pauses_and_resumes_from_checkpoints(tmp_path: Path, ray_session: Any) -> None:
    task = make_task(tmp_path, n_trials=9)
    summary = RayTuneHyperBand().run(task, tmp_path / "run")
    _, results, trials, _ = check_run(tmp_path / "run", task, tmp_path)
    for _tid, rows in results.groupby("trial_id"):  # a resumed trial continues where it paused
        assert list(rows["step"]) == list(range(1, len(rows) + 1))
    # Ray's brackets for max_t=9, eta=3 take 3, 5 and 9 trials: 3 x 9 steps; 5 x 3 then the best 2 to 9;
    # the one trial left for the last bracket runs to 9. Paused trials must not hold back the brackets' filling.
    assert sorted(trials["steps"]) == [3, 3, 3] + [9] * 6
    assert summary["partial_fit_calls"] == 3 * 9 + 5 * 3 + 2 * 6 + 9 < task.n_trials * task.max_iter
    assert ray.is_initialized()  # the shared session is not the peer's to close


def test_pbt_logs_exploits_and_counts_every_call(tmp_path: Path, ray_session: Any) -> None:
    # Ray Tune's PBT is asynchronous: whether a trial is in the lower half when it reaches a
    # perturbation step depends on which others have reported; four such steps make one certain.
    task = make_task(tmp_path, n_trials=4, max_iter=10)
    summary = RayTunePBT(perturbation_interval=2, quantile_fraction=0.5, same_start=True).run(task, tmp_path / "run")
    _, results, trials, extra = check_run(tmp_path / "run", task, tmp_path)
    assert len(trials) == 4 and "notes" in summary and "random" in summary["notes"] and "same_start" in summary["notes"]
    ours = PBT(task.space, n_trials=4, max_iter=10, seed=task.seed).trials
    starts = trials.set_index("trial_id")[[f"config.{name}" for name in task.space]]
    assert {tid: dict(zip(task.space, row)) for tid, row in starts.iterrows()} == {t: ours[t].config for t in ours}
    log = extra.get("peer_pbt_log")
    assert log is not None and len(log) >= 1
    assert set(log.columns) >= {"step", "trial_id", "donor", "donor_step", "old_config", "new_config"}
    assert (log["donor"] != log["trial_id"]).all() and (log["old_config"] != log["new_config"]).all()
    for row in log.itertuples():  # after an exploit, the trial goes on from its donor's step
        assert row.step == row.donor_step + 1


def test_step_budget_is_never_overshot(tmp_path: Path, ray_session: Any) -> None:
    """On the shared Ray: a trial that finds the budget spent ends at once instead of waiting for
    the run to end, so none keeps a CPU after it (ray_session warns, and restarts the Ray, if one does)."""
    task = make_task(tmp_path, n_trials=8, total_steps=15)
    ctrl_c = signal.getsignal(signal.SIGINT)
    summary = RayTuneASHA().run(task, tmp_path / "run")
    assert signal.getsignal(signal.SIGINT) is ctrl_c  # Ray Tune's own handler would swallow a later Ctrl-C
    trained = calls(tmp_path) - extra_retrain(summary, read_run(tmp_path / "run")[2])
    assert summary["partial_fit_calls"] <= trained <= 15
    # the step the other worker has in flight when Tune ends the run is trained, but Tune never delivers its result
    assert trained - summary["partial_fit_calls"] <= task.n_workers - 1


def test_asha_writes_our_run_and_shuts_its_ray_down(no_ray: None, started_here: Any, tmp_path: Path) -> None:
    """Last in this module: with no Ray running, the peer starts its own (one CPU, one worker) and shuts it down."""
    task = make_task(tmp_path, n_trials=4, n_workers=1)
    RayTuneASHA().run(task, tmp_path / "run")
    _, results, trials, _ = check_run(tmp_path / "run", task, tmp_path)
    assert len(trials) == 4 and (trials["status"] == "stopped").any()
    for _tid, rows in results.groupby("trial_id"):
        assert list(rows["step"]) == list(range(1, len(rows) + 1))
        assert list(rows["decision"])[-1] == ("complete" if rows["step"].max() == 9 else "stop")
    assert not ray.is_initialized()
    assert not wait_gone(started_here())
    assert not list((tmp_path / "run").glob("ray-tune-*"))  # Tune's storage is gone
