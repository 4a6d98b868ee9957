"""Failed trials: a trial whose training or scoring raises, or whose Job runs past ``timeout_s``,
is ``failed`` with its error; the scheduler is told and the run goes on. A NaN score is not a
failure. ``max_failures`` resends a failed Job from the checkpoint it started from. A run in
which every trial fails ends with one error line and exit status 1, its journal intact."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import cloudpickle
import pandas as pd
import pytest
import yaml

from tests.helpers import tiny_config
from tunebench.cli import main
from tunebench.config import load_experiment
from tunebench.loop import Failures
from tunebench.resume import resume
from tunebench.run import TrialsFailed, run
from tunebench.space import Space
from tunebench.store import read_journal
from tunebench.synthetic import play
from tunebench.trial import Decision, Job, TrialStatus
from tunebench.workloads.sgd import SGDTrainable, SGDWorkload

from schedulers.asha import ASHA
from schedulers.hyperband import Hyperband
from schedulers.pbt import PBT
from schedulers.random_search import RandomSearch

SPACE = Space.from_spec({"x": {"uniform": [0, 1]}})
RAISES, NAN = 1, 2  # trial_id % 5: raises at its second Job / scores NaN


def troubled(job: Job) -> float:
    """Trials 1, 6, 11, ... raise once past step 1; trials 2, 7, ... score NaN; others rise."""
    if job.trial_id % 5 == RAISES and job.stop_step > 1:
        raise ValueError(f"diverged at step {job.stop_step}")
    if job.trial_id % 5 == NAN:
        return float("nan")
    return (job.seed % 101) / 101 * job.stop_step / (job.stop_step + 3)


def schedulers() -> dict[str, Any]:
    return {
        "hyperband": Hyperband(SPACE, seed=0, max_iter=9, eta=3),
        "asha": ASHA(SPACE, seed=0, max_iter=9, eta=3, n_trials=20),
        "asha-stopping": ASHA(SPACE, seed=0, max_iter=9, eta=3, n_trials=20, variant="stopping"),
        "random": RandomSearch(SPACE, seed=0, n_trials=10, max_iter=6, report_every=2),
        "pbt": PBT(SPACE, seed=0, n_trials=6, max_iter=12, perturbation_interval=2),
        "pbt-synch": PBT(SPACE, seed=0, n_trials=6, max_iter=12, perturbation_interval=2, synch=True),
    }


@pytest.mark.parametrize("name", list(schedulers()))
@pytest.mark.parametrize("workers", [1, 4])
def test_raising_and_nan_trials_do_not_stop_the_run(name: str, workers: int) -> None:
    sched = schedulers()[name]
    trace = play(sched, troubled, workers)
    assert sched.finished
    failed = {t for t, trial in sched.trials.items() if trial.status is TrialStatus.FAILED}
    raised = {j.trial_id for j in trace.jobs if j.trial_id % 5 == RAISES and j.stop_step > 1}
    assert failed == raised and failed  # every trial that raised, and only those
    assert {f[0].trial_id for f in trace.failures} == failed
    assert all(f[1].startswith("ValueError: diverged at step") and f[3] is Decision.STOP for f in trace.failures)
    nan = {r.trial_id for r in trace.results if math.isnan(r.score)}
    assert nan and not nan & failed  # a NaN score is not a failure
    assert any(r.trial_id not in failed | nan for r in trace.results)


@pytest.mark.parametrize("name", ["hyperband", "asha", "random", "pbt", "pbt-synch"])
def test_a_timed_out_job_does_not_stop_the_run(name: str) -> None:
    sched = schedulers()[name]
    trace = play(sched, lambda job: troubled(job) if job.trial_id % 5 != RAISES else 0.5, 3, failures=Failures(timeout_s=2.5))
    timed_out = {f[0].trial_id for f in trace.failures}
    assert sched.finished and all(f[0].n_steps > 2.5 for f in trace.failures)
    assert all("TimeoutError: " in f[1] and "exceeded timeout_s=2.5" in f[1] for f in trace.failures)
    assert all(sched.trials[t].status is TrialStatus.FAILED for t in timed_out)
    if name in ("hyperband", "asha"):
        assert timed_out  # the Jobs to step 9 of the passive bracket, or promotions 3 -> 9
    assert any(j.n_steps <= 2.5 for j in trace.jobs)


def test_hyperband_rung_closes_without_the_failed_trial() -> None:
    hb = Hyperband(SPACE, seed=0, max_iter=9, eta=3)
    trace = play(hb, troubled, 2)
    for bracket in hb.brackets:
        assert bracket.done
    failed = {f[0].trial_id: f[0] for f in trace.failures}
    assert failed
    for tid, job in failed.items():  # a failed trial gets no Job after the one that failed
        assert [(j.start_step, j.stop_step) for j in trace.jobs if j.trial_id == tid][-1] == (job.start_step, job.stop_step)
    assert any(j.start_step > 0 and j.trial_id not in failed for j in trace.jobs)  # its rung closed and promoted others


def flaky(fail_times: int):  # type: ignore[no-untyped-def]
    """Trial 1's Job to step 4 raises the first ``fail_times`` times it runs."""
    seen: dict[tuple[int, int], int] = {}

    def score(job: Job) -> float:
        key = (job.trial_id, job.stop_step)
        seen[key] = seen.get(key, 0) + 1
        if key == (1, 4) and seen[key] <= fail_times:
            raise RuntimeError("worker hiccup")
        return job.stop_step / 10

    return score


