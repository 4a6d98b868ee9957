"""Synchronous successive halving: one bracket of rungs, and the machinery Hyperband reuses.

A bracket is a list of rungs ``(n_i, r_i)``: ``n_i`` trials are trained to ``r_i`` steps. When
every result of rung ``i`` is in, the top ``n_{i+1}`` (ties to the lower trial id) resume from
their checkpoints and train on to ``r_{i+1}``; the others stop. Trials that reach the last rung
complete.

>>> sh_rungs(81, 1, 81, 3)
[(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
>>> sh_rungs(10, 1, 81, 3)
[(10, 1), (3, 3), (1, 9)]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tunebench.checks import Int, OneOf, check
from tunebench.scheduler import Scheduler
from tunebench.searcher import Searcher
from tunebench.trial import Decision, Job, Result, TrialStatus

from schedulers.rungs import ETA, MAX_ITER, N_TRIALS, PATIENCE, TOL, planned_steps, plateaued, steps_after

BRACKET_ORDERS = ("aggressive_first", "longest_first", "balanced", "auto")


def sh_rungs(n_trials: int, min_iter: int, max_iter: int, eta: int) -> list[tuple[int, int]]:
    """The ``(n_i, r_i)`` rungs of one successive-halving bracket (Li et al.).

    ``r_i = min_iter * eta**i`` and ``n_i = floor(n_trials * eta**-i)``, for ``i = 0, 1, ...``
    while ``r_i <= max_iter`` and ``n_i >= 1``. No rung is added at ``max_iter`` unless the
    formula lands on it, so the survivors of a short bracket may stop below ``max_iter``.
    """
    rungs: list[tuple[int, int]] = []
    n, r = n_trials, min_iter
    while r <= max_iter and n >= 1:
        rungs.append((n, r))
        n //= eta
        r *= eta
    return rungs


@dataclass
class Bracket:
    """The state of one synchronous bracket while it runs.

    ``rung`` is the rung being filled. ``due`` counts the trials still expected to report at
    it (including trials not created yet); when it reaches zero the rung closes. ``ready``
    holds ``(trial_id, steps)`` of trials waiting to train on to the rung, ``ready_steps`` the
    steps they still need, ``after[i]`` the steps the rungs after rung ``i`` plan.
    """

    index: int
    rungs: list[tuple[int, int]]
    rung: int = 0
    to_create: int = 0
    due: int = 0
    ready: deque[tuple[int, int]] = field(default_factory=deque)
    ready_steps: int = 0
    arrived: dict[int, float] = field(default_factory=dict)
    done: bool = False
    after: list[int] = field(default_factory=list)
    planned: int = 0

    def __post_init__(self) -> None:
        self.to_create = self.due = self.rungs[0][0]
        self.after = [steps_after(self.rungs, i) for i in range(len(self.rungs))]
        self.planned = planned_steps(self.rungs)

    @property
    def available(self) -> bool:
        """True if a Job can be handed out now (a trial to create or one ready to resume)."""
        return bool(self.ready or self.to_create)

    @property
    def given(self) -> int:
        """Steps handed out so far (the plan less what is still to go)."""
        return self.planned - self.steps_to_go

    def push(self, trial_id: int, steps: int) -> None:
        """Queue a trial at ``steps`` to train on to the current rung."""
        self.ready.append((trial_id, steps))
        self.ready_steps += self.target - steps

    def pop(self) -> int:
        """The trial queued longest."""
        trial_id, steps = self.ready.popleft()
        self.ready_steps -= self.target - steps
        return trial_id

    @property
    def steps_to_go(self) -> int:
        """Steps not yet handed out: the current rung's unstarted work plus the later rungs' plan."""
        return self.to_create * self.target + self.ready_steps + self.after[self.rung]

    @property
    def target(self) -> int:
        """The step count the current rung trains its trials to."""
        return self.rungs[self.rung][1]

    @property
    def last(self) -> bool:
        return self.rung == len(self.rungs) - 1

    def plan(self) -> dict[str, Any]:
        """This bracket's part of :meth:`BracketScheduler.metadata`."""
        return {
            "bracket": self.index,
            "n_models": self.rungs[0][0],
            "partial_fit_calls": self.planned,
            "rungs": [[n, r] for n, r in self.rungs],
        }


