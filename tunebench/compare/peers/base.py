"""Shared peer plumbing: a peer's search journaled and written as an ordinary run directory.

Every peer (Dask-ML, scikit-learn, Ray Tune, Optuna, ...) reports what its library observed
through one :class:`PeerLog`, which writes ``journal.jsonl`` through :mod:`tunebench.store`
and, at :meth:`PeerLog.finish`, derives ``results.parquet`` / ``trials.parquet`` from it and
writes ``summary.json`` with the keys our runs have, so the report reads both alike.

Timing follows our runs: ``wall_time_s`` runs from :meth:`PeerLog.begin` (the search starts)
to :meth:`PeerLog.finish`; bringing up the peer's executor (a ``LocalCluster``, Ray, Spark)
happens between creating the log and ``begin`` and is reported apart as ``startup_s``. Each
result's ``elapsed_s`` is the time since ``begin`` at which the score was observed.

>>> import tempfile
>>> from tunebench.compare.peer import Peer, PeerTask
>>> from tunebench.workloads.sgd import SGDWorkload
>>> class Echo(Peer):
...     name, family, scheduler_label = "echo", "demo", "Echo"
...     def run(self, task, out_dir):
...         log = PeerLog(out_dir, task, self)
...         log.begin(executor="local")
...         for tid, alpha in enumerate([1e-4, 1e-2]):
...             log.trial(tid, {"alpha": alpha})
...             log.result(tid, step=3, score=0.5 + tid / 10, n_steps=3, decision="complete", worker="main")
...         return log.finish(best_config={"alpha": 1e-2}, test_score=0.55)
>>> wl = SGDWorkload(dataset="circles", n_samples=600)
>>> task = PeerTask(workload=wl, data=wl.load(0), space=wl.default_space(), seed=0, n_workers=1, max_iter=3)
>>> s = Echo().run(task, tempfile.mkdtemp())
>>> (s["scheduler"], s["n_trials"], s["partial_fit_calls"], s["best_trial"], s["best_score"], s["peer"])
('echo', 2, 6, 1, 0.6, True)
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tunebench.compare.peer import Peer, PeerTask
from tunebench.scores import regrets
from tunebench.store import RunDir, counts, derive, jsonable, read_journal
from tunebench.version import __version__


def utilization(compute_s: float, slots: int, wall_time_s: float) -> float | None:
    """Busy fraction of the worker slots (``None`` when nothing was timed).

    >>> utilization(3.0, 2, 2.0)
    0.75
    """
    if wall_time_s <= 0 or slots <= 0 or not math.isfinite(compute_s) or compute_s <= 0:
        return None
    return float(compute_s / (slots * wall_time_s))


def task_config(task: PeerTask) -> dict[str, Any]:
    """What a peer was given, for the ``start`` event and the summary."""
    from tunebench.convert import to_spec

    return {
        "workload": task.workload.describe(),
        "space": to_spec(task.space),
        "seed": task.seed,
        "n_workers": task.n_workers,
        "max_iter": task.max_iter,
        "n_trials": task.n_trials,
        "budget": {"total_steps": task.total_steps, "wall_time_s": task.wall_time_s, "evaluations": task.evaluations},
        "target_score": task.target_score,
    }


def peer_config(peer: Peer) -> dict[str, Any]:
    """A peer's settings: its public attributes (the keyword arguments it was built with)."""
    return {k: jsonable(v) for k, v in vars(peer).items() if not k.startswith("_")}


