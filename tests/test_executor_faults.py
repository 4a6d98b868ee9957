"""Faults: a lost worker costs one Job, rerun from its checkpoint; nothing recorded is lost or doubled.

The bookkeeping (ledger, live cache) is tested alone; then a Ray actor is killed twice (with
``ray.kill`` and by its pid) and a Dask worker process is killed, in the middle of real runs.
"""

from __future__ import annotations

import builtins
import doctest
import os
import signal

import pytest

from tests.helpers import SlowSGDWorkload, assert_no_duplicates, executor_experiment, run_fingerprint, ship_test_classes_by_value
from tunebench.executors.base import ExecutorError
from tunebench.executors.ledger import Ledger
from tunebench.executors.live import LiveCache
from tunebench.run import run
from tunebench.trial import Job, Result
from tunebench.workloads.sgd import SGDWorkload

CFG = {"alpha": 1e-3, "l1_ratio": 0.5}


# -- the driver's ledger ----------------------------------------------------------------------


def test_a_result_is_recorded_once() -> None:
    book = Ledger()
    ticket = book.open(Job(0, CFG, 1, 0, 3), now=0.0)
    assert book.close(ticket, Result(0, 3, 0.5), state=b"a")
    assert not book.close(ticket, Result(0, 3, 0.5), state=b"b")
    assert book.checkpoint(0).state == b"a" and book.duplicates == 1 and book.pending == 0


def test_a_job_starts_from_its_trials_checkpoint_or_a_donors() -> None:
    book = Ledger()
    book.close(book.open(Job(0, CFG, 1, 0, 3), 0.0), Result(0, 3, 0.5), state=b"t0@3")
    assert book.open(Job(0, CFG, 1, 3, 9), 1.0).start_state == b"t0@3"
    clone = book.open(Job(1, CFG, 2, 3, 6, clone_from=(0, 3)), 1.0)
    assert clone.start_state == b"t0@3"
    with pytest.raises(RuntimeError, match="checkpoint is at step 3"):
        book.open(Job(2, CFG, 3, 0, 6, clone_from=(0, 6)), 1.0)
    with pytest.raises(RuntimeError, match="already has a Job out"):
        book.open(Job(0, CFG, 1, 3, 9), 2.0)


def test_a_released_trial_cannot_run_again() -> None:
    book = Ledger()
    book.close(book.open(Job(0, CFG, 1, 0, 3), 0.0), Result(0, 3, 0.5), state=b"x")
    book.release(0)
    with pytest.raises(RuntimeError, match="checkpoint is at step None"):
        book.open(Job(0, CFG, 1, 3, 9), 1.0)


def test_retries_are_bounded() -> None:
    book = Ledger(max_retries=1)
    ticket = book.open(Job(0, CFG, 1, 0, 3), 0.0)
    book.retry(ticket, "worker died")
    with pytest.raises(ExecutorError, match="max_retries=1"):
        book.retry(ticket, "worker died again")
    assert book.retries == 1 and book.pending == 0


def test_doctests() -> None:
    from tunebench.executors import cluster, dask_executor, ledger, ray_executor

    for module in (cluster, dask_executor, ledger, ray_executor):
        assert doctest.testmod(module).failed == 0, module.__name__


# -- the worker's live cache ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sgd() -> tuple[SGDWorkload, object]:
    workload = SGDWorkload(dataset="circles", n_samples=600)
    return workload, workload.load(0)


def test_continuing_live_and_restoring_the_checkpoint_agree(sgd) -> None:
    workload, data = sgd
    here, there = LiveCache(), LiveCache()
    first, state = here.run("s", workload, data, Job(0, CFG, 5, 0, 2), None, lambda: None, 1, 0.0)
    live, _ = here.run("s", workload, data, Job(0, CFG, 5, 2, 6), 1, lambda: pytest.fail("live copy not used"), 2, 0.0)
    moved, _ = there.run("s", workload, data, Job(0, CFG, 5, 2, 6), 1, lambda: state, 2, 0.0)
    assert (here.hits, there.misses) == (1, 1)
    assert live.score == moved.score and live.step == moved.step == 6


