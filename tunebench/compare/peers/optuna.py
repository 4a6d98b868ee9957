"""Optuna's ``HyperbandPruner`` and ``SuccessiveHalvingPruner`` as peers, ask-and-tell on a process pool.

The driver owns the study (an in-memory Optuna study is not process-safe): it asks for a
config (``study.ask(distributions)``, TPE or random sampler), sends the trial's state and its
next chunk of steps to one of ``n_workers`` worker processes, reports every returned score
(``trial.report(score, step)``), asks ``trial.should_prune()`` and finally tells the study.
Each worker process gets the dataset once, at start-up, builds our workload's Trainable for the
config and trains it one ``partial_fit`` per step, scoring on the validation split after each.

A chunk ends at the next rung, ``min_resource * eta**k`` (or ``max_iter``): every rung of both
pruners sits at such a step, so asking ``should_prune`` at the end of a chunk gives the
decisions asking at every step would, while every step's score is still reported.
The pruners get ``min_resource`` (1 for Hyperband, ``min_iter`` for successive halving),
``max_resource=max_iter`` (Hyperband) and ``reduction_factor=eta``. The step budget (``total_steps``) is reserved chunk by chunk, so it is
never overshot; the wall-time budget stops new chunks once it has passed.
"""

from __future__ import annotations

import json
import os
import pickle
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, ClassVar

from tunebench.algorithm import hyperband_n_trials
from tunebench.checks import Int, OneOf, check
from tunebench.compare.peer import Peer, PeerTask, PeerUnsupported
from tunebench.compare.peers.base import PeerLog
from tunebench.compare.peers.pool import worker_context, worker_initializer
from tunebench.scheduler import trial_seed
from tunebench.store import derive, read_journal
from tunebench.workloads.base import Dataset, Workload

SAMPLERS = ("tpe", "random")
_WORKER: dict[str, Any] = {}


def chunk_stop(step: int, eta: int, max_iter: int, first: int = 1) -> int:
    """Where a chunk starting after ``step`` steps ends: the next rung ``first * eta**k``, at most
    ``max_iter``.

    >>> [chunk_stop(s, 3, 10) for s in (0, 1, 2, 3, 8, 9)]
    [1, 3, 3, 9, 9, 10]
    >>> [chunk_stop(s, 3, 81, first=2) for s in (0, 1, 2, 5, 6, 54)]
    [2, 2, 6, 6, 18, 81]
    """
    rung = first
    while rung <= step:
        rung *= eta
    return min(rung, max_iter)


def init_worker(workload: Workload, data: Dataset) -> None:
    """Keep the workload and the dataset in the worker process (shipped once per worker)."""
    _WORKER.update(workload=workload, data=data)


def ping(_: object = None) -> int:
    return os.getpid()


def train_chunk(config: dict[str, Any], seed: int, state: bytes | None, stop: int) -> tuple[bytes, list[dict[str, Any]], int]:
    """Train one trial from its state up to ``stop`` steps, scoring after each; its new state,
    one row per step (step, score, compute and score seconds, wall time observed) and the pid."""
    trainable = _WORKER["workload"].build(config, _WORKER["data"], seed)
    if state is not None:
        trainable.restore(pickle.loads(state))
    rows = []
    while trainable.steps < stop:
        t0 = time.perf_counter()
        trainable.train(1)
        t1 = time.perf_counter()
        score = trainable.score()
        rows.append(
            {
                "step": trainable.steps,
                "score": score,
                "compute_s": t1 - t0,
                "score_s": time.perf_counter() - t1,
                "wall": time.time(),
            }
        )
    return pickle.dumps(trainable.save()), rows, os.getpid()