class PeerLog:
    """One peer run's journal and run directory; see the module docstring for an example.

    ``RunDir.create`` refuses a directory that already holds a run. Used as a context manager,
    an exception inside the block finishes the run as ``failed`` (with the error) and re-raises.
    """

    def __init__(self, out_dir: str | Path, task: PeerTask, peer: Peer) -> None:
        self.task, self.peer = task, peer
        self.rundir = RunDir.create(out_dir)
        self.journal = self.rundir.journal()
        self.created = time.monotonic()
        self.t0: float | None = None
        self.wall0: float | None = None
        self.executor = ""
        self.compute_s = 0.0
        self.summary: dict[str, Any] | None = None

    def begin(self, executor: str, config: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Journal ``start`` and start the clock: call it once the executor is up."""
        self.executor = executor
        self.t0, self.wall0 = time.monotonic(), time.time()
        cfg = {"peer": peer_config(self.peer), **task_config(self.task), **dict(config or {})}
        self.journal.log(
            "start",
            config=cfg,
            version=__version__,
            time=datetime.now(UTC).isoformat(),
            scheduler=self.peer.name,
            peer=self.peer.name,
            family=self.peer.family,
            scheduler_label=self.peer.scheduler_label,
            executor=executor,
            workload=self.task.workload.name,
            metric=self.task.metric,
            mode=self.task.mode,
            seed=self.task.seed,
            versions=self.versions(),
            **fields,
        )

    def elapsed(self) -> float:
        """Seconds since :meth:`begin`."""
        return 0.0 if self.t0 is None else time.monotonic() - self.t0

    def since_begin(self, wall_time: float) -> float:
        """A ``time.time()`` stamp (taken in any process on this machine) as seconds since ``begin``."""
        return 0.0 if self.wall0 is None else max(0.0, wall_time - self.wall0)

    def trial(self, trial_id: int, config: Mapping[str, Any], **tags: Any) -> None:
        """Journal a trial's first appearance."""
        self.journal.log("trial", trial_id=int(trial_id), config=dict(config), seed=None, parent=None, tags=tags)

    def result(
        self,
        trial_id: int,
        step: int,
        score: float,
        n_steps: int,
        decision: str = "continue",
        worker: str | None = None,
        compute_s: float | None = None,
        score_s: float | None = None,
        elapsed_s: float | None = None,
    ) -> None:
        """Journal one observed score; ``elapsed_s`` defaults to now (seconds since ``begin``).

        ``decision`` is what the library did next: ``continue``, ``stop`` (cut) or ``complete``
        (trained to the end); it sets the trial's status in ``trials.parquet``.
        """
        self.compute_s += (compute_s or 0.0) + (score_s or 0.0)
        self.journal.log(
            "result",
            trial_id=int(trial_id),
            step=int(step),
            score=float(score),
            n_steps=int(n_steps),
            decision=decision,
            worker=None if worker is None else str(worker),
            queue_s=None,
            compute_s=compute_s,
            score_s=score_s,
            elapsed_s=self.elapsed() if elapsed_s is None else float(elapsed_s),
            test_score=None,
        )

    def fail(self, trial_id: int, error: str) -> None:
        """Mark a trial failed, keeping its error."""
        self.journal.log("status", trial_id=int(trial_id), status="failed", error=error)

    def best(self) -> Mapping[str, Any] | None:
        """The best trial so far by our rule (best last validation score), from the journal."""
        return derive(read_journal(self.rundir.journal_path)).best()

    def retrained_test_score(self) -> float | None:
        """The best trial's config retrained from scratch to its steps, scored on the test split."""
        best = self.best()
        if best is None:
            return None
        trainable = self.task.workload.build(json.loads(best["config"]), self.task.data, self.task.seed)
        trainable.train(int(best["steps"]))
        return float(trainable.test_score())

    def versions(self) -> dict[str, str]:
        return {"tunebench": __version__, "python": platform.python_version(), **self.peer.versions()}

    def finish(
        self,
        best_config: Mapping[str, Any] | None = None,
        test_score: float | None = None,
        status: str = "completed",
        error: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Journal ``end``, derive and write the tables and ``summary.json``; return the summary.

        ``best_config`` is the library's own pick (kept as ``peer_best_config`` when it differs
        from the best trial by our rule); ``extra`` keys (notes, the library's own counts) join
        the summary.
        """
        if self.t0 is None:  # failed before the search started: the whole time was start-up
            self.begin(self.executor or "unstarted")
        wall = self.elapsed()
        startup = (self.t0 if self.t0 is not None else time.monotonic()) - self.created
        self.journal.log("end", status=status, error=error, wall_time_s=wall, startup_s=startup, test_score=test_score)
        self.journal.close()
        tables = derive(read_journal(self.rundir.journal_path))
        n = counts(tables)
        summary = {
            "name": self.rundir.dir.name,
            "status": status,
            "error": error,
            "scheduler": self.peer.name,
            "scheduler_label": self.peer.scheduler_label,
            "family": self.peer.family,
            "executor": self.executor,
            "workload": self.task.workload.name,
            "metric": self.task.metric,
            "mode": self.task.mode,
            "seed": self.task.seed,
            **n,
            "test_score": test_score,
            **regrets(n.get("best_score"), test_score, getattr(self.task.workload, "optimum", None), self.task.mode),
            "wall_time_s": wall,
            "startup_s": startup,
            "utilization": utilization(self.compute_s, self.task.n_workers, wall),
            "versions": self.versions(),
            "data": self.task.data.sizes(),
            "config": (tables.start or {}).get("config"),
            "peer": True,
        }
        if best_config is not None and dict(best_config) != n["best_config"]:
            summary["peer_best_config"] = dict(best_config)
        summary.update(extra)
        self.summary = jsonable(summary)
        self.rundir.write(tables, self.summary)
        return self.summary

    def __enter__(self) -> PeerLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is not None and self.summary is None:
            self.finish(
                status="interrupted" if isinstance(exc, KeyboardInterrupt) else "failed", error=f"{exc_type.__name__}: {exc}"
            )
        elif self.summary is None:
            self.journal.close()
