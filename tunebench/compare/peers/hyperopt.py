"""Hyperopt's TPE as peers: ``fmin(algo=tpe.suggest)`` on ``Trials()`` and on ``SparkTrials``.

Hyperopt has no early stopping: each evaluation builds our workload's Trainable for the config
Hyperopt drew (our space through :func:`tunebench.convert.to_hyperopt`), trains it to
``max_iter`` steps, one ``partial_fit`` each, scores the validation split after every step and
returns the last score as the loss (negated when higher is better). Every step's score and the
wall time it was observed at come back in the evaluation's result, and become one row of
``results.parquet`` each, so the anytime curves see scores as they appeared, not when
``fmin`` returned.

The number of evaluations (``max_evals``) is the peer's ``n_trials`` (or the cell's), capped by
the step budget: ``total_steps // max_iter`` whole evaluations, so it is never overshot. Each
``fmin`` trial is one evaluation as ours are (one config asked for at one budget, ``max_iter``),
and ``fmin`` starts no more than ``max_evals``: a budget of evaluations caps it too, and is
``max_evals`` when nothing else sets it. A wall-time budget is ``fmin``'s ``timeout`` and, inside
an evaluation, a deadline checked before each step. Every model is seeded by the cell seed
(``random_state=seed``, as a Hyperopt user writes it); the test score is the best trial's (our
rule) config retrained from scratch, which gives the same model.

- ``hyperopt-tpe``: ``Trials()``, in this process, one evaluation at a time, reproducible:
  ``rstate=numpy.random.default_rng(seed)`` gives the same configs for the same seed.
- ``hyperopt-tpe-spark``: ``SparkTrials(parallelism=P)`` over a local Spark (``local[N]``,
  ``N`` the matrix's workers; :mod:`tunebench.compare.peers.spark`), the dataset broadcast to
  Spark's workers once.
"""

from __future__ import annotations

import abc
import logging
import math
import os
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from tunebench.checks import Int, check
from tunebench.compare.peer import Peer, PeerTask, PeerUnsupported
from tunebench.compare.peers.base import PeerLog
from tunebench.space import Space
from tunebench.workloads.base import Dataset, Workload

DEFAULT_EVALS = 20  # as our random search's default n_trials
UNBOUNDED_EVALS = 1_000_000  # a wall-time budget alone: fmin's timeout ends the search
SPARK_NOTE = "SparkTrials polls about once a second and is not reproducible once TPE leaves its random start-up"


