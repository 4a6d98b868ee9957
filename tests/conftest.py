"""Shared fixtures: configs written to temporary files, one Ray and one Dask cluster shared by the
tests that only need one running, and the check that no process outlives the session.

Helpers (functions and classes) live in :mod:`tests.helpers`.
"""

from __future__ import annotations

import gc
import inspect
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunebench.compare.peers.signals import handlers_kept

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from tests.helpers import (  # noqa: F401  (re-exported: older tests import these from here; new ones use tests.helpers)
    EXECUTOR_HB,
    TINY_SGD,
    SlowSGDWorkload,
    SlowTrainable,
    assert_no_duplicates,
    cluster_processes,
    executor_experiment,
    free_port,
    new_processes,
    process_tree,
    run_fingerprint,
    ship_test_classes_by_value,
    tiny_config,
    wait_gone,
)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[dict[str, Any] | str, str], Path]:
    """Write a config (a dict, or raw YAML text) to a temporary file and return its path."""

    def write(config: dict[str, Any] | str, name: str = "exp.yaml") -> Path:
        path = tmp_path / name
        path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
        return path

    return write


@pytest.fixture(scope="session", autouse=True)
def executor_no_cluster_left() -> Any:
    """At the end of the session (after the shared Ray and Dask are closed), no Ray, Dask or
    other process started by the tests may be left."""
    yield
    alive = wait_gone(cluster_processes())
    assert not alive, f"Ray/Dask processes left after the tests: {[(p.pid, p.name()) for p in alive]}"


@pytest.fixture(autouse=True)
def signal_handlers_put_back() -> Iterator[None]:
    """A test that runs Ray Tune's ``Tuner.fit`` itself leaves Tune's SIGINT handler behind,
    which would swallow a later test's Ctrl-C: every test ends with the handlers it began with."""
    with handlers_kept():
        yield


@pytest.fixture
def started_here() -> Callable[[], list[Any]]:
    """``started_here()`` lists the processes this test started that are still running: those
    below this process that were not there when the test began, nor below one that was (the
    shared Ray or Dask keeps its own). ``assert not wait_gone(started_here())`` checks that a
    test cleaned up what it started."""
    before = process_tree()
    return lambda: new_processes(before)


# ---- one local Ray (2 CPUs) for the session ------------------------------------------------


class SharedRay:
    """A local Ray started on first use and kept for the tests after it: starting and stopping
    Ray costs seconds each time. Stopped for a test that needs none (:func:`no_ray`) and at the
    end of the session; the next test that asks for one starts it again."""

    def __init__(self) -> None:
        self.session: Any = None

    def get(self) -> Any:
        import ray

        from tunebench.executors.cluster import start_ray

        if self.session is None or not ray.is_initialized():
            self.session = start_ray(None, 2)
        return self.session

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def cpus_back(self, timeout_s: float = 8.0) -> bool:
        """Whether every CPU of the shared Ray is free again within ``timeout_s`` (an actor or
        trial that outlives its test keeps one, and the next test's actors would wait for it)."""
        import ray

        if self.session is None or not ray.is_initialized():
            return True
        deadline, tick = time.monotonic() + timeout_s, 0
        while ray.available_resources().get("CPU", 0.0) < ray.cluster_resources().get("CPU", 0.0):
            if time.monotonic() > deadline:
                return False
            tick += 1
            if tick % 5 == 0:  # a killed actor's CPU is back within a tick or two; a collection costs more than a tick
                gc.collect()  # an actor lives while a handle to it does, and Tune's sit in reference cycles
            time.sleep(0.05)
        return True


@pytest.fixture(scope="session")
def shared_ray() -> Iterator[SharedRay]:
    holder = SharedRay()
    yield holder
    holder.close()


@pytest.fixture
def ray_session(request: pytest.FixtureRequest, shared_ray: SharedRay) -> Iterator[Any]:
    """The session's local Ray (2 CPUs); executors join it, not own it. After the test every CPU
    should be free again; if one is still claimed after a while (an actor or trial outlived the
    test: Ray Tune's can, on a loaded machine), the Ray is shut down, so the next test starts
    from a fresh one instead of waiting for that CPU, and a warning names the test."""
    yield shared_ray.get()
    if not shared_ray.cpus_back():
        shared_ray.close()
        warnings.warn(f"{request.node.nodeid} left Ray CPUs claimed; the shared Ray was restarted", stacklevel=1)