@pytest.mark.parametrize("max_failures, fails", [(0, True), (1, False), (2, False)])
def test_max_failures_retries_the_job_before_the_trial_fails(max_failures: int, fails: bool) -> None:
    rs = RandomSearch(SPACE, seed=0, n_trials=3, max_iter=6, report_every=2)
    trace = play(rs, flaky(1), 2, failures=Failures(max_failures=max_failures))
    assert rs.finished
    assert (rs.trials[1].status is TrialStatus.FAILED) == fails
    assert [(f[0].trial_id, f[0].start_step, f[2], f[3]) for f in trace.failures] == [(1, 2, 1, Decision.STOP if fails else None)]
    if not fails:
        assert rs.trials[1].scores == {2: 0.2, 4: 0.4, 6: 0.6}


def test_pbt_clone_is_resent_from_its_donor_snapshot() -> None:
    """A clone's first Job fails once; sent again, it starts from the donor's checkpoint at the
    clone step even though the donor trained on meanwhile."""
    pbt = PBT(SPACE, seed=0, n_trials=4, max_iter=12, perturbation_interval=2)
    failed_once: set[int] = set()

    def score(job: Job) -> float:
        if job.clone_from is not None and job.trial_id not in failed_once:
            failed_once.add(job.trial_id)
            raise OSError("disk full")
        return (job.seed % 101) / 101 + job.stop_step / 100

    trace = play(pbt, score, 4, failures=Failures(max_failures=1))
    assert pbt.finished and failed_once
    assert all(pbt.trials[t].status is not TrialStatus.FAILED for t in failed_once)
    assert all(t in {r.trial_id for r in trace.results} for t in failed_once)


# -- real training: local and dask -------------------------------------------------------------


class TroubledTrainable(SGDTrainable):
    """SGD that raises past step 3 when ``alpha > 0.05``, and takes 5 s a Job when ``eta0 > 0.6``."""

    def train(self, n_steps: int) -> None:
        if self.config["alpha"] > 0.05 and self.steps + n_steps > 3:
            raise FloatingPointError(f"loss exploded at step {self.steps + n_steps}")
        if self.config["eta0"] > 0.6:
            for _ in range(50):  # a Python-level loop: the time limit lands between sleeps on any thread
                time.sleep(0.1)
        super().train(n_steps)


class TroubledWorkload(SGDWorkload):
    def build(self, config, data, seed):  # type: ignore[no-untyped-def, override]
        return TroubledTrainable(config, data, seed)


cloudpickle.register_pickle_by_value(sys.modules[__name__])

TROUBLED_SPACE = {"alpha": {"uniform": [0.0001, 0.1]}, "eta0": {"uniform": [0.01, 0.8]}}


def troubled_experiment(scheduler: dict[str, Any], executor: dict[str, Any], **extra: Any) -> Any:
    raw = tiny_config(scheduler, space=TROUBLED_SPACE, failures={"timeout_s": 0.5}, **extra)
    raw["executor"] = executor
    raw["workload"]["n_samples"] = 300
    exp = load_experiment(raw=raw)
    return exp, TroubledWorkload(**exp.workload_params)


def check_failed_table(trials: pd.DataFrame, summary: dict[str, Any]) -> None:
    failed = trials[trials["status"] == "failed"]
    raised = failed[failed["error"].str.startswith("FloatingPointError: loss exploded")]
    timed = failed[failed["error"].str.startswith("TimeoutError: ")]
    assert len(raised) and len(timed) and len(raised) + len(timed) == len(failed)
    assert (raised["config.alpha"] > 0.05).all() and (timed["config.eta0"] > 0.6).all()
    ok = trials[trials["status"] != "failed"]
    assert ok["error"].isna().all() and len(ok)
    assert summary["failures"] == len(failed) and summary["status"] == "completed"
    assert summary["best_trial"] in set(ok["trial_id"])


def test_local_run_writes_failed_trials_with_their_errors(tmp_path: Path) -> None:
    exp, workload = troubled_experiment({"name": "hyperband", "max_iter": 9, "eta": 3}, {"name": "local"}, seed=21)
    out = run(exp, tmp_path / "r", progress=False, workload=workload)
    trials = pd.read_parquet(tmp_path / "r" / "trials.parquet")
    check_failed_table(trials, out.summary)
    events = list(read_journal(tmp_path / "r"))
    finals = [e for e in events if e["kind"] == "failure" and e["final"]]
    assert {e["trial_id"] for e in finals} == set(trials[trials["status"] == "failed"]["trial_id"])
    assert out.summary["test_score"] is not None


