"""The PBT scheduler: barrier and asynchronous semantics, checkpoint safety, lineage, PB2, runs."""

from __future__ import annotations

import copy
import json
import pickle
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import tiny_config
from tunebench.config import ConfigError, load_experiment
from tunebench.executors.local import LocalExecutor
from tunebench.run import run
from tunebench.space import Space
from tunebench.trial import Decision, Job, Result, TrialStatus

from schedulers.pbt import PBT

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-5, 1e-1]}, "eta0": {"loguniform": [1e-3, 1.0]}, "learning_rate": "constant"})
SGD_SPACE = {"alpha": {"loguniform": [1.0e-5, 1.0e-1]}, "eta0": {"loguniform": [1.0e-3, 1.0]}, "learning_rate": "constant"}


def fake_score(job: Job) -> float:
    """A deterministic score: better for eta0 near 0.03, a little better with steps, noisy."""
    noise = random.Random(job.trial_id * 1000 + job.stop_step).gauss(0.0, 0.3)
    return float(-abs(np.log10(job.config["eta0"]) + 1.5) + 0.01 * job.stop_step + noise)


def drive(pbt: PBT, capacity: int, order_seed: int) -> list[Job]:
    """Run ``pbt`` against a model executor that checks every clone's checkpoint.

    Jobs finish in a random order. A clone Job may only copy a donor whose last finished Job
    ended exactly at the clone step and that has no Job out (its checkpoint is not moving), or
    a snapshot the scheduler asked to keep when that checkpoint was written and has not
    released yet.
    """
    order = random.Random(order_seed)
    out: list[Job] = []
    checkpoint: dict[int, int] = {}
    kept: set[tuple[int, int]] = set()
    submitted: list[Job] = []
    while True:
        while len(out) < capacity:
            job = pbt.suggest()
            if job is None:
                break
            if job.clone_from is not None:
                donor, step = job.clone_from
                live = checkpoint.get(donor) == step and all(j.trial_id != donor for j in out)
                assert live or job.clone_from in kept
                assert job.start_step == step
            else:
                assert checkpoint.get(job.trial_id, 0) == job.start_step
            out.append(job)
            submitted.append(job)
            kept -= set(pbt.pop_unkept())
        if not out:
            assert pbt.finished
            return submitted
        job = out.pop(order.randrange(len(out)))
        checkpoint[job.trial_id] = job.stop_step
        pbt.on_result(Result(job.trial_id, job.stop_step, fake_score(job), job.n_steps))
        for trial_id, step in pbt.pop_kept():
            assert checkpoint[trial_id] == step
            kept.add((trial_id, step))
        kept -= set(pbt.pop_unkept())


@given(st.integers(2, 9), st.integers(1, 3), st.booleans(), st.sampled_from(["truncation", "tournament"]), st.integers(0, 10**6))
@settings(max_examples=60, deadline=None)
def test_clones_only_copy_written_checkpoints_that_do_not_move(
    n: int, capacity: int, synch: bool, exploit: str, seed: int
) -> None:
    pbt = PBT(
        SPACE, seed=seed, n_trials=n, max_iter=10, perturbation_interval=3, synch=synch, exploit=exploit, quantile_fraction=0.5
    )
    jobs = drive(pbt, capacity, seed)
    assert sum(j.n_steps for j in jobs) <= n * 10
    assert len(pbt.members) == n
    assert all(pbt.trials[t].status == TrialStatus.COMPLETED and pbt.trials[t].steps == 10 for t in pbt.members)
    others = [t for t in pbt.trials.values() if t.trial_id not in pbt.members]
    assert all(t.status == TrialStatus.STOPPED for t in others)
    assert all(SPACE.contains(t.config) for t in pbt.trials.values())


