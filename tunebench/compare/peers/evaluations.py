"""A multi-fidelity library's evaluations, trained on our worker processes and journaled as our runs are.

DEHB, HpBandSter and SMAC3 ask for a config at a budget and are told its loss. A budget is a
number of steps (``partial_fit`` calls): :func:`steps_of` floors it (the libraries compute
budgets as ``max_budget * eta**-k`` in floating point), at least 1 and at most ``max_iter``.

Each distinct config is one trial. An evaluation at a budget continues the trial from its
checkpoint at the most steps it has reached, so every step is trained once, as our Hyperband
and the other peers train it (what a user of these libraries does with an incremental
learner); an evaluation at a budget the trial has already reached is told the score it had at
that step, with nothing trained. Every step's score is one row of ``results.parquet``; every
evaluation is one row of ``evaluations.parquet`` (its budget as the library gave it, the steps
it started from and trained, its score and the library's own ids). A trial's last row is
``pause`` below ``max_iter`` (the library may ask for more) and ``complete`` at it; a trial
still paused when the search ends was not promoted, and is marked ``stopped``.

The step budget is reserved evaluation by evaluation and never overshot: the first evaluation
it cannot pay for, or one asked for after the wall-time budget has passed, is not run, and
:attr:`Evaluations.spent` tells the driver to ask for no more. An evaluation budget
(``task.evaluations``) counts every evaluation asked for that is not cut, a reused or failed one
too (the library asked for it): ``spent`` turns true when the last one is asked for, and any
asked for after it is cut. :meth:`Evaluations.run` is thread-safe and blocks: a driver calls it
from ``n_workers`` threads, each waiting on one of ``n_workers`` worker processes; two
evaluations of one trial run one after the other.
"""

from __future__ import annotations

import json
import math
import pickle
import threading
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tunebench.compare.peer import PeerTask
from tunebench.compare.peers.base import PeerLog
from tunebench.compare.peers.optuna import train_chunk
from tunebench.scheduler import trial_seed
from tunebench.store import derive, jsonable, read_journal

TABLE = "evaluations"


def steps_of(budget: float, max_iter: int) -> int:
    """The steps a library's budget stands for: floored (to within 1e-6), in ``[1, max_iter]``.

    >>> steps_of(9 * 3.0**-2, 9), steps_of(2.9999999999, 9), steps_of(10 / 9, 10), steps_of(0.3, 9)
    (1, 3, 1, 1)
    """
    return max(1, min(max_iter, math.floor(budget + 1e-6)))


