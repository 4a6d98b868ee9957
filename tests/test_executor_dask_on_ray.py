"""The Dask-on-Ray executor: same decisions as local, ASHA, no Dask patching, fast failures."""

from __future__ import annotations

import time

import dask
import pytest

from tests.helpers import assert_no_duplicates, executor_experiment, free_port, run_fingerprint
from tunebench.config import load_experiment
from tunebench.executors.base import ExecutorError
from tunebench.run import run
from tunebench.workloads.sgd import SGDWorkload

ray = pytest.importorskip("ray")
from tunebench.executors.dask_on_ray import DaskOnRayExecutor, import_ray_dask  # noqa: E402


def test_hyperband_on_dask_on_ray_matches_local(ray_session, tmp_path) -> None:
    local = run(executor_experiment({"name": "local"}), tmp_path / "local", progress=False)
    out = run(executor_experiment({"name": "dask-on-ray", "n_workers": 2}), tmp_path / "dor", progress=False)
    assert run_fingerprint(out) == run_fingerprint(local)
    assert out.summary["test_score"] == local.summary["test_score"]
    stats = out.summary["executor_stats"]
    assert stats["name"] == "dask-on-ray" and stats["retries"] == 0 and stats["duplicates_dropped"] == 0
    assert ray.is_initialized(), "the executor must leave a Ray session it did not start"


def test_asha_promotion_runs_on_dask_on_ray(ray_session, tmp_path) -> None:
    scheduler = {"name": "asha", "max_iter": 9, "eta": 3, "n_trials": 12, "variant": "promotion"}
    out = run(executor_experiment({"name": "dask-on-ray", "n_workers": 2, "queue": 2}, scheduler), tmp_path / "r", progress=False)
    assert out.summary["status"] == "completed" and out.summary["n_trials"] == 12
    assert_no_duplicates(out)


def test_a_workload_without_data_runs_on_dask_on_ray_as_on_local(ray_session, tmp_path) -> None:
    raw = {"workload": {"name": "mfh3"}, "scheduler": {"name": "hyperband", "max_iter": 9, "eta": 3}, "seed": 3}
    local = run(load_experiment(raw={**raw, "executor": {"name": "local"}}), tmp_path / "local", progress=False)
    out = run(load_experiment(raw={**raw, "executor": {"name": "dask-on-ray", "n_workers": 2}}), tmp_path / "dor", progress=False)
    assert out.summary["status"] == "completed" and len(out.trials) == len(local.trials) > 0
    assert run_fingerprint(out) == run_fingerprint(local)


def test_importing_dask_on_ray_leaves_dask_persist_alone() -> None:
    before = dask.persist
    get, _ = import_ray_dask()
    assert dask.persist is before and callable(get)


def test_unreachable_address_fails_fast_and_clearly() -> None:
    address = f"127.0.0.1:{free_port()}"
    workload = SGDWorkload(dataset="circles", n_samples=600)
    t0 = time.time()
    with pytest.raises(ExecutorError) as info:
        with DaskOnRayExecutor(address=address) as ex:
            ex.start(workload, workload.load(0))
    assert time.time() - t0 < 10
    assert address in str(info.value)


def test_bad_options_name_the_key() -> None:
    with pytest.raises(ValueError, match="queue"):
        DaskOnRayExecutor(queue="2")
