"""scikit-learn peers on 600 circles rows, 2 joblib workers, max_iter 9: the run directory, calls
that mean our calls, scores on exactly our validation rows (the same as Dask-ML's successive
halving gets for the same configs), budgets, what is refused, and no worker left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SessionCluster, our_scores, wait_gone
from tests.helpers import sgd_peer_task as make_task
from tunebench.compare.peer import PeerUnsupported
from tunebench.compare.peers.dask_ml import DaskMLSuccessiveHalving
from tunebench.compare.peers.sklearn import SklearnHalvingRandomSearch, SklearnRandomSearch
from tunebench.store import read_run


def configs(trials: Any) -> dict[int, dict[str, float]]:
    cols = [c for c in trials.columns if c.startswith("config.")]
    return {int(r["trial_id"]): {c.removeprefix("config."): float(r[c]) for c in cols} for _, r in trials.iterrows()}


def check_run(out: Path) -> tuple[dict[str, Any], Any, Any]:
    summary, results, trials, _ = read_run(out)
    assert summary["status"] == "completed" and summary["peer"] is True and summary["family"] == "sklearn"
    assert summary["executor"] == "joblib:2" and 0 < summary["utilization"] <= 1
    assert summary["partial_fit_calls"] == results["n_steps"].sum() and summary["n_trials"] == len(trials)
    assert results["worker"].str.startswith("pid:").all() and (results["elapsed_s"].diff().dropna() >= 0).all()
    assert summary["test_score"] is not None and 0.5 < summary["test_score"] <= 1
    return summary, results, trials


def test_random_search_trains_every_config_to_max_iter_on_our_rows(tmp_path: Path, started_here: Any) -> None:
    task = make_task(n_trials=4)
    SklearnRandomSearch().run(task, tmp_path / "run")
    summary, results, trials = check_run(tmp_path / "run")
    assert len(trials) == 4 and summary["partial_fit_calls"] == 4 * 9 and (trials["status"] == "completed").all()
    assert (results["step"] == 9).all() and (results["n_steps"] == 9).all()
    for tid, config in configs(trials).items():
        assert results.set_index("trial_id").loc[tid, "score"] == our_scores(task, config, [9])[0]
    assert not wait_gone(started_here(), timeout=20)


def test_halving_refits_from_scratch_and_sees_what_dask_ml_sees(
    dask_address: str, tmp_path: Path, started_here: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DaskMLSuccessiveHalving, "cluster", lambda self, task: SessionCluster(dask_address))
    task = make_task()
    SklearnHalvingRandomSearch().run(task, tmp_path / "sk")
    summary, results, trials = check_run(tmp_path / "sk")
    assert len(trials) == 9 and summary["partial_fit_calls"] == 9 * 1 + 3 * 3 + 1 * 9  # every iteration refits from scratch
    assert sorted(results.groupby("trial_id")["step"].max().value_counts().items()) == [(1, 6), (3, 2), (9, 1)]
    DaskMLSuccessiveHalving().run(task, tmp_path / "dm")
    _, theirs, their_trials, _ = read_run(tmp_path / "dm")
    assert configs(their_trials) == configs(trials)  # ParameterSampler with the same seed
    ours = results.set_index(["trial_id", "step"])["score"].sort_index()
    assert ours.to_dict() == theirs.set_index(["trial_id", "step"])["score"].sort_index().to_dict()
    assert not wait_gone(started_here(), timeout=20)


def test_budgets_become_n_iter_or_are_refused() -> None:
    assert SklearnRandomSearch().n_iter(make_task(total_steps=30)) == 3
    assert SklearnRandomSearch(n_trials=5).n_iter(make_task(total_steps=30)) == 3
    assert SklearnRandomSearch().n_iter(make_task()) == round(69 / 9)  # the calls of a whole Hyperband run
    with pytest.raises(PeerUnsupported, match="total_steps=5 pays for none"):
        SklearnRandomSearch().check(make_task(total_steps=5))
    with pytest.raises(PeerUnsupported, match="cannot stop on wall time"):
        SklearnRandomSearch().check(make_task(wall_time_s=10.0))
    with pytest.raises(PeerUnsupported, match="schedule makes 27 calls; it cannot keep to total_steps=26"):
        SklearnHalvingRandomSearch().check(make_task(total_steps=26))
    SklearnHalvingRandomSearch().check(make_task(total_steps=27))  # 9 x 1 + 3 x 3 + 1 x 9 calls fit
    with pytest.raises(ValueError, match="n_trials must be an integer >= 1"):
        SklearnRandomSearch(n_trials=0)
