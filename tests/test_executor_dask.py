"""The Dask executor: same decisions as local, ASHA, score priority, fast failures."""

from __future__ import annotations

import time

import pytest

from tests.helpers import (
    SlowSGDWorkload,
    SlowTrainable,
    assert_no_duplicates,
    executor_experiment,
    free_port,
    run_fingerprint,
    ship_test_classes_by_value,
)
from tunebench.executors.base import ExecutorError
from tunebench.run import run
from tunebench.trial import Job
from tunebench.workloads.sgd import SGDWorkload

pytest.importorskip("distributed")
from tunebench.executors.dask_executor import DaskExecutor, dask_priority  # noqa: E402

ship_test_classes_by_value()


def test_hyperband_on_dask_matches_local(tmp_path) -> None:
    local = run(executor_experiment({"name": "local"}), tmp_path / "local", progress=False)
    out = run(executor_experiment({"name": "dask", "n_workers": 2}), tmp_path / "dask", progress=False)
    assert run_fingerprint(out) == run_fingerprint(local)
    assert out.summary["test_score"] == local.summary["test_score"]
    stats = out.summary["executor_stats"]
    assert stats["name"] == "dask" and stats["started_cluster"] and stats["queue"] == 0
    assert stats["retries"] == 0 and stats["duplicates_dropped"] == 0


def test_asha_promotion_runs_on_dask(dask_address, tmp_path) -> None:
    scheduler = {"name": "asha", "max_iter": 9, "eta": 3, "n_trials": 12, "variant": "promotion"}
    executor = {"name": "dask", "n_workers": 2, "priority": "fifo", "address": dask_address}
    out = run(executor_experiment(executor, scheduler), tmp_path / "r", progress=False)
    assert out.summary["status"] == "completed" and out.summary["n_trials"] == 12
    assert_no_duplicates(out)
    assert out.trials["steps"].max() <= 9


def test_score_priority_runs_the_best_trial_first_when_workers_are_scarce() -> None:
    """One worker holding one Job (``queue_depth: 1``), busy; three Jobs queue in Dask behind
    it. Under ``score`` they start best first; under ``fifo`` in the order they came."""
    workload = SlowSGDWorkload(dataset="circles", n_samples=600)
    cfg = {"alpha": 1e-3, "l1_ratio": 0.5}
    order = {}
    with DaskExecutor(n_workers=1, queue=3, queue_depth=1) as ex:
        ex.start(workload, workload.load(0))
        for mode, base in (("score", 0), ("fifo", 10)):
            ex.priority = mode
            ex.submit(Job(base, cfg, 1, 0, int(0.6 / SlowTrainable.delay_s)))  # the blocker
            time.sleep(0.2)
            for k, priority in ((1, 0.2), (2, 0.9), (3, 0.5)):
                ex.submit(Job(base + k, cfg, 1, 0, 1, priority=priority))
            results = []
            while ex.pending:
                results.extend(ex.wait())
            started = sorted((r for r in results if r.trial_id != base), key=lambda r: r.queue_s)
            order[mode] = [r.trial_id - base for r in started]
    assert order == {"score": [2, 3, 1], "fifo": [1, 2, 3]}


def test_dask_priority_is_finite() -> None:
    assert dask_priority(Job(0, {}, 0, 0, 1, priority=float("-inf")), "score") == -1e300
    assert dask_priority(Job(0, {}, 0, 0, 1, priority=0.25), "score") == 0.25


def test_unreachable_address_fails_fast_and_clearly() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    workload = SGDWorkload(dataset="circles", n_samples=600)
    t0 = time.time()
    with pytest.raises(ExecutorError) as info:
        with DaskExecutor(address=address) as ex:
            ex.start(workload, workload.load(0))
    assert time.time() - t0 < 10
    assert address in str(info.value) and "dask scheduler" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"priority": "best"}, "priority"),
        ({"queue": -2}, "queue"),
        ({"queue_depth": 0}, "queue_depth"),
        ({"address": ""}, "address"),
        ({"connect_timeout_s": 0}, "connect_timeout_s"),
    ],
)
def test_bad_options_name_the_key(kwargs, key) -> None:
    with pytest.raises(ValueError, match=key):
        DaskExecutor(**kwargs)


