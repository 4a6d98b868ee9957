"""Hyperband (Li et al., JMLR 2018): successive-halving brackets of every aggressiveness.

Bracket ``s`` (``s = s_max, ..., 0``) starts ``n = ceil((s_max + 1) / (s + 1) * eta**s)``
trials at ``r = R * eta**-s`` steps and keeps ``1/eta`` of them per rung, so every bracket
spends about the same budget. All arithmetic is on integers: ``s_max`` is the largest ``s``
with ``eta**s <= R`` (``log(243, 3)`` is 4.999... in floating point, which would drop a
bracket), ``n`` is an exact ceiling division, and rung ``i`` trains to
``floor(R * eta**i / eta**s)`` steps, which is ``r * eta**i`` whenever ``R`` is a power of
``eta`` and always ends at exactly ``R``.

>>> for s, rungs in hyperband_brackets(81, 3):
...     print(s, rungs)
4 [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
3 [(34, 3), (11, 9), (3, 27), (1, 81)]
2 [(15, 9), (5, 27), (1, 81)]
1 [(8, 27), (2, 81)]
0 [(5, 81)]
>>> len(hyperband_brackets(243, 3))
6
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tunebench.checks import Int, check
from tunebench.searcher import Searcher
from tunebench.trial import Job

from schedulers.rungs import ETA, MAX_ITER, ceil_div, planned_steps
from schedulers.successive_halving import BracketScheduler


def max_bracket(max_iter: int, eta: int) -> int:
    """``s_max``: the largest integer ``s`` with ``eta**s <= max_iter``.

    >>> max_bracket(243, 3), max_bracket(242, 3), max_bracket(1, 3)
    (5, 4, 0)
    """
    s, power = 0, eta
    while power <= max_iter:
        s += 1
        power *= eta
    return s


def bracket_rungs(s: int, s_max: int, max_iter: int, eta: int) -> list[tuple[int, int]]:
    """The ``(n_i, r_i)`` rungs of bracket ``s``: ``n_i = floor(n * eta**-i)``."""
    n = ceil_div((s_max + 1) * eta**s, s + 1)
    top = eta**s
    return [(n // eta**i, max_iter * eta**i // top) for i in range(s + 1)]


def hyperband_brackets(max_iter: int, eta: int) -> list[tuple[int, list[tuple[int, int]]]]:
    """Every bracket ``(s, rungs)`` of Hyperband, most aggressive (``s = s_max``) first."""
    s_max = max_bracket(max_iter, eta)
    return [(s, bracket_rungs(s, s_max, max_iter, eta)) for s in range(s_max, -1, -1)]


def hyperband_plan(max_iter: int, eta: int) -> dict[str, int]:
    """Total trials and planned steps of a whole Hyperband run (no early stopping).

    >>> hyperband_plan(81, 3)
    {'n_models': 143, 'partial_fit_calls': 1581}
    """
    table = hyperband_brackets(max_iter, eta)
    return {
        "n_models": sum(rungs[0][0] for _, rungs in table),
        "partial_fit_calls": sum(planned_steps(rungs) for _, rungs in table),
    }


class Hyperband(BracketScheduler):
    """Hyperband over ``max_iter`` (R) steps with cut rate ``eta``; brackets run side by side.

    All brackets run at once; ``bracket_order`` says which one each ``suggest`` serves
    (:class:`~schedulers.successive_halving.BracketScheduler`): by default the most aggressive
    one that can hand out a Job, as Li et al. and dask-ml start, so good configs surface early;
    ``longest_first`` (the most steps still to hand out) ends the whole plan soonest instead.
    Each bracket is synchronous successive halving: the survivors of a rung resume from their
    checkpoints once all its results are in. :meth:`metadata` gives the plan before running,
    like dask-ml's ``HyperbandSearchCV.metadata``, and the bracket order in force; whatever the
    order, with no early stopping the run creates exactly ``n_models`` trials and trains
    exactly ``partial_fit_calls`` steps.

    ``patience`` (steps) and ``tol``: see :class:`~schedulers.successive_halving.BracketScheduler`.
    """

    name = "hyperband"
    params = {
        "max_iter": MAX_ITER,
        "eta": ETA,
        "rounds": Int(1, optional=True, note="Hyperband iterations, one after another; null: until a budget ends the run"),
    }
    algorithm = "hyperband"
    shared = {"eta": "eta"}

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        rounds = config.get("rounds", 1)
        one = hyperband_plan(max_iter, settings["eta"])["n_models"]
        return {**settings, "n_trials": None if rounds is None else one * rounds}

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        searcher: Searcher | None = None,
        max_iter: int = 81,
        eta: int = 3,
        patience: int | None = None,
        tol: float = 0.001,
        bracket_order: str = "aggressive_first",
        rounds: int | None = 1,
    ) -> None:
        super().__init__(space, seed=seed, mode=mode, searcher=searcher, patience=patience, tol=tol, bracket_order=bracket_order)
        self.max_iter: int = check(self, "max_iter", max_iter)
        self.eta: int = check(self, "eta", eta)
        self.rounds: int | None = check(self, "rounds", rounds)
        self.rounds_open = 0
        self.open_round()

    def open_round(self) -> None:
        """Add one Hyperband iteration's brackets, most aggressive first."""
        for s, rungs in hyperband_brackets(self.max_iter, self.eta):
            self.add_bracket(s, rungs)
        self.rounds_open += 1

    @property
    def more_rounds(self) -> bool:
        return self.rounds is None or self.rounds_open < self.rounds

    def suggest(self) -> Job | None:
        job = super().suggest()
        if job is None and self.more_rounds:
            self.open_round()
            job = super().suggest()
        return job

    @property
    def finished(self) -> bool:
        return super().finished and not self.more_rounds

    @property
    def bounded(self) -> bool:
        return self.rounds is not None

    def metadata(self) -> dict[str, Any]:
        """The plan (trials and steps: one round's brackets, times ``rounds``; ``None`` when
        unbounded), ``rounds`` and ``bracket_order``: the order in force."""
        plans = [b.plan() for b in self.brackets[: len(self.brackets) // self.rounds_open]]
        k = self.rounds
        return {
            "n_models": None if k is None else k * sum(p["n_models"] for p in plans),
            "partial_fit_calls": None if k is None else k * sum(p["partial_fit_calls"] for p in plans),
            "brackets": plans,
            "rounds": k,
            "bracket_order": self.order,
        }
