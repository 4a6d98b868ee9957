"""Ray Tune's ``ASHAScheduler``, ``HyperBandScheduler`` and ``PopulationBasedTraining`` as peers.

One ``ray.tune.Tuner`` per run, on a local Ray with ``num_cpus=n_workers`` (or the Ray session
already open in this process), at most ``n_workers`` trials running at once: each trial asks for
the session's CPUs over ``n_workers`` (:func:`trial_cpus`). A searcher's ``max_concurrent`` (or
``max_concurrent_trials``) would count paused trials too, so HyperBand's brackets would never fill
and PBT's population would run two members at a time. ``reuse_actors=True`` and
an absolute ``storage_path`` inside the run directory, removed afterwards. The function
trainable builds our workload's Trainable (the dataset goes to Ray once, through
``tune.with_parameters``), trains one ``partial_fit`` per step and reports the validation score
with ``ray.tune.report`` after every step, with a ``ray.tune.Checkpoint`` each step for
HyperBand (pause and resume) and PBT (exploit). Every scheduler uses our step count
(``time_attr="step"``) and ``max_t=max_iter``.

A driver-side ``tune.Callback`` journals every result as Tune processes it, with the wall time
the trainable observed it at; the decision is ``complete`` at ``max_iter``, ``stop`` when the
scheduler stopped the trial there, else ``continue``; a trial whose last result says
``continue`` (paused by HyperBand and never resumed, or cut by the budget) ends ``stopped``.
PBT keeps one trial per Tune trial: an exploit restores the donor's checkpoint and changes the
trial's config in place, logged as a ``peer_pbt_log`` table row (step, trial, donor, donor's
step, old and new config); the trial's row keeps its first config and the summary's
``peer_best_config`` the best trial's last one. A step budget is reserved step by step through
a small Ray actor, so it is never overshot: a trial finding it spent waits until a ``tune.Stopper``
ends the run once that many results are in. ``wall_time_s`` is Tune's ``time_budget_s``.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from unittest.mock import patch

from tunebench.algorithm import hyperband_n_trials
from tunebench.checks import Bool, Float, Int, check
from tunebench.compare.peer import Peer, PeerTask, PeerUnsupported
from tunebench.compare.peers.base import PeerLog
from tunebench.compare.peers.signals import handlers_kept
from tunebench.scheduler import seeded_draws, trial_seed
from tunebench.workloads.base import Dataset, Workload

STATE, META = "state.pkl", "meta.json"
LOGS: dict[int, PeerLog] = {}  # the open logs of running searches, by id: Tune pickles its callbacks, a log stays here


def trial_number(tune_trial_id: str) -> int:
    """Our trial id: the creation counter Ray Tune puts at the end of its trial id.

    >>> trial_number("a1b2c_00007")
    7
    """
    return int(tune_trial_id.rsplit("_", 1)[-1])


def read_checkpoint(checkpoint: Any) -> tuple[Any, dict[str, Any]]:
    """A Tune checkpoint's Trainable state and its meta (writer trial, step)."""
    with checkpoint.as_directory() as d:
        state = pickle.loads((Path(d) / STATE).read_bytes())
        meta = json.loads((Path(d) / META).read_text())
    return state, meta


