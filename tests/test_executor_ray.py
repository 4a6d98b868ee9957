"""The Ray executor: same decisions as local, ASHA, Jobs moving between actors, ownership, fast failures."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.helpers import EXECUTOR_HB, assert_no_duplicates, executor_experiment, free_port, run_fingerprint, wait_gone
from tunebench.config import load_experiment
from tunebench.executors.base import ExecutorError
from tunebench.run import run
from tunebench.trial import Job
from tunebench.workloads.sgd import SGDWorkload
from tunebench.workloads.synthetic.hartmann import MFHartmann3

ray = pytest.importorskip("ray")
from tunebench.executors.ray_executor import RayExecutor  # noqa: E402


def mfh3_experiment(executor: dict[str, Any], scheduler: dict[str, Any] | None = None) -> Any:
    """A seed-0 experiment on MF-Hartmann-3 (steps 1 to 9): no data, no model to train."""
    raw = {"seed": 0, "workload": {"name": "mfh3", "max_iter": 9}, "scheduler": dict(scheduler or EXECUTOR_HB)}
    return load_experiment(raw={**raw, "executor": dict(executor)})


@pytest.fixture(scope="module")
def local_hyperband(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_fingerprint(run(executor_experiment({"name": "local"}), tmp_path_factory.mktemp("local") / "r", progress=False))


def test_hyperband_on_ray_matches_local(ray_session, local_hyperband, tmp_path) -> None:
    out = run(executor_experiment({"name": "ray", "n_workers": 2}), tmp_path / "r", progress=False)
    assert run_fingerprint(out) == local_hyperband
    assert out.summary["status"] == "completed"
    stats = out.summary["executor_stats"]
    assert stats["name"] == "ray" and stats["actor_restarts"] == 0 and stats["duplicates_dropped"] == 0
    assert 0.0 <= out.summary["test_score"] <= 1.0
    assert out.results["worker"].nunique() == 2
    assert stats["started_cluster"] is False and ray.is_initialized(), "a Ray it did not start must be left running"


def test_asha_stopping_runs_on_ray(ray_session, tmp_path) -> None:
    """ASHA's stops follow arrival order, so only the learning curves must agree with local: a
    trial's score after ``k`` steps does not depend on where, or in how many Jobs, it ran."""
    scheduler = {"name": "asha", "max_iter": 9, "eta": 3, "n_trials": 12, "variant": "stopping"}
    out = run(mfh3_experiment({"name": "ray", "n_workers": 2, "queue": 1}, scheduler), tmp_path / "r", progress=False)
    assert out.summary["status"] == "completed"
    assert out.summary["n_trials"] == 12
    assert_no_duplicates(out)
    assert (out.trials["steps"] >= 1).all() and out.trials["steps"].max() <= 9
    local = run(mfh3_experiment({"name": "local"}, scheduler), tmp_path / "local", progress=False)
    assert dict(zip(out.trials["trial_id"], out.trials["config"])) == dict(zip(local.trials["trial_id"], local.trials["config"]))
    theirs = {(t, s): v for t, s, v in zip(local.results["trial_id"], local.results["step"], local.results["score"])}
    ours = {(t, s): v for t, s, v in zip(out.results["trial_id"], out.results["step"], out.results["score"])}
    common = theirs.keys() & ours.keys()
    assert len(common) >= 12 and all(theirs[k] == ours[k] for k in common)


