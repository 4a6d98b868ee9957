"""The scheduler plugin base: a pure state machine over trials and results.

A scheduler never sees an executor, a clock or a process. The loop asks :meth:`suggest`
for the next :class:`~tunebench.trial.Job` (or ``None``: nothing to start until more results
arrive), and tells it every :class:`~tunebench.trial.Result` through :meth:`on_result`, which
answers with a :class:`~tunebench.trial.Decision`. All randomness comes from ``self.rng``, one
``numpy.random.Generator`` seeded by the experiment's seed: same seed, same decisions.
With a ``searcher`` (:mod:`tunebench.searcher`) a new trial's config is its proposal, and it
observes every result :meth:`Scheduler.record` takes and is told (``searcher.end``) when a
trial fails or stops, and the loop's :meth:`Scheduler.set_candidates` hands it the executor's
finite set of configs, if it has one; without one, configs are drawn from the space with ``self.rng``, which
the ``random`` searcher reproduces draw for draw.

Plugins live outside the core (the top-level ``schedulers`` package, or any third party's) and
are found by name through the ``tunebench.schedulers`` entry-point group. Their keyword
arguments are their config keys; a class declares the check of each in ``params`` and
``__init__`` validates them with :func:`tunebench.checks.check`, whose ``ParamError`` names
the key, the value and what is allowed.

The base holds what every scheduler needs. What only some do (ask the executor to keep
snapshots of checkpoints, log a table of their own) is a capability of
:mod:`tunebench.capabilities` that the loop checks for.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from tunebench.algorithm import AlgorithmSettings
from tunebench.checks import Check, OneOf, check
from tunebench.scores import better, rank_key
from tunebench.searcher import Searcher
from tunebench.trial import Config, Decision, Job, Result, Trial, TrialStatus

MODES = ("max", "min")


def trial_seed(seed: int, trial_id: int) -> int:
    """The seed of one trial's model: fixed by the experiment seed and the trial id alone.

    A 32-bit hash of both, so neighbouring trials get unrelated seeds.

    >>> trial_seed(0, 1) == trial_seed(0, 1) != trial_seed(0, 2)
    True
    """
    digest = hashlib.blake2b(f"{seed}/{trial_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def seeded_draws(space: Any, seed: int, n: int) -> list[Config]:
    """The first ``n`` configs a scheduler seeded with ``seed`` samples from ``space`` (its
    generator, ``default_rng(seed)``, before anything else draws from it): the population PBT
    starts from.

    >>> from tunebench.space import Space
    >>> space = Space.from_spec({"x": {"uniform": [0, 1]}})
    >>> seeded_draws(space, 3, 2)[1] == seeded_draws(space, 3, 3)[1]
    True
    """
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


_STATUS_AFTER = {
    Decision.CONTINUE: TrialStatus.PAUSED,
    Decision.PAUSE: TrialStatus.PAUSED,
    Decision.STOP: TrialStatus.STOPPED,
    Decision.COMPLETE: TrialStatus.COMPLETED,
}


class Scheduler(AlgorithmSettings, abc.ABC):
    """Base class of every scheduler plugin.

    Subclasses implement :meth:`suggest`, :meth:`on_result` and :attr:`finished`; they create
    trials with :meth:`new_trial` and Jobs with :meth:`make_job`, which keep ``self.trials``
    (the trial table) up to date.
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, Check]] = {"mode": OneOf(MODES)}

    def __init__(self, space: Any, *, seed: int = 0, mode: str = "max", searcher: Searcher | None = None) -> None:
        check(self, "mode", mode)
        if searcher is not None and searcher.mode != mode:
            raise ValueError(f"searcher {searcher.name!r} has mode {searcher.mode!r}, the scheduler {mode!r}: give both the same")
        self.space = space
        self.seed = int(seed)
        self.mode = mode
        self.rng = np.random.default_rng(self.seed)
        self.searcher = searcher
        if searcher is not None:
            searcher.attach(self.rng)
        self.trials: dict[int, Trial] = {}
        self._next_trial_id = 0
        self._stopped: list[int] = []

    # -- what subclasses implement -------------------------------------------------------

    @abc.abstractmethod
    def suggest(self) -> Job | None:
        """The next Job to run, or ``None`` if nothing can start until more results arrive."""

    @abc.abstractmethod
    def on_result(self, result: Result) -> Decision:
        """Take one result; say whether its trial continues, pauses or stops."""

    @property
    @abc.abstractmethod
    def finished(self) -> bool:
        """True once no Job will ever be suggested again and none is out."""

    def metadata(self) -> dict[str, Any] | None:
        """The plan before running (trials and steps, per bracket), if the scheduler has one."""
        return None

    def set_budget(self, total_steps: int | None) -> None:
        """Told by the loop, before the first :meth:`suggest`, that the run stops after
        ``total_steps`` steps (``None``: no step budget). A scheduler whose order of work
        matters when a run is cut short (Hyperband's brackets) adapts; by default nothing."""

    def set_candidates(self, configs: Sequence[Mapping[str, Any]] | None) -> None:
        """Told by the loop, before the first :meth:`suggest`, the finite set of configs its
        executor runs exactly (``None``: any point of the space); handed to the searcher
        (:meth:`tunebench.searcher.Searcher.candidates`), which then proposes among them.
        Without a searcher the scheduler samples the space and the executor maps each config."""
        if self.searcher is not None:
            self.searcher.candidates(configs)

    @property
    def bounded(self) -> bool:
        """False if the scheduler would run forever without an outside budget."""
        return True

    # -- helpers for subclasses ----------------------------------------------------------

    def key(self, score: float | None) -> float:
        """A score turned so that larger is better, whatever the mode; ``-inf`` for a missing or
        non-finite score (:func:`tunebench.scores.rank_key`), so it ranks worst everywhere."""
        return rank_key(score, self.mode)

    def sample_config(self, trial_id: int) -> Config:
        """The config of new trial ``trial_id``: the searcher's proposal, or without one a draw
        from the space with ``self.rng``."""
        if self.searcher is not None:
            return self.searcher.suggest(trial_id)
        return self.space.sample(self.rng)

    def new_trial(self, config: Config | None = None, *, parent: int | None = None, tags: dict[str, Any] | None = None) -> Trial:
        """Create and register a trial (sampling its config from the space if none is given)."""
        trial_id = self._next_trial_id
        self._next_trial_id += 1
        trial = Trial(
            trial_id=trial_id,
            config=dict(config) if config is not None else self.sample_config(trial_id),
            seed=trial_seed(self.seed, trial_id),
            parent=parent,
            tags=dict(tags or {}),
        )
        self.trials[trial_id] = trial
        return trial

    def make_job(
        self, trial: Trial, stop_step: int, *, clone_from: tuple[int, int] | None = None, priority: float | None = None
    ) -> Job:
        """A Job bringing ``trial`` to ``stop_step``; marks the trial running."""
        start = clone_from[1] if clone_from is not None else trial.steps
        trial.status = TrialStatus.RUNNING
        if priority is None:
            priority = self.key(trial.last_score) if trial.last_score is not None else float("inf")
        return Job(trial.trial_id, dict(trial.config), trial.seed, start, stop_step, clone_from, priority)

    def record(self, result: Result) -> Trial:
        """Update the trial table with a result (call first thing in ``on_result``)."""
        trial = self.trials[result.trial_id]
        trial.steps = result.step
        trial.last_score = result.score
        trial.scores[result.step] = result.score
        if trial.best_score is None or better(result.score, trial.best_score, self.mode):
            trial.best_score = result.score
        if self.searcher is not None:
            self.searcher.observe(trial.trial_id, trial.config, result.step, result.score)
        return trial

    def set_status(self, trial: Trial, decision: Decision) -> Decision:
        """Apply a decision to a trial's status; stopped trials are queued for :meth:`pop_stopped`,
        and the searcher is told they ended."""
        trial.status = _STATUS_AFTER[decision]
        if trial.status is TrialStatus.STOPPED:
            self._stopped.append(trial.trial_id)
            if self.searcher is not None:
                self.searcher.end(trial.trial_id)
        return decision

    def on_failure(self, trial_id: int, error: str) -> Decision:
        """Told that ``trial_id``'s Job failed for good (it raised or ran out of time, and any
        retries failed too): the trial is ``failed`` and its Job is no longer out; the answer
        is ``STOP``. A subclass first frees what the trial held, so the run goes on (a rung
        no longer waits for it, a population seat is refilled), then calls this. ``error`` is
        ``"Type: message"``. A NaN score is not a failure: it comes through :meth:`on_result`."""
        trial = self.trials[trial_id]
        trial.status = TrialStatus.FAILED
        if self.searcher is not None:
            self.searcher.end(trial_id)
        return Decision.STOP

    def pop_stopped(self) -> list[int]:
        """Trials stopped since the last call (also those stopped while paused at a rung), so
        the loop can free their checkpoints."""
        out, self._stopped = self._stopped, []
        return out

    def top_k(self, trial_ids: Iterable[int], scores: dict[int, float], k: int) -> list[int]:
        """The ``k`` best trials by score; ties go to the lower trial id (deterministic)."""
        ranked = sorted(trial_ids, key=lambda t: (-self.key(scores[t]), t))
        return ranked[:k]