@pytest.fixture
def no_ray(shared_ray: SharedRay) -> None:
    """No Ray running in this process: for a test that checks that whatever starts a Ray also
    stops it."""
    shared_ray.close()
    import ray

    assert not ray.is_initialized(), "a Ray not started by the shared_ray fixture is still running"


# ---- one local Dask cluster (2 single-threaded worker processes) for the session ------------


@pytest.fixture(scope="session")
def dask_address() -> Iterator[str]:
    """The scheduler address of a LocalCluster shared by the tests that pass an ``address``
    (runs keep their trials apart on long-lived workers by scope). Tests that check that an
    executor starts and stops its own cluster, or that kill a worker, start their own."""
    from tunebench.executors.dask_executor import DaskExecutor, local_cluster

    depth = inspect.signature(DaskExecutor).parameters["queue_depth"].default
    cluster = local_cluster(2, depth)  # as the executor starts its own
    with cluster:
        yield cluster.scheduler_address


# ---- under pytest-xdist (``-n 2 --dist loadgroup``): how tests are shared out -----------------

RAY_FIXTURES = frozenset({"ray_session", "no_ray", "shared_ray"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): run on one pytest-xdist worker with the rest of its group")


@pytest.hookimpl(wrapper=True)  # around xdist's own hook, which reads the marks into the node ids it shares out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    """Every test that uses or stops the shared Ray goes to one xdist worker, so they share that
    worker's Ray and two Rays never run on the machine at once; every other test goes with the
    rest of its module, so a module's fixtures (a Spark session, a Dask cluster, reference runs)
    are set up once. Without xdist the marks do nothing. Tests that need no Ray are moved last."""
    groups = []
    for item in items:
        uses_ray = bool(RAY_FIXTURES & set(getattr(item, "fixturenames", ())))
        groups.append((item, "ray" if uses_ray else item.nodeid.split("::")[0]))
        item.add_marker(pytest.mark.xdist_group(groups[-1][1]))
    # The tests that need no Ray running (they start and stop their own) run last, so the shared
    # Ray is started once and stopped once rather than around each of them.
    needs_none = [item for item in items if "no_ray" in getattr(item, "fixturenames", ())]
    if needs_none:
        items[:] = [item for item in items if item not in needs_none] + needs_none
    result = yield
    if getattr(config.option, "loadgroup", False):  # on an xdist worker under --dist loadgroup
        for item, group in groups:
            group_into_node_id(item, group)
    return result


def group_into_node_id(item: pytest.Item, group: str) -> None:
    """Append ``@group`` to the item's node id, which is how xdist's loadgroup scheduler learns
    the group. xdist 3.8 writes ``item._nodeid``, which pytest 9.2 no longer reads (its node ids
    are structured ``NodeId``\\ s; pytest-dev/pytest-xdist#1386), so every test was shared out
    on its own: the Ray tests ran on both workers, a module's fixtures were set up on both."""
    if item.nodeid.endswith(f"@{group}"):  # xdist's own write took effect
        return
    if hasattr(item, "_id"):
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(f"{item.nodeid}@{group}")
    else:
        item._nodeid = f"{item.nodeid}@{group}"


@pytest.hookimpl(optionalhook=True)  # xdist's hook: unknown to pytest without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's loadgroup scheduler, handing out the Ray group first: it is the longest unit and
    only one worker can take it, so starting it late would leave that worker running alone."""
    from xdist.scheduler import LoadGroupScheduling

    class RayFirst(LoadGroupScheduling):
        def _assign_work_unit(self, node: Any) -> None:
            if "ray" in self.workqueue:
                self.workqueue.move_to_end("ray", last=False)
            super()._assign_work_unit(node)

    return RayFirst(config, log) if config.getvalue("dist") == "loadgroup" else None