def pick_bracket(brackets: Sequence[Bracket], order: str) -> Bracket | None:
    """The bracket whose Job goes out next, among those that can hand one out now.

    - ``aggressive_first``: the first bracket added (Hyperband adds the most aggressive first).
    - ``longest_first``: the most steps still to hand out (:attr:`Bracket.steps_to_go`).
    - ``balanced``: the smallest fraction of its own plan handed out so far, so after any
      prefix of the run every bracket has had about the same share of its plan.

    Ties go to the bracket added first.
    """
    best: Bracket | None = None
    for bracket in brackets:
        if not bracket.available:
            continue
        if best is None or order == "aggressive_first":
            best = bracket
            if order == "aggressive_first":
                break
        elif order == "longest_first" and bracket.steps_to_go > best.steps_to_go:
            best = bracket
        elif order == "balanced" and bracket.given * best.planned < best.given * bracket.planned:
            best = bracket
    return best


class BracketScheduler(Scheduler):
    """Runs synchronous brackets side by side.

    Which bracket each ``suggest`` serves is ``bracket_order`` (:func:`pick_bracket`); it
    shapes the anytime curve (time to a good score) as much as the total time.

    - ``aggressive_first`` (the default) starts, as Li et al. and dask-ml do, with the most
      aggressive bracket: every Job goes to the most aggressive bracket that can hand one out,
      so the others fill the workers only while its rungs wait. Good configs surface early,
      and a run cut short by any budget is a prefix of Li et al.'s Hyperband.
    - ``longest_first`` serves the bracket with the most steps still to hand out, so no deep
      bracket is left to run its last rungs alone on an otherwise idle cluster: the whole plan
      ends soonest, but the passive brackets' full-length trials come first, so until they
      finish Hyperband finds good configs no sooner than random search.
    - ``balanced`` hedges: after any prefix each bracket has had about the same fraction of
      its own plan.
    - ``auto`` is the former default, kept so that runs journaled with it resume with the same
      decisions: ``longest_first`` without a step budget (:meth:`set_budget`),
      ``aggressive_first`` with one.

    The order that ran is in :meth:`~schedulers.hyperband.Hyperband.metadata`
    (``bracket_order``), and so in the run's ``summary.json``.

    A trial that reaches a rung below the last gets ``PAUSE`` and waits for the rung to close;
    then the winners become ready to resume and the losers' status turns to ``STOPPED`` (the
    trial whose result closes the rung gets ``CONTINUE`` or ``STOP`` at once). Trials reaching
    the last rung get ``COMPLETE``.

    With ``patience`` set, a Job is at most ``patience`` steps long, and after every result a
    trial that has not improved by more than ``tol`` over its last ``patience`` steps stops
    (:func:`schedulers.rungs.plateaued`). A trial stopped that way drops out of its rung: the
    rung closes once the remaining trials have reported and promotes the top ``n_{i+1}`` of
    those (all of them if fewer remain); a rung left with no trials ends its bracket. Trials
    reaching the bracket's last rung complete without a plateau check. A trial that fails
    (:meth:`on_failure`: it raised or ran out of time) drops out of its rung the same way.
    """

    params = {"patience": PATIENCE, "tol": TOL, "bracket_order": OneOf(BRACKET_ORDERS)}

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        searcher: Searcher | None = None,
        patience: int | None = None,
        tol: float = 0.001,
        bracket_order: str = "aggressive_first",
    ) -> None:
        super().__init__(space, seed=seed, mode=mode, searcher=searcher)
        self.patience: int | None = check(self, "patience", patience)
        self.tol: float = check(self, "tol", tol)
        self.bracket_order: str = check(self, "bracket_order", bracket_order)
        self.total_steps: int | None = None
        self.brackets: list[Bracket] = []
        self._bracket_of: dict[int, Bracket] = {}
        self._n_done = 0

    def add_bracket(self, index: int, rungs: Sequence[tuple[int, int]]) -> None:
        bracket = Bracket(index, list(rungs))
        self.brackets.append(bracket)

    def metadata(self) -> dict[str, Any]:
        plans = [b.plan() for b in self.brackets]
        return {
            "n_models": sum(p["n_models"] for p in plans),
            "partial_fit_calls": sum(p["partial_fit_calls"] for p in plans),
            "brackets": plans,
        }

    @property
    def finished(self) -> bool:
        return self._n_done == len(self.brackets)

    def set_budget(self, total_steps: int | None) -> None:
        self.total_steps = total_steps

    @property
    def order(self) -> str:
        """The bracket order in force: ``auto`` resolved against the step budget, else ``bracket_order``."""
        if self.bracket_order != "auto":
            return self.bracket_order
        return "longest_first" if self.total_steps is None else "aggressive_first"

    def suggest(self) -> Job | None:
        best = pick_bracket(self.brackets, self.order)
        return None if best is None else self._job_from(best)

    def _job_from(self, bracket: Bracket) -> Job:
        if bracket.ready:
            trial = self.trials[bracket.pop()]
        else:
            bracket.to_create -= 1
            trial = self.new_trial(tags={"bracket": bracket.index})
            self._bracket_of[trial.trial_id] = bracket
        stop = bracket.target
        if self.patience is not None:
            stop = min(stop, trial.steps + self.patience)
        return self.make_job(trial, stop)

    def on_result(self, result: Result) -> Decision:
        trial = self.trials.get(result.trial_id)
        if trial is None or trial.status is not TrialStatus.RUNNING:
            raise ValueError(f"result for trial {result.trial_id}, which has no Job out")
        self.record(result)
        bracket = self._bracket_of[trial.trial_id]
        flat = self.patience is not None and plateaued(trial.scores, trial.steps, self.patience, self.tol, self.mode)
        if result.step < bracket.target:
            if not flat:
                bracket.push(trial.trial_id, trial.steps)
                return self.set_status(trial, Decision.CONTINUE)
            decision = Decision.STOP
        elif bracket.last:
            decision = Decision.COMPLETE
        elif flat:
            decision = Decision.STOP
        else:
            bracket.arrived[trial.trial_id] = result.score
            decision = Decision.PAUSE
        self.set_status(trial, decision)
        bracket.due -= 1
        if bracket.due == 0:
            promoted = self._close_rung(bracket)
            if decision == Decision.PAUSE:
                decision = Decision.CONTINUE if trial.trial_id in promoted else Decision.STOP
                self.set_status(trial, decision)
        return decision

    def on_failure(self, trial_id: int, error: str) -> Decision:
        """A failed trial drops out of its rung, as a plateaued one does: the rung no longer
        waits for it, and closes (promoting the top of those that reported) once the rest are in."""
        trial = self.trials[trial_id]
        if trial.status is not TrialStatus.RUNNING:
            raise ValueError(f"failure of trial {trial_id}, which has no Job out")
        bracket = self._bracket_of[trial_id]
        decision = super().on_failure(trial_id, error)
        bracket.due -= 1
        if bracket.due == 0:
            self._close_rung(bracket)
        return decision

    def _close_rung(self, bracket: Bracket) -> set[int]:
        """Promote the rung's top trials (they become ready) and stop the rest."""
        if bracket.last or not bracket.arrived:
            bracket.done = True
            self._n_done += 1
            return set()
        n_next = bracket.rungs[bracket.rung + 1][0]
        winners = self.top_k(bracket.arrived, bracket.arrived, n_next)
        promoted = set(winners)
        for tid in bracket.arrived:
            if tid not in promoted:
                self.set_status(self.trials[tid], Decision.STOP)
        bracket.rung += 1
        bracket.arrived = {}
        bracket.due = len(winners)
        for tid in winners:
            bracket.push(tid, self.trials[tid].steps)
        return promoted