def max_evals(
    n_trials: int | None, total_steps: int | None, max_iter: int, wall_time_s: float | None, evaluations: int | None = None
) -> int:
    """How many configs ``fmin`` evaluates: ``n_trials``, capped by the whole evaluations the step budget
    pays for and by the evaluation budget.

    >>> max_evals(None, 100, 9, None), max_evals(5, 100, 9, None), max_evals(None, None, 9, None)
    (11, 5, 20)
    >>> max_evals(None, None, 9, None, 30), max_evals(40, 900, 9, None, 30)
    (30, 30)
    """
    caps = [n for n in (n_trials, None if total_steps is None else total_steps // max_iter, evaluations) if n is not None]
    if caps:
        return min(caps)
    return DEFAULT_EVALS if wall_time_s is None else UNBOUNDED_EVALS


def loss_of(score: float, mode: str) -> float:
    """Hyperopt minimises: the score itself, or its negation when higher is better.

    >>> loss_of(0.9, "max"), loss_of(0.2, "min")
    (-0.9, 0.2)
    """
    return -score if mode == "max" else score


def evaluate(
    point: dict[str, Any],
    *,
    workload: Workload,
    data: Any,
    space: Space,
    seed: int,
    max_iter: int,
    mode: str,
    deadline: float | None,
) -> dict[str, Any]:
    """Hyperopt's objective: one config trained to ``max_iter`` steps (or to the deadline), scored each step.

    ``data`` is the :class:`Dataset` or a Spark broadcast of it. A training error, no step before
    the deadline or a score that is not a finite number is ``STATUS_FAIL`` to Hyperopt (its TPE
    takes finite losses only), with the steps done so far kept.
    """
    from hyperopt import STATUS_FAIL, STATUS_OK

    from tunebench.convert import from_hyperopt

    dataset: Dataset = data.value if hasattr(data, "value") else data
    config = from_hyperopt(space, point)
    rows: list[dict[str, Any]] = []
    out = {"config": config, "rows": rows, "pid": os.getpid()}
    try:
        trainable = workload.build(config, dataset, seed)
        while trainable.steps < max_iter and (deadline is None or time.time() < deadline):
            t0 = time.perf_counter()
            trainable.train(1)
            t1 = time.perf_counter()
            score = float(trainable.score())
            rows.append(
                {
                    "step": trainable.steps,
                    "score": score,
                    "compute_s": t1 - t0,
                    "score_s": time.perf_counter() - t1,
                    "wall": time.time(),
                }
            )
    except Exception as exc:  # the trial failed; fmin goes on
        return {**out, "status": STATUS_FAIL, "error": f"{type(exc).__name__}: {exc}"}
    if not rows:
        return {**out, "status": STATUS_FAIL, "error": None}
    last = rows[-1]["score"]
    if not math.isfinite(last):
        return {**out, "status": STATUS_FAIL, "error": None}
    return {**out, "status": STATUS_OK, "loss": loss_of(last, mode)}


def trial_config(trial: dict[str, Any], hp_space: dict[str, Any], space: Space) -> dict[str, Any]:
    """The config of a Hyperopt trial, from its result or (a cancelled trial) from the values it drew."""
    from hyperopt import space_eval

    from tunebench.convert import from_hyperopt

    if "config" in (trial.get("result") or {}):
        return dict(trial["result"]["config"])
    vals = {k: v[0] for k, v in trial["misc"]["vals"].items() if v}
    return from_hyperopt(space, space_eval(hp_space, vals))


def journal_trials(log: PeerLog, trials: Any, hp_space: dict[str, Any], space: Space, max_iter: int) -> None:
    """Journal every trial and every step's score in the order they were observed."""
    rows = sorted(
        ((r["wall"], int(t["tid"]), i, r) for t in trials.trials for i, r in enumerate((t.get("result") or {}).get("rows", []))),
        key=lambda x: (x[0], x[1], x[2]),
    )
    by_tid = {int(t["tid"]): t for t in trials.trials}
    last = {tid: len((t.get("result") or {}).get("rows", [])) for tid, t in by_tid.items()}
    seen: set[int] = set()
    for wall, tid, i, row in rows:
        trial = by_tid[tid]
        if tid not in seen:
            seen.add(tid)
            log.trial(tid, trial_config(trial, hp_space, space))
        decision = "continue" if i + 1 < last[tid] else "complete" if row["step"] >= max_iter else "stop"
        log.result(
            tid,
            row["step"],
            row["score"],
            1,
            decision=decision,
            worker=f"pid:{trial['result']['pid']}",
            compute_s=row["compute_s"],
            score_s=row["score_s"],
            elapsed_s=log.since_begin(wall),
        )
    for tid, trial in sorted(by_tid.items()):
        if tid not in seen:
            log.trial(tid, trial_config(trial, hp_space, space))
        end_trial(log, tid, trial)


def end_trial(log: PeerLog, tid: int, trial: dict[str, Any]) -> None:
    """A trial that raised is failed (its error kept); one cancelled by the timeout or with no step done is stopped."""
    from hyperopt.base import JOB_STATE_CANCEL

    result = trial.get("result") or {}
    cancelled = trial.get("state") == JOB_STATE_CANCEL
    if result.get("error") or (not cancelled and not result.get("rows") and trial.get("misc", {}).get("error")):
        log.fail(tid, str(result.get("error") or trial["misc"]["error"]))
    elif not result.get("rows"):
        log.journal.log("status", trial_id=tid, status="stopped", error=None)


class HyperoptPeer(Peer):
    """``fmin(algo=partial(tpe.suggest, n_startup_jobs=...))`` on some ``Trials``; subclasses say which."""

    family: ClassVar[str] = "hyperopt"
    algorithm = "random"  # random search's schedule (every config to max_iter); TPE proposes the configs
    counts_evaluations = True
    shared = {"n_trials": "n_trials"}
    received = {"n_trials": "max_evals"}
    params: ClassVar[dict[str, Int]] = {
        "n_trials": Int(
            low=1,
            optional=True,
            note=f"evaluations; null: the cell's, else {DEFAULT_EVALS}; at most total_steps // max_iter and budget.evaluations",
        ),
        "n_startup_jobs": Int(low=0, note="TPE's random start-up: configs drawn before the model is used"),
    }

    def __init__(self, n_trials: int | None = None, n_startup_jobs: int = 20) -> None:
        self.n_trials: int | None = check(self, "n_trials", n_trials)
        self.n_startup_jobs: int = check(self, "n_startup_jobs", n_startup_jobs)

    def max_evals(self, task: PeerTask) -> int:
        return max_evals(task.n_trials or self.n_trials, task.total_steps, task.max_iter, task.wall_time_s, task.evaluations)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": max_evals(settings["n_trials"], total_steps, max_iter, None)}

    def check(self, task: PeerTask) -> None:
        from tunebench.convert import to_hyperopt

        try:
            to_hyperopt(task.space)
        except ValueError as exc:
            raise PeerUnsupported(str(exc)) from None
        if task.total_steps is not None and task.total_steps < task.max_iter:
            raise PeerUnsupported(
                f"total_steps={task.total_steps} < max_iter={task.max_iter}: Hyperopt trains every config to "
                "max_iter, so the budget pays for no evaluation"
            )

    def versions(self) -> dict[str, str]:
        import hyperopt

        return {"hyperopt": hyperopt.__version__}

    def search(self, task: PeerTask, log: PeerLog, trials: Any, data: Any) -> None:
        """Run ``fmin`` to its end (evaluations, step budget or timeout) on ``trials``."""
        import numpy as np
        from hyperopt import fmin, tpe

        from tunebench.convert import to_hyperopt

        logging.getLogger("hyperopt").setLevel(logging.ERROR)
        deadline = None if task.wall_time_s is None else time.time() + task.wall_time_s
        objective = partial(
            evaluate,
            workload=task.workload,
            data=data,
            space=task.space,
            seed=task.seed,
            max_iter=task.max_iter,
            mode=task.mode,
            deadline=deadline,
        )
        fmin(
            objective,
            to_hyperopt(task.space),
            algo=partial(tpe.suggest, n_startup_jobs=self.n_startup_jobs),
            max_evals=self.max_evals(task),
            trials=trials,
            rstate=np.random.default_rng(task.seed),
            show_progressbar=False,
            timeout=None if task.wall_time_s is None else max(1, math.ceil(task.wall_time_s)),
        )

    def finish(self, task: PeerTask, log: PeerLog, trials: Any, **extra: Any) -> dict[str, Any]:
        from tunebench.convert import to_hyperopt

        journal_trials(log, trials, to_hyperopt(task.space), task.space, task.max_iter)
        statuses = [(t.get("result") or {}).get("status") for t in trials.trials]
        return log.finish(
            test_score=log.retrained_test_score(),
            notes=self.notes(),
            max_evals=self.max_evals(task),
            evaluations=len(trials.trials),
            hyperopt_trials=len(trials.trials),
            hyperopt_ok=statuses.count("ok"),
            **extra,
        )

    @abc.abstractmethod
    def notes(self) -> str:
        raise NotImplementedError


class HyperoptTPE(HyperoptPeer):
    """``fmin(tpe.suggest)`` on ``Trials()``: sequential, in this process, reproducible per seed."""

    name = "hyperopt-tpe"
    scheduler_label = "fmin(tpe.suggest, Trials)"

    def run(self, task: PeerTask, out_dir: str | Path) -> dict[str, Any]:
        from hyperopt import Trials

        self.check(task)
        with PeerLog(out_dir, task, self) as log:
            trials = Trials()
            log.begin(
                executor="hyperopt-trials:1", config={"max_evals": self.max_evals(task), "n_startup_jobs": self.n_startup_jobs}
            )
            self.search(task, log, trials, task.data)
            return self.finish(task, log, trials, parallelism=1)

    def notes(self) -> str:
        return (
            "Trials() evaluates one config at a time in the driver (one worker, whatever the matrix gives); "
            "every config trains to max_iter (Hyperopt has no early stopping); rstate=default_rng(seed): "
            "the same seed gives the same configs"
        )


class HyperoptTPESpark(HyperoptPeer):
    """``fmin(tpe.suggest)`` on ``SparkTrials(parallelism=P)`` over a local Spark with the matrix's workers."""

    name = "hyperopt-tpe-spark"
    scheduler_label = "fmin(tpe.suggest, SparkTrials)"
    params: ClassVar[dict[str, Int]] = {
        "parallelism": Int(low=1, optional=True, note="trials at once; null: the matrix's workers")
    }

    def __init__(self, n_trials: int | None = None, n_startup_jobs: int = 20, parallelism: int | None = None) -> None:
        super().__init__(n_trials=n_trials, n_startup_jobs=n_startup_jobs)
        self.parallelism: int | None = check(self, "parallelism", parallelism)

    def parallelism_for(self, task: PeerTask) -> int:
        return self.parallelism or task.n_workers

    def check(self, task: PeerTask) -> None:
        from tunebench.compare.peers.spark import require_spark

        super().check(task)
        require_spark()
        if self.parallelism_for(task) > task.n_workers:
            raise PeerUnsupported(
                f"parallelism={self.parallelism} is more than the matrix's workers={task.n_workers} "
                f"(Spark gets local[{task.n_workers}]); allowed: 1 to {task.n_workers}"
            )

    def versions(self) -> dict[str, str]:
        from tunebench.compare.peers.spark import spark_versions

        return {**super().versions(), **spark_versions()}

    def run(self, task: PeerTask, out_dir: str | Path) -> dict[str, Any]:
        from tunebench.compare.peers.spark import start_spark

        self.check(task)
        with PeerLog(out_dir, task, self) as log:
            spark = start_spark(task.n_workers)
            slots, broadcast = spark.n_slots, None
            try:
                from hyperopt import SparkTrials

                parallelism = self.parallelism_for(task)
                broadcast = spark.session.sparkContext.broadcast(task.data)
                trials = SparkTrials(parallelism=parallelism, spark_session=spark.session)
                log.begin(
                    executor=f"spark:{spark.master}",
                    config={"max_evals": self.max_evals(task), "n_startup_jobs": self.n_startup_jobs, "parallelism": parallelism},
                )
                self.search(task, log, trials, broadcast)
            finally:
                if broadcast is not None:
                    broadcast.destroy()
                spark.close()
            return self.finish(task, log, trials, parallelism=parallelism, spark_slots=slots)

    def notes(self) -> str:
        return (
            f"{SPARK_NOTE}; each trial is one Spark job; every config trains to max_iter (Hyperopt has no early "
            "stopping); rstate=default_rng(seed) fixes the random start-up (n_startup_jobs) only"
        )
