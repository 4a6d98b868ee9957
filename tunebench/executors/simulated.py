"""The simulated executor: recorded learning curves replayed on virtual workers, on a virtual clock.

``executor: {name: simulated, n_workers: 1000, curves: sgd-circles}`` runs any scheduler at 8,
32 or 1,000 workers on a laptop in seconds, deterministically, as Syne Tune's simulator backend
does. ``curves`` is a recording file (``tunebench record`` makes one), the name of a shipped
recording (``tunebench list`` shows them) or the directory of a finished run whose trials all
trained to the end with a score at every step (a random-search run with ``report_every: 1``),
so a scheduler can be replayed on exactly the configs it draws.

- **Time.** A Job takes ``step_s * n_steps + score_s`` virtual seconds on one virtual worker;
  both costs are the recording's medians unless set. :meth:`wait` advances the executor's
  :class:`~tunebench.clock.VirtualClock` (the loop's only clock) to the earliest finish time and
  returns that Job's Result; ties go to the earlier submission. ``arrival: shuffled`` scales
  every Job's duration by a seeded random factor in [0.5, 1.5) and breaks ties at random
  (``arrival_seed``): a randomized arrival order for testing schedulers against.
- **Queue.** With ``queue > 0`` up to ``n_workers + queue`` Jobs may be out; the ones beyond
  the workers wait, and a freed worker takes the next in submission order (``priority: fifo``)
  or the one with the highest ``job.priority`` (``priority: score``: Dask-style, the trial's
  last score). Their waiting is ``queue_s``.
- **Scores.** A Job's score at ``stop_step`` is the recorded validation score of the same config
  at that step, else of the nearest recorded config (see :mod:`tunebench.workloads.curves`);
  the stats count the trials looked up exactly and by nearest neighbour. ``test_score`` is the
  recorded test score. A Job past the recording's last step is refused.
- **Checkpoints** are checked as on a real executor: a Job starts from its trial's last
  finished step, a clone Job (``clone_from=(donor, step)``) needs the donor's checkpoint at that
  step, and a released trial has none.
- **PBT is approximated after an explore.** A clone's scores from the clone step on are the
  recorded curve of its own (explored) config at those steps: the donor's weights are not
  inherited, so what the clone learned before the exploit does not carry over beyond the step
  count. An exploit without a config change therefore replays the donor's own curve.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any, Mapping

import numpy as np

from tunebench.checks import Float, Int, OneOf, check
from tunebench.clock import VirtualClock
from tunebench.executors.base import Executor, ExecutorError
from tunebench.trial import Job, Result
from tunebench.workloads.curves import Curves, CurvesError, read_curves

PRIORITIES = ("fifo", "score")
ARRIVALS = ("finish", "shuffled")


class SimulatedExecutor(Executor):
    """Replays recorded learning curves on virtual workers with a virtual clock."""

    name = "simulated"
    needs_data = False
    params = {
        "step_s": Float(0, optional=True, note="virtual seconds per step; null: the recording's median"),
        "score_s": Float(0, optional=True, note="virtual seconds per score; null: the recording's median"),
        "queue": Int(0, note="Jobs that wait beyond one per worker"),
        "priority": OneOf(PRIORITIES),
        "arrival": OneOf(ARRIVALS),
        "arrival_seed": Int(0),
    }
    keeps = True

    def __init__(
        self,
        curves: Any,
        n_workers: int = 8,
        step_s: float | None = None,
        score_s: float | None = None,
        queue: int = 0,
        priority: str = "fifo",
        arrival: str = "finish",
        arrival_seed: int = 0,
    ) -> None:
        super().__init__(n_workers)
        try:
            self.curves: Curves = read_curves(curves)
        except CurvesError as exc:
            raise ValueError(str(exc)) from None
        self.source = curves if isinstance(curves, str) else type(curves).__name__
        costs = (check(self, "step_s", step_s), check(self, "score_s", score_s))
        self.step_s = self.curves.step_s if costs[0] is None else costs[0]
        self.score_s = self.curves.score_s if costs[1] is None else costs[1]
        self.queue: int = check(self, "queue", queue)
        self.priority: str = check(self, "priority", priority)
        self.arrival: str = check(self, "arrival", arrival)
        self.arrival_seed: int = check(self, "arrival_seed", arrival_seed)
        self._reset()

    def _reset(self) -> None:
        self._clock = VirtualClock()
        self._rng = np.random.default_rng(self.arrival_seed)
        self._heap: list[tuple[float, float, int, int, Job, int, float, float, float]] = []
        self._fifo: deque[tuple[int, Job, int, float]] = deque()
        self._ranked: list[tuple[float, int, Job, int, float]] = []
        self._free = list(range(self.n_workers))
        self._ckpt: dict[int, int] = {}
        self._kept: set[tuple[int, int]] = set()
        self._released: set[int] = set()
        self._busy: set[int] = set()
        self._index: dict[int, tuple[Mapping[str, Any], int]] = {}
        self._seq = 0
        self.exact = self.nearest = self.jobs = 0
        self._score = self.curves.score
        self._test = self.curves.test_score

    # -- the executor interface -----------------------------------------------------------

    def start(self, workload: Any = None, data: Any = None) -> None:
        """Nothing to start or ship; checks that the recording is of ``workload``."""
        want = getattr(workload, "name", None)
        have = self.curves.workload
        if want and have and want != have:
            raise ExecutorError(f"executor.curves {self.source!r} was recorded on workload {have!r}, the experiment runs {want!r}")
        self._reset()

    def submit(self, job: Job) -> None:
        tid = job.trial_id
        if job.stop_step > self.curves.max_iter:
            raise ExecutorError(
                f"trial {tid}: a Job to step {job.stop_step}, but executor.curves {self.source!r} is recorded to step "
                f"{self.curves.max_iter} only; use scheduler max_iter <= {self.curves.max_iter} or a longer recording"
            )
        self._check_checkpoint(job)
        self._busy.add(tid)
        cached = self._index.get(tid)
        if cached is None or cached[0] != job.config:
            idx, exact = self.curves.lookup(job.config)
            cached = self._index[tid] = (job.config, idx)
            if exact:
                self.exact += 1
            else:
                self.nearest += 1
        now = self._clock.now()
        self._seq += 1
        if self._free:
            self._launch(job, cached[1], self._seq, now, heapq.heappop(self._free), now)
        elif self.priority == "fifo":
            self._fifo.append((self._seq, job, cached[1], now))
        else:
            heapq.heappush(self._ranked, (-job.priority, self._seq, job, cached[1], now))

    def _check_checkpoint(self, job: Job) -> None:
        tid = job.trial_id
        if tid in self._busy:
            raise ExecutorError(f"trial {tid} already has a Job out")
        if job.clone_from is not None:
            donor, at = job.clone_from
            if self._ckpt.get(donor) != at and (donor, at) not in self._kept:
                raise ExecutorError(f"clone of trial {donor} at step {at}: its checkpoint is at step {self._ckpt.get(donor)}")
        elif job.start_step != self._ckpt.get(tid, 0):
            have = "released" if tid in self._released else f"at step {self._ckpt.get(tid, 0)}"
            raise ExecutorError(f"trial {tid}: the Job starts at step {job.start_step}, its checkpoint is {have}")

    def _launch(self, job: Job, idx: int, seq: int, submitted: float, worker: int, now: float) -> None:
        factor = 1.0
        tie: float = seq
        if self.arrival == "shuffled":
            factor, tie = 0.5 + float(self._rng.random()), float(self._rng.random())
        compute = self.step_s * job.n_steps * factor
        scoring = self.score_s * factor
        heapq.heappush(self._heap, (now + compute + scoring, tie, seq, worker, job, idx, now - submitted, compute, scoring))

    def wait(self) -> list[Result]:
        if not self._heap:
            raise RuntimeError("wait() with no Job pending")
        finish, _, _, worker, job, idx, queued, compute, scoring = heapq.heappop(self._heap)
        self._clock.advance_to(finish)
        self._next(worker, finish)
        tid, step = job.trial_id, job.stop_step
        self._busy.discard(tid)
        self._ckpt[tid] = step
        self.jobs += 1
        test = float(self._test[idx, step]) if job.score_test else None
        return [Result(tid, step, float(self._score[idx, step]), job.n_steps, f"sim-{worker}", queued, compute, scoring,
                       0.0, test)]

    def _next(self, worker: int, now: float) -> None:
        """Give the freed worker the next waiting Job, if any."""
        if self._fifo:
            seq, job, idx, submitted = self._fifo.popleft()
        elif self._ranked:
            _, seq, job, idx, submitted = heapq.heappop(self._ranked)
        else:
            heapq.heappush(self._free, worker)
            return
        self._launch(job, idx, seq, submitted, worker, now)

    def release(self, trial_id: int) -> None:
        self._ckpt.pop(trial_id, None)
        self._released.add(trial_id)
        self._kept = {k for k in self._kept if k[0] != trial_id} if self._kept else self._kept

    def keep(self, trial_id: int, step: int) -> None:
        """Keep the checkpoint of ``trial_id`` at ``step`` for a later clone."""
        if self._ckpt.get(trial_id) == step:
            self._kept.add((trial_id, step))

    def drop_kept(self, trial_id: int, step: int) -> None:
        self._kept.discard((trial_id, step))

    def test_score(self, trial_id: int) -> float:
        step = self._ckpt.get(trial_id)
        if step is None or trial_id not in self._index:
            raise ExecutorError(f"trial {trial_id} has no checkpoint to score (never run, or released)")
        return float(self._test[self._index[trial_id][1], step])

    @property
    def pending(self) -> int:
        return len(self._heap) + len(self._fifo) + len(self._ranked)

    @property
    def capacity(self) -> int:
        return self.n_workers + self.queue

    def stats(self) -> dict[str, Any]:
        return {
            **super().stats(), "curves": self.source, "recording_workload": self.curves.workload,
            "recorded_configs": self.curves.n_configs, "recorded_steps": self.curves.max_iter,
            "step_s": self.step_s, "score_s": self.score_s, "queue": self.queue, "priority": self.priority,
            "arrival": self.arrival, "jobs": self.jobs, "lookups_exact": self.exact, "lookups_nearest": self.nearest,
            "virtual_time_s": self._clock.now(),
        }

    def shutdown(self) -> None:
        self._heap.clear()
        self._fifo.clear()
        self._ranked.clear()
