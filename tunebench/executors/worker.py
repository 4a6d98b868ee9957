"""What a worker does with one Job, the same on every executor."""

from __future__ import annotations

import socket
import os
import time
from typing import Any

from tunebench.trial import Job, Result, Trainable
from tunebench.workloads.base import Dataset, Workload


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def prepare(workload: Workload, data: Dataset, job: Job, trainable: Trainable | None, state: Any) -> Trainable:
    """The Trainable a Job starts from: a live one, one restored from ``state``, or a new one."""
    if trainable is None:
        trainable = workload.build(dict(job.config), data, job.seed)
        if state is not None:
            trainable.restore(state)
    if trainable.steps != job.start_step:
        raise RuntimeError(
            f"trial {job.trial_id}: checkpoint is at step {trainable.steps}, the Job starts at {job.start_step}"
        )
    if dict(trainable.config) != dict(job.config):
        trainable.reset_config(dict(job.config))
    return trainable


def run_job(
    workload: Workload,
    data: Dataset,
    job: Job,
    *,
    trainable: Trainable | None = None,
    state: Any = None,
    submitted_at: float | None = None,
) -> tuple[Trainable, Result]:
    """Train ``job.n_steps`` steps and score; return the live Trainable and the Result.

    ``submitted_at`` (``time.time()`` at submit) gives the Job's queue time.
    """
    t0 = time.time()
    queue_s = max(0.0, t0 - submitted_at) if submitted_at is not None else 0.0
    trainable = prepare(workload, data, job, trainable, state)
    trainable.train(job.n_steps)
    t1 = time.time()
    score = float(trainable.score())
    t2 = time.time()
    test = float(trainable.test_score()) if job.score_test else None
    result = Result(
        trial_id=job.trial_id,
        step=job.stop_step,
        score=score,
        n_steps=job.n_steps,
        worker=worker_name(),
        queue_s=queue_s,
        compute_s=t1 - t0,
        score_s=t2 - t1,
        test_score=test,
    )
    return trainable, result
