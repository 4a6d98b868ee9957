"""Resume: a run killed mid-way (SIGKILL, SIGTERM, Ctrl-C) and resumed ends with the tables of a
run that was never interrupted; finished work is never redone."""

from __future__ import annotations

import json
import math
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.helpers import tiny_config
from tunebench.cli import main
from tunebench.compare.peers.pool import worker_context
from tunebench.config import load_experiment
from tunebench.executors.rebuild import Rebuilding
from tunebench.resume import ResumeError, resume
from tunebench.run import run
from tunebench.store import read_journal
from tunebench.trial import Job, Result
from tunebench.workloads.sgd import SGDTrainable, SGDWorkload

TRIAL_COLS = ["trial_id", "parent", "status", "steps", "last_score", "best_score", "config"]
RESULT_COLS = ["trial_id", "step", "n_steps", "score", "decision"]
HB = {"name": "hyperband", "max_iter": 27, "eta": 3}
RANDOM = {"name": "random", "n_trials": 12, "max_iter": 9, "report_every": 3}


def tables(d: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    trials = pd.read_parquet(d / "trials.parquet")[TRIAL_COLS].sort_values("trial_id").reset_index(drop=True)
    results = pd.read_parquet(d / "results.parquet")[RESULT_COLS].sort_values(["trial_id", "step"]).reset_index(drop=True)
    return trials, results


def cut(raw: dict[str, Any], out: Path, tmp: Path, sig: int, after_lines: int) -> tuple[int, str]:
    """Start ``tunebench run`` in a subprocess and send it ``sig`` once its journal has
    ``after_lines`` lines; its exit status and what it wrote to stderr."""
    path = tmp / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tunebench.cli", "run", str(path), "--out", str(out), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_lines(out / "journal.jsonl", after_lines, lambda: proc.poll() is None)
    assert proc.poll() is None, f"the run ended before it could be cut: {proc.stderr.read()[-500:]}"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def killed_mid_way(raw: dict[str, Any], out: Path, after_lines: int) -> None:
    """Run ``tunebench run`` on ``raw`` in a process forked from Python's fork server (the one
    the peers' pools use, the workload already imported there; never a fork of this process,
    whose threads a fork would copy mid-lock) and SIGKILL it once its journal has
    ``after_lines`` lines."""
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    child = worker_context().Process(target=main, args=(["run", str(path), "--out", str(out), "-q"],))
    child.start()
    wait_for_lines(out / "journal.jsonl", after_lines, child.is_alive)
    assert child.is_alive(), f"the run ended (exit code {child.exitcode}) before it could be cut"
    child.kill()
    child.join(timeout=120)


def wait_for_lines(journal: Path, lines: int, running: Callable[[], bool]) -> None:
    """Wait until ``journal`` has ``lines`` lines, or its writer has stopped (240 s at most)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and running():
        if journal.is_file() and sum(1 for _ in open(journal)) >= lines:
            return
        time.sleep(0.02)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Any]:
    """``uninterrupted(name)``: the local run of ``HB`` or ``RANDOM`` that nothing interrupts,
    made the first time a test asks."""
    made: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in made:
            raw = tiny_config({"hyperband": HB, "random": RANDOM}[name])
            made[name] = run(load_experiment(raw=raw), tmp_path_factory.mktemp(f"{name}-full") / "full", progress=False)
        return made[name]

    return get


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory, uninterrupted: Callable[[str], Any]) -> Callable[[str], tuple[Any, Path]]:
    """``killed(name)``: the uninterrupted local run of ``HB`` or ``RANDOM`` and a run of the same
    config SIGKILLed mid-way (never resumed: a test resumes a copy), made the first time a test asks."""
    made: dict[str, tuple[Any, Path]] = {}

    def get(name: str) -> tuple[Any, Path]:
        if name not in made:
            cut_dir = tmp_path_factory.mktemp(name) / "cut"
            killed_mid_way(tiny_config({"hyperband": HB, "random": RANDOM}[name]), cut_dir, 60 if name == "hyperband" else 30)
            assert not (cut_dir / "summary.json").exists()
            made[name] = uninterrupted(name), cut_dir
        return made[name]

    return get


def copy_of(killed_run: Path, to: Path) -> Path:
    return Path(shutil.copytree(killed_run, to))


@pytest.mark.parametrize("name", ["hyperband", "random"])
def test_sigkill_then_resume_matches_an_uninterrupted_run(
    tmp_path: Path, killed: Callable[[str], tuple[Any, Path]], name: str
) -> None:
    full, killed_run = killed(name)
    cut_dir = copy_of(killed_run, tmp_path / "cut")
    done_before = sum(1 for e in read_journal(cut_dir) if e["kind"] == "result")
    out = resume(cut_dir, progress=False)
    a, b = tables(full.out_dir), tables(out.out_dir)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert out.summary["best_trial"] == full.summary["best_trial"] and out.summary["test_score"] == full.summary["test_score"]
    fresh = [e for e in read_journal(cut_dir) if e["kind"] == "result"]
    assert len(fresh) == len(full.results), "a result that was journaled before the kill was trained again"
    assert done_before < len(fresh)


def test_sigterm_on_dask_stops_cleanly_and_resumes_to_the_same_tables(
    dask_address: str, tmp_path: Path, uninterrupted: Callable[[str], Any]
) -> None:
    shared = {"name": "dask", "n_workers": 2, "address": dask_address}  # the run that is cut and its resume
    raw = {**tiny_config(HB), "executor": shared}
    full = uninterrupted("hyperband")  # on the local executor: the tables do not depend on it
    status, _ = cut(raw, tmp_path / "cut", tmp_path, signal.SIGTERM, after_lines=60)
    assert status == 130
    summary = yaml.safe_load((tmp_path / "cut" / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    out = resume(tmp_path / "cut", progress=False, executor=shared)
    a, b = tables(full.out_dir), tables(out.out_dir)
    pd.testing.assert_frame_equal(a[0], b[0])
    # With several Jobs out per worker, the label of a single result (pause, or stop/continue
    # for the one that closes its rung) depends on arrival order; each trial's status does not.
    labels = ["decision"]
    pd.testing.assert_frame_equal(a[1].drop(columns=labels), b[1].drop(columns=labels))


def test_ctrl_c_prints_the_resume_command(tmp_path: Path) -> None:
    raw = tiny_config(HB)  # 235 journal lines on 2,000 rows: the signal lands long before the end
    raw["workload"]["n_samples"] = 2000
    # A run started while this process ignores SIGINT (pytest run in the background) ignores it too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    status, err = cut(raw, tmp_path / "r", tmp_path, signal.SIGINT, after_lines=40)
    assert status == 130 and f"tunebench resume {tmp_path / 'r'}" in err
    assert main(["resume", str(tmp_path / "r"), "-q"]) == 0
    assert yaml.safe_load((tmp_path / "r" / "summary.json").read_text())["status"] == "completed"


def test_a_torn_last_line_is_tolerated(tmp_path: Path, killed: Callable[[str], tuple[Any, Path]]) -> None:
    full, killed_run = killed("random")
    cut_dir = copy_of(killed_run, tmp_path / "cut")
    with open(cut_dir / "journal.jsonl", "a") as fh:
        fh.write('{"kind": "result", "trial_id": 3, "st')
    out = resume(cut_dir, progress=False)
    pd.testing.assert_frame_equal(tables(full.out_dir)[1], tables(out.out_dir)[1])


def test_a_finished_run_is_not_resumed_and_a_changed_config_is_caught(
    tmp_path: Path, killed: Callable[[str], tuple[Any, Path]]
) -> None:
    full, killed_run = killed("random")
    with pytest.raises(ResumeError, match="finished run"):
        resume(full.out_dir)
    cut_dir = copy_of(killed_run, tmp_path / "cut")
    lines = (cut_dir / "journal.jsonl").read_text().splitlines()
    lines[0] = lines[0].replace('"seed": 0', '"seed": 1', 1)
    (cut_dir / "journal.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ResumeError, match="was the code or the config changed"):
        resume(cut_dir, progress=False)
    assert main(["resume", str(tmp_path / "nowhere")]) == 2


class BatchExecutor:
    """Hands the results of every Job out back in one ``wait``, the newest first: a batch in
    which a Job submitted later finished first, as on Dask or Ray."""

    def __init__(self) -> None:
        self.out: list[Job] = []

    @property
    def pending(self) -> int:
        return len(self.out)

    def submit(self, job: Job) -> None:
        self.out.append(job)

    def wait(self) -> list[Result]:
        done, self.out = self.out, []
        return [Result(j.trial_id, j.stop_step, j.stop_step / 10) for j in reversed(done)]

    def release(self, trial_id: int) -> None:
        pass


def test_rebuilding_holds_the_results_that_arrive_with_a_rebuild() -> None:
    """A live Job's result that comes back in the same batch as a rebuild's, after it, is
    handed out by the next wait, not dropped."""
    inner = BatchExecutor()
    rebuilt: list[tuple[int, int]] = []
    ex = Rebuilding(
        inner, [Job(0, {}, 1, 0, 3)], {(0, 3): 0.3}, first_free_id=5, on_rebuild=lambda j, r: rebuilt.append((r.trial_id, r.step))
    )
    ex.submit(Job(1, {}, 2, 0, 1))  # a live Job, out while the rebuild runs
    ex.submit(Job(0, {}, 1, 3, 9))  # needs trial 0 at step 3: the journal's Job 0 -> 3 runs first
    assert rebuilt == [(0, 3)] and ex.pending == 2
    got = sorted((r.trial_id, r.step) for r in ex.wait() + ex.wait())
    assert got == [(0, 9), (1, 1)] and ex.pending == 0


class InfTrainable(SGDTrainable):
    """SGD whose score is +inf at step 2 (an infinite loss) and -inf at step 6 for even seeds."""

    def score(self) -> float:
        if self.steps == 2:
            return math.inf
        if self.steps == 6 and self.seed % 2 == 0:
            return -math.inf
        return super().score()


class InfSGDWorkload(SGDWorkload):
    name = "sgd-inf"

    def build(self, config, data, seed):  # type: ignore[no-untyped-def, override]
        return InfTrainable(config, data, seed)


def test_an_infinite_score_resumes_exactly_and_the_tables_keep_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A live trial that reported inf is rebuilt on resume and must score inf again: the journal
    keeps inf as inf (it used to read back as NaN, so resume refused), and so do the tables."""
    from tunebench import registry

    real = registry.load
    monkeypatch.setattr(
        registry, "load", lambda kind, name: InfSGDWorkload if (kind, name) == ("workload", "sgd-inf") else real(kind, name)
    )
    raw = tiny_config({"name": "random", "n_trials": 4, "max_iter": 6, "report_every": 2})
    raw["workload"]["name"] = "sgd-inf"
    full = run(load_experiment(raw=raw), tmp_path / "full", progress=False)
    trials, results = tables(full.out_dir)
    assert (results.loc[results["step"] == 2, "score"] == math.inf).all()
    assert (results.loc[results["step"] == 6, "score"] == -math.inf).any()
    assert (trials["last_score"] == -math.inf).any() and not trials["last_score"].isna().any()
    lines = (tmp_path / "full" / "journal.jsonl").read_text().splitlines(keepends=True)
    at_inf = [i for i, line in enumerate(lines) if json.loads(line)["kind"] == "result" and json.loads(line)["step"] == 2]
    for n, at in enumerate(at_inf[:3]):
        (tmp_path / f"cut{n}").mkdir()
        (tmp_path / f"cut{n}" / "journal.jsonl").write_text("".join(lines[: at + 1]))
        out = resume(tmp_path / f"cut{n}", progress=False)
        pd.testing.assert_frame_equal(tables(full.out_dir)[0], tables(out.out_dir)[0])
        pd.testing.assert_frame_equal(tables(full.out_dir)[1], tables(out.out_dir)[1])