def test_synchronous_barrier_waits_for_everyone_then_truncates() -> None:
    pbt = PBT(SPACE, seed=0, n_trials=4, max_iter=6, perturbation_interval=3, synch=True, quantile_fraction=0.25)
    first = [pbt.suggest() for _ in range(4)]
    assert pbt.suggest() is None
    assert [(j.start_step, j.stop_step) for j in first] == [(0, 3)] * 4
    scores = {0: 0.5, 1: 0.9, 2: 0.1, 3: 0.7}
    for job in first:
        decision = pbt.on_result(Result(job.trial_id, 3, scores[job.trial_id], 3))
        assert decision == Decision.PAUSE
    jobs = [pbt.suggest() for _ in range(4)]
    assert pbt.suggest() is None
    clone = jobs[0]
    assert clone.clone_from == (1, 3) and clone.start_step == 3 and clone.stop_step == 6
    assert pbt.trials[clone.trial_id].parent == 1
    assert pbt.trials[2].status == TrialStatus.STOPPED
    assert [j.trial_id for j in jobs[1:]] == [0, 3, 1]
    assert pbt.members == [0, 1, clone.trial_id, 3]
    event = pbt.lineage.events[-1]
    assert (event.step, event.trial, event.replaced, event.donor, event.donor_score, event.recipient_score) == (
        3,
        clone.trial_id,
        2,
        1,
        0.9,
        0.1,
    )
    assert event.old_config == pbt.trials[1].config and event.new_config == pbt.trials[clone.trial_id].config
    for job in jobs:
        assert pbt.on_result(Result(job.trial_id, 6, 0.5, 3)) == Decision.COMPLETE
    assert pbt.finished and pbt.suggest() is None


def test_burn_in_delays_the_first_exploit_and_min_mode_flips_the_ranking() -> None:
    pbt = PBT(
        SPACE, seed=0, mode="min", n_trials=2, max_iter=9, perturbation_interval=3, burn_in=6, synch=True, quantile_fraction=0.5
    )
    for step in (3, 6, 9):
        jobs = [pbt.suggest() for _ in range(2)]
        assert (jobs[0].clone_from is not None) == (step == 9)
        for job in jobs:
            pbt.on_result(Result(job.trial_id, step, 0.1 if job.trial_id == pbt.members[0] else 0.9, 3))
    event = pbt.lineage.events[-1]
    assert (event.step, event.donor, event.replaced) == (6, 0, 1)
    assert event.donor_score == 0.1 and event.recipient_score == 0.9


def test_asynchronous_member_decides_alone_and_its_clone_runs_first() -> None:
    pbt = PBT(SPACE, seed=0, n_trials=4, max_iter=9, perturbation_interval=3, synch=False, quantile_fraction=0.25)
    jobs = [pbt.suggest() for _ in range(4)]
    assert pbt.suggest() is None
    for job, score in zip(jobs[:3], (0.9, 0.95, 0.97)):
        assert pbt.on_result(Result(job.trial_id, 3, score, 3)) == Decision.CONTINUE
    assert pbt.on_result(Result(3, 3, 0.1, 3)) == Decision.STOP
    assert pbt.trials[3].status == TrialStatus.STOPPED
    clone = pbt.suggest()
    assert clone.clone_from == (2, 3) and pbt.trials[clone.trial_id].parent == 2
    assert [pbt.suggest().trial_id for _ in range(2)] == [2, 0]


def test_validation_names_the_key() -> None:
    cases = [
        ({"quantile_fraction": 0.7}, "quantile_fraction"),
        ({"exploit": "roulette"}, "exploit must be one of truncation, tournament"),
        ({"strategy": "bohb"}, "strategy must be one of operators, pb2"),
        ({"boundary": "wrap"}, "boundary must be one of clip, reflect"),
        ({"synch": "yes"}, "synch"),
        ({"n_trials": 1}, "n_trials"),
        ({"perturbation_factors": []}, "perturbation_factors"),
        ({"explore": {"alpha": [{"jitter": 1}]}}, "explore.alpha[0]: unknown operator 'jitter'"),
    ]
    for params, words in cases:
        with pytest.raises(ConfigError) as err:
            load_experiment(raw=tiny_config({"name": "pbt", **params}, space=SGD_SPACE))
        assert words in str(err.value)


def pbt_config(**params: Any) -> dict[str, Any]:
    scheduler = {"name": "pbt", "n_trials": 4, "max_iter": 8, "perturbation_interval": 2, "quantile_fraction": 0.25, **params}
    raw = tiny_config(scheduler, space=SGD_SPACE)
    raw["workload"]["chunk_size"] = 60
    return raw


