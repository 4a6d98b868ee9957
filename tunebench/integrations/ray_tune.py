"""Our schedulers inside Ray Tune: a ``TrialScheduler`` and a ``Searcher`` sharing one of them.

::

    from ray import tune
    from tunebench.integrations.ray_tune import tune_config

    asha = ASHA(space, max_iter=27, variant="promotion", n_trials=20, seed=0)
    tune.Tuner(trainable, tune_config=tune_config(asha, metric="score", mode="max")).fit()

The searcher creates one Tune trial per new trial of our scheduler (with its config; the
scheduler owns the search space, so give the ``Tuner`` no ``param_space`` distributions); the
Tune scheduler maps each reported result to our :class:`~tunebench.trial.Result` (the step is
the result's ``step`` key, else ``training_iteration``) and our
:class:`~tunebench.trial.Decision` back to ``CONTINUE`` / ``PAUSE`` / ``STOP``. Paused trials
resume through ``choose_trial_to_run`` from their last checkpoint, so the trainable must
report one result per step with a checkpoint (``ray.tune.report(metrics,
checkpoint=Checkpoint.from_directory(d))``) and restore from ``ray.tune.get_checkpoint()``.

Only public Tune interfaces are used: the ``TrialScheduler`` and ``Searcher`` hooks, and the
two controller methods Tune hands every scheduler (``get_trials``, ``stop_trial``, which Ray's
own ``HyperBandScheduler`` uses for paused trials). PBT is refused: see
:data:`~tunebench.integrations.tune_bridge.CLONE_UNSUPPORTED`.

``max_concurrent_trials`` becomes the number of our Jobs out at once (default: the Ray
cluster's CPUs) instead of Tune's ``ConcurrencyLimiter``, which counts paused trials as live
and would stall promotion-based ASHA. With ``max_concurrent_trials=1`` the order of events is
fixed, so the same seed gives the same trials promoted and stopped.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

from ray.tune import TuneConfig
from ray.tune.experiment import Trial
from ray.tune.schedulers import TrialScheduler
from ray.tune.search import Searcher

from tunebench.integrations.tune_bridge import CLONE_UNSUPPORTED, FINISHED, Bridge
from tunebench.names import did_you_mean

if TYPE_CHECKING:
    from ray.tune.execution.tune_controller import TuneController

__all__ = ["TunebenchScheduler", "TunebenchSearcher", "tune_config", "CLONE_UNSUPPORTED"]

_ACTIONS = {"continue": TrialScheduler.CONTINUE, "pause": TrialScheduler.PAUSE, "stop": TrialScheduler.STOP}
_TAKEN = ("scheduler", "search_alg", "num_samples", "metric", "mode")


def cluster_cpus() -> int:
    """CPUs of the running Ray cluster (one Job per CPU)."""
    import ray

    return int(ray.cluster_resources().get("CPU", 1))


def _check_mode(scheduler: Any, mode: str | None) -> None:
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}{did_you_mean(mode, ('max', 'min'))}")
    if getattr(scheduler, "mode", mode) != mode:
        raise ValueError(
            f"mode {mode!r} differs from the scheduler's mode {scheduler.mode!r}; build the scheduler with mode={mode!r}"
        )


class TunebenchScheduler(TrialScheduler):
    """Tune's scheduler half: results in, CONTINUE / PAUSE / STOP out, paused trials resumed."""

    _supports_buffered_results = False  # a PAUSE must take effect at the step it answers

    def __init__(self, bridge: Bridge, metric: str, mode: str, step_key: str = "step") -> None:
        super().__init__()
        self.bridge = bridge
        self._metric = metric
        self._mode = mode
        self.step_key = step_key

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        if metric is not None and metric != self._metric:
            raise ValueError(f"metric {metric!r} differs from tune_config's metric {self._metric!r}")
        if mode is not None:
            _check_mode(self.bridge.scheduler, mode)
        return True

    def step_of(self, result: dict[str, Any]) -> int:
        return int(result.get(self.step_key, result["training_iteration"]))

    def on_trial_add(self, tune_controller: TuneController, trial: Trial) -> None:
        pass

    def on_trial_result(self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]) -> str:
        if self._metric not in result:
            raise ValueError(f"Tune trial {trial.trial_id} reported no {self._metric!r}; it reported {sorted(result)[:12]}")
        action, stop = self.bridge.on_result(trial.trial_id, self.step_of(result), float(result[self._metric]))
        self._stop(tune_controller, stop)
        return _ACTIONS[action]

    def on_trial_error(self, tune_controller: TuneController, trial: Trial) -> None:
        error = f"TuneError: Ray Tune trial {trial.trial_id} failed ({trial.error_file or 'no error file'})"
        self._stop(tune_controller, self.bridge.on_failure(trial.trial_id, error))

    def on_trial_complete(self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]) -> None:
        step = self.step_of(result) if result and "training_iteration" in result else None
        self._stop(tune_controller, self.bridge.on_complete(trial.trial_id, step))

    def on_trial_remove(self, tune_controller: TuneController, trial: Trial) -> None:
        self.bridge.stopped(trial.trial_id)

    def choose_trial_to_run(self, tune_controller: TuneController) -> Trial | None:
        """The first paused trial our scheduler resumed; ``None`` if Tune should start its
        pending (new) trials or wait. Idempotent until that trial runs."""
        trials = {t.trial_id: t for t in tune_controller.get_trials()}
        self._stop(tune_controller, self.bridge.stops(), trials)
        for tune_id in self.bridge.resume_order():
            trial = trials.get(tune_id)
            if trial is not None and trial.status == Trial.PAUSED:
                return trial
        return None

    def _stop(self, tune_controller: TuneController, tune_ids: list[str], trials: dict[str, Trial] | None = None) -> None:
        """Stop Tune trials our scheduler stopped, once they are paused or pending (one still
        saving its pause checkpoint is stopped on a later call)."""
        if not tune_ids:
            return
        trials = trials if trials is not None else {t.trial_id: t for t in tune_controller.get_trials()}
        for tune_id in tune_ids:
            trial = trials.get(tune_id)
            if trial is None or trial.status in (Trial.TERMINATED, Trial.ERROR):
                self.bridge.stopped(tune_id)
            elif trial.status in (Trial.PAUSED, Trial.PENDING):
                tune_controller.stop_trial(trial)
                self.bridge.stopped(tune_id)

    def debug_string(self) -> str:
        b = self.bridge
        return f"tunebench {type(b.scheduler).__name__}: {len(b.scheduler.trials)} trials, {len(b.out)} Jobs out, {len(b.resume)} to resume"


