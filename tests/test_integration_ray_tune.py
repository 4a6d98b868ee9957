"""Our schedulers inside a real Ray Tune ``Tuner``, with a tiny trainable (a function of config
and step, no training): Hyperband, both ASHA variants, random search, PBT's refusal, and the
same-seed check (``max_concurrent_trials=1``, so the order of events is fixed)."""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")
from ray import tune  # noqa: E402
from ray.tune import Checkpoint  # noqa: E402

from tunebench.integrations.ray_tune import tune_config  # noqa: E402
from tunebench.space import Space  # noqa: E402
from tunebench.synthetic import play  # noqa: E402
from tunebench.trial import TrialStatus  # noqa: E402

from schedulers.asha import ASHA  # noqa: E402
from schedulers.hyperband import Hyperband  # noqa: E402
from schedulers.random_search import RandomSearch  # noqa: E402

SPACE = {"x": {"uniform": [0.0, 1.0]}}
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the trainable goes to Tune's actors by value


@pytest.fixture
def ray_module(ray_session: Any) -> Any:
    """The session's local Ray (2 CPUs), for the tests that fit a Tuner."""
    return ray_session


def curve(config: dict[str, Any], step: int) -> float:
    """A learning curve: rises with the step toward a ceiling set by ``x``."""
    return float(config["x"]) * (1.0 - math.exp(-step / 3.0))


def trainable(config: dict[str, Any]) -> None:
    """Reports one result per step with a checkpoint holding the step; resumes from it."""
    step = 0
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as d:
            step = json.loads((Path(d) / "state.json").read_text())["step"]
    while True:
        step += 1
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "state.json").write_text(json.dumps({"step": step}))
            tune.report({"score": curve(config, step), "step": step}, checkpoint=Checkpoint.from_directory(d))


def fit(scheduler: Any, tmp_path: Path, name: str, **kwargs: Any) -> Any:
    storage = tmp_path / "ray_results"
    tuner = tune.Tuner(
        trainable,
        tune_config=tune_config(scheduler, metric="score", mode="max", reuse_actors=True, **kwargs),
        run_config=tune.RunConfig(name=name, storage_path=str(storage.resolve()), verbose=0),
    )
    return tuner.fit()


def outcome(scheduler: Any) -> list[tuple[int, int, str]]:
    return [(t.trial_id, t.steps, t.status.value) for t in sorted(scheduler.trials.values(), key=lambda t: t.trial_id)]


def tune_steps(grid: Any) -> dict[str, int]:
    """Each Tune trial's last reported step, by Tune trial id."""
    return {r.metrics["trial_id"]: int(r.metrics["step"]) for r in grid}


def assert_agree(scheduler: Any, grid: Any) -> None:
    """Tune's trials ended where our scheduler's did, and none errored."""
    assert not grid.errors
    steps = tune_steps(grid)
    assert len(steps) == len(scheduler.trials)
    for trial in scheduler.trials.values():
        assert steps[trial.tags["tune_trial_id"]] == trial.steps


def test_hyperband_in_tune(ray_module: Any, tmp_path: Path) -> None:
    hb = Hyperband(Space.from_spec(SPACE), max_iter=3, eta=3, seed=0)  # 5 trials, one promotion
    grid = fit(hb, tmp_path, "hb", max_concurrent_trials=2)
    assert hb.finished
    assert_agree(hb, grid)
    assert sum(t.steps for t in hb.trials.values()) == hb.metadata()["partial_fit_calls"]
    assert len(hb.trials) == hb.metadata()["n_models"]


def test_asha_promotion_pauses_and_resumes(ray_module: Any, tmp_path: Path) -> None:
    asha = ASHA(Space.from_spec(SPACE), max_iter=9, eta=3, n_trials=9, variant="promotion", seed=0)
    grid = fit(asha, tmp_path, "asha-p", max_concurrent_trials=2)
    assert asha.finished
    assert_agree(asha, grid)
    promoted = [t for t in asha.trials.values() if t.steps > 1]
    assert promoted and any(t.steps == 9 for t in promoted)
    # resumed from its checkpoint: a promoted trial's curve has every step once, in order
    for t in promoted:
        assert sorted(t.scores) == [s for s in (1, 3, 9) if s <= t.steps]
        assert t.scores[t.steps] == pytest.approx(curve(t.config, t.steps))


def test_asha_stopping(ray_module: Any, tmp_path: Path) -> None:
    asha = ASHA(Space.from_spec(SPACE), max_iter=9, eta=3, n_trials=8, variant="stopping", seed=1)
    grid = fit(asha, tmp_path, "asha-s", max_concurrent_trials=2)
    assert asha.finished
    assert_agree(asha, grid)
    statuses = {t.status for t in asha.trials.values()}
    assert TrialStatus.STOPPED in statuses and TrialStatus.COMPLETED in statuses


def test_random_search_continues_between_reports(ray_module: Any, tmp_path: Path) -> None:
    rs = RandomSearch(Space.from_spec(SPACE), n_trials=2, max_iter=4, report_every=2, seed=0)
    grid = fit(rs, tmp_path, "random", max_concurrent_trials=1)
    assert_agree(rs, grid)
    assert all(t.status is TrialStatus.COMPLETED and t.steps == 4 for t in rs.trials.values())


def test_same_seed_same_decisions(ray_module: Any, tmp_path: Path) -> None:
    """With one trial at a time, Tune hands our scheduler its results in a fixed order: its
    decisions are those our own loop makes with one worker on the same curves and seed."""
    asha = ASHA(Space.from_spec(SPACE), max_iter=9, eta=3, n_trials=4, variant="promotion", seed=7)
    fit(asha, tmp_path, "same-seed", max_concurrent_trials=1)
    alone = ASHA(Space.from_spec(SPACE), max_iter=9, eta=3, n_trials=4, variant="promotion", seed=7)
    play(alone, lambda job: curve(job.config, job.stop_step), 1)
    assert outcome(asha) == outcome(alone)
    assert {status for _, _, status in outcome(asha)} == {"stopped"}  # 4 trials: rung 3 holds 1, too few to promote
    assert sorted(steps for _, steps, _ in outcome(asha)) == [1, 1, 1, 3]


def test_pbt_is_refused_with_the_reason() -> None:
    from schedulers.pbt.scheduler import PBT

    pbt = PBT(Space.from_spec(SPACE), n_trials=4, max_iter=6, perturbation_interval=2)
    with pytest.raises(ValueError, match="checkpoint.*Supported here: random, successive_halving, hyperband and asha"):
        tune_config(pbt, metric="score", mode="max")


def test_bad_settings_name_the_key() -> None:
    hb = Hyperband(Space.from_spec(SPACE), max_iter=9, mode="max")
    with pytest.raises(ValueError, match="mode 'min' differs"):
        tune_config(hb, metric="score", mode="min")
    with pytest.raises(ValueError, match="num_samples"):
        tune_config(hb, num_samples=4)
    with pytest.raises(ValueError, match="max_concurrent_trials must be an integer >= 1"):
        tune_config(hb, max_concurrent_trials=0)


def test_param_space_distributions_are_refused(ray_module: Any, tmp_path: Path) -> None:
    hb = Hyperband(Space.from_spec(SPACE), max_iter=3)
    tuner = tune.Tuner(
        trainable,
        param_space={"x": tune.uniform(0, 1)},
        tune_config=tune_config(hb, metric="score", mode="max"),
        run_config=tune.RunConfig(storage_path=str(tmp_path.resolve()), verbose=0),
    )
    with pytest.raises(ValueError, match="param_space has search distributions"):
        tuner.fit()
