"""Helpers shared by the test modules: small configs and experiments, run fingerprints, slow and
counting workloads, README blocks, fake MNIST files, process bookkeeping, scikit-learn's
estimator checks.

Fixtures live in ``tests/conftest.py``; this module holds plain functions and classes, imported
as ``from tests.helpers import ...``. Nothing here starts a cluster.
"""

from __future__ import annotations

import gzip
import os
import pickle
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import psutil

from tunebench.workloads.sgd import SGDTrainable, SGDWorkload

# -- small experiments ------------------------------------------------------------------------

TINY_SGD = {"name": "sgd", "dataset": "circles", "n_samples": 600}
EXECUTOR_HB = {"name": "hyperband", "max_iter": 9, "eta": 3}


def tiny_config(scheduler: dict[str, Any], executor: str = "local", **extra: Any) -> dict[str, Any]:
    """A seconds-long experiment on 600 circles rows."""
    return {"seed": 0, "workload": dict(TINY_SGD), "scheduler": dict(scheduler), "executor": {"name": executor}, **extra}


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


# -- workloads that sleep or count -------------------------------------------------------------


class SlowTrainable(SGDTrainable):
    """An SGD Trainable that sleeps ``delay_s`` per step, so a test can kill its worker mid-Job."""

    delay_s = 0.05

    def train(self, n_steps: int) -> None:
        time.sleep(self.delay_s * n_steps)
        super().train(n_steps)


class SlowSGDWorkload(SGDWorkload):
    """The SGD workload with :class:`SlowTrainable`; scores equal the plain workload's."""

    def build(self, config, data, seed):  # type: ignore[no-untyped-def, override]
        return SlowTrainable(config, data, seed)


class CountingTrainable(SGDTrainable):
    """Appends one byte to ``path`` per ``partial_fit``, in whatever process trains it."""

    path = ""

    def train(self, n_steps: int) -> None:
        super().train(n_steps)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, b"." * n_steps)
        os.close(fd)


