"""A study's cells placed anywhere give the same tables: one after another, ``--jobs 2``, a
two-node Ray cluster, a Dask scheduler with two worker processes. The ray and dask-on-ray
executors join the same two-node cluster and leave it. A killed worker costs its
cell a retry (it resumes from its journal); Ctrl-C stops a study that the same command then
continues; an unreachable ``--cluster`` is refused before any cell runs.

Every cluster is started here, on free local ports, and stopped here (Ray's by process id).
"""

from __future__ import annotations

import _thread
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
import yaml

from tests.helpers import EXECUTOR_HB, executor_experiment, free_port
from tests.test_external_clusters import BIN, stop, wait_for_port
from tunebench.cli import main
from tunebench.compare.matrix import load_matrix
from tunebench.compare.placement import cluster_kind, reserves
from tunebench.compare.runner import compare
from tunebench.config import load_experiment
from tunebench.executors.base import ExecutorError
from tunebench.run import run
from tunebench.store.comparison import Cell

MATRIX: dict[str, Any] = {
    "name": "placed",
    "seeds": [0, 1],
    "workers": 2,
    "max_iter": 100,
    "budget": {"total_steps": 200},
    "shared": {"eta": 3, "min_iter": 1, "asha": {"n_trials": 100}},
    "workloads": [{"label": "mfh3", "name": "mfh3"}],
    "executors": [{"name": "simulated"}],
    "schedulers": [{"label": "hyperband", "name": "hyperband"}, {"label": "asha", "name": "asha", "variant": "promotion"}],
}
# One cell in virtual time, one that sleeps through its cost in real time (about 3 s, 389 journal lines): the one to kill.
LONG: dict[str, Any] = {
    **MATRIX,
    "seeds": [0],
    "workloads": [{"label": "mfh3", "name": "mfh3", "time_scale": 0.6}],
    "executors": [{"name": "simulated"}, {"name": "local"}],
    "schedulers": [{"label": "hyperband", "name": "hyperband"}],
}
LONG_CELL = "mfh3/hyperband@local/seed0"
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def tables(out: Path) -> dict[str, list[tuple[int, int, float]]]:
    """Each cell's results as (trial, step, score), in order: what must not depend on placement."""
    found = {}
    for path in sorted(out.glob("mfh3/*/seed*/results.parquet")):
        res = pd.read_parquet(path).sort_values(["trial_id", "step"])
        found[str(path.parent.relative_to(out))] = [(int(r.trial_id), int(r.step), float(r.score)) for r in res.itertuples()]
    return found


def rows(out: Path) -> list[dict[str, Any]]:
    return list(json.loads((out / "matrix.json").read_text())["cells"])


def quiet(line: str) -> None:
    pass


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The matrix's four cells, one after another in this process: the reference."""
    return compare(load_matrix(raw=MATRIX), tmp_path_factory.mktemp("serial") / "c", say=quiet)


@pytest.fixture(scope="module")
def dask_workers() -> Iterator[tuple[str, list[psutil.Process]]]:
    """A Dask scheduler and two worker processes (one thread, ``CPU=1`` each), each under its nanny."""
    import logging

    from distributed import LocalCluster

    quiet_dashboard = {"dashboard_address": None, "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"}}
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, resources={"CPU": 1}, silence_logs=logging.ERROR, **quiet_dashboard
    ) as cluster:
        yield cluster.scheduler_address, [psutil.Process()]


