"""HpBandSter's BOHB (Falkner, Klein and Hutter, ICML 2018), the reference implementation, as a peer.

All of HpBandSter runs: its Pyro4 nameserver on 127.0.0.1 (a free port), ``n_workers`` of its
workers as threads of this process registered there, and ``BOHB(configspace, eta, min_budget,
max_budget).run(n_iterations, min_n_workers=n_workers)``, whose dispatcher hands each worker
its jobs through Pyro. A worker's ``compute`` trains on our worker processes
(:mod:`~tunebench.compare.peers.evaluations`). Hyperband's brackets and promotions and the
KDE model proposing the configs are HpBandSter's own: an algorithm of the ``hyperband`` family,
as our Hyperband with the ``bohb`` searcher is. ``n_iterations`` (HpBandSter's brackets)
defaults to one Hyperband iteration, ``s_max + 1``; HpBandSter floors each bracket's size
(:func:`~tunebench.compare.peers.multifidelity.floor_brackets`), so it starts fewer trials
than Li et al.'s Hyperband (15 against 17 at ``max_iter`` 9, ``eta`` 3) and a matrix that has
both says why under ``differs: {n_trials: ...}``.

Pyro4 runs with its pickle serializer for the run (ConfigSpace 1.x hands out numpy scalars its
default serpent cannot send; every call stays inside this process), then as it was. netifaces
(a C extension HpBandSter lists) is not installed: HpBandSter imports it only to look up an
address by network-interface name, which the loopback address makes unnecessary. HpBandSter
draws from numpy's global random state: it is seeded with the cell seed for the run and put back
after. A job the step or wall-time budget cannot pay for raises in ``compute``: HpBandSter counts
it crashed, and the jobs left in its plan end the same way without training. A budget of
evaluations is a count of HpBandSter's jobs: ``n_iterations`` defaults to the fewest brackets
whose jobs reach it, and its master submits no job past it, lets the jobs out finish and ends.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tunebench.checks import Float, Int, check
from tunebench.compare.peer import PeerTask
from tunebench.compare.peers.evaluations import Evaluation, Evaluations, steps_of
from tunebench.compare.peers.multifidelity import MultiFidelityPeer, floor_brackets, hyperband_min_budget, nudged
from tunebench.space import Space

LOOPBACK = "127.0.0.1"
RUN_IDS = itertools.count()
LOGGER = logging.getLogger("tunebench.peers.hpbandster")


class BudgetSpent(RuntimeError):
    """The step or wall-time budget cannot pay for this job."""


def bohb_trials(max_iter: int, eta: int, n_iterations: int | None) -> tuple[int, int]:
    """``(n_iterations, n_trials)``: HpBandSter's brackets (``None``: ``s_max + 1``) and the configs
    they start, its brackets cycling most aggressive first.

    >>> bohb_trials(9, 3, None), bohb_trials(9, 3, 4)
    ((3, 15), (4, 24))
    """
    brackets = floor_brackets(nudged(hyperband_min_budget(max_iter, eta)), max_iter, eta)
    n = len(brackets) if n_iterations is None else n_iterations
    return n, sum(brackets[i % len(brackets)][0] for i in range(n))


def plan_jobs(max_iter: int, eta: int, n_iterations: int) -> int:
    """The jobs (evaluations) of HpBandSter's first ``n_iterations`` brackets.

    >>> plan_jobs(9, 3, 3), plan_jobs(9, 3, 4)
    (20, 33)
    """
    brackets = floor_brackets(nudged(hyperband_min_budget(max_iter, eta)), max_iter, eta)
    return sum(sum(brackets[i % len(brackets)]) for i in range(n_iterations))


def iterations_for(max_iter: int, eta: int, evaluations: int) -> int:
    """The fewest brackets whose jobs number at least ``evaluations``.

    >>> iterations_for(9, 3, 20), iterations_for(9, 3, 30), iterations_for(9, 3, 1)
    (3, 4, 1)
    """
    n = 1
    while plan_jobs(max_iter, eta, n) < evaluations:
        n += 1
    return n


def master_class() -> type:
    """HpBandSter's ``BOHB`` submitting at most ``most`` jobs (``None``: its plan's): past it, the jobs
    out finish and every bracket ends, so the run ends without asking its workers for more."""
    from hpbandster.optimizers import BOHB

    class CountedBOHB(BOHB):  # type: ignore[misc]
        def __init__(self, most: int | None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.most, self.submitted = most, 0

        @property
        def spent(self) -> bool:
            return self.most is not None and self.submitted >= self.most

        def _submit_job(self, config_id: Any, config: Any, budget: float) -> None:
            super()._submit_job(config_id, config, budget)
            self.submitted += 1

        def _queue_wait(self) -> None:
            super()._queue_wait()
            if self.spent:
                while self.num_running_jobs > 0:
                    self.thread_cond.wait()
                for iteration in self.iterations:
                    iteration.is_finished = True

        def get_next_iteration(self, iteration: int, iteration_kwargs: Any) -> Any:
            out = super().get_next_iteration(iteration, iteration_kwargs)
            out.is_finished = self.spent
            return out

    return CountedBOHB


def worker_class() -> type:
    """An HpBandSter ``Worker`` whose ``compute`` runs one of our evaluations."""
    from hpbandster.core.worker import Worker

    from tunebench.compare.peers.configspace import from_configuration

    class EvaluationWorker(Worker):  # type: ignore[misc]
        def __init__(self, evaluations: Evaluations, space: Space, max_iter: int, mode: str, **kwargs: Any) -> None:
            super().__init__(logger=LOGGER, **kwargs)
            self.evaluations, self.space, self.max_iter, self.mode = evaluations, space, max_iter, mode

        def compute(
            self, config_id: Any, config: Mapping[str, Any], budget: float, working_directory: str, **_: Any
        ) -> dict[str, Any]:
            ev = Evaluation(
                from_configuration(self.space, config),
                steps_of(budget, self.max_iter),
                float(budget),
                ids={"config_id": str(tuple(int(i) for i in config_id))},
            )
            outcome = self.evaluations.run(ev)
            if outcome.status == "cut":
                raise BudgetSpent("the step or wall-time budget is spent")
            if outcome.status == "failed":
                raise RuntimeError(outcome.error)
            return {"loss": outcome.loss(self.mode), "info": {"trial_id": outcome.trial_id, "steps": ev.steps}}

    return EvaluationWorker


class PyroPickle:
    """Pyro4 with its pickle serializer inside the block, as it was after."""

    def __enter__(self) -> None:
        import Pyro4

        self.saved = (Pyro4.config.SERIALIZER, set(Pyro4.config.SERIALIZERS_ACCEPTED))
        Pyro4.config.SERIALIZER = "pickle"
        Pyro4.config.SERIALIZERS_ACCEPTED.add("pickle")

    def __exit__(self, *exc: object) -> None:
        import Pyro4

        Pyro4.config.SERIALIZER, Pyro4.config.SERIALIZERS_ACCEPTED = self.saved[0], self.saved[1]


class HpBandSterBOHB(MultiFidelityPeer):
    """HpBandSter's ``BOHB`` with its nameserver and ``n_workers`` workers on 127.0.0.1."""

    name = "hpbandster-bohb"
    family: ClassVar[str] = "hpbandster"
    scheduler_label = "BOHB (HpBandSter)"
    algorithm = "hyperband"
    shared = {"eta": "eta"}
    packages = ("hpbandster", "ConfigSpace", "Pyro4")
    workdir = "hpbandster"
    params = {
        "eta": Int(2),
        "n_iterations": Int(
            1, optional=True, note="HpBandSter's brackets; null: those budget.evaluations needs, else one Hyperband iteration"
        ),
        "min_points_in_model": Int(1, optional=True, note="null: HpBandSter's, dimensions + 1"),
        "top_n_percent": Int(1, 99),
        "num_samples": Int(1),
        "random_fraction": Float(0, 1),
    }

    def __init__(
        self,
        eta: int = 3,
        n_iterations: int | None = None,
        min_points_in_model: int | None = None,
        top_n_percent: int = 15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
    ) -> None:
        self.eta: int = check(self, "eta", eta)
        self.n_iterations: int | None = check(self, "n_iterations", n_iterations)
        self.min_points_in_model: int | None = check(self, "min_points_in_model", min_points_in_model)
        self.top_n_percent: int = check(self, "top_n_percent", top_n_percent)
        self.num_samples: int = check(self, "num_samples", num_samples)
        self.random_fraction: float = check(self, "random_fraction", random_fraction)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": bohb_trials(max_iter, settings["eta"], config.get("n_iterations"))[1]}

    def min_budget(self, task: PeerTask) -> float:
        return hyperband_min_budget(task.max_iter, self.eta)

    def n_iterations_for(self, task: PeerTask) -> int | None:
        """``n_iterations``; unset, the brackets a budget of evaluations needs (``None``: one Hyperband iteration)."""
        if self.n_iterations is None and task.evaluations is not None:
            return iterations_for(task.max_iter, self.eta, task.evaluations)
        return self.n_iterations

    def library_config(self, task: PeerTask) -> dict[str, Any]:
        n_iterations, n_trials = bohb_trials(task.max_iter, self.eta, self.n_iterations_for(task))
        return {
            **super().library_config(task),
            "n_iterations": n_iterations,
            "planned_trials": n_trials,
            "max_jobs": task.evaluations,
            "nameserver": LOOPBACK,
        }

    def search(self, task: PeerTask, evaluations: Evaluations, workdir: Path) -> dict[str, Any]:
        from hpbandster.core.nameserver import NameServer

        from tunebench.compare.peers.configspace import to_configspace

        run_id = f"tunebench-{os.getpid()}-{next(RUN_IDS)}"
        rng = np.random.get_state()
        np.random.seed(task.seed)
        with PyroPickle():
            ns = NameServer(run_id=run_id, host=LOOPBACK, port=0)
            host, port = ns.start()
            workers: list[Any] = []
            try:
                for i in range(task.n_workers):
                    workers.append(
                        worker_class()(
                            evaluations,
                            task.space,
                            task.max_iter,
                            task.mode,
                            run_id=run_id,
                            nameserver=host,
                            nameserver_port=port,
                            id=i,
                        )
                    )
                    workers[-1].run(background=True)
                bohb = master_class()(
                    task.evaluations,
                    configspace=to_configspace(task.space, seed=task.seed),
                    run_id=run_id,
                    nameserver=host,
                    nameserver_port=port,
                    eta=self.eta,
                    min_budget=nudged(self.min_budget(task)),
                    max_budget=float(task.max_iter),
                    min_points_in_model=self.min_points_in_model,
                    top_n_percent=self.top_n_percent,
                    num_samples=self.num_samples,
                    random_fraction=self.random_fraction,
                    working_directory=str(workdir),
                    logger=LOGGER,
                )
                try:
                    result = bohb.run(
                        n_iterations=bohb_trials(task.max_iter, self.eta, self.n_iterations_for(task))[0],
                        min_n_workers=task.n_workers,
                    )
                finally:
                    bohb.shutdown(shutdown_workers=True)
            finally:
                for w in workers:
                    if w.thread is not None:
                        w.thread.join(timeout=30)
                ns.shutdown()
                np.random.set_state(rng)
        runs = result.get_all_runs()
        return {
            "hpbandster_runs": len(runs),
            "hpbandster_crashed": sum(r.loss is None for r in runs),
            "hpbandster_jobs": bohb.submitted,
        }

    def notes(self) -> str:
        return (
            "HpBandSter's own nameserver, dispatcher and n_workers workers on 127.0.0.1 (Pyro4, pickle serializer), each job "
            "trained on our worker processes; a budget is floor(budget) steps and a job continues its config's checkpoint from "
            "the most steps it reached; HpBandSter floors its bracket sizes (fewer trials than Li et al.'s Hyperband); "
            "numpy's global random state seeded by the cell seed, so one worker gives the same run for the same seed; "
            "no pause and resume of a search"
        )