@dataclass(frozen=True)
class Evaluation:
    """One evaluation a library asked for: our config, the steps its budget stands for, the
    budget as the library gave it, the library's handle for telling it, and its ids."""

    config: dict[str, Any]
    steps: int
    budget: float
    handle: Any = None
    ids: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What became of an evaluation: ``trained``, ``reused`` (a score the trial already had),
    ``failed`` (training raised; ``error``), or ``cut`` (not run: the budget is spent)."""

    evaluation: Evaluation
    status: str
    trial_id: int | None = None
    score: float | None = None
    compute_s: float = 0.0
    error: str | None = None

    def loss(self, mode: str) -> float:
        """What the library minimises: the score (negated when higher is better); ``inf`` when
        there is no finite score.

        >>> e = Evaluation({}, 1, 1.0)
        >>> Outcome(e, "trained", 0, 0.9).loss("max"), Outcome(e, "trained", 0, float("nan")).loss("max")
        (-0.9, inf)
        """
        if self.score is None or not math.isfinite(self.score):
            return math.inf
        return -self.score if mode == "max" else self.score


class Evaluations:
    """The trials, checkpoints, step budget and journal of one peer run (see the module docstring)."""

    def __init__(self, task: PeerTask, log: PeerLog, pool: ProcessPoolExecutor) -> None:
        self.task, self.log, self.pool = task, log, pool
        self.cond = threading.Condition()
        self.ids: dict[str, int] = {}
        self.scores: dict[int, dict[int, float]] = {}
        self.states: dict[int, bytes] = {}
        self.last: dict[int, str] = {}
        self.busy: set[int] = set()
        self.failed: set[int] = set()
        self.left = task.total_steps
        self.most = task.evaluations
        self.made = 0
        self.spent = False
        self.n = {"trained": 0, "reused": 0, "failed": 0, "cut": 0}

    def key(self, config: Mapping[str, Any]) -> str:
        return json.dumps(jsonable(dict(config)), sort_keys=True)

    def new_trial(self, config: Mapping[str, Any], ids: Mapping[str, Any]) -> int:
        """Journal a config seen for the first time as a trial (with the library's ids)."""
        tid = self.ids[self.key(config)] = len(self.ids)
        self.scores[tid] = {}
        self.log.trial(tid, config, **{f"first_{k}": v for k, v in ids.items()})
        return tid

    def out_of_time(self) -> bool:
        return self.task.wall_time_s is not None and self.log.elapsed() >= self.task.wall_time_s

    def reached(self, tid: int) -> int:
        return max(self.scores[tid], default=0)

    def run(self, ev: Evaluation) -> Outcome:
        """Evaluate ``ev`` (blocking): reuse, cut, or train from the trial's checkpoint."""
        with self.cond:
            tid = self.ids.get(self.key(ev.config))
            while tid in self.busy:
                self.cond.wait()
            early = self.settle(ev, tid)
            if early is None or early.status != "cut":
                self.count()
            if early is not None:
                return early
            if tid is None:
                tid = self.new_trial(ev.config, ev.ids)
            if self.left is not None:
                self.left -= ev.steps - self.reached(tid)
            self.busy.add(tid)
            state = self.states.get(tid)
        try:
            outcome = self.train(ev, tid, state)
        finally:
            with self.cond:
                self.busy.discard(tid)
                self.cond.notify_all()
        return outcome

    def settle(self, ev: Evaluation, tid: int | None) -> Outcome | None:
        """The outcome of an evaluation that trains nothing (failed trial, reached budget, spent
        budget), journaled; ``None`` when it must train."""
        start = 0 if tid is None else self.reached(tid)
        if self.most is not None and self.made >= self.most:
            self.spent = True
            return self.record(Outcome(ev, "cut", tid), start, None)
        if tid is not None and tid in self.failed:
            return self.record(Outcome(ev, "failed", tid, error="the trial failed before"), start, None)
        if tid is not None and ev.steps <= start:
            return self.record(Outcome(ev, "reused", tid, self.scores[tid][ev.steps]), start, None)
        if self.spent or self.out_of_time() or (self.left is not None and ev.steps - start > self.left):
            self.spent = True
            return self.record(Outcome(ev, "cut", tid), start, None)
        return None

    def count(self) -> None:
        """One more evaluation made; ``spent`` once the evaluation budget is."""
        self.made += 1
        if self.most is not None and self.made >= self.most:
            self.spent = True

    def train(self, ev: Evaluation, tid: int, state: bytes | None) -> Outcome:
        """Train the trial up to ``ev.steps`` on a worker process, then journal it."""
        start = self.reached(tid)
        seed = trial_seed(self.task.seed, tid)
        try:
            new_state, rows, pid = self.pool.submit(train_chunk, ev.config, seed, state, ev.steps).result()
        except Exception as exc:  # the trial failed; the search goes on
            with self.cond:
                self.failed.add(tid)
                self.log.fail(tid, f"{type(exc).__name__}: {exc}")
                return self.record(Outcome(ev, "failed", tid, error=f"{type(exc).__name__}: {exc}"), start, None)
        with self.cond:
            self.states[tid] = new_state
            for row in rows:
                self.journal_step(tid, row, pid, last=row is rows[-1])
            compute = sum(r["compute_s"] + r["score_s"] for r in rows)
            return self.record(Outcome(ev, "trained", tid, float(rows[-1]["score"]), compute), start, f"pid:{pid}")

    def journal_step(self, tid: int, row: Mapping[str, Any], pid: int, last: bool) -> None:
        decision = "continue" if not last else "complete" if row["step"] >= self.task.max_iter else "pause"
        self.scores[tid][int(row["step"])] = float(row["score"])
        self.last[tid] = decision
        self.log.result(
            tid,
            row["step"],
            row["score"],
            1,
            decision=decision,
            worker=f"pid:{pid}",
            compute_s=row["compute_s"],
            score_s=row["score_s"],
            elapsed_s=self.log.since_begin(row["wall"]),
        )

    def record(self, outcome: Outcome, start: int, worker: str | None) -> Outcome:
        """Count and journal one evaluation as a row of ``evaluations.parquet``."""
        ev = outcome.evaluation
        self.n[outcome.status] += 1
        trained = ev.steps - start if outcome.status == "trained" else 0
        self.log.journal.log(
            "table",
            name=TABLE,
            row={
                "trial_id": outcome.trial_id,
                "budget": float(ev.budget),
                "steps": ev.steps,
                "start": start,
                "trained": trained,
                "status": outcome.status,
                "score": outcome.score,
                "worker": worker,
                "elapsed_s": self.log.elapsed(),
                **{k: jsonable(v) for k, v in ev.ids.items()},
            },
        )
        return outcome

    def close(self) -> None:
        """Mark the trials the library left paused as stopped (it did not promote them)."""
        with self.cond:
            for tid, decision in sorted(self.last.items()):
                if decision == "pause" and tid not in self.failed:
                    self.log.journal.log("status", trial_id=tid, status="stopped", error=None)

    def counts(self) -> dict[str, int]:
        """The summary's evaluation counts."""
        return {"evaluations": sum(self.n.values()) - self.n["cut"], **{f"evaluations_{k}": v for k, v in self.n.items()}}

    def test_score(self) -> float | None:
        """The best trial's (our rule) model at its last step, scored on the test split."""
        best = derive(read_journal(self.log.rundir.journal_path)).best()
        if best is None:
            return None
        tid = int(best["trial_id"])
        trainable = self.task.workload.build(json.loads(best["config"]), self.task.data, trial_seed(self.task.seed, tid))
        trainable.restore(pickle.loads(self.states[tid]))
        return float(trainable.test_score())