def tune_trainable(
    config: dict[str, Any],
    workload: Workload,
    data: Dataset,
    seed: int,
    max_iter: int,
    metric: str,
    checkpoint: bool,
    budget: Any = None,
) -> None:
    """Ray Tune's function trainable: our Trainable, one ``partial_fit`` and one report per step."""
    from ray import tune

    tid = trial_number(tune.get_context().get_trial_id())
    trainable = workload.build(config, data, trial_seed(seed, tid))
    restored = {"restored_from": -1, "restored_step": -1}
    previous = tune.get_checkpoint()
    if previous is not None:
        state, meta = read_checkpoint(previous)
        trainable.restore(state)
        trainable.reset_config(config)  # PBT's explore; the same config after HyperBand's pause
        restored = {"restored_from": int(meta["writer"]), "restored_step": int(meta["step"])}
    params = json.dumps(config, sort_keys=True, default=str)
    while trainable.steps < max_iter:
        if budget is not None:
            import ray

            if not ray.get(budget.take.remote()):
                return  # the budget is spent: this trial ends, and the StepsSpent stopper ends the run
        t0 = time.perf_counter()
        trainable.train(1)
        t1 = time.perf_counter()
        score = trainable.score()
        metrics = {
            metric: score,
            "step": trainable.steps,
            "compute_s": t1 - t0,
            "score_s": time.perf_counter() - t1,
            "observed_at": time.time(),
            "pid": os.getpid(),
            "params": params,
            **restored,
        }
        restored = {"restored_from": -1, "restored_step": -1}
        if not checkpoint:
            tune.report(metrics)
            continue
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / STATE).write_bytes(pickle.dumps(trainable.save()))
            (Path(d) / META).write_text(json.dumps({"writer": tid, "step": trainable.steps}))
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(d))


class StepsSpent:
    """A ``tune.Stopper`` ending the whole run once ``total_steps`` results are in (duck-typed:
    Tune calls it per result and asks ``stop_all``)."""

    def __init__(self, total_steps: int | None) -> None:
        self.total_steps, self.seen = total_steps, 0

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        self.seen += 1
        return False

    def stop_all(self) -> bool:
        return self.total_steps is not None and self.seen >= self.total_steps


class StepBudget:
    """Steps left in the run; ``take`` reserves one (a Ray actor shared by every trial)."""

    def __init__(self, steps: int) -> None:
        self.left = steps

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def stopper(total_steps: int | None) -> Any:
    """A real ``tune.Stopper`` around :class:`StepsSpent`."""
    from ray import tune

    class Stopper(StepsSpent, tune.Stopper):
        pass

    return Stopper(total_steps)


STALL_S = 60.0


class TuneStalled(RuntimeError):
    """Tune kept trials paused with nothing running, pending or left to create."""


def stalled(statuses: list[str]) -> bool:
    """Whether Tune is making no progress now: trials wait (paused or pending) and none runs. Tune
    starts a waiting trial within seconds when it can, so this lasting :data:`STALL_S` means it
    never will (a paused trial its scheduler never resumes, a trial no CPU is left for).

    >>> stalled(["PAUSED", "TERMINATED"]), stalled(["PAUSED", "RUNNING"]), stalled(["TERMINATED"])
    (True, False, False)
    """
    waiting = {"PAUSED", "PENDING"} & set(statuses)
    return bool(waiting) and "RUNNING" not in statuses


def trial_cpus(session_cpus: float, n_workers: int) -> float:
    """The CPUs one trial asks for so that ``n_workers`` trials fill the session: its share, whole
    above one CPU (Ray's rule for resource amounts), so then up to ``session_cpus // share`` run.

    >>> trial_cpus(2.0, 2), trial_cpus(1.0, 4), trial_cpus(8.0, 3)
    (1.0, 0.25, 2.0)
    """
    share = session_cpus / n_workers
    return share if share <= 1 else float(int(share))


