"""Run against clusters started outside tunebench: ``dask scheduler`` + ``dask worker`` and ``ray start``.

Every process is started here on free local ports, and stopped here by process id (``ray stop``
would stop every Ray on the machine, not only this test's).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.helpers import executor_experiment, free_port, wait_gone
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
    out = run(executor_experiment({"name": "dask", "n_workers": 2, "address": dask_cluster}), tmp_path / "r", progress=False)
    assert out.summary["status"] == "completed" and out.summary["n_trials"] == 17
    stats = out.summary["executor_stats"]
    assert stats["address"] == dask_cluster and stats["started_cluster"] is False
    assert out.results["worker"].nunique() == 2


@pytest.fixture
def ray_head(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    temp_dir = tempfile.mkdtemp(prefix="tbray", dir="/tmp")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    log = open(tmp_path / "ray.log", "w")
    head = subprocess.Popen(
        [
            str(BIN / "ray"),
            "start",
            "--head",
            "--port",
            str(port),
            "--num-cpus",
            "2",
            "--temp-dir",
            temp_dir,
            "--include-dashboard",
            "false",
            "--disable-usage-stats",
            "--block",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        wait_for_port(port, [head])
        yield f"127.0.0.1:{port}"
    finally:
        stop([head])
        left = [p for p in psutil.process_iter(["cmdline"]) if temp_dir in " ".join(p.info["cmdline"] or [])]
        for p in left:
            p.kill()
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, f"Ray processes outlived the head: {[p.pid for p in left]}"


def test_a_running_ray_cluster(no_ray: None, ray_head: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Driven from this process (no Ray of its own running): each executor joins the cluster and
    leaves it connected to nothing."""
    import ray

    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    facts = {}
    for name in ("ray", "dask-on-ray"):
        res = run(executor_experiment({"name": name, "n_workers": 2, "address": ray_head}), tmp_path / name, progress=False)
        facts[name] = {"status": res.summary["status"], "n_trials": res.summary["n_trials"], **res.summary["executor_stats"]}
    for name in ("ray", "dask-on-ray"):
        assert facts[name]["status"] == "completed" and facts[name]["n_trials"] == 17
        assert facts[name]["address"].endswith(ray_head.split(":")[1]) and facts[name]["started_cluster"] is False
    assert not ray.is_initialized(), "the executor must disconnect from a cluster it joined"