class OptunaPeer(Peer):
    """An Optuna pruner with a TPE or random sampler; ``eta`` is its ``reduction_factor``."""

    family: ClassVar[str] = "optuna"
    shared = {"eta": "eta", "n_trials": "n_trials"}
    received = {"eta": "reduction_factor"}
    min_iter: int = 1
    params = {
        "sampler": OneOf(SAMPLERS),
        "eta": Int(2, note="the pruner's reduction_factor"),
        "n_trials": Int(1, optional=True, note="null: as many as Hyperband plans"),
        "n_startup_trials": Int(0),
    }

    def __init__(self, sampler: str = "tpe", eta: int = 3, n_trials: int | None = None, n_startup_trials: int = 10) -> None:
        self.sampler: str = check(self, "sampler", sampler)
        self.eta: int = check(self, "eta", eta)
        self.n_trials: int | None = check(self, "n_trials", n_trials)
        self.n_startup_trials: int = check(self, "n_startup_trials", n_startup_trials)

    def make_pruner(self, task: PeerTask) -> Any:
        raise NotImplementedError

    def check(self, task: PeerTask) -> None:
        from tunebench.convert import to_optuna

        try:
            to_optuna(task.space)
        except ValueError as exc:
            raise PeerUnsupported(str(exc)) from None

    def versions(self) -> dict[str, str]:
        import optuna

        return {"optuna": optuna.__version__}

    def n_trials_for(self, task: PeerTask) -> int:
        return task.n_trials or self.n_trials or hyperband_n_trials(task.max_iter, self.eta)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": settings["n_trials"] or hyperband_n_trials(max_iter, settings["eta"])}

    def make_study(self, task: PeerTask) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = (
            optuna.samplers.TPESampler(seed=task.seed, n_startup_trials=self.n_startup_trials)
            if self.sampler == "tpe"
            else optuna.samplers.RandomSampler(seed=task.seed)
        )
        direction = "maximize" if task.mode == "max" else "minimize"
        return optuna.create_study(direction=direction, sampler=sampler, pruner=self.make_pruner(task))

    def run(self, task: PeerTask, out_dir: str | Path) -> dict[str, Any]:
        self.check(task)
        with PeerLog(out_dir, task, self) as log:
            pool = ProcessPoolExecutor(
                task.n_workers, mp_context=worker_context(), **worker_initializer(init_worker, task.workload, task.data)
            )
            try:
                list(pool.map(ping, range(task.n_workers)))  # the workers are up: start-up ends here
                log.begin(executor=f"process-pool:{task.n_workers}", config={"pruner": type(self.make_pruner(task)).__name__})
                search = Search(self, task, log, pool)
                search.run()
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            return log.finish(test_score=search.test_score(), notes=self.notes(), budget_cut_trials=search.cut)

    def notes(self) -> str:
        return (
            "ask-and-tell: the driver owns the study; chunks end at powers of eta so pruning is checked at every rung. "
            f"{self.sampler} sampler seeded by the cell seed; with more than one worker the order in which chunks finish "
            "(so what the sampler has seen at each ask) depends on timing, so configs after the first few are not reproducible."
        )


