"""SMAC3's multi-fidelity intensifiers as peers (smac 2.4), through its ask-and-tell interface.

``smac-hyperband`` runs SMAC's ``Hyperband`` intensifier, ``smac-successive-halving`` its
``SuccessiveHalving``, each inside a facade: ``facade: multi-fidelity`` is
``MultiFidelityFacade`` (a random forest with expected improvement proposes the configs,
SMAC's own choice for multi-fidelity), ``facade: hyperband`` is ``HyperbandFacade`` (random
configs, Li et al.'s Hyperband). The scenario is ``Scenario(configspace, deterministic=True,
n_trials=..., min_budget, max_budget=max_iter, seed=seed)``; SMAC asks, our workers train
(:mod:`~tunebench.compare.peers.multifidelity`), SMAC is told each evaluation's loss as its
``cost`` (``CRASHED`` at the worst cost told so far when there is no finite score: see
:class:`SMACSearch`). The run lasts ``rounds`` whole plans (one Hyperband round of every
bracket, or one successive-halving bracket), which is SMAC's ``n_trials`` in evaluations; a
budget of evaluations is SMAC's ``n_trials`` instead, however many plans that takes.

- ``smac-hyperband`` is of the ``hyperband`` family, ``min_budget`` Hyperband's smallest rung;
  SMAC sizes its brackets as Li et al. do (17 trials at ``max_iter`` 9, ``eta`` 3, as ours).
- ``smac-successive-halving`` is of the ``successive_halving`` family with ``min_iter`` as
  SMAC's ``min_budget``; its bracket starts ``eta**s`` configs (``s`` the rungs above the first)
  and puts its rungs at ``max_iter * eta**-k``, where ours start at ``min_iter * eta**k``: the
  same rungs when ``max_iter / min_iter`` is a power of ``eta``.

With more than one worker, SMAC's intensifier adds a new batch of configs whenever every trial
it can hand out is running, so a promotion can wait behind that batch (as under SMAC's own Dask
runner).
"""

from __future__ import annotations

import abc
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tunebench.checks import Int, OneOf, check
from tunebench.compare.peer import PeerTask
from tunebench.compare.peers.evaluations import Evaluation, Evaluations, Outcome, steps_of
from tunebench.compare.peers.multifidelity import MultiFidelityPeer, ask_tell, hyperband_min_budget, nudged
from tunebench.space import Space

FACADES = ("multi-fidelity", "hyperband")


def smac_brackets(min_budget: float, max_budget: float, eta: int, hyperband: bool) -> list[list[int]]:
    """The stage sizes of SMAC's brackets (Hyperband's, most aggressive first, or the one of
    successive halving), in SMAC's own arithmetic.

    >>> smac_brackets(nudged(1), 9, 3, hyperband=True), smac_brackets(nudged(1), 9, 3, hyperband=False)
    ([[9, 3, 1], [5, 1], [3]], [[9, 3, 1]])
    """
    s_max = int(np.floor(np.log(max_budget / min_budget) / np.log(eta)))
    if s_max < 0:
        return []
    out = []
    for s in range(s_max, -1, -1) if hyperband else [s_max]:
        n_initial = math.ceil((eta**s) * (s_max + 1) / (s + 1)) if hyperband else eta**s
        sizes = np.floor(n_initial * np.power(eta, -np.linspace(0, s, s + 1)))
        out.append([int(n) for n in np.round(sizes)])
    return out


def never_called(config: Any, seed: int = 0, budget: float = 0.0) -> float:
    """The facade's target function: SMAC is driven by ask and tell here, so it never runs."""
    raise RuntimeError("this SMAC is driven by ask and tell")


class SMACSearch:
    """A SMAC facade behind :class:`~tunebench.compare.peers.multifidelity.AskTell`.

    SMAC's random forest cannot take an infinite cost (with its default ``crash_cost=inf`` it
    fails on ``Input y contains NaN``), so an evaluation with no finite loss is told ``CRASHED``
    at the worst cost SMAC has been told; one before any finite cost waits for the first.
    """

    def __init__(self, smac: Any, space: Space, max_iter: int, mode: str) -> None:
        self.smac, self.space, self.max_iter, self.mode = smac, space, max_iter, mode
        self.worst: float | None = None
        self.waiting: list[Outcome] = []

    def ask(self) -> Evaluation:
        from tunebench.compare.peers.configspace import from_configuration

        info = self.smac.ask()
        ids = {"config_id": int(self.smac.runhistory.get_config_id(info.config))}
        return Evaluation(
            from_configuration(self.space, info.config), steps_of(info.budget, self.max_iter), float(info.budget), info, ids
        )

    def tell(self, outcome: Outcome) -> None:
        from smac.runhistory import StatusType, TrialValue

        loss = outcome.loss(self.mode)
        if not math.isfinite(loss):
            self.waiting.append(outcome)
        else:
            self.smac.tell(outcome.evaluation.handle, TrialValue(cost=loss, time=outcome.compute_s, status=StatusType.SUCCESS))
            self.worst = loss if self.worst is None else max(self.worst, loss)
        while self.waiting and self.worst is not None:
            crashed = self.waiting.pop(0)
            value = TrialValue(cost=self.worst, time=crashed.compute_s, status=StatusType.CRASHED)
            self.smac.tell(crashed.evaluation.handle, value)


