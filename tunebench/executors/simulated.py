"""The simulated executor: recorded learning curves replayed on virtual workers, on a virtual clock.

``executor: {name: simulated, n_workers: 1000, curves: sgd-circles}`` runs any scheduler at 8,
32 or 1,000 workers on a laptop in seconds, deterministically, as Syne Tune's simulator backend
does. ``curves`` is a recording file (``tunebench record`` makes one), the name of a shipped
recording (``tunebench list`` shows them) or the directory of a finished run whose trials all
trained to the end with a score at every step (a random-search run with ``report_every: 1``),
so a scheduler can be replayed on exactly the configs it draws. A synthetic workload (``mfh3``,
``counting-ones``, ... :mod:`tunebench.workloads.synthetic`) needs no recording: without
``curves`` its function gives every score, and its cost model the virtual seconds of each Job
(``cost(z_stop) - cost(z_start)``); ``step_s``, if set, replaces the cost model.

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
- **Configs.** With ``configs: table``, the default, the recorded configs are the executor's
  :meth:`candidates`: the loop hands them to the scheduler's searcher, which proposes among
  them, as Syne Tune restricts a searcher to a tabular blackbox's configurations. ``random``
  draws them uniformly without replacement (until each was drawn once), TPE and BOHB score each
  not yet proposed by their density ratio and propose the best, so every trial replays a
  recorded curve exactly, none twice while others are left. With ``configs: nearest`` (and for
  a scheduler without a searcher, and a PBT explore) a proposal is any point of the space and
  replays its nearest recorded config, Syne Tune's nearest-neighbour surrogate: the recorded
  configs' cells are of unequal size, so a uniform draw over the space is not a uniform draw
  over the recording, and two proposals may replay one curve.
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
from collections.abc import Mapping
from typing import Any

import numpy as np

from tunebench.checks import Float, Int, OneOf, check
from tunebench.clock import VirtualClock
from tunebench.executors.base import Executor, ExecutorError
from tunebench.trial import Job, Result
from tunebench.workloads.curves import Curves, CurvesError, Pending, read_curves
from tunebench.workloads.synthetic import SyntheticWorkload

PRIORITIES = ("fifo", "score")
ARRIVALS = ("finish", "shuffled")
CONFIGS = ("table", "nearest")


class SimulatedExecutor(Executor):
    """Replays recorded learning curves on virtual workers with a virtual clock."""

    name = "simulated"
    needs_data = False
    params = {
        "step_s": Float(
            0, optional=True, note="virtual seconds per step; null: the recording's median, or a synthetic workload's cost model"
        ),
        "score_s": Float(
            0, optional=True, note="virtual seconds per score; null: the recording's median, or 0 for a synthetic workload"
        ),
        "queue": Int(0, note="Jobs that wait beyond one per worker"),
        "priority": OneOf(PRIORITIES),
        "arrival": OneOf(ARRIVALS),
        "arrival_seed": Int(0),
        "configs": OneOf(CONFIGS),
    }
    keeps = True

    def __init__(
        self,
        curves: Any = None,
        n_workers: int = 8,
        step_s: float | None = None,
        score_s: float | None = None,
        queue: int = 0,
        priority: str = "fifo",
        arrival: str = "finish",
        arrival_seed: int = 0,
        configs: str = "table",
    ) -> None:
        super().__init__(n_workers)
        self.to_record: str | None = curves.path if isinstance(curves, Pending) else None
        try:
            self.curves: Curves | None = None if curves is None or self.to_record else read_curves(curves)
        except CurvesError as exc:
            raise ValueError(str(exc)) from None
        self.source = "the workload" if curves is None else curves if isinstance(curves, str) else type(curves).__name__
        costs = (check(self, "step_s", step_s), check(self, "score_s", score_s))
        recorded = (None, 0.0) if self.curves is None else (self.curves.step_s, self.curves.score_s)
        self.step_s: float | None = recorded[0] if costs[0] is None else costs[0]
        self.score_s: float = recorded[1] if costs[1] is None else costs[1]
        self._surface: SyntheticWorkload | None = None
        self.queue: int = check(self, "queue", queue)
        self.priority: str = check(self, "priority", priority)
        self.arrival: str = check(self, "arrival", arrival)
        self.arrival_seed: int = check(self, "arrival_seed", arrival_seed)
        self.configs: str = check(self, "configs", configs)
        self._reset()

    def _reset(self) -> None:
        self._clock: VirtualClock = VirtualClock()
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
        self._score = None if self.curves is None else self.curves.score
        self._test = None if self.curves is None else self.curves.test_score

    # -- the executor interface -----------------------------------------------------------

    def check(self, workload: Any) -> None:
        """Without a recording, only a synthetic workload can run: its function is the recording."""
        if self.curves is None and self.to_record is None and not isinstance(workload, SyntheticWorkload):
            raise ValueError(
                f"needs executor.curves (a recording file, a shipped recording's name or a finished run's directory) to replay "
                f"workload {getattr(workload, 'name', workload)!r}; only a synthetic workload (mfh3, mfh6, counting-ones, "
                "mf-branin) runs without one"
            )

    def start(self, workload: Any = None, data: Any = None) -> None:
        """Nothing to start or ship; checks that the recording is of ``workload`` (or, without
        one, that ``workload`` is synthetic)."""
        if self.to_record is not None:
            raise ExecutorError(
                f"executor.curves {self.to_record!r}: no such recording yet; a matrix's {{workload}} recording is made by "
                "tunebench record MATRIX.yaml --matrix"
            )
        if self.curves is None:
            try:
                self.check(workload)
            except ValueError as exc:
                raise ExecutorError(f"executor 'simulated' {exc}") from None
            self._reset()
            self._surface = workload
            return
        want = getattr(workload, "name", None)
        have = self.curves.workload
        if want and have and want != have:
            raise ExecutorError(
                f"executor.curves {self.source!r} was recorded on workload {have!r}, the experiment runs {want!r}"
            )
        self._reset()

    def candidates(self) -> list[dict[str, Any]] | None:
        """The recorded configs under ``configs: table``; ``None`` under ``nearest`` or without a recording."""
        return [dict(c) for c in self.curves.configs] if self.curves is not None and self.configs == "table" else None

    @property
    def max_iter(self) -> int:
        """The last step a Job may reach: the recording's, or the synthetic workload's top fidelity."""
        if self.curves is not None:
            return self.curves.max_iter
        if self._surface is None:
            raise ExecutorError("executor 'simulated' without curves: start() it with a synthetic workload first")
        return self._surface.max_iter

    def submit(self, job: Job) -> None:
        tid = job.trial_id
        if job.stop_step > self.max_iter:
            raise ExecutorError(self._past_end(job))
        self._check_checkpoint(job)
        self._busy.add(tid)
        cached = self._index.get(tid)
        if cached is None or cached[0] != job.config:
            idx, exact = (-1, True) if self.curves is None else self.curves.lookup(job.config)
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

    def _past_end(self, job: Job) -> str:
        where = f"trial {job.trial_id}: a Job to step {job.stop_step}"
        if self.curves is None:
            return (
                f"{where}, past workload.max_iter={self.max_iter} (the step of the top fidelity); use scheduler "
                f"max_iter <= {self.max_iter}"
            )
        return (
            f"{where}, but executor.curves {self.source!r} is recorded to step {self.max_iter} only; use scheduler "
            f"max_iter <= {self.max_iter} or a longer recording"
        )

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
        compute = self._compute_s(job) * factor
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
        test = self._test_at(job.config, idx, step) if job.score_test else None
        return [
            Result(
                tid,
                step,
                self._score_at(job.config, idx, step),
                job.n_steps,
                f"sim-{worker}",
                queued,
                compute,
                scoring,
                0.0,
                test,
            )
        ]

    def _compute_s(self, job: Job) -> float:
        """A Job's virtual training time: ``step_s`` per step, else the synthetic workload's cost."""
        if self.step_s is not None:
            return self.step_s * job.n_steps
        assert self._surface is not None
        return self._surface.seconds(job.start_step, job.stop_step)

    def _score_at(self, config: Mapping[str, Any], idx: int, step: int) -> float:
        if self._surface is not None:
            return self._surface.score_at(config, step)
        assert self._score is not None
        return float(self._score[idx, step])

    def _test_at(self, config: Mapping[str, Any], idx: int, step: int) -> float:
        if self._surface is not None:
            return self._surface.expected(config)
        assert self._test is not None
        return float(self._test[idx, step])

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
        config, idx = self._index[trial_id]
        return self._test_at(config, idx, step)

    @property
    def pending(self) -> int:
        return len(self._heap) + len(self._fifo) + len(self._ranked)

    @property
    def capacity(self) -> int:
        return self.n_workers + self.queue

    def stats(self) -> dict[str, Any]:
        recording = (
            {"recording_workload": None, "recorded_configs": None, "recorded_steps": None}
            if self.curves is None
            else {
                "recording_workload": self.curves.workload,
                "recorded_configs": self.curves.n_configs,
                "recorded_steps": self.curves.max_iter,
            }
        )
        return {
            **super().stats(),
            "curves": self.source,
            **recording,
            "step_s": self.step_s,
            "score_s": self.score_s,
            "queue": self.queue,
            "priority": self.priority,
            "arrival": self.arrival,
            "configs": self.configs,
            "jobs": self.jobs,
            "lookups_exact": self.exact,
            "lookups_nearest": self.nearest,
            "virtual_time_s": self._clock.now(),
        }

    def shutdown(self) -> None:
        self._heap.clear()
        self._fifo.clear()
        self._ranked.clear()