class Search:
    """One ask-and-tell search: the driver's state while chunks run on the pool."""

    def __init__(self, peer: OptunaPeer, task: PeerTask, log: PeerLog, pool: ProcessPoolExecutor) -> None:
        from tunebench.convert import to_optuna

        self.peer, self.task, self.log, self.pool = peer, task, log, pool
        self.space = to_optuna(task.space)
        from optuna.distributions import BaseDistribution

        self.distributions = {k: v for k, v in self.space.items() if isinstance(v, BaseDistribution)}
        self.constants = {k: v for k, v in self.space.items() if k not in self.distributions}
        self.study = peer.make_study(task)
        self.n_trials = peer.n_trials_for(task)
        self.left = task.total_steps  # steps not yet reserved; None: no step budget
        self.asked = 0
        self.cut = 0
        self.running: dict[Future[Any], tuple[Any, dict[str, Any]]] = {}
        self.states: dict[int, bytes] = {}

    def out_of_time(self) -> bool:
        return self.task.wall_time_s is not None and self.log.elapsed() >= self.task.wall_time_s

    def submit(self, trial: Any, config: dict[str, Any], steps: int) -> bool:
        """Send the trial's next chunk; ``False`` when the budget leaves no step for it."""
        stop = chunk_stop(steps, self.peer.eta, self.task.max_iter, self.peer.min_iter)
        if self.left is not None:
            stop = min(stop, steps + self.left)
        if stop <= steps or self.out_of_time():
            return False
        if self.left is not None:
            self.left -= stop - steps
        seed = trial_seed(self.task.seed, trial.number)
        self.running[self.pool.submit(train_chunk, config, seed, self.states.get(trial.number), stop)] = (trial, config)
        return True

    def start_trial(self) -> None:
        if self.asked >= self.n_trials or self.left == 0 or self.out_of_time():
            return
        trial = self.study.ask(self.distributions)
        self.asked += 1
        config = {**trial.params, **self.constants}
        self.log.trial(trial.number, config)
        if not self.submit(trial, config, 0):
            self.study.tell(trial, state=self.state())

    def state(self, name: str = "PRUNED") -> Any:
        from optuna.trial import TrialState

        return TrialState[name]

    def run(self) -> None:
        for _ in range(self.task.n_workers):
            self.start_trial()
        while self.running:
            done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
            for fut in done:
                trial, config = self.running.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # the trial failed; the search goes on
                    self.log.fail(trial.number, f"{type(exc).__name__}: {exc}")
                    self.study.tell(trial, state=self.state("FAIL"))
                else:
                    self.on_chunk(trial, config, *outcome)
                if (
                    not any(t.number == trial.number for t, _ in self.running.values())
                    and len(self.running) < self.task.n_workers
                ):
                    self.start_trial()

    def on_chunk(self, trial: Any, config: dict[str, Any], state: bytes, rows: list[dict[str, Any]], pid: int) -> None:
        """Report the chunk's scores, decide, and either send the next chunk or tell the study."""
        self.states[trial.number] = state
        for row in rows:
            trial.report(row["score"], row["step"])
        last = rows[-1]
        if last["step"] >= self.task.max_iter:
            decision = "complete"
        elif trial.should_prune():
            decision = "stop"
        else:
            decision = "continue"
        for row in rows:
            d = decision if row is last else "continue"
            self.log.result(
                trial.number,
                row["step"],
                row["score"],
                1,
                decision=d,
                worker=f"pid:{pid}",
                compute_s=row["compute_s"],
                score_s=row["score_s"],
                elapsed_s=self.log.since_begin(row["wall"]),
            )
        if decision == "complete":
            self.study.tell(trial, last["score"])
        elif decision == "stop":
            self.study.tell(trial, state=self.state())
        elif not self.submit(trial, config, last["step"]):
            self.cut += 1
            self.log.journal.log("status", trial_id=trial.number, status="stopped", error=None)
            self.study.tell(trial, state=self.state())

    def test_score(self) -> float | None:
        """The best trial's (best last validation score, our rule) final model scored on the test split."""
        best = derive(read_journal(self.log.rundir.journal_path)).best()
        if best is None:
            return None
        tid = int(best["trial_id"])
        config = json.loads(best["config"])
        trainable = self.task.workload.build(config, self.task.data, trial_seed(self.task.seed, tid))
        trainable.restore(pickle.loads(self.states[tid]))
        return float(trainable.test_score())


class OptunaHyperband(OptunaPeer):
    """``optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_iter, reduction_factor=eta)``."""

    name = "optuna-hyperband"
    scheduler_label = "HyperbandPruner"
    algorithm = "hyperband"

    def make_pruner(self, task: PeerTask) -> Any:
        import optuna

        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=task.max_iter, reduction_factor=self.eta)


class OptunaSuccessiveHalving(OptunaPeer):
    """``optuna.pruners.SuccessiveHalvingPruner(min_resource=min_iter, reduction_factor=eta)``: one
    bracket, asynchronous (Optuna's pruner is ASHA's stopping variant: a trial below a rung's top
    ``1/eta`` when it reports there is pruned)."""

    name = "optuna-successive-halving"
    scheduler_label = "SuccessiveHalvingPruner"
    algorithm = "asha"
    shared = {**OptunaPeer.shared, "min_iter": "min_iter"}
    received = {**OptunaPeer.received, "min_iter": "min_resource"}
    fixed = {"variant": "stopping"}
    params = {**OptunaPeer.params, "min_iter": Int(1, note="the pruner's min_resource: steps at the first rung")}

    def __init__(
        self, sampler: str = "tpe", eta: int = 3, n_trials: int | None = None, n_startup_trials: int = 10, min_iter: int = 1
    ) -> None:
        super().__init__(sampler=sampler, eta=eta, n_trials=n_trials, n_startup_trials=n_startup_trials)
        self.min_iter = check(self, "min_iter", min_iter)

    def check(self, task: PeerTask) -> None:
        super().check(task)
        if self.min_iter > task.max_iter:
            raise PeerUnsupported(f"{self.name}: min_iter={self.min_iter} is more than max_iter={task.max_iter}")

    def make_pruner(self, task: PeerTask) -> Any:
        import optuna

        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=self.min_iter, reduction_factor=self.eta, min_early_stopping_rate=0
        )
