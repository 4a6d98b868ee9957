"""``MedianStopping``: trials train in Jobs of ``report_every`` steps up to ``max_iter``; after
each report past ``grace`` steps, a trial whose best score so far (``statistic: best``, as in
Vizier and Ray Tune) or running mean (``statistic: mean``) is below the median of the running
means of the other trials that reached the same step stops, once at least ``min_samples`` of
them have. Up to ``n_trials`` trials; started trials resume before new ones start.

Everything it needs is ``tunebench``'s public API: the :class:`tunebench.Scheduler` base (its
``new_trial``, ``make_job``, ``record``, ``set_status``, ``key`` and ``rng``), the records and
the parameter checks.

>>> from tunebench import Result, Space
>>> ms = MedianStopping(Space.from_spec({"x": {"uniform": [0, 1]}}), n_trials=2, max_iter=2, min_samples=1)
>>> a, b = ms.suggest(), ms.suggest()
>>> ms.on_result(Result(a.trial_id, 1, 0.8)).value, ms.on_result(Result(b.trial_id, 1, 0.3)).value
('continue', 'stop')
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tunebench import Decision, Int, Job, OneOf, Result, Scheduler, Searcher, TrialStatus, check

from tunebench_median_stopping.rule import running_mean, should_stop

STATISTICS = ("best", "mean")


class MedianStopping(Scheduler):
    """The median stopping rule (Golovin et al., Google Vizier, KDD 2017), as Ray Tune's ``MedianStoppingRule``."""

    name = "median_stopping"
    params = {
        "n_trials": Int(1),
        "max_iter": Int(1, note="the most steps any trial may get"),
        "grace": Int(0, note="steps before any trial may stop; Ray Tune's grace_period"),
        "min_samples": Int(1, note="other trials that must have reached a step before the rule applies there"),
        "report_every": Int(1, note="steps per Job: how often the rule is applied"),
        "statistic": OneOf(STATISTICS, note="what of the trial is compared: its best score so far, or its running mean"),
    }

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        searcher: Searcher | None = None,
        n_trials: int = 20,
        max_iter: int = 81,
        grace: int = 1,
        min_samples: int = 3,
        report_every: int = 1,
        statistic: str = "best",
    ) -> None:
        super().__init__(space, seed=seed, mode=mode, searcher=searcher)
        self.n_trials: int = check(self, "n_trials", n_trials)
        self.max_iter: int = check(self, "max_iter", max_iter)
        self.grace: int = check(self, "grace", grace)
        self.min_samples: int = check(self, "min_samples", min_samples)
        self.report_every: int = check(self, "report_every", report_every)
        self.statistic: str = check(self, "statistic", statistic)
        self.reports: dict[int, list[tuple[int, float]]] = {}  # trial -> (step, key) in step order
        self._ready: deque[int] = deque()
        self._running = 0

    @property
    def finished(self) -> bool:
        return len(self.trials) >= self.n_trials and not self._ready and not self._running

    def metadata(self) -> dict[str, Any]:
        return {"n_models": self.n_trials, "max_partial_fit_calls": self.n_trials * self.max_iter}

    def suggest(self) -> Job | None:
        if self._ready:
            trial = self.trials[self._ready.popleft()]
        elif len(self.trials) < self.n_trials:
            trial = self.new_trial()
        else:
            return None
        self._running += 1
        return self.make_job(trial, min(self.max_iter, trial.steps + self.report_every))

    def on_result(self, result: Result) -> Decision:
        trial = self.trials.get(result.trial_id)
        if trial is None or trial.status is not TrialStatus.RUNNING:
            raise ValueError(f"result for trial {result.trial_id}, which has no Job out")
        self.record(result)
        self._running -= 1
        self.reports.setdefault(trial.trial_id, []).append((result.step, self.key(result.score)))
        if result.step >= self.max_iter:
            return self.set_status(trial, Decision.COMPLETE)
        if self.stops(trial.trial_id, result.step):
            return self.set_status(trial, Decision.STOP)
        self._ready.append(trial.trial_id)
        return self.set_status(trial, Decision.CONTINUE)

    def on_failure(self, trial_id: int, error: str) -> Decision:
        """A failed trial leaves the run; what it reported still counts for the others' medians."""
        self._running -= 1
        return super().on_failure(trial_id, error)

    def stops(self, trial_id: int, step: int) -> bool:
        """The rule for ``trial_id`` at ``step``: past the grace steps, with enough other trials there."""
        if step < self.grace:
            return False
        others = [running_mean(r, step) for t, r in self.reports.items() if t != trial_id and r[-1][0] >= step]
        if len(others) < self.min_samples:
            return False
        mine = self.reports[trial_id]
        own = max(key for _, key in mine) if self.statistic == "best" else running_mean(mine, step)
        return should_stop(own, others)
