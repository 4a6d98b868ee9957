"""Shared fixtures: small configs written to temporary files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

TINY_SGD = {"name": "sgd", "dataset": "circles", "n_samples": 600}


def tiny_config(scheduler: dict[str, Any], executor: str = "local", **extra: Any) -> dict[str, Any]:
    """A seconds-long experiment on 600 circles rows."""
    return {"seed": 0, "workload": dict(TINY_SGD), "scheduler": dict(scheduler), "executor": {"name": executor}, **extra}


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[dict[str, Any] | str, str], Path]:
    """Write a config (a dict, or raw YAML text) to a temporary file and return its path."""

    def write(config: dict[str, Any] | str, name: str = "exp.yaml") -> Path:
        path = tmp_path / name
        path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
        return path

    return write


# ---- executors: Ray / Dask / Dask-on-Ray fixtures and helpers (owned by the executor tests) ----

import socket as _socket
import sys as _sys
import time as _time

import cloudpickle as _cloudpickle
import psutil as _psutil

from tunebench.workloads.sgd import SGDTrainable as _SGDTrainable
from tunebench.workloads.sgd import SGDWorkload as _SGDWorkload

EXECUTOR_HB = {"name": "hyperband", "max_iter": 9, "eta": 3}
_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver", "loky.backend.resource_tracker")


class SlowTrainable(_SGDTrainable):
    """An SGD Trainable that sleeps ``delay_s`` per step, so a test can kill its worker mid-Job."""

    delay_s = 0.05

    def train(self, n_steps: int) -> None:
        _time.sleep(self.delay_s * n_steps)
        super().train(n_steps)


class SlowSGDWorkload(_SGDWorkload):
    """The SGD workload with :class:`SlowTrainable`; scores equal the plain workload's."""

    def build(self, config, data, seed):  # type: ignore[no-untyped-def, override]
        return SlowTrainable(config, data, seed)


def ship_test_classes_by_value() -> None:
    """Pickle this module's classes by value (cloudpickle for Dask, Ray's own copy for Ray), so
    workers need not import the tests package."""
    module = _sys.modules[__name__]
    _cloudpickle.register_pickle_by_value(module)
    if "ray" in _sys.modules:
        import ray.cloudpickle

        ray.cloudpickle.register_pickle_by_value(module)


def executor_experiment(executor: dict[str, Any], scheduler: dict[str, Any] | None = None, seed: int = 0) -> Any:
    """A tiny SGD experiment (600 circles rows) on the given executor section."""
    from tunebench.config import load_experiment

    raw = tiny_config(scheduler or EXECUTOR_HB, **{"seed": seed})
    raw["executor"] = dict(executor)
    return load_experiment(raw=raw)


def run_fingerprint(out: Any) -> dict[str, Any]:
    """What must not depend on the executor: each trial's steps and final status (the scheduler's
    decisions) and every ``(trial, step, n_steps, score)``. The label a single result gets
    (pause, continue or stop) is left out: it depends on whether the rest of its rung is in yet,
    so on arrival order; the trial's outcome does not."""
    res = out.results.sort_values(["trial_id", "step"])
    return {
        "trials": sorted((int(r.trial_id), int(r.steps), str(r.status)) for r in out.trials.itertuples()),
        "results": [(int(r.trial_id), int(r.step), int(r.n_steps), float(r.score)) for r in res.itertuples()],
    }


def assert_no_duplicates(out: Any) -> None:
    keys = list(zip(out.results["trial_id"], out.results["step"]))
    assert len(keys) == len(set(keys)), "a (trial, step) result was returned twice"


def free_port() -> int:
    with _socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cluster_processes(root: _psutil.Process | None = None) -> list[_psutil.Process]:
    """Processes below ``root`` (this test process by default): Ray and Dask processes and any
    other leftover, except Python's own multiprocessing helpers (they live as long as we do)."""
    root = root or _psutil.Process()
    found = []
    for p in root.children(recursive=True):
        try:
            line = " ".join(p.cmdline())
        except (_psutil.NoSuchProcess, _psutil.AccessDenied, _psutil.ZombieProcess):
            continue
        if not any(h in line for h in _HELPERS):
            found.append(p)
    return found


def wait_gone(procs: list[_psutil.Process], timeout: float = 20.0) -> list[_psutil.Process]:
    """Processes still running after ``timeout`` seconds."""
    _, alive = _psutil.wait_procs(procs, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != _psutil.STATUS_ZOMBIE]


@pytest.fixture(scope="session", autouse=True)
def executor_no_cluster_left() -> Any:
    """At the end of the session, no Ray, Dask or other process started by the tests may be left."""
    yield
    alive = wait_gone(cluster_processes())
    assert not alive, f"Ray/Dask processes left after the tests: {[(p.pid, p.name()) for p in alive]}"


@pytest.fixture(scope="module")
def ray_session() -> Any:
    """One local Ray (2 CPUs) shared by a module's tests that use it; executors join it, not own
    it. Shut down at the end of the module, so tests elsewhere start from no Ray."""
    from tunebench.executors.cluster import start_ray

    session = start_ray(None, 2)
    yield session
    session.close()