class CountingWorkload(SGDWorkload):
    """The SGD workload counting its ``partial_fit`` calls into a file."""

    def __init__(self, count_path: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.count_path = count_path

    def build(self, config, data, seed):  # type: ignore[no-untyped-def, override]
        t = CountingTrainable(config, data, seed)
        t.path = self.count_path
        return t


def calls(tmp_path: Path) -> int:
    """``partial_fit`` calls a :class:`CountingWorkload` writing to ``tmp_path / "calls"`` made."""
    p = tmp_path / "calls"
    return p.stat().st_size if p.exists() else 0


def ship_test_classes_by_value() -> None:
    """Pickle this module's classes by value (cloudpickle for Dask, Ray's own copy for Ray), so
    workers need not import the tests package."""
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    if "ray" in sys.modules:
        import ray.cloudpickle

        ray.cloudpickle.register_pickle_by_value(module)


# -- scikit-learn's estimator checks ----------------------------------------------------------

ARRAY_API_CHECK = "check_array_api_input"


def check_name(check: Any) -> str:
    """A check's function name (scikit-learn hands some as ``functools.partial``)."""
    return str(getattr(check, "func", check).__name__)


def sklearn_checks(estimators: list[Any]) -> list[tuple[Any, Any]]:
    """``(estimator, check)`` for each of scikit-learn's estimator checks of each estimator,
    except :data:`ARRAY_API_CHECK`: scikit-learn runs that one only when ``SCIPY_ARRAY_API`` was
    set before SciPy was imported (never in a test process), so :func:`run_array_api_checks`
    runs it in a process of its own."""
    from sklearn.utils.estimator_checks import estimator_checks_generator

    return [pair for est in estimators for pair in estimator_checks_generator(est) if check_name(pair[1]) != ARRAY_API_CHECK]


def sklearn_check_id(value: Any) -> str:
    """A test id: the check's name, or the estimator's class and its inner estimator's."""
    if callable(value) and not hasattr(value, "get_params"):
        return check_name(value)
    inner = getattr(value, "estimator", None)
    return f"{type(value).__name__}({type(inner).__name__})" if inner is not None else type(value).__name__


ARRAY_API_RUN = """
import pickle, sys
from sklearn.utils.estimator_checks import estimator_checks_generator
from tests.helpers import ARRAY_API_CHECK, check_name
ran = 0
for estimator in pickle.load(sys.stdin.buffer):
    for est, check in estimator_checks_generator(estimator):
        if check_name(check) == ARRAY_API_CHECK:
            check(est)
            ran += 1
print(ran)
"""


def run_array_api_checks(estimators: list[Any]) -> int:
    """Run scikit-learn's :data:`ARRAY_API_CHECK` of each (unfitted) estimator in a Python with
    ``SCIPY_ARRAY_API=1``; returns how many ran (a skip or a failure raises)."""
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    done = subprocess.run(
        [sys.executable, "-c", ARRAY_API_RUN],
        input=pickle.dumps(estimators),
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return int(done.stdout.decode().split()[-1])


# -- peers ------------------------------------------------------------------------------------


PEER_TASK = {"seed": 0, "n_workers": 2, "max_iter": 9}


def sgd_peer_task(**kw: Any) -> Any:
    """A peer's task: 600 circles rows, the default space, seed 0, 2 workers, max_iter 9 (``kw`` may change them)."""
    from tunebench.compare.peer import PeerTask

    wl = SGDWorkload(dataset="circles", n_samples=600)
    return PeerTask(workload=wl, data=wl.load(0), space=wl.default_space(), **{**PEER_TASK, **kw})


def counting_peer_task(tmp_path: Path, **kw: Any) -> Any:
    """:func:`sgd_peer_task` with a :class:`CountingWorkload` writing to ``tmp_path / "calls"``."""
    from tunebench.compare.peer import PeerTask

    wl = CountingWorkload(str(tmp_path / "calls"), dataset="circles", n_samples=600)
    return PeerTask(workload=wl, data=wl.load(0), space=wl.default_space(), **{**PEER_TASK, **kw})


def our_scores(task: Any, config: dict[str, Any], steps: list[int]) -> list[float]:
    """Our Trainable's validation scores for ``config`` at ``steps``, seeded as the peer's estimator is."""
    trainable = task.workload.build(config, task.data, task.seed)
    out = []
    for step in steps:
        trainable.train(step - trainable.steps)
        out.append(trainable.score())
    return out


def record_report_builds(monkeypatch: Any) -> list[Any]:
    """The reports ``tunebench.report.build.build_report`` builds from now on (while
    ``monkeypatch`` holds), as it returned them: a test reads the build a command made instead of
    building again."""
    from tunebench.report import build

    builds: list[Any] = []
    real = build.build_report

    def recorded(where: Path) -> Any:
        builds.append(real(where))
        return builds[-1]

    monkeypatch.setattr(build, "build_report", recorded)
    return builds


class InProcessPool(ThreadPoolExecutor):
    """A peer's worker pool as threads of this process, put in place of its ``ProcessPoolExecutor``:
    the same initializer and tasks, no worker process to start."""

    def __init__(self, max_workers: int, mp_context: Any = None, initializer: Any = None, initargs: tuple[Any, ...] = ()) -> None:
        super().__init__(max_workers, initializer=initializer, initargs=initargs)


class SessionCluster(str):
    """The address of the session's Dask cluster, in place of the LocalCluster a Dask-ML peer
    starts: its ``Client`` connects to it, and closing it leaves it running."""

    def close(self) -> None:
        pass


# -- files ------------------------------------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> dict[str, str]:
    """Each ```python block of the README under the heading it follows."""
    blocks: dict[str, str] = {}
    heading = ""
    for part in re.split(r"(^#+ [^\n]*$|```python\n.*?```)", README.read_text(), flags=re.M | re.S):
        if part.startswith("#"):
            heading = part.lstrip("# ").strip()
        elif part.startswith("```python"):
            blocks[heading] = part[len("```python\n") : -3]
    return blocks


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    """A minimal IDX writer: 0x0000, type 0x08 (ubyte), ndim, big-endian dims, then the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    raw = header + array.tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def write_idx_set(root: Path, n_train: int = 7, n_test: int = 4, seed: int = 0) -> tuple[np.ndarray, ...]:
    """MNIST's four IDX files under ``root``, random pixels and labels."""
    from tunebench.workloads import mnist

    rng = np.random.default_rng(seed)
    arrays = (
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    )
    for key, arr in zip(("train_images", "train_labels", "test_images", "test_labels"), arrays):
        write_idx(root / mnist.IDX_FILES[key], arr)
    return arrays


# -- processes and ports ----------------------------------------------------------------------

HELPER_PROCESSES = ("multiprocessing.resource_tracker", "multiprocessing.forkserver", "loky.backend.resource_tracker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cluster_processes(root: psutil.Process | None = None, *, besides: frozenset[int] = frozenset()) -> list[psutil.Process]:
    """Processes below ``root`` (this test process by default): Ray and Dask processes and any
    other leftover, except Python's own multiprocessing helpers (they live as long as we do).
    Processes in ``besides``, and those below them, are left out: the shared engines a test
    found running (see :func:`new_processes`)."""
    root = root or psutil.Process()
    found = []
    for p in root.children(recursive=True):
        try:
            line = " ".join(p.cmdline())
            if besides and _below(p, root.pid, besides):
                continue
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if not any(h in line for h in HELPER_PROCESSES):
            found.append(p)
    return found


def _below(p: psutil.Process, root_pid: int, pids: frozenset[int]) -> bool:
    """Whether ``p`` or one of its ancestors up to ``root_pid`` is in ``pids``."""
    while p is not None and p.pid != root_pid:
        if p.pid in pids:
            return True
        p = p.parent()
    return False


def new_processes(before: frozenset[int]) -> list[psutil.Process]:
    """Processes below this one that are not in ``before`` (the pids below it when a test began)
    nor below one of those: what the test started and left, not the shared Ray or Dask it found."""
    return cluster_processes(besides=before)


def process_tree() -> frozenset[int]:
    """The pids below this process now, except Python's multiprocessing helpers: what the fork
    server forks later (a Dask cluster's or a peer's workers) is below one of those, and new."""
    found = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if not any(h in " ".join(p.cmdline()) for h in HELPER_PROCESSES):
                found.add(p.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return frozenset(found)


def wait_gone(procs: list[psutil.Process], timeout: float = 20.0) -> list[psutil.Process]:
    """Processes still running after ``timeout`` seconds."""
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
