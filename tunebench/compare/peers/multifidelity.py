"""What the multi-fidelity peers share: DEHB, HpBandSter's BOHB and SMAC3 on our space, budget and workers.

Each library runs its own search in this process; the library halves are
:mod:`~tunebench.compare.peers.dehb`, :mod:`~tunebench.compare.peers.hpbandster` and
:mod:`~tunebench.compare.peers.smac`. Common to all three:

- the space is :func:`~tunebench.compare.peers.configspace.to_configspace`'s, seeded by the cell
  seed; a space it cannot express is :class:`~tunebench.compare.peer.PeerUnsupported`;
- ``n_workers`` worker processes (forked from the fork server, :mod:`~tunebench.compare.peers.pool`;
  the dataset shipped to each once) train every evaluation (:mod:`~tunebench.compare.peers.evaluations`), and the library sees ``n_workers``
  workers: :func:`ask_tell` on ``n_workers`` threads (DEHB, SMAC3), or ``n_workers`` HpBandSter
  workers;
- ``max_budget`` is ``max_iter``; ``min_budget`` is Hyperband's smallest rung,
  ``max_iter / eta**s_max`` (as our Hyperband's), for a peer of the hyperband family and the
  matrix's ``min_iter`` for the others. The libraries count their brackets in floating point
  (``log(243, 3)`` is 4.999...: each would drop a bracket at ``max_iter`` 243), so
  ``min_budget`` is handed over a relative 1e-9 below (:func:`nudged`), which makes their count
  the integer one;
- ``budget.evaluations`` is kept exactly (:attr:`~tunebench.compare.peer.Peer.counts_evaluations`): the
  library's own count of evaluations is set to it (DEHB's ``fevals``, SMAC's ``n_trials``, HpBandSter's
  jobs), and :class:`~tunebench.compare.peers.evaluations.Evaluations` counts what it asks for;
- nothing pauses and resumes across runs: every run starts its library afresh.
"""

from __future__ import annotations

import abc
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from tunebench.compare.peer import Peer, PeerTask, PeerUnsupported
from tunebench.compare.peers.base import PeerLog
from tunebench.compare.peers.evaluations import Evaluation, Evaluations, Outcome
from tunebench.compare.peers.optuna import init_worker, ping
from tunebench.compare.peers.pool import worker_context, worker_initializer


def largest_bracket(max_iter: int, eta: int) -> int:
    """``s_max``: the largest ``s`` with ``eta**s <= max_iter``, in integers.

    >>> largest_bracket(243, 3), largest_bracket(9, 3), largest_bracket(2, 3)
    (5, 2, 0)
    """
    s = 0
    while eta ** (s + 1) <= max_iter:
        s += 1
    return s


def hyperband_min_budget(max_iter: int, eta: int) -> float:
    """Hyperband's smallest rung, ``max_iter / eta**s_max``.

    >>> hyperband_min_budget(9, 3), hyperband_min_budget(10, 3)
    (1.0, 1.1111111111111112)
    """
    return max_iter / eta ** largest_bracket(max_iter, eta)


def nudged(min_budget: float) -> float:
    """``min_budget`` a relative 1e-9 lower, so a library's floating-point bracket count is the integer one.

    >>> -int(np.log(1 / 243) / np.log(3)) + 1, -int(np.log(nudged(1) / 243) / np.log(3)) + 1
    (5, 6)
    """
    return min_budget * (1 - 1e-9)


def floor_brackets(min_budget: float, max_budget: float, eta: int) -> list[list[int]]:
    """The rung sizes of HpBandSter's and DEHB's brackets, most aggressive first, in their arithmetic:
    ``n0 = floor((s_max + 1) / (s + 1)) * eta**s``, where Li et al. take the ceiling.

    >>> floor_brackets(nudged(1), 9, 3)
    [[9, 3, 1], [3, 1], [3]]
    """
    n_brackets = -int(np.log(min_budget / max_budget) / np.log(eta)) + 1
    out = []
    for s in range(n_brackets - 1, -1, -1):
        n0 = int(np.floor(n_brackets / (s + 1)) * eta**s)
        out.append([max(int(n0 * eta ** (-i)), 1) for i in range(s + 1)])
    return out


class AskTell(Protocol):
    """A library behind ask and tell, speaking our :class:`Evaluation` and :class:`Outcome`."""

    def ask(self) -> Evaluation: ...

    def tell(self, outcome: Outcome) -> None: ...


def ask_tell(optimizer: AskTell, evaluations: Evaluations, n_workers: int, n_evaluations: int) -> int:
    """Keep ``n_workers`` evaluations running: ask whenever one is free, tell each outcome as it
    comes; stop after ``n_evaluations`` asks (at most the evaluation budget) or once the budget is
    spent. Returns the asks."""
    if evaluations.most is not None:
        n_evaluations = min(n_evaluations, evaluations.most)
    asked = 0
    running: dict[Future[Outcome], Evaluation] = {}
    with ThreadPoolExecutor(n_workers, thread_name_prefix="peer-eval") as threads:
        while True:
            while len(running) < n_workers and asked < n_evaluations and not evaluations.spent:
                ev = optimizer.ask()
                asked += 1
                running[threads.submit(evaluations.run, ev)] = ev
            if not running:
                return asked
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                running.pop(fut)
                outcome = fut.result()
                if outcome.status != "cut":
                    optimizer.tell(outcome)


class MultiFidelityPeer(Peer):
    """A multi-fidelity library on our workers; subclasses run its search in :meth:`search`."""

    packages: ClassVar[tuple[str, ...]] = ()  # the distributions whose versions the report shows
    workdir: ClassVar[str] = ""  # where, under the run directory, the library writes its own files
    eta: int
    counts_evaluations = True

    @abc.abstractmethod
    def min_budget(self, task: PeerTask) -> float:
        """The smallest budget handed to the library (before :func:`nudged`)."""

    @abc.abstractmethod
    def search(self, task: PeerTask, evaluations: Evaluations, workdir: Path) -> dict[str, Any]:
        """Run the library's search to its end; the summary's extra keys."""

    @abc.abstractmethod
    def notes(self) -> str:
        """What this peer cannot do, and how it maps the task onto the library."""

    def library_config(self, task: PeerTask) -> dict[str, Any]:
        """The library's settings, for the ``start`` event."""
        return {"eta": self.eta, "min_budget": self.min_budget(task), "max_budget": task.max_iter}

    def check(self, task: PeerTask) -> None:
        from tunebench.compare.peers.configspace import to_configspace

        to_configspace(task.space)
        if self.min_budget(task) >= task.max_iter:
            raise PeerUnsupported(
                f"{self.name}: min_budget {self.min_budget(task):g} is not below max_iter={task.max_iter}; "
                "a multi-fidelity search needs two budgets at least"
            )

    def versions(self) -> dict[str, str]:
        return {p: metadata.version(p) for p in self.packages}

    def run(self, task: PeerTask, out_dir: str | Path) -> dict[str, Any]:
        self.check(task)
        with PeerLog(out_dir, task, self) as log:
            pool = ProcessPoolExecutor(
                task.n_workers, mp_context=worker_context(), **worker_initializer(init_worker, task.workload, task.data)
            )
            try:
                list(pool.map(ping, range(task.n_workers)))  # the workers are up: start-up ends here
                log.begin(executor=f"process-pool:{task.n_workers}", config=self.library_config(task))
                evaluations = Evaluations(task, log, pool)
                extra = self.search(task, evaluations, log.rundir.dir / self.workdir)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            evaluations.close()
            return log.finish(test_score=evaluations.test_score(), notes=self.notes(), **evaluations.counts(), **extra)
