"""DEHB (Awad, Mallik and Hutter, IJCAI 2021) as a peer, through its ask-and-tell interface.

``DEHB(cs, min_fidelity=min_iter, max_fidelity=max_iter, eta=eta, seed=seed)`` asks; our
workers train (:mod:`~tunebench.compare.peers.multifidelity`); DEHB is told each evaluation's
loss as its ``fitness`` and the seconds it trained as its ``cost``. The run lasts ``fevals``
evaluations, by default one Hyperband iteration of DEHB's brackets (``s_max + 1`` of them, in
the sizes :func:`~tunebench.compare.peers.multifidelity.floor_brackets` gives); a budget of
evaluations is ``fevals`` when the peer sets none, and caps it when it does.

DEHB is its own algorithm family (:mod:`tunebench.algorithm`): its brackets are Hyperband's, but
a rung's configs are the best of that fidelity's whole subpopulation in its first iteration
and differential-evolution offspring after it, not the survivors of the bracket's own rung, so
neither Hyperband's trial count nor its calls describe it. Its settings are ``eta``,
``min_iter`` (DEHB's ``min_fidelity``) and the configs its plan starts (``n_trials``, from ``fevals``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from tunebench.checks import Float, Int, check
from tunebench.compare.peer import PeerTask
from tunebench.compare.peers.evaluations import Evaluation, Evaluations, Outcome, steps_of
from tunebench.compare.peers.multifidelity import MultiFidelityPeer, ask_tell, floor_brackets, nudged
from tunebench.space import Space

WORST_FITNESS = sys.float_info.max  # DEHB marks an unevaluated config with inf, so a failure is told the largest float


def dehb_plan(min_iter: int, max_iter: int, eta: int, fevals: int | None) -> tuple[int, int]:
    """``(fevals, n_trials)``: the evaluations of the run (``None``: one Hyperband iteration) and the
    configs they start, in DEHB's order one at a time (later rungs of its first iteration promote
    configs; every evaluation after it is a new offspring).

    >>> dehb_plan(1, 9, 3, None), dehb_plan(1, 9, 3, 30)
    ((20, 15), (30, 25))
    """
    brackets = floor_brackets(nudged(min_iter), max_iter, eta)
    total = sum(sum(b) for b in brackets) if fevals is None else fevals
    left, new, i = total, 0, 0
    while left > 0:
        for rung, n in enumerate(brackets[i % len(brackets)]):
            take = min(n, left)
            new += take if rung == 0 or i >= len(brackets) else 0
            left -= take
        i += 1
    return total, new


class DEHBSearch:
    """DEHB behind :class:`~tunebench.compare.peers.multifidelity.AskTell`."""

    def __init__(self, dehb: Any, space: Space, max_iter: int, mode: str) -> None:
        self.dehb, self.space, self.max_iter, self.mode = dehb, space, max_iter, mode

    def ask(self) -> Evaluation:
        from tunebench.compare.peers.configspace import from_configuration

        job = self.dehb.ask()
        config = from_configuration(self.space, job["config"])
        ids = {"config_id": int(job["config_id"]), "bracket": int(job["bracket_id"])}
        return Evaluation(config, steps_of(float(job["fidelity"]), self.max_iter), float(job["fidelity"]), job, ids)

    def tell(self, outcome: Outcome) -> None:
        fitness = outcome.loss(self.mode)
        self.dehb.tell(
            outcome.evaluation.handle,
            {"fitness": fitness if fitness < WORST_FITNESS else WORST_FITNESS, "cost": outcome.compute_s},
        )


class DEHBPeer(MultiFidelityPeer):
    """``DEHB`` by ask and tell, ``min_fidelity=min_iter``, ``max_fidelity=max_iter``, on our workers."""

    name = "dehb"
    family: ClassVar[str] = "dehb"
    scheduler_label = "DEHB"
    algorithm = "dehb"
    shared = {"eta": "eta", "min_iter": "min_iter"}
    received = {"eta": "eta", "min_iter": "min_fidelity"}
    packages = ("dehb", "ConfigSpace")
    workdir = "dehb"
    params = {
        "eta": Int(2),
        "min_iter": Int(1, note="DEHB's min_fidelity: steps at the first rung"),
        "fevals": Int(
            1, optional=True, note="evaluations, at most budget.evaluations; null: that budget, else one Hyperband iteration"
        ),
        "mutation_factor": Float(0, 2, low_open=True),
        "crossover_prob": Float(0, 1),
    }

    def __init__(
        self,
        eta: int = 3,
        min_iter: int = 1,
        fevals: int | None = None,
        mutation_factor: float = 0.5,
        crossover_prob: float = 0.5,
    ) -> None:
        self.eta: int = check(self, "eta", eta)
        self.min_iter: int = check(self, "min_iter", min_iter)
        self.fevals: int | None = check(self, "fevals", fevals)
        self.mutation_factor: float = check(self, "mutation_factor", mutation_factor)
        self.crossover_prob: float = check(self, "crossover_prob", crossover_prob)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": dehb_plan(settings["min_iter"], max_iter, settings["eta"], config.get("fevals"))[1]}

    def min_budget(self, task: PeerTask) -> float:
        return float(self.min_iter)

    def fevals_for(self, task: PeerTask) -> int | None:
        """``fevals`` at most the evaluation budget, the budget when ``fevals`` is unset (``None``: neither)."""
        given = [n for n in (self.fevals, task.evaluations) if n is not None]
        return min(given) if given else None

    def library_config(self, task: PeerTask) -> dict[str, Any]:
        fevals, n_trials = dehb_plan(self.min_iter, task.max_iter, self.eta, self.fevals_for(task))
        return {
            **super().library_config(task),
            "fevals": fevals,
            "planned_trials": n_trials,
            "mutation_factor": self.mutation_factor,
            "crossover_prob": self.crossover_prob,
        }

    def search(self, task: PeerTask, evaluations: Evaluations, workdir: Path) -> dict[str, Any]:
        from dehb import DEHB
        from loguru import logger

        from tunebench.compare.peers.configspace import to_configspace

        fevals = dehb_plan(self.min_iter, task.max_iter, self.eta, self.fevals_for(task))[0]
        try:
            dehb = DEHB(
                cs=to_configspace(task.space, seed=task.seed),
                f=None,
                min_fidelity=nudged(self.min_iter),
                max_fidelity=float(task.max_iter),
                eta=self.eta,
                seed=task.seed,
                n_workers=1,
                mutation_factor=self.mutation_factor,
                crossover_prob=self.crossover_prob,
                output_path=str(workdir),
                save_freq="end",
                log_level="WARNING",
            )
            asked = ask_tell(DEHBSearch(dehb, task.space, task.max_iter, task.mode), evaluations, task.n_workers, fevals)
            dehb.save()
        finally:
            logger.remove()  # DEHB's log file handler runs a thread of its own
        return {"fevals": fevals, "asked": asked}

    def notes(self) -> str:
        return (
            "DEHB by ask and tell on n_workers threads, each evaluation trained on our worker processes; a fidelity is "
            "floor(fidelity) steps, and an evaluation continues its config's checkpoint from the most steps it reached; "
            "DEHB's vector encoding draws a choice uniformly (weights are not used); seeded by the cell seed, so one worker "
            "gives the same run for the same seed, while more than one makes the order DEHB is told in depend on timing; "
            "no pause and resume of a search"
        )
