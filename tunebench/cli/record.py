"""``tunebench record CONFIG --n-configs N --out FILE.parquet [--set ...] [--max-iter R]``.

Trains ``N`` configs sampled from the experiment's space to ``max_iter`` steps on the
experiment's executor, scoring validation and test at every step, and writes the learning
curves as a recording (:mod:`tunebench.workloads.curves`) that the ``simulated`` executor
replays. It is an ordinary random-search run (``report_every: 1``, each Job asking for the test
score too), so its run directory stays behind as well; the recording is derived from its journal.

``tunebench record MATRIX.yaml --matrix [--run-dir DIR] [--out PATH]`` records a comparison's real
run instead: it runs the matrix's cells on its real executors (into ``DIR``, default
``runs/<matrix name>``; finished cells are kept), then trains every config those cells sampled,
with its trial seed, to the matrix's ``max_iter``, and writes one recording per workload where
the matrix's simulated executors' ``curves`` say (``{workload}`` stands for the workload's
label), so ``tunebench compare MATRIX.yaml`` then replays exactly what the real cells saw
(:mod:`tunebench.compare.sampled`).

The same command again with the same ``--run-dir`` continues a recording whose run stopped
(Ctrl-C, a crash, ``kill -9``) from its journal (:func:`tunebench.resume.resume`: nothing that
reported is redone), and only writes the recording again from a run that finished; the
executor may differ, the experiment (seed, workload, scheduler, space) may not.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from tunebench import registry


def register(sub: Any) -> None:
    p = sub.add_parser("record", help="record learning curves for the simulated executor")
    p.add_argument(
        "config", help="YAML experiment file (its workload, space, executor and seed are used), or with --matrix a matrix"
    )
    p.add_argument("--n-configs", type=int, help="configs to sample and train to max_iter (needed without --matrix)")
    p.add_argument("--out", help="the recording to write (.parquet); with --matrix a path with {workload} (default: the curves)")
    p.add_argument(
        "--matrix",
        action="store_true",
        help="CONFIG is a comparison matrix: run its real cells, then record every config they sampled, with its trial seed",
    )
    p.add_argument("--max-iter", type=int, help="steps per config (default: the config's scheduler.max_iter)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. workload.n_samples=600")
    p.add_argument("--run-dir", help="where the recording run writes its run directory (default under runs/)")
    p.add_argument("--description", help="one line stored in the recording (default: what was recorded)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def recording_scheduler(name: str = "random") -> type:
    """The registry's ``name`` scheduler, with every Job asking for the test score too."""
    base = registry.load("scheduler", name)

    class Recording(base):  # type: ignore[valid-type, misc]
        def suggest(self):  # type: ignore[no-untyped-def]
            job = super().suggest()
            return None if job is None else dataclasses.replace(job, score_test=True)

    Recording.__name__ = f"Recording{base.__name__}"
    return Recording


def record(
    config: str,
    n_configs: int,
    out: str | Path,
    overrides: list[str] = (),
    max_iter: int | None = None,
    run_dir: str | Path | None = None,
    description: str | None = None,
    progress: bool = True,
) -> Path:
    """Record ``n_configs`` curves of the experiment in ``config``; return the recording's path."""
    from tunebench.checks import check_int
    from tunebench.config import ConfigError, apply_overrides, load_experiment, load_yaml
    from tunebench.run import run
    from tunebench.store import JOURNAL
    from tunebench.workloads.curves import curves_from_run, write_curves

    if not str(out).endswith(".parquet"):
        raise ConfigError(f"--out {str(out)!r}: a recording is a .parquet file")
    check_int("--n-configs", n_configs, 1)
    raw = load_yaml(config)
    apply_overrides(raw, list(overrides))
    steps = max_iter if max_iter is not None else (raw.get("scheduler") or {}).get("max_iter")
    check_int("--max-iter", steps, 1, note="or give the config a scheduler.max_iter")
    raw["scheduler"] = {"name": "random", "n_trials": n_configs, "max_iter": steps, "report_every": 1}
    raw["budget"] = {}
    exp = load_experiment(raw=raw)
    exp.source = str(config)
    if run_dir is not None and (Path(run_dir) / JOURNAL).is_file():
        out_dir = continue_recording(Path(run_dir), exp, progress)
    else:
        built = exp.build()
        scheduler = recording_scheduler()(built.space, seed=exp.seed, mode=built.workload.mode, **exp.scheduler_params)
        out_dir = run(
            exp, run_dir, progress=progress, workload=built.workload, scheduler=scheduler, executor=built.executor
        ).out_dir
    curves = curves_from_run(out_dir)
    meta = {
        **curves.meta,
        "description": description
        or f"{n_configs} configs of {Path(config).name} to step {steps}, seed {exp.seed}, on {exp.executor_name}",
        "run": str(out_dir),
        "workload_config": exp.resolved()["workload"],
    }
    return write_curves(curves.frame, meta, out)


RECORDED = ("seed", "workload", "scheduler", "space")


def continue_recording(run_dir: Path, exp: Any, progress: bool) -> Path:
    """The run directory of a recording of ``exp`` already begun in ``run_dir``, finished first
    if it stopped; a ConfigError if it records another experiment."""
    from tunebench.config import ConfigError
    from tunebench.resume import resume
    from tunebench.store import JOURNAL, read_journal

    start = next((e for e in read_journal(run_dir / JOURNAL) if e["kind"] == "start"), None)
    there = json.loads(json.dumps((start or {}).get("config") or {}, default=str))
    here = json.loads(json.dumps(exp.resolved(), default=str))
    differ = [key for key in RECORDED if there.get(key) != here.get(key)]
    if differ:
        key = differ[0]
        raise ConfigError(
            f"--run-dir {str(run_dir)!r} holds a recording of another experiment ({key}: {there.get(key)!r} there, "
            f"{here.get(key)!r} here); give the command that began it, or a new --run-dir"
        )
    summary = run_dir / "summary.json"
    if summary.is_file() and json.loads(summary.read_text()).get("status") == "completed":
        return run_dir
    return resume(run_dir, progress=progress, executor=here["executor"], scheduler_cls=recording_scheduler()).out_dir


def main(args: argparse.Namespace) -> int:
    from tunebench.config import ConfigError
    from tunebench.workloads.curves import read_curves

    if args.matrix:
        return record_matrix(args)
    if args.n_configs is None or args.out is None:
        raise ConfigError("record needs --n-configs and --out (or --matrix, to record what a matrix's real cells sampled)")
    path = record(
        args.config,
        args.n_configs,
        args.out,
        args.set or [],
        args.max_iter,
        args.run_dir,
        args.description,
        progress=not args.quiet,
    )
    curves = read_curves(path)
    print(
        f"recorded {curves.n_configs} configs x {curves.max_iter} steps of {curves.workload} to {path} "
        f"(median step {curves.step_s:.4g} s, score {curves.score_s:.4g} s)"
    )
    return 0


def record_matrix(args: argparse.Namespace) -> int:
    from tunebench.compare.sampled import record_matrix as record_sampled
    from tunebench.config import ConfigError
    from tunebench.workloads.curves import read_curves

    if args.n_configs is not None or args.max_iter is not None:
        raise ConfigError(
            "--matrix records the configs the matrix's cells sampled, to its max_iter: drop --n-configs and --max-iter"
        )
    paths = record_sampled(args.config, args.set or [], recording_scheduler(), args.run_dir, args.out, progress=not args.quiet)
    for path in paths:
        curves = read_curves(path)
        print(f"recorded {curves.n_configs} configs x {curves.max_iter} steps of {curves.workload} to {path}")
    return 0
