"""The synthetic functions themselves: values at known points, the published minimizers, the
fidelity each step reaches, the cost model, noise that shrinks with fidelity, one value per
config and fidelity under a seed."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from tunebench.workloads.synthetic import CountingOnes, MFBranin, MFHartmann3, MFHartmann6, fidelity_at
from tunebench.workloads.synthetic.branin import branin, branin_cost
from tunebench.workloads.synthetic.counting_ones import counting_ones
from tunebench.workloads.synthetic.hartmann import (
    MINIMIZER3,
    MINIMIZER6,
    OPTIMUM3,
    OPTIMUM6,
    PRESETS,
    hartmann3,
    hartmann6,
    hartmann_cost,
)

H3 = MFHartmann3()
H6 = MFHartmann6()


def config_of(names: list[str], values: np.ndarray) -> dict[str, float]:
    return {n: float(v) for n, v in zip(names, values)}


def test_hartmann_global_minima_at_the_published_minimizers() -> None:
    assert hartmann3(MINIMIZER3, 100) == pytest.approx(OPTIMUM3, abs=1e-5)
    assert hartmann6(MINIMIZER6, 100) == pytest.approx(OPTIMUM6, abs=1e-5)
    assert (H3.optimum, H6.optimum) == (-3.86278, -3.32237)


def test_hartmann_at_known_points() -> None:
    """The centre of the box: the plain function (every preset) at the top fidelity, and
    mfpbench's mfh3 / mfh6 values below it (seed 0 is mfpbench's 1337)."""
    centre3, centre6 = {f"X_{i}": 0.5 for i in range(3)}, {f"X_{i}": 0.5 for i in range(6)}
    for preset in PRESETS:
        assert MFHartmann3(preset=preset).value(centre3, 100) == pytest.approx(-0.6280220150705937, abs=1e-12)
    assert H6.value(centre6, 100) == pytest.approx(-0.5053149917022333, abs=1e-12)
    assert [H3.value(centre3, z) for z in (1, 10)] == pytest.approx([-0.43623573535285765, -0.5175205067086246], abs=1e-12)
    assert [H6.value(centre6, z) for z in (1, 10)] == pytest.approx([-0.38904117941768973, -0.44268740013942476], abs=1e-12)
    assert MFHartmann3(seed=1).value(centre3, 1) == pytest.approx(-0.47473685073495075, abs=1e-12)


def test_hartmann_low_fidelities_are_biased_up_and_noisier_and_no_value_beats_the_optimum() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        c = config_of(H3.names, rng.random(3))
        true = H3.value(c, 100)
        assert all(H3.value(c, z) >= true for z in (1, 5, 33, 99))
        assert true >= OPTIMUM3 - 1e-5
    c = config_of(H3.names, np.array(MINIMIZER3))
    spread = {z: np.std([MFHartmann3(preset="terrible", seed=s).value(c, z) for s in range(1, 200)]) for z in (1, 10, 50)}
    assert spread[1] > spread[10] > spread[50] > 0


def test_hartmann_presets_are_mfpbenchs_and_a_value_is_fixed_by_seed_config_and_fidelity() -> None:
    assert PRESETS == {None: (0.5, 0.1), "good": (2.5, 2.0), "moderate": (3.0, 3.0), "bad": (3.5, 4.0), "terrible": (4.0, 5.0)}
    c = {"X_0": 0.3, "X_1": 0.2, "X_2": 0.9}
    assert MFHartmann3(seed=4).value(c, 7) == MFHartmann3(seed=4).value(dict(c), 7)
    assert MFHartmann3(seed=4).value(c, 7) != MFHartmann3(seed=5).value(c, 7)
    assert MFHartmann3(seed=0).value(c, 7) == MFHartmann3(seed=1337).value(c, 7)  # mfpbench's default seed


def test_hartmann_cost_is_the_published_one() -> None:
    assert hartmann_cost(1) == pytest.approx(0.050095)
    assert hartmann_cost(100) == pytest.approx(1.0)
    assert H3.cost(50) == pytest.approx(0.05 + 0.95 * 0.25)


def test_steps_reach_fidelities_and_time_adds_up_to_the_cost_of_the_last_one() -> None:
    assert [H3.fidelity(s) for s in (1, 3, 11, 33, 100)] == [1, 3, 11, 33, 100]
    rescaled = MFHartmann3(max_iter=81)
    assert [rescaled.fidelity(s) for s in (1, 3, 9, 27, 81)] == [1, 3, 11, 33, 100]
    assert H3.seconds(0, 100) == pytest.approx(1.0)
    assert H3.seconds(0, 11) + H3.seconds(11, 33) + H3.seconds(33, 100) == pytest.approx(1.0)
    assert fidelity_at(1, 1000, 100.0) == 1
    with pytest.raises(ValueError, match="step 101 is past workload.max_iter=100"):
        H3.fidelity(101)


def test_counting_ones_optimum_expectation_and_fidelities_as_dehb_runs_it() -> None:
    f = CountingOnes()
    assert (f.optimum, len(f.default_space().domains), f.max_iter) == (-100.0, 100, 162)
    assert [f.fidelity(s) for s in (1, 2, 6, 18, 54, 162)] == [5, 11, 34, 103, 311, 933]
    ones = {**{n: 1 for n in f.categorical}, **{n: 1.0 for n in f.continuous}}
    assert f.value(ones, 5) == f.expected(ones) == -100.0
    half = {**{n: 0 for n in f.categorical}, **{n: 0.5 for n in f.continuous}}
    assert f.expected(half) == -25.0
    low = [CountingOnes(seed=s).value(half, 5) for s in range(200)]
    high = [CountingOnes(seed=s).value(half, 933) for s in range(200)]
    assert np.mean(high) == pytest.approx(-25.0, abs=0.1)
    assert np.std(low) > 5 * np.std(high)
    assert f.value(half, 11) == CountingOnes().value(dict(half), 11) != CountingOnes(seed=1).value(half, 11)
    assert f.cost(933) == 933.0


def test_counting_ones_draws_are_means_of_bernoullis() -> None:
    values = [counting_ones([], [0.3], 10, seed=s) for s in range(2000)]
    assert set(np.round(np.multiply(values, -10), 9)) <= set(range(11))
    assert np.mean(values) == pytest.approx(-0.3, abs=0.01)


def test_mf_branin_minima_and_cost() -> None:
    for x1, x2 in ((-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)):
        assert branin(x1, x2, 100) == pytest.approx(0.397887, abs=1e-6)
    assert branin(-math.pi, 12.275, 1) != branin(-math.pi, 12.275, 100)
    assert MFBranin().optimum == 0.397887
    assert (branin_cost(100), round(branin_cost(25), 6)) == (1.0, 0.16875)


@pytest.mark.parametrize("workload", [H3, H6, CountingOnes(n_categorical=3, n_continuous=2), MFBranin()], ids=lambda w: w.name)
def test_a_trainable_trains_saves_restores_and_scores_as_the_function(workload) -> None:
    rng = np.random.default_rng(1)
    config = workload.default_space().sample(rng)
    t = workload.build(config, workload.load(0), seed=7)
    t.train(3)
    state = t.save()
    t.train(2)
    again = workload.build(config, workload.load(0), seed=7)
    again.restore(state)
    again.train(2)
    assert t.steps == again.steps == 5
    assert t.score() == again.score() == workload.value(config, workload.fidelity(5))
    assert t.test_score() == workload.expected(config)


def test_time_scale_makes_a_real_executor_take_the_cost_in_real_seconds() -> None:
    t = MFHartmann3(time_scale=0.05).build({"X_0": 0.1, "X_1": 0.2, "X_2": 0.3}, H3.load(0), seed=0)
    t0 = time.perf_counter()
    t.train(100)
    assert time.perf_counter() - t0 >= 0.05 * hartmann_cost(100)