@pytest.fixture(scope="module")
def ray_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A Ray head and a second node, one CPU each, in a temporary directory of their own."""
    port, temp_dir = free_port(), tempfile.mkdtemp(prefix="tbray", dir="/tmp")
    logs = tmp_path_factory.mktemp("ray")
    common = ["--num-cpus", "1", "--temp-dir", temp_dir, "--disable-usage-stats", "--include-log-monitor", "false", "--block"]
    head_log, node_log = open(logs / "head.log", "w"), open(logs / "node.log", "w")
    ray = str(BIN / "ray")
    procs = [
        subprocess.Popen(
            [ray, "start", "--head", "--port", str(port), "--include-dashboard", "false", *common],
            stdout=head_log,
            stderr=subprocess.STDOUT,
            env=ENV,
        )
    ]
    try:
        wait_for_port(port, procs)
        procs.append(
            subprocess.Popen(
                [ray, "start", "--address", f"127.0.0.1:{port}", *common], stdout=node_log, stderr=subprocess.STDOUT, env=ENV
            )
        )
        deadline = time.monotonic() + 60
        while "Ray runtime started" not in (logs / "node.log").read_text() and time.monotonic() < deadline:
            assert procs[1].poll() is None, (logs / "node.log").read_text()
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", procs
    finally:
        stop(procs[1:])
        stop(procs[:1])
        left = [p for p in psutil.process_iter(["cmdline"]) if temp_dir in " ".join(p.info["cmdline"] or [])]
        for p in left:
            p.kill()
        head_log.close()
        node_log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, f"Ray processes outlived their nodes: {[p.pid for p in left]}"


def kill_the_one_running(journal: Path, procs: list[Any], timeout: float = 60.0) -> int:
    """Once ``journal`` has some lines, SIGKILL the worker process below ``procs`` that writes it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.is_file() and len(journal.read_text().splitlines()) > 20:
            for root in procs:
                for p in psutil.Process(root.pid).children(recursive=True):
                    try:
                        if any(f.path == str(journal) for f in p.open_files()):
                            p.kill()
                            return p.pid
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        pass
        time.sleep(0.1)
    raise TimeoutError(f"no worker process was writing {journal}")


def study_with_a_kill(out: Path, cluster: str, procs: list[Any]) -> int:
    """Run the long matrix on ``cluster`` while the worker process of its long cell is killed."""
    failed: list[BaseException] = []

    def go() -> None:
        try:
            compare(load_matrix(raw=LONG), out, cluster=cluster, say=quiet)
        except BaseException as exc:
            failed.append(exc)

    study = threading.Thread(target=go)
    study.start()
    killed = kill_the_one_running(out / LONG_CELL / "journal.jsonl", procs)
    study.join(timeout=90)
    assert not study.is_alive() and not failed, failed
    return killed


def test_what_a_cell_reserves_and_the_forms_of_cluster() -> None:
    ours = Cell("a", "scheduler", "hb", "sgd", "dask", 0, executor_section={"name": "dask", "n_workers": 4}, workers=4)
    local = Cell("b", "scheduler", "hb", "sgd", "local", 0, executor_section={"name": "local"}, workers=4)
    virtual = Cell("c", "scheduler", "hb", "sgd", "simulated", 0, executor_section={"name": "simulated"}, workers=64)
    peer = Cell("d", "peer", "tune", "sgd", "ray-tune-asha", 0, workers=3)
    assert [reserves(c) for c in (ours, local, virtual, peer)] == [4, 1, 1, 3]
    assert [cluster_kind(a) for a in ("tcp://h:8786", "ray://h:10001", "h:6379")] == ["dask", "ray", "ray"]
    with pytest.raises(ExecutorError, match=r"'tls://h:1': tls:// is not a form compare takes; it takes ray://HOST:PORT"):
        cluster_kind("tls://h:1")


def test_jobs_2_gives_the_serial_tables_and_each_row_says_where_it_ran(serial: Path, tmp_path: Path) -> None:
    out = compare(load_matrix(raw=MATRIX), tmp_path / "c", jobs=2, say=quiet)
    assert tables(out) == tables(serial) and len(tables(out)) == 4
    here = {r["ran_on"]["pid"] for r in rows(serial)}
    pool = {r["ran_on"]["pid"] for r in rows(out)}
    assert here == {os.getpid()} and os.getpid() not in pool and {r["ran_on"]["placement"] for r in rows(out)} == {"local"}
    placement = json.loads((out / "matrix.json").read_text())["placement"]
    ran = {k: placement.pop(k) for k in ("cells_run", "wall_s", "cells_per_s")}
    assert placement == {"where": "local", "retries": 3, "jobs": 2, "exclusive": False}
    assert ran["cells_run"] == 4 and ran["wall_s"] > 0 and ran["cells_per_s"] == pytest.approx(4 / ran["wall_s"], rel=1e-3)