def test_where_jobs_go_among_the_actors(ray_session) -> None:
    """One pool of two actors, three situations, each starting with both actors idle:

    - both free: a trial's next Job goes to the actor that trained it and continues the live
      model there (no restore);
    - the actor holding a trial busy: its next Job runs on the free one, from the checkpoint
      reference, and scores exactly as if it had never moved;
    - Jobs go to the actor with the fewest steps queued, not the fewest Jobs: with one actor on
      a 200-step Job and the other holding two 2-step Jobs, a third short Job joins the short
      ones (it starts within a few steps) instead of waiting for the long one.
    """
    workload = SGDWorkload(dataset="circles", n_samples=600)
    cfg = {"alpha": 1e-3, "l1_ratio": 0.5}
    with RayExecutor(n_workers=2, queue_depth=2) as ex:
        ex.start(workload, workload.load(0))

        ex.submit(Job(0, cfg, 11, 0, 1))
        ex.submit(Job(1, cfg, 12, 0, 1))
        _drain(ex)
        homes = {tid: ex._ledger.checkpoint(tid).where for tid in (0, 1)}
        assert set(homes.values()) == {0, 1}
        for tid in (1, 0):
            ex.submit(Job(tid, cfg, 11 + tid, 1, 2))
            assert next(t.slot for t in ex._ledger.out.values()) == homes[tid]
            _drain(ex)
        stats = ex.stats()
        assert stats["live_hits"] == 2 and stats["restores"] == 0

        ex.submit(Job(10, cfg, 11, 0, 2))
        assert ex.wait()[0].step == 2
        home = ex._ledger.checkpoint(10).where
        ex.submit(Job(11, cfg, 12, 0, 100))  # keeps trial 10's actor busy
        ex.submit(Job(10, cfg, 11, 2, 5))
        moved_to = next(t.slot for t in ex._ledger.out.values() if t.job.trial_id == 10)
        moved = {r.trial_id: r for r in _drain(ex)}[10]
        ex.submit(Job(19, cfg, 11, 0, 5))  # the same trial, in one Job
        straight = ex.wait()[0]
        assert moved_to != home and ex.stats()["restores"] >= 1
        assert (moved.step, moved.score) == (straight.step, straight.score)

        for tid, steps in [(20, 200), (21, 2), (22, 2), (23, 2)]:
            ex.submit(Job(tid, cfg, 11 + tid, 0, steps))
        slots = {t.job.trial_id: t.slot for t in ex._ledger.out.values()}
        results = {r.trial_id: r for r in _drain(ex)}
    assert slots[21] == slots[22] == slots[23] != slots[20]
    assert {tid: r.step for tid, r in results.items()} == {20: 200, 21: 2, 22: 2, 23: 2}
    assert results[23].queue_s < results[20].compute_s


def _drain(ex: RayExecutor) -> list:
    out = []
    while ex.pending:
        out.extend(ex.wait())
    return out


def test_unreachable_address_fails_fast_and_clearly() -> None:
    address = f"127.0.0.1:{free_port()}"
    workload = SGDWorkload(dataset="circles", n_samples=600)
    t0 = time.time()
    with pytest.raises(ExecutorError) as info:
        with RayExecutor(n_workers=1, address=address) as ex:
            ex.start(workload, workload.load(0))
    assert time.time() - t0 < 10
    assert address in str(info.value) and "ray start --head" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"n_workers": 0}, "n_workers"),
        ({"queue": -1}, "queue"),
        ({"queue_depth": 0}, "queue_depth"),
        ({"address": 7}, "address"),
        ({"max_retries": 1.5}, "max_retries"),
    ],
)
def test_bad_options_name_the_key(kwargs, key) -> None:
    with pytest.raises(ValueError, match=key):
        RayExecutor(**kwargs)


def test_a_local_ray_it_started_is_shut_down_with_it(no_ray, started_here) -> None:
    """With no Ray running, the executor starts a local one and stops it, and every process it
    started, when it shuts down."""
    w = MFHartmann3(max_iter=9)
    with RayExecutor(n_workers=1) as ex:
        ex.start(w, w.load(0))
        assert ex.stats()["started_cluster"]
        ex.submit(Job(0, {"X_0": 0.1, "X_1": 0.5, "X_2": 0.9}, 1, 0, 2))
        assert ex.wait()[0].step == 2
        assert started_here(), "a local Ray runs processes of its own"
    assert not ray.is_initialized()
    assert not wait_gone(started_here())