def recorder(log: PeerLog, metric: str, max_iter: int) -> Any:
    """A ``tune.Callback`` journaling every result (and PBT's config changes) as Tune sees it;
    it ends a search that has :func:`stalled` for :data:`STALL_S` seconds with :class:`TuneStalled`."""
    from ray import tune

    key = id(log)
    LOGS[key] = log

    class Recorder(tune.Callback):
        def __init__(self) -> None:
            self.params: dict[int, str] = {}
            self.last: dict[int, str] = {}
            self.stalled_since: float | None = None

        def on_step_begin(self, iteration: int, trials: list[Any], **info: Any) -> None:
            statuses = [str(t.status) for t in trials]
            if not stalled(statuses):
                self.stalled_since = None
                return
            now = time.monotonic()
            self.stalled_since = self.stalled_since or now
            if now - self.stalled_since > STALL_S:
                raise TuneStalled(
                    f"Ray Tune ran none of {len(statuses)} trials for {STALL_S:.0f} s, with "
                    f"{statuses.count('PAUSED')} paused and {statuses.count('PENDING')} pending"
                )

        def __reduce__(
            self,
        ) -> tuple[Any, tuple[()]]:  # Tune pickles its callbacks for a restore; this one lives in the driver only
            return tune.Callback, ()

        def on_trial_result(self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any) -> None:
            log = LOGS[key]
            tid, step, params = trial_number(trial.trial_id), int(result["step"]), str(result["params"])
            if tid not in self.params:
                log.trial(tid, json.loads(params))
            elif params != self.params[tid]:
                log.journal.log(
                    "table",
                    name="peer_pbt_log",
                    row={
                        "step": step,
                        "trial_id": tid,
                        "donor": int(result["restored_from"]),
                        "donor_step": int(result["restored_step"]),
                        "old_config": self.params[tid],
                        "new_config": params,
                    },
                )
            self.params[tid] = params
            decision = "complete" if step >= max_iter else "stop" if result.get("done") else "continue"
            self.last[tid] = decision
            log.result(
                tid,
                step,
                float(result[metric]),
                1,
                decision=decision,
                worker=f"pid:{result['pid']}",
                compute_s=float(result["compute_s"]),
                score_s=float(result["score_s"]),
                elapsed_s=log.since_begin(float(result["observed_at"])),
            )

    return Recorder()


