"""DEHB, HpBandSter's BOHB and SMAC3 as peers on 600 circles rows, max_iter 9: through ``tunebench compare``,
deterministic per seed on one worker, within the step budget, leaving no process behind."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.helpers import InProcessPool, wait_gone
from tunebench import registry
from tunebench.cli import main
from tunebench.compare.matrix import load_matrix
from tunebench.compare.peer import PeerTask, PeerUnsupported
from tunebench.compare.peers import multifidelity
from tunebench.compare.peers import optuna as optuna_peer
from tunebench.compare.peers.dehb import DEHBPeer
from tunebench.compare.peers.evaluations import steps_of
from tunebench.compare.peers.multifidelity import floor_brackets, nudged
from tunebench.compare.peers.smac import SMACSuccessiveHalving, smac_brackets
from tunebench.config import ConfigError
from tunebench.space import Mixture, Space, Uniform
from tunebench.store import read_run
from tunebench.workloads.sgd import SGDTrainable, SGDWorkload

PEERS = [
    {"label": "dehb", "name": "dehb"},
    {"label": "bohb", "name": "hpbandster-bohb", "differs": {"n_trials": "HpBandSter floors its bracket sizes"}},
    {"label": "smac-hb", "name": "smac-hyperband", "facade": "hyperband"},
    {"label": "smac-sh", "name": "smac-successive-halving"},
]
MATRIX: dict[str, Any] = {
    "name": "mf",
    "seeds": [0],
    "workers": 2,
    "max_iter": 9,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 600}],
    "shared": {"eta": 3, "min_iter": 1},
    "peers": PEERS,
}
PLANNED = {"dehb": 20, "bohb": 20, "smac-hb": 22, "smac-sh": 13}  # evaluations of one Hyperband iteration, or one SH bracket


class FlakyTrainable(SGDTrainable):
    """Raises for a large ``l1_ratio``, scores NaN for a small one."""

    def train(self, n_steps: int) -> None:
        if self.config["l1_ratio"] > 0.6:
            raise ValueError("l1_ratio too high")
        super().train(n_steps)

    def score(self) -> float:
        return math.nan if self.config["l1_ratio"] < 0.2 else super().score()


class FlakyWorkload(SGDWorkload):
    def build(self, config, data, seed):  # type: ignore[no-untyped-def, override]
        return FlakyTrainable(config, data, seed)


@pytest.fixture
def workers_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluations train on :class:`InProcessPool`, for a test about the search rather than its
    worker processes; the workers' state is put back afterwards."""
    monkeypatch.setattr(multifidelity, "ProcessPoolExecutor", InProcessPool)
    monkeypatch.setattr(optuna_peer, "_WORKER", {})


def task(workers: int = 1, workload: SGDWorkload | None = None, **kw: Any) -> PeerTask:
    wl = workload or SGDWorkload(dataset="circles", n_samples=600)
    return PeerTask(workload=wl, data=wl.load(0), space=wl.default_space(), seed=0, n_workers=workers, max_iter=9, **kw)


def check_cell(cell: Path, planned: int) -> None:
    summary, results, trials, extra = read_run(cell)
    assert summary["status"] == "completed" and summary["peer"] is True and summary["n_trials"] == len(trials)
    evaluations = extra["evaluations"]
    assert len(evaluations) == summary["evaluations"] == planned
    assert evaluations["status"].isin(["trained", "reused"]).all()  # reused: asked again at a budget its config reached
    assert (evaluations["steps"] == [steps_of(b, 9) for b in evaluations["budget"]]).all()
    assert summary["partial_fit_calls"] == len(results) == evaluations["trained"].sum()
    assert (results["n_steps"] == 1).all() and results["worker"].str.startswith("pid:").all()
    for tid, rows in results.groupby("trial_id"):
        assert list(rows["step"]) == list(range(1, len(rows) + 1))  # every step trained once, in order
        status = trials.set_index("trial_id").loc[tid, "status"]
        assert status == ("completed" if rows["step"].max() == 9 else "stopped")
    assert summary["best_score"] == trials["last_score"].max() and 0 <= summary["test_score"] <= 1


@pytest.mark.parametrize("labels", [("dehb", "smac-hb"), ("bohb", "smac-sh")], ids="+".join)
def test_every_peer_runs_through_compare(tmp_path: Path, labels: tuple[str, str], started_here: Callable[[], list[Any]]) -> None:
    """Two peers of different libraries a study, one after the other in this process (what one
    leaves behind must not upset the next); every peer is in one of the two studies."""
    peers = [p for p in PEERS if p["label"] in labels]
    path = tmp_path / "mf.yaml"
    path.write_text(yaml.safe_dump({**MATRIX, "peers": peers}))
    assert main(["compare", str(path), "--out", str(tmp_path / "out"), "--no-report"]) == 0
    for peer in peers:
        cell = tmp_path / "out" / "sgd" / f"{peer['label']}@{peer['name']}" / "seed0"
        check_cell(cell, PLANNED[peer["label"]])
        assert read_run(cell)[1]["worker"].nunique() == 2
    assert not wait_gone(started_here())


