"""Dask-ML's ``HyperbandSearchCV`` and ``SuccessiveHalvingSearchCV`` as peers, on a local Dask cluster.

Each run starts a ``distributed.LocalCluster`` of ``n_workers`` single-threaded worker
processes (forked as our Dask executor's are, with its diagnostics settings unless
``dask_defaults``), imports the estimator's module on every worker, and then starts the clock
and calls ``fit`` under ``dask.config.set(scheduler=client.get)``, as Dask-ML's documentation
does. Everything ``fit`` does (persisting the data, creating the models, its speculative
``partial_fit`` calls) is inside the wall time.

The split. ``fit(X, y)`` gets our training rows followed by our validation rows, and the
search's ``_get_train_test_split`` (Dask-ML's hook for the split; ``test_size`` would draw
rows at random) returns exactly those: the training rows as a Dask array with one block per
training chunk of the workload (one ``partial_fit`` call each), our validation rows as the
search's test set. Hyperband's brackets get the same split. The scorer is the workload's
(for SGD the estimator's ``score``: accuracy), so every score Dask-ML sees is our validation
metric. Dask-ML visits the training blocks in a seeded random order per pass; with the default
chunk (the whole training set) that is our order.

Records. Dask-ML scores a model after each batch of calls it grants (at every rung), not after
every call: each score is one results row, with ``n_steps`` the calls since the last one, seen
at the time Dask-ML's policy received it (our clock, from the start of ``fit``). The decision
is ``complete`` at ``max_iter``, ``continue`` when the policy gave the model more calls, else
``stop``. The summary's ``utilization`` is the workers' compute time in Dask's task stream
over workers x wall time; the test score is Dask-ML's ``best_estimator_`` (its own pick,
``best_params_``) on our test split.

Budgets. ``max_iter`` and ``eta`` (Dask-ML's ``aggressiveness``) fix how many models Dask-ML
starts and how many calls it makes. A step budget is reserved round by round: every model's
first call is reserved up front (Dask-ML submits them all at once; a budget smaller than that
is unsupported), and a bracket whose next round of calls does not fit ends there. A wall-time
budget ends each bracket at its first round after the time has passed.
"""

from __future__ import annotations

import abc
import functools
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tunebench.checks import Bool, Int, check
from tunebench.compare.peer import Peer, PeerTask, PeerUnsupported
from tunebench.compare.peers.base import PeerLog
from tunebench.compare.peers.estimators import EstimatorParts, estimator_parts, scipy_space, warm


def sha_calls(n: int, r: int, eta: int, max_iter: int) -> int:
    """The ``partial_fit`` calls of Dask-ML's successive halving from ``n`` models at ``r`` calls.

    >>> sha_calls(81, 1, 3, 81), sha_calls(9, 9, 3, 81)
    (297, 189)
    """
    calls = [0] * n
    k = 0
    while True:
        n_i, r_i = int(math.floor(n * eta**-k)), int(np.round(r * eta**k))
        calls[:n_i] = [r_i] * n_i
        if n_i <= 1 or r_i >= max_iter:
            return sum(calls)
        k += 1