class RayTunePeer(Peer):
    """A Ray Tune scheduler behind ``Tuner``; subclasses build the scheduler."""

    family: ClassVar[str] = "ray-tune"
    checkpoints: ClassVar[bool] = False
    shared = {"eta": "eta", "n_trials": "n_trials"}
    received = {"eta": "reduction_factor", "n_trials": "num_samples"}
    params = {
        "eta": Int(2, note="the reduction_factor"),
        "n_trials": Int(1, optional=True, note="null: as many as Hyperband plans"),
    }

    def __init__(self, eta: int = 3, n_trials: int | None = None) -> None:
        self.eta: int = check(self, "eta", eta)
        self.n_trials: int | None = check(self, "n_trials", n_trials)

    def make_scheduler(self, task: PeerTask) -> Any:
        raise NotImplementedError

    def first_configs(self, task: PeerTask) -> list[dict[str, Any]]:
        """Configs the first trials run before Tune draws its own (none: Tune draws them all)."""
        return []

    def n_trials_for(self, task: PeerTask) -> int:
        return task.n_trials or self.n_trials or hyperband_n_trials(task.max_iter, self.eta)

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        if "n_trials" not in settings:  # PBT: the population
            return settings
        return {**settings, "n_trials": settings["n_trials"] or hyperband_n_trials(max_iter, settings["eta"])}

    def check(self, task: PeerTask) -> None:
        from tunebench.convert import to_ray_tune

        try:
            to_ray_tune(task.space)
        except ValueError as exc:
            raise PeerUnsupported(str(exc)) from None

    def versions(self) -> dict[str, str]:
        import ray

        return {"ray": ray.__version__}

    def notes(self) -> str:
        return (
            "configs drawn by BasicVariantGenerator(random_state=seed) are reproducible; with more than one worker "
            "the order results arrive in (so which trials a rung stops) depends on timing"
        )

    def run(self, task: PeerTask, out_dir: str | Path) -> dict[str, Any]:
        from tunebench.executors.cluster import start_ray

        self.check(task)
        with PeerLog(out_dir, task, self) as log:
            session = start_ray(None, task.n_workers)
            storage = Path(tempfile.mkdtemp(prefix="ray-tune-", dir=Path(out_dir).resolve()))
            try:
                log.begin(executor=f"ray:{task.n_workers}", config={"ray_scheduler": type(self.make_scheduler(task)).__name__})
                results = self.fit(task, log, storage)
                test_score, best_config = self.test_score(task, log, results)
            finally:
                shutil.rmtree(storage, ignore_errors=True)
                session.close()
            return log.finish(
                best_config=best_config,
                test_score=test_score,
                notes=self.notes(),
                n_samples=self.n_trials_for(task),
                ray_errors=results.num_errors,
            )

    def fit(self, task: PeerTask, log: PeerLog, storage: Path) -> Any:
        """Run the Tuner; mark the trials whose last result left them ``continue`` as stopped."""
        import ray
        from ray import tune
        from ray.tune.search.basic_variant import BasicVariantGenerator

        from tunebench.convert import to_ray_tune

        budget = None
        if task.total_steps is not None:
            budget = ray.remote(num_cpus=0)(StepBudget).remote(task.total_steps)
        trainable = tune.with_parameters(
            tune_trainable,
            workload=task.workload,
            data=task.data,
            seed=task.seed,
            max_iter=task.max_iter,
            metric=task.metric,
            checkpoint=self.checkpoints,
            budget=budget,
        )
        trainable = tune.with_resources(trainable, {"cpu": trial_cpus(ray.cluster_resources().get("CPU", 1.0), task.n_workers)})
        rec = recorder(log, task.metric, task.max_iter)
        tuner = tune.Tuner(
            trainable,
            param_space=to_ray_tune(task.space),
            tune_config=tune.TuneConfig(
                metric=task.metric,
                mode=task.mode,
                scheduler=self.make_scheduler(task),
                num_samples=self.n_trials_for(task),
                reuse_actors=True,
                time_budget_s=task.wall_time_s,
                search_alg=BasicVariantGenerator(random_state=task.seed, points_to_evaluate=self.first_configs(task) or None),
            ),
            run_config=tune.RunConfig(
                name="tune",
                storage_path=str(storage),
                verbose=0,
                callbacks=[rec],
                stop=stopper(task.total_steps),
            ),
        )
        try:
            # a trial that finds the step budget spent ends without a result, which Tune's strict metric check calls an error
            with handlers_kept(), patch.dict(os.environ, {"TUNE_DISABLE_STRICT_METRIC_CHECKING": "1"}):
                results = tuner.fit()
        finally:
            LOGS.pop(id(log), None)
        for tid, decision in sorted(rec.last.items()):
            if decision == "continue":
                log.journal.log("status", trial_id=tid, status="stopped", error=None)
        for r in results:
            if r.error is not None and r.metrics and "trial_id" in r.metrics:
                log.fail(trial_number(r.metrics["trial_id"]), f"{type(r.error).__name__}: {r.error}")
        return results

    def test_score(self, task: PeerTask, log: PeerLog, results: Any) -> tuple[float | None, dict[str, Any] | None]:
        """The best trial's (our rule) final model on the test split, and the config it ended with:
        from its last checkpoint, or (no checkpoints) retrained from scratch, which gives the same model."""
        best = log.best()
        if best is None:
            return None, None
        tid = int(best["trial_id"])
        result = next(r for r in results if r.metrics and trial_number(r.metrics["trial_id"]) == tid)
        config = json.loads(result.metrics["params"])
        trainable = task.workload.build(config, task.data, trial_seed(task.seed, tid))
        if result.checkpoint is not None:
            trainable.restore(read_checkpoint(result.checkpoint)[0])
        else:
            trainable.train(int(best["steps"]))
        return float(trainable.test_score()), config


class RayTuneASHA(RayTunePeer):
    """``ASHAScheduler(time_attr="step", max_t=max_iter, grace_period=min_iter, reduction_factor=eta)``:
    the stopping variant (a trial below a rung's top ``1/eta`` stops there)."""

    name = "ray-tune-asha"
    scheduler_label = "ASHAScheduler"
    algorithm = "asha"
    shared = {**RayTunePeer.shared, "min_iter": "min_iter"}
    received = {**RayTunePeer.received, "min_iter": "grace_period"}
    fixed = {"variant": "stopping"}
    params = {**RayTunePeer.params, "min_iter": Int(1, note="the grace_period: steps before the first rung")}

    def __init__(self, eta: int = 3, n_trials: int | None = None, min_iter: int = 1) -> None:
        super().__init__(eta=eta, n_trials=n_trials)
        self.min_iter: int = check(self, "min_iter", min_iter)

    def check(self, task: PeerTask) -> None:
        super().check(task)
        if self.min_iter > task.max_iter:
            raise PeerUnsupported(f"{self.name}: min_iter={self.min_iter} is more than max_iter={task.max_iter}")

    def make_scheduler(self, task: PeerTask) -> Any:
        from ray.tune.schedulers import ASHAScheduler

        return ASHAScheduler(time_attr="step", max_t=task.max_iter, grace_period=self.min_iter, reduction_factor=self.eta)