def test_dask_run_writes_failed_trials_with_their_errors(dask_address: str, tmp_path: Path) -> None:
    executor = {"name": "dask", "n_workers": 2, "address": dask_address}
    exp, workload = troubled_experiment({"name": "hyperband", "max_iter": 9, "eta": 3}, executor, seed=21)
    out = run(exp, tmp_path / "r", progress=False, workload=workload)
    check_failed_table(pd.read_parquet(tmp_path / "r" / "trials.parquet"), out.summary)


def run_troubled_on_ray(tmp_path: Path, executor: str) -> None:
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    exp, workload = troubled_experiment(
        {"name": "hyperband", "max_iter": 9, "eta": 3}, {"name": executor, "n_workers": 1}, seed=21
    )
    out = run(exp, tmp_path / "r", progress=False, workload=workload)
    check_failed_table(pd.read_parquet(tmp_path / "r" / "trials.parquet"), out.summary)


def test_ray_run_writes_failed_trials_with_their_errors(ray_session: Any, tmp_path: Path) -> None:
    """On the session's Ray (that a run shuts down a Ray it started: tests/test_executor_ray.py)."""
    import ray

    run_troubled_on_ray(tmp_path, "ray")
    assert ray.is_initialized()  # a Ray the run did not start is left running


def test_dask_on_ray_run_writes_failed_trials_with_their_errors(no_ray: None, tmp_path: Path) -> None:
    import ray

    run_troubled_on_ray(tmp_path, "dask-on-ray")
    assert not ray.is_initialized()  # the run shut down the Ray it started


def test_a_run_where_every_trial_fails_exits_1_with_its_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tiny_config({"name": "random", "n_trials": 3, "max_iter": 4})
    raw["space"] = {"alpha": {"uniform": [-1.0, -0.5]}}  # SGDClassifier refuses a negative alpha
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["run", str(path), "--out", str(tmp_path / "r"), "-q"]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tunebench: error: all 3 trial(s) failed (first: trial 0: ")
    assert "alpha" in lines[0] and "Traceback" not in err
    events = list(read_journal(tmp_path / "r"))
    assert events[0]["kind"] == "start" and events[-1]["kind"] == "end" and events[-1]["status"] == "failed"
    assert sum(e["kind"] == "failure" for e in events) == 3
    trials = pd.read_parquet(tmp_path / "r" / "trials.parquet")
    assert (trials["status"] == "failed").all() and trials["error"].str.contains("alpha").all()


def test_all_failed_in_process_raises_trials_failed(tmp_path: Path) -> None:
    raw = tiny_config({"name": "random", "n_trials": 2, "max_iter": 2}, space={"alpha": {"uniform": [-1.0, -0.5]}})
    with pytest.raises(TrialsFailed, match="all 2 trial"):
        run(load_experiment(raw=raw), tmp_path / "r", progress=False)
    assert yaml.safe_load((tmp_path / "r" / "summary.json").read_text())["failures"] == 2


# -- resume across a failure -------------------------------------------------------------------

TRIAL_COLS = ["trial_id", "parent", "status", "steps", "last_score", "best_score", "error", "config"]
RESULT_COLS = ["trial_id", "step", "n_steps", "score", "decision"]


def tables(d: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    trials = pd.read_parquet(d / "trials.parquet")[TRIAL_COLS].sort_values("trial_id").reset_index(drop=True)
    results = pd.read_parquet(d / "results.parquet")[RESULT_COLS].sort_values(["trial_id", "step"]).reset_index(drop=True)
    return trials, results


def cut_after(src: Path, dst: Path, keep: int) -> None:
    """``dst`` holds ``src``'s journal up to line ``keep``, as if the driver died there."""
    dst.mkdir()
    lines = (src / "journal.jsonl").read_text().splitlines(keepends=True)
    (dst / "journal.jsonl").write_text("".join(lines[:keep]))


@pytest.mark.parametrize(
    "scheduler",
    [
        {"name": "hyperband", "max_iter": 9, "eta": 3},
        {"name": "random", "n_trials": 8, "max_iter": 6, "report_every": 2},
    ],
)
def test_resume_across_a_failure_matches_the_uninterrupted_run(tmp_path: Path, scheduler: dict[str, Any]) -> None:
    raw = tiny_config(scheduler, space={"alpha": {"uniform": [-0.02, 0.1]}}, failures={"max_failures": 1})
    full = run(load_experiment(raw=raw), tmp_path / "full", progress=False)
    assert full.summary["failures"] > 0 and full.summary["retries"] > 0
    lines = (tmp_path / "full" / "journal.jsonl").read_text().splitlines()
    retry = next(i for i, line in enumerate(lines) if '"kind": "failure"' in line and '"final": false' in line)
    final = next(i for i, line in enumerate(lines) if '"kind": "failure"' in line and '"final": true' in line)
    for n, at in enumerate({retry + 1, final + 1, final + 3}):
        cut_after(tmp_path / "full", tmp_path / f"cut{n}", at)
        out = resume(tmp_path / f"cut{n}", progress=False)
        a, b = tables(full.out_dir), tables(out.out_dir)
        pd.testing.assert_frame_equal(a[0], b[0])
        pd.testing.assert_frame_equal(a[1], b[1])
        assert out.summary["failures"] == full.summary["failures"]
