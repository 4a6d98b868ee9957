"""ASHA: asynchronous successive halving (Li et al., MLSys 2020), both variants.

Rungs sit at ``grace * eta**k`` steps below ``max_iter``, then at ``max_iter``; bracket ``b``
starts at rung offset ``b`` (Ray Tune's ``AsyncHyperBandScheduler``), and each new trial draws
its bracket from the seeded rng with the weights of :func:`bracket_weights`: the brackets with
cheap trials get more of them, so every bracket gets the same expected share of the steps
(a uniform draw would leave the most aggressive bracket a small fraction and make the run
mostly random search).

* ``variant="promotion"`` (the paper's Algorithm 2): each ``suggest`` looks from the highest
  rung down for a trial in the top ``floor(n_k / eta)`` of rung ``k`` that has not been
  promoted yet and resumes it from its checkpoint up to the next rung; if there is none it
  starts a new trial. A trial that reaches a rung pauses there.
* ``variant="stopping"``: a trial runs rung to rung and continues past a rung only if its
  score is in the top ``max(1, n // eta)`` of the ``n`` scores recorded there so far, its own
  included (ties pass; with fewer than ``eta`` recorded, only if it is the best so far);
  otherwise it stops. This is Optuna's ``SuccessiveHalvingPruner`` rule. Ray Tune's
  ``AsyncHyperBandScheduler`` (``_Bracket.on_result``) differs: it computes the cutoff
  *before* adding the result, as ``np.nanpercentile`` of the scores recorded at the rung at
  ``(1 - 1/eta) * 100`` (linear interpolation between recorded scores, so the cutoff need not
  be a recorded score), stops the trial only if its score is strictly below that cutoff, and
  then records it. So the first trial at a rung always continues there, a NaN score always
  continues (``nan < cutoff`` is false), and with few results the two rules keep different
  trials (two recorded scores 2 and 4 with ``eta = 2``: Ray's cutoff is 3, Optuna's the better
  of the three scores including the new one).

Scores rank by :meth:`~tunebench.scheduler.Scheduler.key`: NaN and +-inf are the worst score,
never promoted and never passed on by the stopping rule.

In the promotion variant a trial that fails on its way up (it raised or timed out after a
promotion) leaves the ranking of the rung it was promoted from: it can never be promoted
again, so its place among that rung's top ``floor(n_k / eta)`` goes to the next best waiting
trial. It still counts in ``n_k``: it did report there.

A paused trial holds its checkpoint, and in a run without ``n_trials`` any of them might in
principle be promoted later, as the rungs keep growing (Syne Tune removes paused checkpoints
speculatively for this reason, and retrains a trial from scratch if it is promoted after all).
Here at most ``max_paused`` trials wait at each rung, the best ones: when one more arrives, the
worst waiting trial stops and the loop releases its checkpoint. Promotion always takes a rung's
best waiting trial, so the cap changes a decision only when a trial that had fallen
``max_paused`` places behind the best waiting one would later have been promoted; the paused
checkpoints held are at most ``max_paused`` times the number of rungs, however many trials run.

Each rung keeps heaps (and, for promotion, a sorted list of the promoted trials), so
``suggest`` and ``on_result`` cost ``O(log n)`` comparisons per call, plus ``O(max_paused)``
when a result arrives at a full rung.

>>> rung_levels(1, 3, 81), rung_levels(1, 3, 81, bracket=1), rung_levels(2, 3, 100)
([1, 3, 9, 27, 81], [3, 9, 27, 81], [2, 6, 18, 54, 100])
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunebench.checks import Int, OneOf, check
from tunebench.scheduler import Scheduler
from tunebench.searcher import Searcher
from tunebench.trial import Decision, Job, Result, Trial, TrialStatus

from schedulers.rungs import ETA, MAX_ITER, VARIANTS

Entry = tuple[float, int]  # (-key, trial_id): ascending order is best first, ties to the lower id


def rung_levels(grace: int, eta: int, max_t: int, bracket: int = 0) -> list[int]:
    """Rung steps of ``bracket``: ``grace * eta**k`` for ``k >= bracket`` while below ``max_t``, then ``max_t``."""
    levels: list[int] = []
    level = grace * eta**bracket
    while level < max_t:
        levels.append(level)
        level *= eta
    return levels + [max_t]


def expected_steps(levels: Sequence[int], eta: int) -> float:
    """Expected steps of one trial in a bracket with rungs at ``levels``: it trains to the first
    rung, and on to rung ``k`` with probability ``eta**-k`` (each rung passes ``1/eta``),
    resuming from its checkpoint each time.

    >>> expected_steps([1, 3, 9], 3), expected_steps([9], 3)
    (2.333333333333333, 9.0)
    """
    return float(levels[0] + sum((levels[k] - levels[k - 1]) / eta**k for k in range(1, len(levels))))


def bracket_weights(levels: Sequence[Sequence[int]], eta: int) -> list[float]:
    """The probability that a new trial joins each bracket, so every bracket gets the same
    expected share of the steps.

    Hyperband gives bracket ``s`` (of ``s + 1`` rungs) ``n_s = ceil((s_max + 1) * eta**s / (s + 1))``
    trials so that brackets spend about the same budget, and Optuna's ``HyperbandPruner``
    assigns trials to brackets in proportion to that same ``n_s``. That count assumes a trial
    pays a whole rung's steps at every rung it reaches; here survivors resume from their
    checkpoints, so a trial's expected cost is :func:`expected_steps` of its bracket's rungs
    and each bracket is weighted by its inverse, which makes the expected steps per bracket
    exactly equal (a capped last rung included).

    >>> [round(w, 3) for w in bracket_weights([[1, 3, 9], [3, 9], [9]], 3)]
    [0.579, 0.27, 0.15]
    """
    inverse = [1.0 / expected_steps(lv, eta) for lv in levels]
    total = sum(inverse)
    return [w / total for w in inverse]


@dataclass
class PromotionRung:
    """One rung of the promotion variant: how many trials reported here, and which wait.

    Every trial better than the best waiting one has been promoted already, so the rank of
    the best waiting trial among all ``n`` is its position among the promoted ones (a sorted
    list a third as long as the rung). Which trial may be promoted changes only when a trial
    reports or is promoted, so :meth:`promotable` keeps its answer until then.
    """

    level: int
    n: int = 0
    waiting: list[Entry] = field(default_factory=list)
    promoted: list[Entry] = field(default_factory=list)
    _candidate: int | None = field(default=None, init=False, repr=False)
    _fresh: bool = field(default=True, init=False, repr=False)

    def add(self, key: float, trial_id: int) -> None:
        """A trial reached this rung with score ``key`` (larger is better); it pauses here."""
        self.n += 1
        heapq.heappush(self.waiting, (-key, trial_id))
        self._fresh = False

    def pop(self) -> int:
        """Promote the best waiting trial."""
        entry = heapq.heappop(self.waiting)
        bisect.insort(self.promoted, entry)
        self._fresh = False
        return entry[1]

    def leave(self, key: float, trial_id: int) -> None:
        """A trial promoted from here with score ``key`` failed: it leaves the ranking, so the
        next best waiting trial may take its place."""
        self.promoted.pop(bisect.bisect_left(self.promoted, (-key, trial_id)))
        self._fresh = False

    def drop_worst(self) -> int:
        """Remove the worst waiting trial (ties: the higher id) and return it; it stays counted in ``n``."""
        worst = max(self.waiting)
        self.waiting.remove(worst)
        heapq.heapify(self.waiting)
        self._fresh = False
        return worst[1]

    def promotable(self, eta: int) -> int | None:
        """The best waiting trial if it is in the top ``floor(n / eta)``, else ``None``; a
        non-finite score (key ``-inf``) is never promoted."""
        if not self._fresh:
            self._candidate = None
            if self.waiting:
                best = self.waiting[0]
                if best[0] < math.inf and bisect.bisect_left(self.promoted, best) < self.n // eta:
                    self._candidate = best[1]
            self._fresh = True
        return self._candidate


@dataclass
class StoppingRung:
    """One rung of the stopping variant: the ``k`` best scores in a min-heap, the rest apart.

    With ``k = max(1, n // eta)`` kept up to date, the root of ``top`` is the k-th best score,
    the cutoff of Optuna's rule, in ``O(log n)`` per report.
    """

    level: int
    n: int = 0
    top: list[float] = field(default_factory=list)
    rest: list[float] = field(default_factory=list)  # negated: the root is the best of the rest

    def passes(self, key: float, eta: int) -> bool:
        """Record ``key`` (larger is better); True if it is in the top ``max(1, n // eta)`` (ties
        pass). A non-finite score (key ``-inf``) is recorded and never passes, even first."""
        self.n += 1
        top, rest = self.top, self.rest
        if not top or key >= top[0]:
            heapq.heappush(top, key)
        else:
            heapq.heappush(rest, -key)
        k = max(1, self.n // eta)
        if len(top) > k:
            heapq.heappush(rest, -heapq.heappop(top))
        elif len(top) < k and rest:
            heapq.heappush(top, -heapq.heappop(rest))
        return key > -math.inf and key >= top[0]


class ASHA(Scheduler):
    """Asynchronous successive halving over ``max_iter`` steps with cut rate ``eta``.

    With several ``brackets``, the promotion search visits every bracket's rungs from the
    highest step count down (ties: the lower bracket first). ``n_trials=None`` starts trials
    forever (``bounded`` is False; the loop's budget ends the run). With a bound, the promotion variant finishes when every trial has been started, none
    is running and no promotion is possible; trials still paused then are marked stopped.
    ``max_paused`` caps the trials waiting at each rung of the promotion variant (see the
    module docstring); ``None`` keeps them all.
    """

    name = "asha"
    algorithm = "asha"
    shared = {"eta": "eta", "min_iter": "grace", "n_trials": "n_trials", "variant": "variant"}
    params = {
        "max_iter": MAX_ITER,
        "grace": Int(1, note="steps before the first rung"),
        "eta": ETA,
        "brackets": Int(1, note="at most the number of rungs"),
        "variant": OneOf(VARIANTS),
        "n_trials": Int(1, optional=True, note="null: no limit"),
        "max_paused": Int(1, optional=True, note="trials paused at one rung with their checkpoints kept; null: no limit"),
    }

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        searcher: Searcher | None = None,
        max_iter: int = 81,
        grace: int = 1,
        eta: int = 3,
        brackets: int = 1,
        variant: str = "promotion",
        n_trials: int | None = None,
        max_paused: int | None = 64,
    ) -> None:
        super().__init__(space, seed=seed, mode=mode, searcher=searcher)
        self.max_iter: int = check(self, "max_iter", max_iter)
        self.grace: int = check(self, "grace", grace)
        self.eta: int = check(self, "eta", eta)
        Int(1, self.max_iter, note="at most max_iter").check("grace", self.grace)
        self.n_brackets: int = check(self, "brackets", brackets)
        n_levels = len(rung_levels(self.grace, self.eta, self.max_iter))
        Int(1, n_levels, note="the number of rungs for these grace, eta and max_iter").check("brackets", self.n_brackets)
        self.variant: str = check(self, "variant", variant)
        self._promotion = variant == "promotion"
        self.n_trials: int | None = check(self, "n_trials", n_trials)
        self.max_paused: int | None = check(self, "max_paused", max_paused)
        self.levels = [rung_levels(self.grace, self.eta, self.max_iter, b) for b in range(self.n_brackets)]
        rung_type = PromotionRung if variant == "promotion" else StoppingRung
        self.rungs: list[list[Any]] = [[rung_type(level) for level in levels[:-1]] for levels in self.levels]
        self._rung_at = [{level: k for k, level in enumerate(levels[:-1])} for levels in self.levels]
        order = sorted((-level, b, k) for b, levels in enumerate(self.levels) for k, level in enumerate(levels[:-1]))
        self._search = [(b, k, self.rungs[b][k]) for _, b, k in order]
        self.weights = np.array(bracket_weights(self.levels, self.eta))
        self._ready: deque[int] = deque()
        self._bracket_of: dict[int, int] = {}
        self._promoted_from: dict[int, tuple[int, int]] = {}  # trial -> (bracket, rung) of its Job out
        self._running = 0
        self._closed = False

    @property
    def bounded(self) -> bool:
        return self.n_trials is not None

    @property
    def finished(self) -> bool:
        if self.n_trials is None or len(self.trials) < self.n_trials or self._running:
            return False
        if self.variant == "stopping":
            return not self._ready
        return self._find_promotion() is None

    def _find_promotion(self) -> tuple[int, int] | None:
        """The (bracket, rung) to promote from: the highest rung with a promotable trial."""
        eta = self.eta
        for b, k, rung in self._search:
            if rung.promotable(eta) is not None:
                return b, k
        return None

    def _can_start(self) -> bool:
        return self.n_trials is None or len(self.trials) < self.n_trials

    def suggest(self) -> Job | None:
        trial: Trial | None = None
        if self._promotion:
            found = self._find_promotion()
            if found is not None:
                b, k = found
                trial = self.trials[self.rungs[b][k].pop()]
                self._promoted_from[trial.trial_id] = found
                stop = self.levels[b][k + 1]
        elif self._ready:
            trial = self.trials[self._ready.popleft()]
            levels = self.levels[self._bracket_of[trial.trial_id]]
            stop = levels[bisect.bisect_right(levels, trial.steps)]
        if trial is None:
            if not self._can_start():
                return None
            b = int(self.rng.choice(self.n_brackets, p=self.weights)) if self.n_brackets > 1 else 0
            trial = self.new_trial(tags={"bracket": b})
            self._bracket_of[trial.trial_id] = b
            stop = self.levels[b][0]
        self._running += 1
        return self.make_job(trial, stop)

    def on_result(self, result: Result) -> Decision:
        trial = self.trials.get(result.trial_id)
        if trial is None or trial.status is not TrialStatus.RUNNING:
            raise ValueError(f"result for trial {result.trial_id}, which has no Job out")
        self.record(result)
        self._running -= 1
        self._promoted_from.pop(trial.trial_id, None)
        b = self._bracket_of[trial.trial_id]
        if result.step >= self.max_iter:
            decision = Decision.COMPLETE
        else:
            k = self._rung_at[b].get(result.step)
            if k is None:
                raise ValueError(f"result for trial {trial.trial_id} at step {result.step}, which is not a rung of bracket {b}")
            rung = self.rungs[b][k]
            key = self.key(result.score)
            if self._promotion:
                rung.add(key, trial.trial_id)
                decision = self._cap(rung, trial.trial_id)
            elif rung.passes(key, self.eta):
                self._ready.append(trial.trial_id)
                decision = Decision.CONTINUE
            else:
                decision = Decision.STOP
        self.set_status(trial, decision)
        if self._promotion and not self._closed and self.finished:
            self._stop_paused()
            if trial.status == TrialStatus.STOPPED:
                decision = Decision.STOP
        return decision

    def _cap(self, rung: PromotionRung, trial_id: int) -> Decision:
        """``PAUSE`` for a trial that just joined ``rung``'s waiting ones; past ``max_paused``
        the worst of them stops (``STOP`` if that is this trial)."""
        if self.max_paused is None or len(rung.waiting) <= self.max_paused:
            return Decision.PAUSE
        worst = rung.drop_worst()
        if worst == trial_id:
            return Decision.STOP
        self.set_status(self.trials[worst], Decision.STOP)
        return Decision.PAUSE

    def on_failure(self, trial_id: int, error: str) -> Decision:
        """A failed trial leaves the run; it was on its way to a rung, so no rung holds it
        waiting. If it was promoted there, it also leaves the ranking of the rung it was
        promoted from, so the next best trial waiting there can take its place. A bounded run
        then ends as it would after a result."""
        trial = self.trials[trial_id]
        if trial.status is not TrialStatus.RUNNING:
            raise ValueError(f"failure of trial {trial_id}, which has no Job out")
        self._running -= 1
        origin = self._promoted_from.pop(trial_id, None)
        if origin is not None:
            rung = self.rungs[origin[0]][origin[1]]
            rung.leave(self.key(trial.scores[rung.level]), trial_id)
        decision = super().on_failure(trial_id, error)
        if self._promotion and not self._closed and self.finished:
            self._stop_paused()
        return decision

    def _stop_paused(self) -> None:
        """At the end of a bounded run, trials left paused at a rung will never resume."""
        self._closed = True
        for rungs in self.rungs:
            for rung in rungs:
                for _, tid in rung.waiting:
                    if self.trials[tid].status == TrialStatus.PAUSED:
                        self.set_status(self.trials[tid], Decision.STOP)