class RayTuneHyperBand(RayTunePeer):
    """``HyperBandScheduler(time_attr="step", max_t=max_iter, reduction_factor=eta)``: synchronous, pauses at rungs."""

    name = "ray-tune-hyperband"
    scheduler_label = "HyperBandScheduler"
    algorithm = "hyperband"
    checkpoints = True

    def make_scheduler(self, task: PeerTask) -> Any:
        from ray.tune.schedulers import HyperBandScheduler

        return HyperBandScheduler(time_attr="step", max_t=task.max_iter, reduction_factor=self.eta)


class RayTunePBT(RayTunePeer):
    """``PopulationBasedTraining(time_attr="step", ...)`` over the whole space; ``n_trials`` is the population."""

    name = "ray-tune-pbt"
    scheduler_label = "PopulationBasedTraining"
    checkpoints = True
    algorithm = "pbt"
    shared = {
        "population": "n_trials",
        "perturbation_interval": "perturbation_interval",
        "quantile_fraction": "quantile_fraction",
        "resample_probability": "resample_probability",
        "synch": "synch",
    }
    received = {"population": "num_samples"}
    params = {
        "n_trials": Int(1, optional=True, note="the population; null: 8"),
        "perturbation_interval": Int(1),
        "quantile_fraction": Float(0, 0.5, low_open=True),
        "resample_probability": Float(0, 1),
        "synch": Bool(),
        "same_start": Bool(note="start from the population our pbt draws for the seed"),
    }

    def __init__(
        self,
        n_trials: int | None = None,
        perturbation_interval: int = 3,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        synch: bool = False,
        same_start: bool = False,
    ) -> None:
        super().__init__(n_trials=n_trials)
        self.perturbation_interval: int = check(self, "perturbation_interval", perturbation_interval)
        self.quantile_fraction: float = check(self, "quantile_fraction", quantile_fraction)
        self.resample_probability: float = check(self, "resample_probability", resample_probability)
        self.synch: bool = check(self, "synch", synch)
        self.same_start: bool = check(self, "same_start", same_start)

    def first_configs(self, task: PeerTask) -> list[dict[str, Any]]:
        """With ``same_start``, the population our ``pbt`` starts from at this seed; each trial
        also trains with our trial's seed, so the two runs differ from the first exploit on."""
        return seeded_draws(task.space, task.seed, self.n_trials_for(task)) if self.same_start else []

    def n_trials_for(self, task: PeerTask) -> int:
        return task.n_trials or self.n_trials or 8

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        settings = super().effective_settings(config, max_iter, total_steps)
        return {**settings, "population": settings["population"] or 8}

    def make_scheduler(self, task: PeerTask) -> Any:
        from ray.tune.schedulers import PopulationBasedTraining

        from tunebench.convert import to_ray_tune

        random.seed(task.seed)  # PBT explores with the global random module (ray#13616)
        mutations = {k: v for k, v in to_ray_tune(task.space).items() if hasattr(v, "sample")}
        return PopulationBasedTraining(
            time_attr="step",
            perturbation_interval=self.perturbation_interval,
            hyperparam_mutations=mutations,
            quantile_fraction=self.quantile_fraction,
            resample_probability=self.resample_probability,
            synch=self.synch,
        )

    def notes(self) -> str:
        start = "; the population is the one our pbt draws for the seed (same_start)" if self.same_start else ""
        return (
            super().notes() + start + "; PBT's explore draws from Python's global random module, seeded once before the run "
            "(ray#13616), and its exploits depend on arrival order; perturbed values may leave the space's bounds (ray#5035)"
        )
