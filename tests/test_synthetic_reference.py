"""MF-Hartmann against the reference package, mf-prior-bench, at random points, fidelities and
seeds: its function generators and its ``mfh3`` / ``mfh6`` benchmarks (values, costs, optimum).

mf-prior-bench pins ``numpy<2`` for nothing these use; ``scripts/setup.sh`` installs it with
``--no-deps`` beside the dependencies it does need.
"""

from __future__ import annotations

import mfpbench
import numpy as np
import pytest
from mfpbench.synthetic.hartmann import generators as ref

from tunebench.workloads.synthetic.hartmann import (
    MINIMIZER3,
    MINIMIZER6,
    PRESETS,
    MFHartmann,
    MFHartmann3,
    MFHartmann6,
    hartmann_cost,
)

CASES = [(cls, preset, seed) for cls in (MFHartmann3, MFHartmann6) for preset in PRESETS for seed in (0, 1, 12345)]


def queries(w: MFHartmann, seed: int, n: int = 40) -> list[tuple[dict[str, float], int]]:
    rng = np.random.default_rng(seed + 17 * w.dims)
    return [({n_: float(v) for n_, v in zip(w.names, rng.random(w.dims))}, int(rng.integers(1, 101))) for _ in range(n)]


def test_values_equal_mfpbench_generators() -> None:
    for cls, preset, seed in CASES:
        w = cls(preset=preset, seed=seed)
        bias, noise = PRESETS[preset]
        make = ref.MFHartmann3 if w.dims == 3 else ref.MFHartmann6
        gen = make(n_fidelities=100, fidelity_bias=bias, fidelity_noise=noise, seed=seed)
        for config, z in queries(w, seed):
            want = gen(z=z, Xs=tuple(config[n] for n in w.names))
            assert w.value(config, z) == pytest.approx(want, rel=1e-12, abs=1e-12), (w.name, preset, seed, config, z)
    assert (tuple(ref.MFHartmann3.optimum), tuple(ref.MFHartmann6.optimum)) == (MINIMIZER3, MINIMIZER6)


def test_values_and_costs_equal_mfpbench_benchmarks() -> None:
    for cls, preset, seed in CASES:
        w = cls(preset=preset, seed=seed)
        bench = mfpbench.get(w.name if preset is None else f"{w.name}_{preset}", seed=seed)
        assert (bench.start, bench.end) == (1, w.top)
        for config, z in queries(w, seed, n=12):  # a benchmark query costs 100x a generator call
            result = bench.query(config, at=z)
            assert w.value(config, z) == pytest.approx(result.value.value, rel=1e-12, abs=1e-12), (bench.name, seed, config, z)
            assert hartmann_cost(z) == pytest.approx(result.fid_cost.value, rel=1e-12)
        assert w.optimum == bench.Result.metric_defs["value"].bounds[0]