@pytest.mark.parametrize(
    "name, kw",
    [("dehb", {}), ("hpbandster-bohb", {}), ("smac-hyperband", {"facade": "hyperband"}), ("smac-successive-halving", {})],
)
def test_one_worker_gives_the_same_run_for_the_same_seed_through_failing_and_nan_trials(
    tmp_path: Path, name: str, kw: dict[str, Any], workers_in_this_process: None
) -> None:
    """Two runs on a workload whose trials raise for a large ``l1_ratio`` and score NaN for a
    small one: each journals its failed and NaN trials and goes on, both are the same, and the
    process's logging is left as it was found (SMAC's facade would set the root logger to its
    level and console handler for the whole process)."""
    root = logging.getLogger()
    before = root.level, list(root.handlers)
    cls = registry.load("peer", name)
    flaky = FlakyWorkload(dataset="circles", n_samples=600)
    runs = []
    for k in range(2):
        summary = cls(**kw).run(task(workload=flaky), tmp_path / str(k))
        _, results, trials, extra = read_run(tmp_path / str(k))
        failed = trials[trials["status"] == "failed"]
        assert summary["status"] == "completed" and summary["failures"] == len(failed) > 0
        assert failed["error"].str.contains("l1_ratio too high").all() and (failed["config.l1_ratio"] > 0.6).all()
        assert results["score"].isna().any() and summary["best_score"] == trials["last_score"].max()
        statuses = extra["evaluations"]["status"]
        assert set(statuses) <= {"trained", "reused", "failed"} and (statuses == "failed").any()
        runs.append(
            (
                trials[["trial_id", "config", "steps", "status"]],
                results[["trial_id", "step", "score"]],
                extra["evaluations"][["trial_id", "budget", "score"]],
            )
        )
    assert (root.level, list(root.handlers)) == before
    for first, second in zip(*runs, strict=True):
        pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("name", ["dehb", "hpbandster-bohb"])
def test_the_step_budget_is_never_overshot(tmp_path: Path, name: str, started_here: Callable[[], list[Any]]) -> None:
    summary = registry.load("peer", name)().run(task(workers=2, total_steps=20), tmp_path / "run")
    assert summary["status"] == "completed" and summary["partial_fit_calls"] <= 20 and summary["evaluations_cut"] >= 1
    assert not wait_gone(started_here())


@pytest.mark.parametrize("max_iter, eta", [(9, 3), (27, 3), (81, 3), (243, 3), (16, 2), (100, 4)])
def test_bracket_plans_are_the_libraries_own(tmp_path: Path, max_iter: int, eta: int) -> None:
    from dehb import DEHB
    from loguru import logger
    from smac.intensifier.hyperband_utils import determine_HB

    from tunebench.compare.peers.configspace import to_configspace

    dehb = DEHB(
        cs=to_configspace(task().space),
        min_fidelity=nudged(1),
        max_fidelity=max_iter,
        eta=eta,
        n_workers=1,
        output_path=str(tmp_path),
    )
    logger.remove()
    brackets = floor_brackets(nudged(1), max_iter, eta)
    assert [list(dehb._get_next_iteration(i)[0]) for i in range(len(brackets))] == brackets
    smac = determine_HB(nudged(1), max_iter, eta)
    assert [smac["n_configs_in_stage"][i] for i in range(len(smac["n_configs_in_stage"]))] == smac_brackets(
        nudged(1), max_iter, eta, True
    )
    s_max = 0
    while eta ** (s_max + 1) <= max_iter:
        s_max += 1
    assert len(brackets) == len(smac["n_configs_in_stage"]) == s_max + 1  # 6 at 243 and eta 3: the integer count


def test_families_and_settings_are_checked_for_fairness() -> None:
    ours = {
        "name": "mf",
        "seeds": [0],
        "max_iter": 9,
        "workloads": MATRIX["workloads"],
        "executors": [{"name": "local"}],
        "schedulers": [{"label": "hyperband", "name": "hyperband"}],
        "shared": {"eta": 3},
    }
    matrix = load_matrix(raw={**ours, "peers": [{"label": "smac-hb", "name": "smac-hyperband"}]})
    assert matrix.contender("smac-hb").settings == matrix.contender("hyperband").settings == {"eta": 3, "n_trials": 17}
    with pytest.raises(ConfigError, match="hyperband and bohb both run hyperband but differ in n_trials: 17 against 15"):
        load_matrix(raw={**ours, "peers": [{"label": "bohb", "name": "hpbandster-bohb"}]})
    shared = load_matrix(raw={**MATRIX, "shared": {"eta": 4, "min_iter": 2}})
    assert shared.contender("dehb").settings == {"eta": 4, "min_iter": 2, "n_trials": 6}
    assert (
        shared.contender("dehb").received["min_iter"] == "min_fidelity"
        and shared.contender("smac-sh").received["min_iter"] == "min_budget"
    )


def test_what_a_peer_cannot_run_is_refused_by_name() -> None:
    odd = PeerTask(**{**task().__dict__, "space": Space({"alpha": Mixture(((1.0, Uniform(0.1, 0.2)),))})})
    for name in ("dehb", "hpbandster-bohb", "smac-hyperband", "smac-successive-halving"):
        with pytest.raises(PeerUnsupported, match=r"space\.alpha: .* no ConfigSpace form"):
            registry.load("peer", name)().check(odd)
    with pytest.raises(PeerUnsupported, match="dehb: min_budget 9 is not below max_iter=9"):
        DEHBPeer(min_iter=9).check(task())
    with pytest.raises(ValueError, match="facade must be one of multi-fidelity, hyperband"):
        SMACSuccessiveHalving(facade="bohb")
    with pytest.raises(ValueError, match="eta must be an integer >= 2"):
        DEHBPeer(eta=1)