def live_trials(ex: DaskExecutor) -> set[int]:
    """Trial ids of this run's live Trainables, over all workers."""
    assert ex._client is not None

    def ids(scope: str) -> list[int]:
        from tunebench.executors.live import CACHE

        return [tid for s, tid in list(CACHE._live) if s == scope]

    return {tid for per_worker in ex._client.run(ids, ex._scope).values() for tid in per_worker}


def wait_for_live(ex: DaskExecutor, expected: set[int]) -> set[int]:
    deadline = time.time() + 10
    while (live := live_trials(ex)) != expected and time.time() < deadline:
        time.sleep(0.05)
    return live


def test_released_trials_leave_the_workers(dask_address) -> None:
    """On the shared cluster: live trials are kept apart by the run's scope."""
    workload = SGDWorkload(dataset="circles", n_samples=600)
    cfg = {"alpha": 1e-3, "l1_ratio": 0.5}
    with DaskExecutor(n_workers=2, address=dask_address) as ex:
        ex.start(workload, workload.load(0))
        for tid in range(4):
            ex.submit(Job(tid, cfg, tid, 0, 1))
        while ex.pending:
            ex.wait()
        assert live_trials(ex) == {0, 1, 2, 3}
        ex.release(0)
        ex.release(2)
        ex.submit(Job(1, cfg, 1, 1, 2))
        ex.wait()
        assert wait_for_live(ex, {1, 3}) == {1, 3}
        ex.release(1)
        time.sleep(1.1)  # releases go out in one broadcast a second at most
        ex.submit(Job(3, cfg, 3, 1, 2))
        ex.wait()
        assert wait_for_live(ex, {3}) == {3}


FORKED_WORKERS = """
import json, os, sys
from multiprocessing import forkserver
from distributed import Client
from threadpoolctl import threadpool_info
from tunebench.executors.dask_executor import local_cluster
from tunebench.executors.forked import fork_context

if __name__ == "__main__":
    first, second = sys.argv[1:]
    out = os.dup(1)
    os.dup2(os.open(first, os.O_WRONLY | os.O_CREAT), 1)  # the fork server starts with this stdout
    fork_context()
    forkserver.ensure_running()
    os.dup2(os.open(second, os.O_WRONLY | os.O_CREAT), 1)  # and this process writes here after
    with local_cluster(2) as cluster, Client(cluster) as client:
        parents = set(client.run(os.getppid).values())
        client.run(lambda: print("a worker says hello", flush=True))
        blas = set(client.run(lambda: max(p["num_threads"] for p in threadpool_info())).values())
    pids = {"parents": sorted(parents), "server": forkserver._forkserver._forkserver_pid}
    os.write(out, json.dumps({**pids, "blas": sorted(blas), "omp_here": os.environ.get("OMP_NUM_THREADS")}).encode())
"""


def test_a_local_clusters_workers_are_forked_and_write_where_the_driver_does(tmp_path) -> None:
    import json
    import subprocess
    import sys

    script, first, second = tmp_path / "forked.py", tmp_path / "server.out", tmp_path / "driver.out"
    script.write_text(FORKED_WORKERS)
    done = subprocess.run([sys.executable, str(script), str(first), str(second)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pids = json.loads(done.stdout)
    assert pids["parents"] == [pids["server"]]  # both workers forked from the fork server, not spawned
    assert pids["blas"] == [1]  # each runs one BLAS thread, as a spawned Dask worker does
    assert second.read_text().count("a worker says hello") == 2
    assert "a worker says hello" not in first.read_text()
