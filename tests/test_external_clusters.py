"""Run against a cluster started outside tunebench: ``dask scheduler`` + ``dask worker``. (The
executors on a cluster started with ``ray start``: tests/test_compare_placement.py, on the
two-node Ray cluster it starts.)

Every process is started here on free local ports, and stopped here by process id (``ray stop``
would stop every Ray on the machine, not only this test's).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.helpers import EXECUTOR_HB, free_port, wait_gone
from tunebench.config import load_experiment
from tunebench.run import run

BIN = Path(sys.executable).parent


def wait_for_port(port: int, procs: list[subprocess.Popen], timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in procs:
            assert p.poll() is None, f"{p.args[:3]} exited with {p.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def stop(procs: list[subprocess.Popen], sig: int = signal.SIGTERM) -> None:
    """Stop processes this test started, and everything they started, by process id."""
    family: list[psutil.Process] = []
    for p in procs:
        try:
            root = psutil.Process(p.pid)
            family += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for p in procs:
        if p.poll() is None:
            p.send_signal(sig)
    for p in wait_gone(family, timeout=20):
        p.kill()
    assert not wait_gone(family, timeout=10)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = open(tmp_path / "dask.log", "w")
    procs = [
        subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        wait_for_port(port, procs)
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        str(BIN / "dask"),
                        "worker",
                        f"tcp://127.0.0.1:{port}",
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        yield f"tcp://127.0.0.1:{port}"
    finally:
        stop(procs[1:])
        stop(procs[:1])
        log.close()


def test_a_running_dask_cluster(dask_cluster: str, tmp_path: Path) -> None:
    raw = {
        "seed": 0,
        "workload": {"name": "mfh3", "max_iter": 9},
        "scheduler": dict(EXECUTOR_HB),
        "executor": {"name": "dask", "n_workers": 2, "address": dask_cluster},
    }
    out = run(load_experiment(raw=raw), tmp_path / "r", progress=False)
    assert out.summary["status"] == "completed" and out.summary["n_trials"] == 17
    stats = out.summary["executor_stats"]
    assert stats["address"] == dask_cluster and stats["started_cluster"] is False
    assert out.results["worker"].nunique() == 2