class SMACPeer(MultiFidelityPeer):
    """A SMAC3 intensifier in a facade; subclasses say which intensifier and budgets."""

    family: ClassVar[str] = "smac"
    packages = ("smac", "ConfigSpace")
    workdir = "smac3"
    hyperband: ClassVar[bool] = True
    params = {
        "eta": Int(2),
        "rounds": Int(
            1,
            note="whole plans: Hyperband rounds of every bracket, or successive-halving brackets; budget.evaluations replaces it",
        ),
        "facade": OneOf(FACADES, note="multi-fidelity: MultiFidelityFacade (random forest); hyperband: HyperbandFacade (random)"),
    }

    def __init__(self, eta: int = 3, rounds: int = 1, facade: str = "multi-fidelity") -> None:
        self.eta: int = check(self, "eta", eta)
        self.rounds: int = check(self, "rounds", rounds)
        self.facade: str = check(self, "facade", facade)

    @classmethod
    def plan(cls, min_budget: float, max_iter: int, eta: int, rounds: int) -> tuple[int, int]:
        """``(evaluations, n_trials)`` of ``rounds`` whole plans."""
        brackets = smac_brackets(nudged(min_budget), max_iter, eta, cls.hyperband)
        return rounds * sum(sum(b) for b in brackets), rounds * sum(b[0] for b in brackets)

    @classmethod
    @abc.abstractmethod
    def min_budget_of(cls, config: Mapping[str, Any], max_iter: int) -> float:
        """The smallest budget for a peer with this config."""

    def min_budget(self, task: PeerTask) -> float:
        return self.min_budget_of(vars(self), task.max_iter)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        plan = cls.plan(cls.min_budget_of(config, max_iter), max_iter, config["eta"], config["rounds"])
        return {**settings, "n_trials": plan[1]}

    def n_trials_for(self, task: PeerTask) -> int:
        """SMAC's ``n_trials``: the evaluation budget, else the evaluations of ``rounds`` plans."""
        if task.evaluations is not None:
            return task.evaluations
        return self.plan(self.min_budget(task), task.max_iter, self.eta, self.rounds)[0]

    def library_config(self, task: PeerTask) -> dict[str, Any]:
        n_trials = self.plan(self.min_budget(task), task.max_iter, self.eta, self.rounds)[1]
        return {
            **super().library_config(task),
            "n_trials": self.n_trials_for(task),
            "planned_trials": n_trials,
            "facade": self.facade,
        }

    def make_smac(self, task: PeerTask, workdir: Path, n_trials: int) -> Any:
        from smac import HyperbandFacade, MultiFidelityFacade, Scenario
        from smac.intensifier import Hyperband, SuccessiveHalving

        from tunebench.compare.peers.configspace import to_configspace

        scenario = Scenario(
            to_configspace(task.space, seed=task.seed),
            name="tunebench",
            output_directory=workdir,
            deterministic=True,
            n_trials=n_trials,
            min_budget=nudged(self.min_budget(task)),
            max_budget=float(task.max_iter),
            seed=task.seed,
        )
        intensifier = (Hyperband if self.hyperband else SuccessiveHalving)(scenario, eta=self.eta, seed=task.seed)
        facade = MultiFidelityFacade if self.facade == "multi-fidelity" else HyperbandFacade
        logging.getLogger("smac").setLevel(logging.ERROR)  # SMAC's own logging set-up would reconfigure the root logger
        return facade(scenario, never_called, intensifier=intensifier, overwrite=True, logging_level=False)

    def search(self, task: PeerTask, evaluations: Evaluations, workdir: Path) -> dict[str, Any]:
        n_trials = self.n_trials_for(task)
        smac = self.make_smac(task, workdir, n_trials)
        asked = ask_tell(SMACSearch(smac, task.space, task.max_iter, task.mode), evaluations, task.n_workers, n_trials)
        incumbent = smac.intensifier.get_incumbent()
        return {
            "smac_n_trials": n_trials,
            "asked": asked,
            "smac_incumbent_config_id": None if incumbent is None else int(smac.runhistory.get_config_id(incumbent)),
        }

    def notes(self) -> str:
        return (
            f"SMAC3 by ask and tell ({self.facade} facade) on n_workers threads, each evaluation trained on our worker processes; "
            "a budget is floor(budget) steps and an evaluation continues its config's checkpoint from the most steps it reached; "
            "an evaluation with no finite score is told CRASHED at the worst cost told so far (SMAC's random forest cannot "
            "take SMAC's default crash_cost, inf); "
            "seeded by the cell seed, so one worker gives the same run for the same seed, while with more than one SMAC adds "
            "configs whenever all it can hand out are running and the order it is told in depends on timing; "
            "no pause and resume of a search"
        )


class SMACHyperband(SMACPeer):
    """SMAC3's ``Hyperband`` intensifier, ``min_budget`` Hyperband's smallest rung, ``max_budget=max_iter``."""

    name = "smac-hyperband"
    scheduler_label = "SMAC3 Hyperband"
    algorithm = "hyperband"
    shared = {"eta": "eta"}

    @classmethod
    def min_budget_of(cls, config: Mapping[str, Any], max_iter: int) -> float:
        return hyperband_min_budget(max_iter, config["eta"])


class SMACSuccessiveHalving(SMACPeer):
    """SMAC3's ``SuccessiveHalving`` intensifier, ``min_budget=min_iter``, ``max_budget=max_iter``."""

    name = "smac-successive-halving"
    scheduler_label = "SMAC3 SuccessiveHalving"
    algorithm = "successive_halving"
    hyperband = False
    shared = {"eta": "eta", "min_iter": "min_iter"}
    received = {"min_iter": "min_budget"}
    params = {**SMACPeer.params, "min_iter": Int(1, note="SMAC's min_budget: steps at the first rung")}

    def __init__(self, eta: int = 3, rounds: int = 1, facade: str = "multi-fidelity", min_iter: int = 1) -> None:
        super().__init__(eta=eta, rounds=rounds, facade=facade)
        self.min_iter: int = check(self, "min_iter", min_iter)

    @classmethod
    def min_budget_of(cls, config: Mapping[str, Any], max_iter: int) -> float:
        return float(config["min_iter"])