class SuccessiveHalving(BracketScheduler):
    """One synchronous successive-halving bracket of ``n_trials`` trials (see :func:`sh_rungs`).

    ``min_iter`` (r) is the first rung's steps, ``max_iter`` (R) caps the rungs, ``eta`` the cut
    rate. ``patience`` / ``tol`` stop plateaued trials as in :class:`BracketScheduler`.
    """

    name = "successive_halving"
    params = {"n_trials": N_TRIALS, "min_iter": Int(1, note="steps at the first rung"), "max_iter": MAX_ITER, "eta": ETA}
    algorithm = "successive_halving"
    shared = {"eta": "eta", "min_iter": "min_iter", "n_trials": "n_trials"}

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        searcher: Searcher | None = None,
        n_trials: int = 81,
        min_iter: int = 1,
        max_iter: int = 81,
        eta: int = 3,
        patience: int | None = None,
        tol: float = 0.001,
    ) -> None:
        super().__init__(space, seed=seed, mode=mode, searcher=searcher, patience=patience, tol=tol)
        self.n_trials: int = check(self, "n_trials", n_trials)
        self.min_iter: int = check(self, "min_iter", min_iter)
        self.max_iter: int = check(self, "max_iter", max_iter)
        self.eta: int = check(self, "eta", eta)
        Int(1, self.max_iter, note="at most max_iter").check("min_iter", self.min_iter)
        self.add_bracket(0, sh_rungs(self.n_trials, self.min_iter, self.max_iter, self.eta))
