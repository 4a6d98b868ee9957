"""What a worker does with one Job, the same on every executor.

A Job whose training or scoring raises, or that runs past ``job.timeout_s``, does not raise
here: it comes back as a :class:`~tunebench.trial.Result` with ``error`` set (``"Type:
message"``) and a NaN score, and no Trainable (the half-trained one must not be continued).
A checkpoint that does not match the Job still raises: that is the executor's bug, not the
trial's.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from tunebench.executors.timeout import time_limit
from tunebench.trial import Job, Result, Trainable
from tunebench.workloads.base import Dataset, Workload


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class CheckpointMismatch(RuntimeError):
    """A Job was given a checkpoint at another step than it starts from (an executor bug)."""


def build(workload: Workload, data: Dataset, job: Job, trainable: Trainable | None, state: Any) -> Trainable:
    """The Trainable a Job starts from: a live one, one restored from ``state``, or a new one,
    with the Job's config."""
    if trainable is None:
        trainable = workload.build(dict(job.config), data, job.seed)
        if state is not None:
            trainable.restore(state)
    if dict(trainable.config) != dict(job.config):
        trainable.reset_config(dict(job.config))
    return trainable


def check_steps(job: Job, trainable: Trainable) -> None:
    if trainable.steps != job.start_step:
        raise CheckpointMismatch(
            f"trial {job.trial_id}: checkpoint is at step {trainable.steps}, the Job starts at {job.start_step}"
        )


def run_job(
    workload: Workload,
    data: Dataset,
    job: Job,
    *,
    trainable: Trainable | None = None,
    state: Any = None,
    submitted_at: float | None = None,
) -> tuple[Trainable | None, Result]:
    """Train ``job.n_steps`` steps and score; return the live Trainable and the Result, or
    ``None`` and a Result with ``error`` if the Job failed (see the module docstring).

    ``submitted_at`` (``time.time()`` at submit) gives the Job's queue time.
    """
    t0 = time.time()
    queue_s = max(0.0, t0 - submitted_at) if submitted_at is not None else 0.0
    times = [t0, t0]
    try:
        with time_limit(job.timeout_s, f"Job for trial {job.trial_id} (steps {job.start_step}->{job.stop_step})"):
            trainable = build(workload, data, job, trainable, state)
            check_steps(job, trainable)
            trainable.train(job.n_steps)
            times[0] = time.time()
            score = float(trainable.score())
            times[1] = time.time()
            test = float(trainable.test_score()) if job.score_test else None
    except CheckpointMismatch:
        raise
    except Exception as exc:
        t = time.time()
        return None, Result(
            job.trial_id, job.stop_step, float("nan"), 0, worker_name(), queue_s, t - t0, 0.0, error=describe(exc)
        )
    result = Result(
        trial_id=job.trial_id,
        step=job.stop_step,
        score=score,
        n_steps=job.n_steps,
        worker=worker_name(),
        queue_s=queue_s,
        compute_s=times[0] - t0,
        score_s=times[1] - times[0],
        test_score=test,
    )
    return trainable, result


def describe(exc: BaseException) -> str:
    """An error as ``"Type: message"`` (the first line of the message).

    >>> describe(ValueError("alpha must be > 0\\nmore"))
    'ValueError: alpha must be > 0'
    """
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
