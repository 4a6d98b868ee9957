"""The Cauchy operator alone and inside PBT's explore, driven through tunebench's loop on
synthetic scores: every explored config is back inside the space, the same seed gives the same
explores, and ``boundary`` decides where a jump past a bound lands."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from tunebench import Job, Space, load_plugin, play
from tunebench.space import Choice, IntUniform, Uniform

from tunebench_pbt_explore import cauchy, value_at

CALL = "tunebench_pbt_explore.cauchy:cauchy"
SPACE = Space.from_spec({"lr": {"loguniform": [1e-4, 1.0]}, "depth": {"randint": [1, 8]}, "x": {"uniform": [0, 1]}})


def score(job: Job) -> float:
    """Best near lr=0.01, depth=4, x=0.7; better with more steps."""
    c = job.config
    return -((math.log10(c["lr"]) + 2) ** 2) - 0.1 * (c["depth"] - 4) ** 2 - (c["x"] - 0.7) ** 2 + 0.01 * job.stop_step


def explored(boundary: str, seed: int = 0) -> tuple[Any, list[dict[str, Any]]]:
    """A PBT whose every parameter explores with the operator, played to its end; the scheduler
    and its lineage rows."""
    pbt = load_plugin("scheduler", "pbt")(
        SPACE,
        seed=seed,
        n_trials=8,
        max_iter=40,
        perturbation_interval=1,
        quantile_fraction=0.5,
        synch=True,
        boundary=boundary,
        explore={name: [{"call": CALL}] for name in SPACE.domains},
    )
    trace = play(pbt, score, concurrency=4)
    return pbt, [row for table, row in trace.rows if table == "pbt_log"]


@pytest.mark.parametrize("boundary", ["clip", "reflect"])
def test_every_explored_config_is_inside_the_space(boundary: str) -> None:
    pbt, rows = explored(boundary)
    clones = [r for r in rows if r["strategy"] != "init"]
    assert len(clones) > 100
    assert all(json.loads(r["explored"]) == {name: [f"call({CALL})"] for name in SPACE.domains} for r in clones)
    for trial in pbt.trials.values():
        assert SPACE.contains(trial.config), trial.config
        assert isinstance(trial.config["depth"], int)


def test_clip_parks_long_jumps_on_the_bounds_reflect_folds_them_back() -> None:
    def on_bounds(boundary: str) -> int:
        pbt, _ = explored(boundary)
        return sum(t.config["x"] in (0.0, 1.0) for t in pbt.trials.values())

    assert on_bounds("clip") > 0 and on_bounds("reflect") == 0


def test_the_same_seed_gives_the_same_explores() -> None:
    configs = [[t.config for t in explored("reflect", seed)[0].trials.values()] for seed in (0, 0, 1)]
    assert configs[0] == configs[1] != configs[2]


def test_steps_are_short_mostly_and_long_sometimes_in_log_space() -> None:
    domain = Uniform(1e-4, 1.0, log=True)
    rng = np.random.default_rng(0)
    steps = np.abs([domain.to_unit(min(1.0, max(1e-4, cauchy(0.01, domain, rng)))) - 0.5 for _ in range(2000)])
    assert 0.03 < np.median(steps) < 0.07 and (steps >= 0.5).mean() > 0.03  # P(|C| > 10): one in sixteen reaches a bound


def test_value_at_inverts_to_unit_for_integers_too() -> None:
    for domain in (IntUniform(1, 8), IntUniform(1, 64, log=True), Uniform(-2.0, 3.0)):
        for value in (domain.low, domain.high, (domain.low + domain.high) // 2):
            assert value_at(domain, domain.to_unit(value)) == pytest.approx(value)


def test_choices_are_refused() -> None:
    with pytest.raises(TypeError, match="cauchy explores numbers"):
        cauchy("hinge", Choice(("hinge", "log_loss")), np.random.default_rng(0))
