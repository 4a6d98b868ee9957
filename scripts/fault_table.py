"""Run each fault for real and tabulate what was redone and what was lost.

Faults: the driver killed with SIGKILL mid-run and then ``tunebench resume``; SIGTERM then
resume; a torn last journal line (SIGKILL, then half a line appended) then resume; a Dask
worker process killed mid-run; a trial that raises once (retried by ``failures.max_failures``)
and one that always raises; a Job that runs past ``failures.timeout_s`` once, and one trial
whose Jobs always do. Each run's final ``trials.parquet`` and ``results.parquet`` (timing
columns aside) are compared with an uninterrupted run of the same experiment on the local
executor: "lost" must be nothing wherever the fault was survivable. For a trial that fails for
good, what is lost is that trial's remaining steps, and the run goes on.

Writes ``results/fault_table.md`` and ``.json`` and prints the table::

    python scripts/fault_table.py [--out results]
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import yaml

from tunebench import bench
from tunebench.config import load_experiment
from tunebench.run import run
from tunebench.store import read_journal
from tunebench.workloads.sgd import SGDTrainable, SGDWorkload

TRIAL_COLS = ["trial_id", "parent", "status", "steps", "last_score", "best_score", "config"]
RESULT_COLS = ["trial_id", "step", "n_steps", "score", "decision"]
EXPERIMENT: dict[str, Any] = {
    "seed": 0,
    "workload": {"name": "sgd", "dataset": "circles", "n_samples": 2000},
    "scheduler": {"name": "hyperband", "max_iter": 27, "eta": 3},
    "executor": {"name": "local"},
}
KILL_AT = 40  # results in the journal when a process is killed
FAULTY_STEP = 9  # the in-process faults strike the Job that trains a trial across this step


def tables(d: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    trials = pd.read_parquet(d / "trials.parquet")[TRIAL_COLS].sort_values("trial_id").reset_index(drop=True)
    results = pd.read_parquet(d / "results.parquet")[RESULT_COLS].sort_values(["trial_id", "step"]).reset_index(drop=True)
    return trials, results


def lost(reference: Path, d: Path, ignore: tuple[str, ...] = ()) -> str:
    """``nothing`` if the final tables equal the reference's (``ignore``: result columns left
    out), else which columns differ."""
    (rt, rr), (t, r) = tables(reference), tables(d)
    rr, r = rr.drop(columns=list(ignore)), r.drop(columns=list(ignore))
    note = f", {' and '.join(ignore)} aside" if ignore else ""
    if rt.equals(t) and rr.equals(r):
        return f"nothing (trials and results tables equal the uninterrupted run's{note})"
    if len(rt) != len(t) or len(rr) != len(r):
        return f"DIFFERS: {len(t)} vs {len(rt)} trials, {len(r)} vs {len(rr)} results"
    cols = [c for c in rt.columns if not rt[c].equals(t[c])] + [c for c in rr.columns if not rr[c].equals(r[c])]
    return f"DIFFERS in column(s) {', '.join(cols)}"


def journal_counts(d: Path) -> dict[str, int]:
    events = list(read_journal(d))
    kinds = [e["kind"] for e in events]
    resumed = [e for e in events if e["kind"] == "resume"]
    return {
        "results": kinds.count("result"),
        "rebuilt": kinds.count("rebuild_result"),
        "resent": sum(int(e.get("outstanding") or 0) for e in resumed),
    }


def run_until(tmp: Path, name: str, raw: dict[str, Any]) -> tuple[subprocess.Popen[bytes], Path]:
    """``tunebench run`` of ``raw`` in a child process, returned once its journal holds ``KILL_AT`` results."""
    config, out = tmp / f"{name}.yaml", tmp / name
    config.write_text(yaml.safe_dump(raw))
    cmd = [sys.executable, "-m", "tunebench.cli", "run", str(config), "--out", str(out), "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = out / "journal.jsonl"
    while proc.poll() is None:
        if journal.is_file() and sum('"kind": "result"' in line for line in open(journal)) >= KILL_AT:
            return proc, out
        time.sleep(0.01)
    raise RuntimeError(f"the run ended before the fault: {proc.stderr.read().decode()[-400:] if proc.stderr else ''}")


def driver_killed(tmp: Path, reference: Path, sig: int, name: str, torn: bool = False) -> list[str]:
    proc, out = run_until(tmp, name, EXPERIMENT)
    proc.send_signal(sig)
    status = proc.wait(timeout=120)
    before = journal_counts(out)["results"]
    if torn:
        with open(out / "journal.jsonl", "a") as fh:
            fh.write('{"kind": "result", "trial_id": 3, "st')
    resumed = subprocess.run([sys.executable, "-m", "tunebench.cli", "resume", str(out), "-q"], capture_output=True, text=True)
    if resumed.returncode != 0:
        raise RuntimeError(f"resume of {name} failed: {resumed.stderr[-400:]}")
    after = journal_counts(out)
    what = {signal.SIGKILL: "driver, SIGKILL", signal.SIGTERM: "driver, SIGTERM"}[sig] + (
        " + torn last journal line" if torn else ""
    )
    when = f"after {before} results (exit {status}); then `tunebench resume`"
    redone = (
        f"{after['resent']} Job(s) that were out resent; {after['rebuilt']} Job(s) retrained to rebuild lost checkpoints; "
        f"reported results redone: {after['results'] - len(tables(reference)[1])}"
    )
    return [what, when, redone, lost(reference, out)]


def dask_worker_killed(tmp: Path, reference: Path) -> list[str]:
    proc, out = run_until(tmp, "dask", {**EXPERIMENT, "executor": {"name": "dask", "n_workers": 2}})
    workers = [
        p
        for p in psutil.Process(proc.pid).children(recursive=True)
        if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())
    ]
    workers[0].kill()
    status = proc.wait(timeout=600)
    if status != 0:
        raise RuntimeError(
            f"the dask run failed after its worker was killed: {proc.stderr.read().decode()[-400:] if proc.stderr else ''}"
        )
    stats = yaml.safe_load((out / "summary.json").read_text())["executor_stats"]
    extra = journal_counts(out)["results"] - len(tables(reference)[1])
    redone = (
        f"the killed worker's Job(s) rerun by Dask from the checkpoint each carries ({stats['retries']} resent by the "
        f"executor after Dask gave up, {stats['worker_restarts']} worker restart(s)); reported results redone: {extra}"
    )
    # which trial's result closes a rung depends on arrival order on Dask, and with it whether
    # that result's decision reads stop/continue or pause (then a status change)
    return [
        "a Dask worker process, SIGKILL",
        f"after {KILL_AT} results (of {len(tables(reference)[1])})",
        redone,
        lost(reference, out, ignore=("decision",)),
    ]


class FaultyTrainable(SGDTrainable):
    """SGD whose Job to ``FAULTY_STEP`` of the trial seeded ``FaultyWorkload.seed`` misbehaves:
    ``raise`` or ``sleep`` (past the time limit), ``once`` or every time."""

    def train(self, n_steps: int) -> None:
        w = FaultyWorkload
        if self.seed == w.seed and self.steps < FAULTY_STEP <= self.steps + n_steps and (w.always or not w.fired):
            w.fired = True
            if w.fault == "raise":
                raise FloatingPointError(f"loss exploded before step {FAULTY_STEP}")
            time.sleep(5.0)
        super().train(n_steps)


class FaultyWorkload(SGDWorkload):
    seed = -1
    fault = "raise"
    always = False
    fired = False

    def build(self, config, data, seed):  # type: ignore[no-untyped-def, override]
        return FaultyTrainable(config, data, seed)


def faulty_trial(reference: Path) -> int:
    """The first trial of the reference run that resumes from a checkpoint across ``FAULTY_STEP``."""
    return int(
        min(
            e["trial_id"]
            for e in read_journal(reference)
            if e["kind"] == "job" and 0 < e["start_step"] < FAULTY_STEP <= e["stop_step"]
        )
    )


def trial_fault(tmp: Path, reference: Path, fault: str, always: bool) -> list[str]:
    from tunebench.scheduler import trial_seed

    trial = faulty_trial(reference)
    FaultyWorkload.seed, FaultyWorkload.fault, FaultyWorkload.always, FaultyWorkload.fired = (
        trial_seed(0, trial),
        fault,
        always,
        False,
    )
    failures = {"max_failures": 0 if always else 1, "timeout_s": 2.0}
    exp = load_experiment(raw={**EXPERIMENT, "failures": failures})
    out = tmp / f"{fault}-{'always' if always else 'once'}"
    result = run(exp, out, progress=False, workload=FaultyWorkload(**exp.workload_params))
    s = result.summary
    what = {"raise": "a trial raises (FloatingPointError)", "sleep": "a Job runs past timeout_s=2"}[fault]
    what += ", every time" if always else ", once"
    when = f"trial {trial}'s Job across step {FAULTY_STEP}; max_failures={failures['max_failures']}"
    if always:
        trials = tables(out)[0]
        row = trials[trials["trial_id"] == trial].iloc[0]
        err = pd.read_parquet(out / "trials.parquet").set_index("trial_id").loc[trial, "error"]
        return [
            what,
            when,
            "nothing (the trial is failed, not retried)",
            f"trial {trial}'s steps after {row['steps']} (status {row['status']}, error `{err}`); "
            f"run {s['status']}, {s['failures']} failure(s), {s['n_trials']} trials",
        ]
    job = next(e for e in read_journal(out) if e["kind"] == "failure")
    redone = f"{s['retries']} Job (steps {job['start_step']}->{job['stop_step']}) resent from trial {trial}'s checkpoint at step {job['start_step']}"
    return [what, when, redone, lost(reference, out)]


def main() -> None:
    args = bench.parser(__doc__).parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        reference = tmp / "reference"
        run(load_experiment(raw=EXPERIMENT), reference, progress=False)
        rows = [
            driver_killed(tmp, reference, signal.SIGKILL, "sigkill"),
            driver_killed(tmp, reference, signal.SIGTERM, "sigterm"),
            driver_killed(tmp, reference, signal.SIGKILL, "torn", torn=True),
            dask_worker_killed(tmp, reference),
            trial_fault(tmp, reference, "raise", always=False),
            trial_fault(tmp, reference, "raise", always=True),
            trial_fault(tmp, reference, "sleep", always=False),
            trial_fault(tmp, reference, "sleep", always=True),
        ]
        n = len(tables(reference)[1])
    spec = yaml.safe_dump(EXPERIMENT, default_flow_style=True, width=1000).strip()
    head = ["what was killed / failed", "when", "what was redone", "what was lost"]
    text = f"# Fault table\n\nExperiment: `{spec}`; the uninterrupted reference run reports {n} results.\n\n{bench.table(head, rows)}\n"
    bench.write(
        args.out,
        "fault_table",
        {"experiment": EXPERIMENT, "reference_results": n, "rows": [dict(zip(head, r)) for r in rows]},
        text,
    )


if __name__ == "__main__":
    main()