def test_a_dask_scheduler_with_two_workers_gives_the_serial_tables(
    serial: Path, dask_workers: tuple[str, list[psutil.Process]], tmp_path: Path
) -> None:
    address, _ = dask_workers
    out = compare(load_matrix(raw=MATRIX), tmp_path / "c", cluster=address, say=quiet)
    assert tables(out) == tables(serial)
    from distributed import Client

    with Client(address, set_as_default=False) as client:
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
    ran = [r["ran_on"] for r in rows(out)]
    assert all(r["status"] == "done" and r["cpus"] == 1 for r in rows(out))
    assert {r["placement"] for r in ran} == {"dask"} and {r["node"] for r in ran} <= workers
    assert os.getpid() not in {r["pid"] for r in ran}


def test_a_two_node_ray_cluster_gives_the_serial_tables(
    no_ray: None, serial: Path, ray_nodes: tuple[str, list[subprocess.Popen]], tmp_path: Path
) -> None:
    import ray

    address, _ = ray_nodes
    out = compare(load_matrix(raw=MATRIX), tmp_path / "c", cluster=address, say=quiet)
    assert not ray.is_initialized(), "compare must leave the cluster it joined"
    assert tables(out) == tables(serial)
    ran = [r["ran_on"] for r in rows(out)]
    assert {r["placement"] for r in ran} == {"ray"} and all(len(r["node"]) == 56 for r in ran)
    assert all(r["status"] == "done" and r["cpus"] == 1 and not r["resumed"] for r in rows(out))