def hyperband_brackets(max_iter: int, eta: int) -> dict[int, tuple[int, int]]:
    """Hyperband's brackets (Li et al. 2018) as Dask-ML numbers them: ``s -> (models, first calls)``,
    in integer arithmetic (Dask-ML's floating-point ``log`` drops a bracket at ``max_iter=243``).

    >>> hyperband_brackets(9, 3)
    {0: (3, 9), 1: (5, 3), 2: (9, 1)}
    """
    s_max = 0
    while eta ** (s_max + 1) <= max_iter:
        s_max += 1
    budget = (s_max + 1) * max_iter
    return {s: (-(-(budget * eta**s) // (max_iter * (s + 1))), max_iter // eta**s) for s in range(s_max + 1)}


def hyperband_calls(max_iter: int, eta: int) -> int:
    """The ``partial_fit`` calls of a whole Hyperband run with no early stopping.

    >>> hyperband_calls(9, 3), hyperband_calls(81, 3)
    (69, 1581)
    """
    return sum(sha_calls(n, r, eta, max_iter) for n, r in hyperband_brackets(max_iter, eta).values())


class ValidationSplit:
    """Dask-ML's split hook returning ours: the first ``n_train`` rows train, the rest (our validation rows) test."""

    def __init__(self, n_train: int) -> None:
        self.n_train = n_train

    def __call__(self, X: Any, y: Any, **kwargs: Any) -> tuple[Any, Any, Any, Any]:
        n = self.n_train
        return X[:n], X[n:], y[:n], y[n:]


class Recorder:
    """Wraps each bracket's ``_additional_calls`` (Dask-ML's policy, called on the driver with every
    model's history whenever new scores are in): journals each new score, then reserves the calls
    the policy grants against the budget, ending the bracket when they do not fit."""

    def __init__(self, log: PeerLog, task: PeerTask, n_models: int) -> None:
        self.log, self.task = log, task
        self.left = None if task.total_steps is None else task.total_steps - n_models
        self.seen: dict[int, int] = {}  # our trial id -> history entries journaled
        self.cut = 0

    def wrap(
        self, policy: Callable[[dict[int, list[dict[str, Any]]]], dict[int, int]], offset: int
    ) -> Callable[..., dict[int, int]]:
        def calls(info: dict[int, list[dict[str, Any]]]) -> dict[int, int]:
            now = self.log.elapsed()
            instructions = dict(policy(info))
            if self.over_budget(instructions):
                self.cut += sum(1 for k in instructions.values() if k > 0)
                instructions = {ident: 0 for ident in instructions}
            for ident, hist in info.items():
                self.journal(offset + int(ident), hist, instructions.get(ident, 0), now)
            return instructions

        return calls

    def over_budget(self, instructions: dict[int, int]) -> bool:
        wanted = sum(max(0, int(k)) for k in instructions.values())
        if wanted and self.task.wall_time_s is not None and self.log.elapsed() >= self.task.wall_time_s:
            return True
        if self.left is None or not wanted:
            return False
        if wanted > self.left:
            return True
        self.left -= wanted
        return False

    def journal(self, tid: int, hist: list[dict[str, Any]], granted: int, now: float) -> None:
        done = self.seen.get(tid, 0)
        if done == 0 and hist:
            self.log.trial(tid, dict(hist[0]["params"]))
        for i in range(done, len(hist)):
            meta = hist[i]
            calls = int(meta["partial_fit_calls"])
            before = int(hist[i - 1]["partial_fit_calls"]) if i else 0
            last = i == len(hist) - 1
            decision = "complete" if calls >= self.task.max_iter else "continue" if (not last or granted > 0) else "stop"
            self.log.result(
                tid,
                calls,
                float(meta["score"]),
                calls - before,
                decision=decision,
                score_s=float(meta["score_time"]),
                elapsed_s=now,
            )
        self.seen[tid] = len(hist)


@functools.cache
def search_classes() -> tuple[type, type]:
    """Dask-ML's two searches, splitting on our rows and reporting through a :class:`Recorder`."""
    from dask_ml.model_selection import HyperbandSearchCV, SuccessiveHalvingSearchCV

    class OurSuccessiveHalving(SuccessiveHalvingSearchCV):
        def hook(self, split: ValidationSplit, recorder: Recorder, offset: int = 0) -> None:
            self._get_train_test_split = split
            self._additional_calls = recorder.wrap(self._additional_calls, offset)

    class OurHyperband(HyperbandSearchCV):
        def hook(self, split: ValidationSplit, recorder: Recorder) -> None:
            self._split, self._recorder = split, recorder

        def _get_SHAs(self, brackets: dict[int, tuple[int, int]]) -> dict[int, Any]:
            SHAs = super()._get_SHAs(brackets)
            if hasattr(self, "_recorder"):
                for b, offset in bracket_offsets(brackets).items():
                    OurSuccessiveHalving.hook(SHAs[b], self._split, self._recorder, offset)
            return SHAs

    return OurHyperband, OurSuccessiveHalving


def bracket_offsets(brackets: dict[int, tuple[int, int]]) -> dict[int, int]:
    """Our trial id of each bracket's model 0: brackets numbered most adaptive first, as Dask-ML runs them.

    >>> bracket_offsets({0: (5, 81), 1: (8, 27), 2: (81, 1)})
    {2: 0, 1: 81, 0: 89}
    """
    out, start = {}, 0
    for b in sorted(brackets, reverse=True):
        out[b] = start
        start += brackets[b][0]
    return out


class DaskMLPeer(Peer):
    """A Dask-ML incremental search; subclasses build it."""

    family: ClassVar[str] = "dask-ml"
    params = {
        "eta": Int(2, note="Dask-ML's aggressiveness"),
        "dask_defaults": Bool(
            note="true: the cluster at Dask's default settings; false: our Dask executor's diagnostics settings"
        ),
    }

    def __init__(self, eta: int = 3, dask_defaults: bool = False) -> None:
        self.eta: int = check(self, "eta", eta)
        self.dask_defaults: bool = check(self, "dask_defaults", dask_defaults)

    @abc.abstractmethod
    def make_search(self, task: PeerTask, parts: EstimatorParts) -> Any:
        raise NotImplementedError

    @abc.abstractmethod
    def n_models(self, task: PeerTask) -> int:
        raise NotImplementedError

    @abc.abstractmethod
    def planned_calls(self, task: PeerTask) -> int:
        raise NotImplementedError

    def check(self, task: PeerTask) -> None:
        estimator_parts(task, self.name)
        scipy_space(task)
        if task.total_steps is not None and task.total_steps < self.n_models(task):
            raise PeerUnsupported(
                f"{self.name}: Dask-ML gives each of its {self.n_models(task)} models a first partial_fit call before it can stop any; "
                f"a budget of total_steps={task.total_steps} is smaller than that"
            )

    def versions(self) -> dict[str, str]:
        import dask
        import dask_ml
        import distributed

        return {"dask-ml": dask_ml.__version__, "dask": dask.__version__, "distributed": distributed.__version__}

    def arrays(self, task: PeerTask) -> tuple[Any, Any]:
        """Our training rows (one block per chunk) followed by our validation rows (one block)."""
        import dask.array as da

        d = task.data
        X = da.concatenate(
            [da.from_array(d.X_train, chunks=(d.chunk_size, -1)), da.from_array(d.X_val, chunks=(len(d.X_val), -1))]
        )
        y = da.concatenate([da.from_array(d.y_train, chunks=d.chunk_size), da.from_array(d.y_val, chunks=len(d.y_val))])
        return X, y

    def cluster(self, task: PeerTask) -> Any:
        """A LocalCluster of ``n_workers`` single-threaded processes, forked as our executor's are
        (:func:`~tunebench.executors.forked.dask_worker_settings`), with our diagnostics settings
        or, with ``dask_defaults``, Dask's."""
        import dask
        from distributed import LocalCluster

        from tunebench.executors.dask_executor import DIAGNOSTICS
        from tunebench.executors.forked import dask_worker_settings

        with dask.config.set({**({} if self.dask_defaults else DIAGNOSTICS), **dask_worker_settings()}):
            return LocalCluster(
                n_workers=task.n_workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
            )

    def run(self, task: PeerTask, out_dir: str | Path) -> dict[str, Any]:
        import dask
        from distributed import Client, get_task_stream

        self.check(task)
        parts = estimator_parts(task, self.name)
        with PeerLog(out_dir, task, self) as log:
            cluster = self.cluster(task)
            client = Client(cluster)
            try:
                client.wait_for_workers(task.n_workers, timeout=120)
                for module in (type(parts.estimator).__module__, "dask_ml.model_selection._incremental"):
                    client.run(warm, module)
                search = self.make_search(task, parts)
                recorder = Recorder(log, task, self.n_models(task))
                search.hook(ValidationSplit(len(task.data.X_train)), recorder)
                X, y = self.arrays(task)
                log.begin(
                    executor=f"dask-localcluster:{task.n_workers}",
                    config={"search": type(search).__mro__[1].__name__, "planned_partial_fit_calls": self.planned_calls(task)},
                )
                with get_task_stream(client) as stream, dask.config.set(scheduler=client.get):
                    search.fit(X, y, **parts.fit_params)
                fit_s = log.elapsed()
                log.compute_s = sum(
                    s["stop"] - s["start"] for t in stream.data for s in t["startstops"] if s["action"] == "compute"
                )
            finally:
                client.close()
                cluster.close()
            test = float(parts.scorer(search.best_estimator_, task.data.X_test, task.data.y_test))
            return log.finish(
                best_config={k: to_plain(v) for k, v in search.best_params_.items()},
                test_score=test,
                notes=self.notes(),
                fit_s=fit_s,
                budget_cut_models=recorder.cut,
                dask_ml_best_score=float(search.best_score_),
            )

    def notes(self) -> str:
        return (
            "scores once per batch of calls Dask-ML grants (at each rung), not after every call; models, the sampled configs "
            "and the block order are seeded by the cell seed; which models survive a rung does not depend on timing; "
            "the test score is Dask-ML's best_estimator_ (its pick, best_params_)"
        )


def to_plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class DaskMLHyperband(DaskMLPeer):
    """``HyperbandSearchCV(max_iter=max_iter, aggressiveness=eta, random_state=seed)``."""

    name = "dask-ml-hyperband"
    scheduler_label = "HyperbandSearchCV"
    algorithm = "hyperband"
    shared = {"eta": "eta"}
    received = {"eta": "aggressiveness"}

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        from dask_ml.model_selection._hyperband import _get_hyperband_params

        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": sum(int(n) for n, _ in _get_hyperband_params(max_iter, eta=settings["eta"]).values())}

    def brackets(self, task: PeerTask) -> dict[int, tuple[int, int]]:
        from dask_ml.model_selection._hyperband import _get_hyperband_params

        return {int(b): (int(n), int(r)) for b, (n, r) in _get_hyperband_params(task.max_iter, eta=self.eta).items()}

    def n_models(self, task: PeerTask) -> int:
        return sum(n for n, _ in self.brackets(task).values())

    def planned_calls(self, task: PeerTask) -> int:
        return sum(sha_calls(n, r, self.eta, task.max_iter) for n, r in self.brackets(task).values())

    def make_search(self, task: PeerTask, parts: EstimatorParts) -> Any:
        hyperband, _ = search_classes()
        return hyperband(
            parts.estimator,
            scipy_space(task),
            max_iter=task.max_iter,
            aggressiveness=self.eta,
            random_state=task.seed,
            scoring=parts.scorer,
        )


def largest_power(eta: int, max_iter: int) -> int:
    """The largest power of ``eta`` at most ``max_iter``: Hyperband's most aggressive bracket's size.

    >>> largest_power(3, 81), largest_power(3, 80), largest_power(2, 1)
    (81, 27, 1)
    """
    power = 1
    while power * eta <= max_iter:
        power *= eta
    return power


class DaskMLSuccessiveHalving(DaskMLPeer):
    """``SuccessiveHalvingSearchCV(n_initial_parameters, n_initial_iter, max_iter, aggressiveness=eta)``.

    By default Hyperband's most aggressive bracket: ``eta**s`` models (the largest power of
    ``eta`` at most ``max_iter``; ``n_trials`` overrides it) starting at one call each.
    """

    name = "dask-ml-successive-halving"
    scheduler_label = "SuccessiveHalvingSearchCV"
    algorithm = "successive_halving"
    shared = {"eta": "eta", "n_trials": "n_trials", "min_iter": "n_initial_iter"}
    received = {"eta": "aggressiveness", "n_trials": "n_initial_parameters"}
    params = {
        "n_trials": Int(1, optional=True, note="Dask-ML's n_initial_parameters; null: the largest power of eta <= max_iter"),
        "n_initial_iter": Int(1, note="calls every model gets first"),
    }

    def __init__(self, eta: int = 3, n_trials: int | None = None, n_initial_iter: int = 1, dask_defaults: bool = False) -> None:
        super().__init__(eta=eta, dask_defaults=dask_defaults)
        self.n_trials: int | None = check(self, "n_trials", n_trials)
        self.n_initial_iter: int = check(self, "n_initial_iter", n_initial_iter)

    def n_models(self, task: PeerTask) -> int:
        return int(task.n_trials or self.n_trials or largest_power(self.eta, task.max_iter))

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "n_trials": settings["n_trials"] or largest_power(settings["eta"], max_iter)}

    def planned_calls(self, task: PeerTask) -> int:
        return sha_calls(self.n_models(task), self.n_initial_iter, self.eta, task.max_iter)

    def make_search(self, task: PeerTask, parts: EstimatorParts) -> Any:
        _, sha = search_classes()
        return sha(
            parts.estimator,
            scipy_space(task),
            n_initial_parameters=self.n_models(task),
            n_initial_iter=self.n_initial_iter,
            max_iter=task.max_iter,
            aggressiveness=self.eta,
            random_state=task.seed,
            scoring=parts.scorer,
        )