def test_a_stale_live_copy_is_not_used(sgd) -> None:
    workload, data = sgd
    cache = LiveCache()
    _, state2 = cache.run("s", workload, data, Job(0, CFG, 5, 0, 2), None, lambda: None, 1, 0.0)
    cache.run("s", workload, data, Job(0, CFG, 5, 2, 4), 1, lambda: None, 2, 0.0)
    again, _ = cache.run("s", workload, data, Job(0, CFG, 5, 2, 4), 1, lambda: state2, 3, 0.0)
    assert cache.misses == 1 and again.step == 4


def test_a_failed_job_leaves_no_live_copy(sgd) -> None:
    workload, data = sgd
    cache = LiveCache()
    cache.run("s", workload, data, Job(0, CFG, 5, 0, 2), None, lambda: None, 1, 0.0)
    with pytest.raises(RuntimeError, match="checkpoint is at step 2"):
        cache.run("s", workload, data, Job(0, {"alpha": 1e-2}, 5, 3, 4), 1, lambda: None, 2, 0.0)
    assert len(cache) == 0


# -- killed workers in real runs --------------------------------------------------------------


def _slow(exp):  # type: ignore[no-untyped-def]
    return SlowSGDWorkload(**exp.workload_params)


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory) -> dict:
    return run_fingerprint(run(executor_experiment({"name": "local"}), tmp_path_factory.mktemp("ref") / "r", progress=False))


def test_killing_ray_actors_mid_run_costs_only_their_jobs(ray_session, local_reference, tmp_path) -> None:
    import ray

    print_before = builtins.print

    from tunebench.executors.ray_executor import RayExecutor

    ship_test_classes_by_value()

    class KillingRay(RayExecutor):
        """After 3 results kills the actor of a running Job with ray.kill; after 8, another by
        SIGKILL to its process. Jobs sleep 50 ms a step, so both die mid-Job."""

        def wait(self) -> list[Result]:
            seen, done = getattr(self, "seen", 0), getattr(self, "done", set())
            for when, how in ((3, "ray.kill"), (8, "sigkill")):
                busy = [self._slots[t.slot] for t in self._by_ref.values() if t.generation == self._slots[t.slot].generation]
                busy = [s for s in busy if how == "ray.kill" or s.pid is not None]
                if seen >= when and how not in done and busy:
                    if how == "ray.kill":
                        ray.kill(busy[0].actor)
                    else:
                        os.kill(busy[0].pid, signal.SIGKILL)
                    done.add(how)
            self.done = done
            results = super().wait()
            self.seen = seen + len(results)
            return results

    exp = executor_experiment({"name": "ray", "n_workers": 2})
    out = run(exp, tmp_path / "r", progress=False, workload=_slow(exp), executor=KillingRay(n_workers=2))
    stats = out.summary["executor_stats"]
    assert stats["actor_restarts"] == 2 and stats["retries"] >= 2
    assert out.summary["status"] == "completed"
    assert_no_duplicates(out)
    assert run_fingerprint(out) == local_reference
    assert builtins.print is print_before  # Ray showed the dead actors' errors without patching print


def test_killing_a_dask_worker_mid_run_costs_only_its_job(local_reference, tmp_path) -> None:
    from tunebench.executors.dask_executor import DaskExecutor

    ship_test_classes_by_value()

    class KillingDask(DaskExecutor):
        """After 3 results kills (SIGKILL) the process of a worker that is running a Job."""

        lost: set[tuple[int, int]] = set()

        def wait(self) -> list[Result]:
            if getattr(self, "seen", 0) >= 3 and not self.lost:
                assert self._client is not None
                running = {addr: keys for addr, keys in self._client.processing().items() if keys}
                if running:
                    addr = sorted(running)[0]
                    jobs = [self._by_key[k].job for k in running[addr] if k in self._by_key]
                    KillingDask.lost = {(j.trial_id, j.stop_step) for j in jobs}
                    os.kill(self.worker_pids()[addr], signal.SIGKILL)
            results = super().wait()
            self.seen = getattr(self, "seen", 0) + len(results)
            return results

    exp = executor_experiment({"name": "dask", "n_workers": 2})
    out = run(exp, tmp_path / "r", progress=False, workload=_slow(exp), executor=KillingDask(n_workers=2))
    assert out.summary["status"] == "completed"
    assert KillingDask.lost, "no worker was killed mid-Job"
    assert KillingDask.lost <= set(zip(out.results["trial_id"], out.results["step"]))
    assert out.summary["executor_stats"]["workers_lost"] >= 1  # its nanny may not have restarted it yet
    assert_no_duplicates(out)
    assert run_fingerprint(out) == local_reference
