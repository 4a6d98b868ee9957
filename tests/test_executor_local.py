"""The local reference executor keeps the cluster executors' books: its checkpoints are the ledger's."""

from __future__ import annotations

import pickle

import pytest

from tunebench.executors.cluster import LedgerExecutor
from tunebench.executors.dask_on_ray import DaskOnRayExecutor
from tunebench.executors.local import LocalExecutor
from tunebench.executors.ray_executor import RayExecutor
from tunebench.trial import Job
from tunebench.workloads.sgd import SGDWorkload

pytest.importorskip("distributed")
from tunebench.executors.dask_executor import DaskExecutor  # noqa: E402

CFG = {"alpha": 1e-3, "l1_ratio": 0.5}
BOOKKEEPING = ("submit", "wait", "release", "keep", "drop_kept", "pending")


@pytest.fixture
def local() -> LocalExecutor:
    workload = SGDWorkload(dataset="circles", n_samples=600)
    ex = LocalExecutor()
    ex.start(workload, workload.load(0))
    yield ex
    ex.shutdown()


def run(ex: LocalExecutor, job: Job) -> float:
    ex.submit(job)
    (result,) = ex.wait()
    return result.score


@pytest.mark.parametrize("cls", [LocalExecutor, RayExecutor, DaskExecutor, DaskOnRayExecutor])
def test_every_executor_with_a_ledger_uses_the_one_submit_and_wait(cls: type) -> None:
    assert issubclass(cls, LedgerExecutor)
    for name in BOOKKEEPING:
        assert getattr(cls, name) is getattr(LedgerExecutor, name), f"{cls.__name__}.{name} is its own copy"


def test_each_finished_job_leaves_its_checkpoint_in_the_ledger(local: LocalExecutor) -> None:
    run(local, Job(0, CFG, 11, 0, 2))
    ck = local._ledger.checkpoint(0)
    assert (ck.trial_id, ck.step, ck.config, ck.seed) == (0, 2, CFG, 11)
    _, steps, _ = pickle.loads(ck.state)
    assert steps == 2
    run(local, Job(0, CFG, 11, 2, 5))
    assert local._ledger.checkpoint(0).step == 5 and local._ledger.checkpoint(0).token > ck.token
    assert local.stats()["live_hits"] == 1 and local.stats()["restores"] == 0


def test_a_job_that_skips_its_checkpoint_is_refused_by_the_ledger(local: LocalExecutor) -> None:
    run(local, Job(0, CFG, 11, 0, 2))
    with pytest.raises(RuntimeError, match="checkpoint is at step 2, the Job starts at 3"):
        local.submit(Job(0, CFG, 11, 3, 5))
    assert local.pending == 0


def test_a_trial_out_of_the_live_cache_continues_from_its_ledger_checkpoint(local: LocalExecutor) -> None:
    local._cache.limit = 1
    run(local, Job(0, CFG, 11, 0, 2))
    run(local, Job(1, CFG, 12, 0, 2))  # pushes trial 0 out of the cache
    moved = run(local, Job(0, CFG, 11, 2, 5))
    straight = run(local, Job(9, CFG, 11, 0, 5))
    assert local.stats()["restores"] == 1
    assert moved == straight


def test_clones_start_from_the_ledgers_checkpoint_or_kept_snapshot(local: LocalExecutor) -> None:
    run(local, Job(0, CFG, 11, 0, 3))
    local.keep(0, 3)
    assert (0, 3) in local._ledger.kept
    donor = run(local, Job(0, CFG, 11, 3, 6))  # the donor trains on past its snapshot
    assert run(local, Job(1, CFG, 11, 3, 6, clone_from=(0, 3))) == donor
    assert run(local, Job(2, CFG, 11, 6, 9, clone_from=(0, 6))) == run(local, Job(0, CFG, 11, 6, 9))
    local.drop_kept(0, 3)
    with pytest.raises(RuntimeError, match="no snapshot was kept there"):
        local.submit(Job(3, CFG, 11, 3, 6, clone_from=(0, 3)))


def test_release_forgets_the_checkpoint_and_the_live_trainable(local: LocalExecutor) -> None:
    run(local, Job(0, CFG, 11, 0, 2))
    assert len(local._cache) == 1
    local.release(0)
    assert len(local._cache) == 0
    with pytest.raises(KeyError, match="trial 0 has no checkpoint"):
        local.test_score(0)


def test_test_score_is_the_checkpoints(local: LocalExecutor) -> None:
    run(local, Job(0, CFG, 11, 0, 4))
    live = local.test_score(0)
    local._cache.drop(local._scope)  # now it must restore the ledger's checkpoint
    assert local.test_score(0) == live
