"""Records shared by every part of tunebench: trials, jobs, results, the Trainable protocol.

A *step* is one ``partial_fit`` call on one chunk of training data. A :class:`Job` asks an
executor to bring one trial from ``start_step`` to ``stop_step`` and score it there; the
executor answers with one :class:`Result`.

This module imports nothing else from tunebench.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Config = dict[str, Any]


class TrialStatus(str, enum.Enum):
    """Where a trial is in its life."""

    PENDING = "pending"  # created, never run
    RUNNING = "running"  # a Job for it is out
    PAUSED = "paused"  # waiting for a scheduler to resume it
    STOPPED = "stopped"  # cut early by the scheduler
    COMPLETED = "completed"  # reached the most steps it may get
    FAILED = "failed"  # its training or scoring raised, or a Job ran out of time


class Decision(str, enum.Enum):
    """A scheduler's answer to a result."""

    CONTINUE = "continue"  # more steps will follow
    PAUSE = "pause"  # keep the checkpoint; the scheduler may resume it later
    STOP = "stop"  # no more steps; the checkpoint may be dropped
    COMPLETE = "complete"  # reached its budget


@dataclass
class Trial:
    """One configuration under evaluation, with its progress.

    ``tags`` are a scheduler's free-form labels (a bracket, a population slot); the trial
    table shows them as columns.
    """

    trial_id: int
    config: Config
    seed: int
    parent: int | None = None
    status: TrialStatus = TrialStatus.PENDING
    steps: int = 0
    last_score: float | None = None
    best_score: float | None = None
    scores: dict[int, float] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """Train ``trial_id`` from ``start_step`` to ``stop_step`` steps, then score it.

    ``clone_from`` names a ``(trial_id, step)`` checkpoint to load before training (PBT's
    exploit); ``start_step`` then equals that step. ``priority`` is a hint for executors that
    queue Jobs (higher runs first). ``score_test`` asks for the test score too (recording
    learning curves). ``timeout_s`` bounds the Job's training and scoring: past it the Job
    fails with a ``TimeoutError``.
    """

    trial_id: int
    config: Mapping[str, Any]
    seed: int
    start_step: int
    stop_step: int
    clone_from: tuple[int, int] | None = None
    priority: float = 0.0
    score_test: bool = False
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.start_step < self.stop_step:
            raise ValueError(
                f"Job for trial {self.trial_id}: need 0 <= start_step < stop_step, got {self.start_step} and {self.stop_step}"
            )

    @property
    def n_steps(self) -> int:
        return self.stop_step - self.start_step


@dataclass(frozen=True)
class Result:
    """A trial's validation score after ``step`` steps, and what the Job that made it cost.

    ``test_score`` is set when the Job asked for it; ``error`` (``"Type: message"``) when the
    Job raised, and then ``score`` is NaN.
    """

    trial_id: int
    step: int
    score: float
    n_steps: int = 0
    worker: str = ""
    queue_s: float = 0.0
    compute_s: float = 0.0
    score_s: float = 0.0
    elapsed_s: float = 0.0
    test_score: float | None = None
    error: str | None = None

    def at(self, elapsed_s: float) -> Result:
        """This result as observed ``elapsed_s`` seconds into the run (cheaper than ``replace``)."""
        return Result(
            self.trial_id,
            self.step,
            self.score,
            self.n_steps,
            self.worker,
            self.queue_s,
            self.compute_s,
            self.score_s,
            elapsed_s,
            self.test_score,
            self.error,
        )


@runtime_checkable
class Trainable(Protocol):
    """The single trial interface a workload supplies.

    It is built from a config on a worker, trains ``n`` steps, scores itself on the validation
    set, saves and restores its state (weights, optimizer state and step count), and takes a new
    config in place (PBT's explore). Nothing in it knows which scheduler or executor runs it.
    """

    config: Config
    steps: int

    def train(self, n_steps: int) -> None: ...

    def score(self) -> float: ...

    def test_score(self) -> float: ...

    def save(self) -> Any: ...

    def restore(self, state: Any) -> None: ...

    def reset_config(self, config: Config) -> None: ...
