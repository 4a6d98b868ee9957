"""Random search: the passive baseline. Every trial trains to ``max_iter``; nothing is cut.

Trials are trained in Jobs of ``report_every`` steps so their learning curves are recorded at
the same resolution as the adaptive schedulers'; the last Job of a trial stops exactly at
``max_iter``.

>>> report_steps(10, 4)
[4, 8, 10]
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tunebench.checks import Int, check
from tunebench.scheduler import Scheduler
from tunebench.searcher import Searcher
from tunebench.trial import Decision, Job, Result, TrialStatus

from schedulers.rungs import N_TRIALS


def report_steps(max_iter: int, report_every: int) -> list[int]:
    """The steps at which one trial reports a score: every ``report_every``, then ``max_iter``."""
    steps = list(range(report_every, max_iter, report_every))
    return steps + [max_iter]


class RandomSearch(Scheduler):
    """``n_trials`` configs sampled from the space, each trained to ``max_iter`` steps.

    ``suggest`` resumes a started trial before it starts a new one, in the order their results
    came back, so no more trials are open at a time than Jobs are out.

    >>> from tunebench.space import Space
    >>> from tunebench.trial import Result
    >>> rs = RandomSearch(Space.from_spec({"x": {"uniform": [0, 1]}}), n_trials=1, max_iter=5, report_every=2)
    >>> spans = []
    >>> while not rs.finished:
    ...     job = rs.suggest()
    ...     spans.append((job.start_step, job.stop_step))
    ...     decision = rs.on_result(Result(job.trial_id, job.stop_step, 0.5))
    >>> spans, decision.value
    ([(0, 2), (2, 4), (4, 5)], 'complete')
    """

    name = "random"
    params = {
        "n_trials": N_TRIALS,
        "max_iter": Int(1, note="the steps every trial trains"),
        "report_every": Int(1, note="steps per Job"),
    }
    algorithm = "random"
    shared = {"n_trials": "n_trials"}

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        searcher: Searcher | None = None,
        n_trials: int = 20,
        max_iter: int = 81,
        report_every: int = 1,
    ) -> None:
        super().__init__(space, seed=seed, mode=mode, searcher=searcher)
        self.n_trials: int = check(self, "n_trials", n_trials)
        self.max_iter: int = check(self, "max_iter", max_iter)
        self.report_every: int = check(self, "report_every", report_every)
        self._ready: deque[int] = deque()
        self._completed = 0

    def metadata(self) -> dict[str, Any]:
        return {
            "n_models": self.n_trials,
            "partial_fit_calls": self.n_trials * self.max_iter,
            "brackets": [],
        }

    @property
    def finished(self) -> bool:
        return self._completed == self.n_trials

    def suggest(self) -> Job | None:
        if self._ready:
            trial = self.trials[self._ready.popleft()]
        elif len(self.trials) < self.n_trials:
            trial = self.new_trial()
        else:
            return None
        return self.make_job(trial, min(trial.steps + self.report_every, self.max_iter))

    def on_result(self, result: Result) -> Decision:
        trial = self.trials.get(result.trial_id)
        if trial is None or trial.status is not TrialStatus.RUNNING:
            raise ValueError(f"result for trial {result.trial_id}, which has no Job out")
        self.record(result)
        if result.step >= self.max_iter:
            self._completed += 1
            return self.set_status(trial, Decision.COMPLETE)
        self._ready.append(trial.trial_id)
        return self.set_status(trial, Decision.CONTINUE)

    def on_failure(self, trial_id: int, error: str) -> Decision:
        """A failed trial is done: it counts towards ``n_trials`` (no new trial takes its place)."""
        if self.trials[trial_id].status is not TrialStatus.RUNNING:
            raise ValueError(f"failure of trial {trial_id}, which has no Job out")
        self._completed += 1
        return super().on_failure(trial_id, error)
