"""The state shared by the Ray Tune scheduler and searcher: Tune's events in, our Jobs out.

Ray Tune splits a tuner in two: a ``Searcher`` creates trials, a ``TrialScheduler`` decides
what happens to each result and which paused trial runs next. One of our schedulers does both
through ``suggest() -> Job`` and ``on_result(Result) -> Decision``, so the adapter's two halves
share one :class:`Bridge` that turns Tune's calls into ours:

* A Job for a trial Tune has not seen is handed to the searcher (a new Tune trial with the
  Job's config); a Job for a trial Tune already has is a *resume*, handed to the scheduler's
  ``choose_trial_to_run``. At most ``capacity`` Jobs are out at a time, as with a loop on an
  executor of that many workers.
* A Tune trial reports once per step. Results before its Job's ``stop_step`` continue; the
  one at ``stop_step`` is our ``Result``. If our scheduler's next Job is for the same trial,
  it keeps running; otherwise it pauses (Tune saves its checkpoint) until a Job resumes it,
  or stops.
* Trials our scheduler stops while they are paused are stopped in Tune too.

The bridge knows nothing of Ray: it deals in Tune trial ids (strings) and numbers, so it is
tested without a cluster.

>>> from tunebench.space import Space
>>> from schedulers.asha import ASHA
>>> bridge = Bridge(ASHA(Space.from_spec({"x": {"uniform": [0, 1]}}), max_iter=3, n_trials=3), capacity=1)
>>> bridge.new_trial("a") is not None, bridge.new_trial("b")
(True, None)
>>> bridge.on_result("a", 1, 0.5)
('pause', [])
>>> [bridge.new_trial(t) is not None and bridge.on_result(t, 1, s) for t, s in (("b", 0.9), ("c", 0.7))]
[('pause', []), ('pause', [])]
>>> bridge.resume_order()
['b']
>>> bridge.on_result("b", 2, 0.9), bridge.on_result("b", 3, 0.95), bridge.new_trial("d")
(('continue', []), ('stop', ['a', 'c']), 'FINISHED')
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

from tunebench.capabilities import pop_rows
from tunebench.trial import Decision, Job, Result, TrialStatus

FINISHED = "FINISHED"

CLONE_UNSUPPORTED = (
    "Ray Tune's public API cannot start a trial from another trial's checkpoint: "
    "Searcher.suggest returns only a config, a TrialScheduler answers only "
    "CONTINUE/PAUSE/STOP and cannot give a paused trial a new config or checkpoint, and the "
    "checkpoint reported with a result is registered only after on_trial_result returns. "
    "Ray's own PBT does it through Tune internals (Trial.set_experiment_tag, "
    "Trial.set_config, the controller's pause_trial with a new config). "
    "Supported here: random, successive_halving, hyperband and asha (both variants); "
    "run PBT with tunebench's own executors (local, ray, dask, dask-on-ray)."
)


class Bridge:
    """One of our schedulers driven by Ray Tune's events; see the module docstring.

    ``capacity`` is the most Jobs out at once (``None``: asked of ``default_capacity`` when
    the first trial is requested, i.e. once Ray is up).
    """

    def __init__(self, scheduler: Any, capacity: int | None = None, default_capacity: Callable[[], int] | None = None) -> None:
        if getattr(scheduler, "name", "") == "pbt":
            raise ValueError(f"scheduler 'pbt': {CLONE_UNSUPPORTED}")
        if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1):
            raise ValueError(f"max_concurrent_trials must be an integer >= 1 or None, got {capacity!r}")
        self.scheduler = scheduler
        self._capacity = capacity
        self._default_capacity = default_capacity or (lambda: 1)
        self.out: dict[int, Job] = {}  # our trial id -> its Job out (running, or waiting for Tune)
        self.new_jobs: deque[Job] = deque()  # Jobs for trials Tune has not created yet
        self.resume: dict[int, Job] = {}  # Jobs for Tune trials that are paused, in suggest order
        self.tune_of: dict[int, str] = {}
        self.ours_of: dict[str, int] = {}
        self.dead: set[int] = set()  # our trials whose Tune trial failed or ended
        self.to_stop: set[str] = set()  # Tune trials to stop once they are paused
        self.rows: list[tuple[str, dict[str, Any]]] = []

    @property
    def capacity(self) -> int:
        if self._capacity is None:
            self._capacity = max(1, int(self._default_capacity()))
        return self._capacity

    @property
    def finished(self) -> bool:
        return bool(self.scheduler.finished) and not self.out

    # -- the searcher's side --------------------------------------------------------------

    def new_trial(self, tune_id: str) -> dict[str, Any] | str | None:
        """The config of a new Tune trial, ``None`` if none may start now, or ``FINISHED``."""
        self.fill()
        if self.new_jobs:
            job = self.new_jobs.popleft()
            self.tune_of[job.trial_id] = tune_id
            self.ours_of[tune_id] = job.trial_id
            self.scheduler.trials[job.trial_id].tags["tune_trial_id"] = tune_id
            return dict(job.config)
        return FINISHED if self.finished else None

    # -- the scheduler's side -------------------------------------------------------------

    def on_result(self, tune_id: str, step: int, score: float) -> tuple[str, list[str]]:
        """Tune's answer to one reported result (``continue``, ``pause`` or ``stop``) and the
        other Tune trials to stop."""
        tid = self.ours_of.get(tune_id)
        job = self.out.get(tid) if tid is not None else None
        if job is None:
            return "stop", self.stops(exclude=tune_id)
        self.resume.pop(tid, None)
        if step < job.stop_step:
            return "continue", []
        if step > job.stop_step:
            raise RuntimeError(
                f"Tune trial {tune_id} reported step {step}, past its Job's stop step {job.stop_step}: "
                "report once per step, with a 'step' key or training_iteration counting steps"
            )
        decision = self.absorb(Result(tid, step, float(score), n_steps=step - job.start_step))
        if decision in (Decision.STOP, Decision.COMPLETE):
            self.dead.add(tid)
            return "stop", self.stops(exclude=tune_id)
        self.fill()
        if self.resume.pop(tid, None) is not None:
            return "continue", self.stops(exclude=tune_id)
        return "pause", self.stops(exclude=tune_id)

    def on_failure(self, tune_id: str, error: str) -> list[str]:
        """A Tune trial failed (or ended before its Job's stop step): our scheduler is told,
        with a NaN score, and the Tune trials to stop are returned."""
        tid = self.ours_of.get(tune_id)
        if tid is None:
            return []
        self.dead.add(tid)
        self.resume.pop(tid, None)
        job = self.out.get(tid)
        if job is not None:
            self.absorb(Result(tid, job.stop_step, math.nan, n_steps=0, error=error))
        self.fill()
        return self.stops(exclude=tune_id)

    def on_complete(self, tune_id: str, step: int | None) -> list[str]:
        """A Tune trial ended; if it still had a Job out, its trainable returned too early."""
        tid = self.ours_of.get(tune_id)
        if tid is not None and tid in self.out:
            return self.on_failure(
                tune_id,
                f"RuntimeError: the trainable returned at step {step}, before the Job's stop step {self.out[tid].stop_step}",
            )
        if tid is not None:
            self.dead.add(tid)
        return []

    def resume_order(self) -> list[str]:
        """Tune trials waiting to resume, first suggested first."""
        return [self.tune_of[tid] for tid in self.resume]

    # -- between the two ----------------------------------------------------------------

    def fill(self) -> None:
        """Ask our scheduler for Jobs while fewer than ``capacity`` are out."""
        while len(self.out) < self.capacity and not self.scheduler.finished:
            job = self.scheduler.suggest()
            if job is None:
                return
            if job.clone_from is not None:
                raise ValueError(f"scheduler {type(self.scheduler).__name__!r} cloned a trial: {CLONE_UNSUPPORTED}")
            self.out[job.trial_id] = job
            if job.trial_id not in self.tune_of:
                self.new_jobs.append(job)
            elif job.trial_id in self.dead:
                self.absorb(
                    Result(
                        job.trial_id,
                        job.stop_step,
                        math.nan,
                        n_steps=0,
                        error="RuntimeError: its Ray Tune trial had already ended",
                    )
                )
            else:
                self.resume[job.trial_id] = job

    def absorb(self, result: Result) -> Decision:
        """Hand one result to our scheduler; collect its rows and the trials it stopped."""
        self.out.pop(result.trial_id, None)
        decision = self.scheduler.on_result(result)
        self.rows.extend(pop_rows(self.scheduler))
        for tid in self.scheduler.pop_stopped():
            if tid in self.tune_of and tid != result.trial_id:
                self.to_stop.add(self.tune_of[tid])
                self.dead.add(tid)
        return decision

    def stops(self, exclude: str | None = None) -> list[str]:
        """Tune trials to stop now: those our scheduler stopped, and every live one once it
        is finished (sorted, so the order does not depend on set iteration)."""
        if self.finished:
            for tid, tune_id in self.tune_of.items():
                if tid not in self.dead and self.scheduler.trials[tid].status != TrialStatus.RUNNING:
                    self.to_stop.add(tune_id)
                    self.dead.add(tid)
        self.to_stop.discard(exclude or "")
        return sorted(self.to_stop)

    def stopped(self, tune_id: str) -> None:
        """Tune has been asked to stop ``tune_id``."""
        self.to_stop.discard(tune_id)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_default_capacity"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._default_capacity is None:
            self._default_capacity = lambda: 1