@pytest.mark.parametrize("synch", [True, False])
def test_runs_finish_on_sgd_and_same_seed_logs_the_same_lineage(tmp_path, synch: bool) -> None:
    a = run(load_experiment(raw=pbt_config(synch=synch)), tmp_path / "a", progress=False)
    b = run(load_experiment(raw=pbt_config(synch=synch)), tmp_path / "b", progress=False)
    assert a.summary["status"] == "completed"
    done = a.trials[a.trials["status"] == "completed"]
    assert len(done) == 4 and (done["steps"] == 8).all()
    assert set(a.trials["status"]) <= {"completed", "stopped"}
    if synch:
        assert a.summary["partial_fit_calls"] == 4 * 8
    log = a.extra["pbt_log"]
    assert len(log) == len(a.trials) > 4
    assert (log["strategy"] != "init").sum() == a.trials["parent"].notna().sum()
    pd.testing.assert_frame_equal(log, b.extra["pbt_log"])
    assert (tmp_path / "a" / "pbt_log.parquet").is_file()


class RecordingExecutor(LocalExecutor):
    """The local executor, also keeping every reported state and every clone's loaded state."""

    def __init__(self) -> None:
        super().__init__()
        self.reported: dict[tuple[int, int], bytes] = {}
        self.loaded: dict[int, tuple[Job, bytes]] = {}

    def submit(self, job: Job) -> None:
        super().submit(job)
        if job.clone_from is not None:
            self.loaded[job.trial_id] = (job, copy.deepcopy(self._queue[-1].start_state))

    def wait(self) -> list[Result]:
        results = super().wait()
        for r in results:
            self.reported[(r.trial_id, r.step)] = self._ledger.checkpoint(r.trial_id).state
        return results


def test_a_clone_loads_exactly_its_donors_state_at_that_step(tmp_path) -> None:
    exp = load_experiment(raw=pbt_config(synch=True, quantile_fraction=0.5))
    recorder = RecordingExecutor()
    out = run(exp, tmp_path / "r", progress=False, executor=recorder)
    assert recorder.loaded
    workload = exp.build().workload
    data = workload.load(exp.seed)
    for child, (job, state) in recorder.loaded.items():
        donor, step = job.clone_from
        _, steps, model = pickle.loads(state)
        _, d_steps, d_model = pickle.loads(recorder.reported[(donor, step)])
        assert steps == d_steps == step
        np.testing.assert_array_equal(model.coef_, d_model.coef_)
        np.testing.assert_array_equal(model.intercept_, d_model.intercept_)
        trainable = workload.build(dict(job.config), data, job.seed)
        trainable.restore(state)
        trainable.reset_config(dict(job.config))
        trainable.train(job.n_steps)
        first = out.results[(out.results["trial_id"] == child) & (out.results["step"] == job.stop_step)]
        assert first["score"].item() == trainable.score()


def test_pb2_explores_inside_the_bounds_and_logs_it(tmp_path) -> None:
    raw = pbt_config(synch=True, strategy="pb2", n_trials=4, max_iter=12, quantile_fraction=0.5)
    out = run(load_experiment(raw=raw), tmp_path / "r", progress=False)
    log = out.extra["pbt_log"]
    assert log["explored"].str.contains('"pb2"').any()
    space = Space.from_spec(SGD_SPACE)
    configs = [json.loads(c) for c in log["new_config"]]
    assert all(space.contains(c) for c in configs)
    assert log["strategy"].iloc[-1] == "truncation+pb2"


@pytest.mark.parametrize("searcher", ["tpe", "bohb"])
def test_a_model_based_searcher_is_refused_at_config_load(searcher: str) -> None:
    """PBT draws only its first population from a searcher and explores by mutation after, so a
    model would silently steer a handful of configs: refused, naming it and what PBT takes."""
    raw = tiny_config({"name": "pbt", "n_trials": 4, "max_iter": 6}, space=SGD_SPACE)
    with pytest.raises(ConfigError, match=f"scheduler 'pbt': searcher {searcher!r}.*allowed: searcher 'random'"):
        load_experiment(raw={**raw, "searcher": {"name": searcher}})
    assert load_experiment(raw={**raw, "searcher": {"name": "random"}}).build().scheduler.searcher is not None