class TunebenchSearcher(Searcher):
    """Tune's searcher half: a new Tune trial for each new trial of our scheduler."""

    def __init__(self, bridge: Bridge, metric: str, mode: str) -> None:
        super().__init__(metric=metric, mode=mode)
        self.bridge = bridge

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any) -> bool:
        from ray.tune.search.variant_generator import parse_spec_vars

        _, domains, grids = parse_spec_vars(config or {})
        if domains or grids:
            names = ["/".join(map(str, path)) for path, _ in [*domains, *grids]]
            raise ValueError(
                f"param_space has search distributions ({', '.join(names)}); with a tunebench scheduler the "
                "space is the scheduler's: give param_space constants only"
            )
        if mode is not None:
            _check_mode(self.bridge.scheduler, mode)
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        config = self.bridge.new_trial(trial_id)
        return Searcher.FINISHED if config == FINISHED else config

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        pass

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.bridge, f)

    def restore(self, checkpoint_path: str) -> None:
        """Load the shared state in place, so the scheduler half sees it too."""
        with open(checkpoint_path, "rb") as f:
            saved = pickle.load(f)
        default = self.bridge._default_capacity
        self.bridge.__dict__.update(saved.__dict__)
        self.bridge._default_capacity = default


def tune_config(
    scheduler: Any,
    metric: str = "score",
    mode: str = "max",
    *,
    max_concurrent_trials: int | None = None,
    step_key: str = "step",
    **kwargs: Any,
) -> TuneConfig:
    """A ``ray.tune.TuneConfig`` running ``scheduler`` (one of ours) as Tune's scheduler and
    searcher; other keyword arguments go to ``TuneConfig`` (e.g. ``time_budget_s``).

    Raises ``ValueError`` for PBT (see :data:`CLONE_UNSUPPORTED`), a mode that differs from the
    scheduler's, or a ``TuneConfig`` key the adapter sets itself.
    """
    taken = sorted(set(kwargs) & set(_TAKEN))
    if taken:
        raise ValueError(f"tune_config sets {', '.join(taken)} itself; allowed extra keys are TuneConfig's others")
    _check_mode(scheduler, mode)
    bridge = Bridge(scheduler, capacity=max_concurrent_trials, default_capacity=cluster_cpus)
    return TuneConfig(
        metric=metric,
        mode=mode,
        scheduler=TunebenchScheduler(bridge, metric, mode, step_key),
        search_alg=TunebenchSearcher(bridge, metric, mode),
        num_samples=-1,
        **kwargs,
    )