def test_each_executor_joins_a_running_ray_cluster_and_leaves_it(
    no_ray: None, ray_nodes: tuple[str, list[subprocess.Popen]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Driven from this process (no Ray of its own running): the ray and dask-on-ray executors
    each join the cluster (one CPU on each node) and leave it connected to nothing."""
    import ray

    address, _ = ray_nodes
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    facts = {}
    on_mfh3 = {"seed": 0, "workload": {"name": "mfh3", "max_iter": 9}, "scheduler": dict(EXECUTOR_HB)}
    experiments = {
        "ray": load_experiment(raw={**on_mfh3, "executor": {"name": "ray", "n_workers": 2, "address": address}}),
        "dask-on-ray": executor_experiment({"name": "dask-on-ray", "n_workers": 2, "address": address}),
    }
    for name, exp in experiments.items():
        res = run(exp, tmp_path / name, progress=False)
        facts[name] = {"status": res.summary["status"], "n_trials": res.summary["n_trials"], **res.summary["executor_stats"]}
    for name in ("ray", "dask-on-ray"):
        assert facts[name]["status"] == "completed" and facts[name]["n_trials"] == 17
        assert facts[name]["address"].endswith(address.split(":")[1]) and facts[name]["started_cluster"] is False
    assert not ray.is_initialized(), "the executor must disconnect from a cluster it joined"


def test_a_killed_dask_worker_costs_its_cell_a_retry_and_every_cell_finishes(
    dask_workers: tuple[str, list[psutil.Process]], tmp_path: Path
) -> None:
    address, procs = dask_workers
    killed = study_with_a_kill(tmp_path / "c", address, procs)
    by_id = {r["cell_id"]: r for r in rows(tmp_path / "c")}
    assert all(r["status"] == "done" for r in by_id.values())
    assert by_id[LONG_CELL]["resumed"] and by_id[LONG_CELL]["ran_on"]["pid"] != killed


def test_a_killed_ray_worker_costs_its_cell_a_retry_and_every_cell_finishes(
    no_ray: None, ray_nodes: tuple[str, list[subprocess.Popen]], tmp_path: Path
) -> None:
    address, procs = ray_nodes
    killed = study_with_a_kill(tmp_path / "c", address, procs)
    by_id = {r["cell_id"]: r for r in rows(tmp_path / "c")}
    assert all(r["status"] == "done" for r in by_id.values())
    assert by_id[LONG_CELL]["resumed"] and by_id[LONG_CELL]["ran_on"]["pid"] != killed


def test_exclusive_runs_the_cells_that_measure_real_time_last_and_one_at_a_time(tmp_path: Path) -> None:
    matrix = {**LONG, "seeds": [0, 1], "workloads": [{"label": "mfh3", "name": "mfh3"}]}
    said: list[str] = []
    out = compare(load_matrix(raw=matrix), tmp_path / "c", jobs=2, exclusive=True, say=said.append)
    assert re.fullmatch(r"\S+: 4 cells in [\d.]+ s, [\d.e+-]+ cells/s", said[-1]), said[-1]
    events = [(line.split()[1], "start") if line.startswith("running ") else (line.split()[1][:-1], "end") for line in said[1:-1]]
    real = [cell for cell, what in events if what == "start" and "@local" in cell]
    assert len(real) == 2 and events[-4:] == [(real[0], "start"), (real[0], "end"), (real[1], "start"), (real[1], "end")]
    before = events[: events.index((real[0], "start"))]
    assert sorted(what for _, what in before) == ["end", "end", "start", "start"] and all("@simulated" in c for c, _ in before)
    assert {r["cell_id"]: r["alone"] for r in rows(out)} == {r["cell_id"]: "@local" in r["cell_id"] for r in rows(out)}
    assert json.loads((out / "matrix.json").read_text())["placement"]["exclusive"] is True


@pytest.mark.parametrize("address", ["127.0.0.1:{port}", "tcp://127.0.0.1:{port}"])
def test_an_unreachable_cluster_is_refused_before_any_cell_runs(address: str, tmp_path: Path, capsys) -> None:
    given = address.format(port=free_port())
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(MATRIX))
    assert main(["compare", str(tmp_path / "m.yaml"), "--out", str(tmp_path / "c"), "--cluster", given]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tunebench: error: cannot reach the ") and f"at {given!r}" in err and "Traceback" not in err
    assert "--cluster takes ray://HOST:PORT (Ray Client) or HOST:PORT" in err and "tcp://HOST:PORT for a Dask scheduler" in err
    assert not (tmp_path / "c").exists()


def test_ctrl_c_stops_the_study_and_the_same_command_continues_it(tmp_path: Path, capsys) -> None:
    """Ctrl-C in the middle of ``--jobs 2``: the long cell is interrupted (its tables so far
    written), exit 130; the same command then resumes it."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, also when pytest runs in the background
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(LONG))
    command = ["compare", str(tmp_path / "m.yaml"), "--out", str(tmp_path / "c"), "--jobs", "2", "--no-report"]
    journal, quick = tmp_path / "c" / LONG_CELL / "journal.jsonl", tmp_path / "c" / "mfh3/hyperband@simulated/seed0/summary.json"

    def ctrl_c_once_the_long_cell_is_going() -> None:
        deadline = time.monotonic() + 600
        while not (quick.is_file() and journal.is_file() and len(journal.read_text().splitlines()) > 20):
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)
        _thread.interrupt_main()

    threading.Thread(target=ctrl_c_once_the_long_cell_is_going, daemon=True).start()
    assert main(command) == 130
    assert "continue with the same command" in capsys.readouterr().err
    assert {r["cell_id"]: r["status"] for r in rows(tmp_path / "c")} == {
        "mfh3/hyperband@simulated/seed0": "done",
        LONG_CELL: "pending",
    }
    assert json.loads((tmp_path / "c" / LONG_CELL / "summary.json").read_text())["status"] == "interrupted"
    assert main(command) == 0
    assert "2 cells, 1 finished already, 1 to run" in capsys.readouterr().err
    by_id = {r["cell_id"]: r for r in rows(tmp_path / "c")}
    assert all(r["status"] == "done" for r in by_id.values()) and by_id[LONG_CELL]["resumed"]
