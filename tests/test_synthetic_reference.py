"""MF-Hartmann against the reference package, mf-prior-bench, at random points, fidelities and
seeds: its function generators (numpy only, loaded from the installed file without the package's
other imports) and, where the whole package imports, its ``mfh3`` / ``mfh6`` benchmarks.

mf-prior-bench is not a test dependency: it pins ``numpy<2`` and needs ConfigSpace, so it does not
install cleanly beside ours. ``pip install --no-deps mf-prior-bench`` brings its files (enough for
the generators); the benchmarks also need ConfigSpace and more-itertools. Absent, these skip.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

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


def generators() -> ModuleType | None:
    """mf-prior-bench's ``synthetic/hartmann/generators.py``, loaded on its own, or None if the
    package is not installed."""
    spec = importlib.util.find_spec("mfpbench")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "synthetic" / "hartmann" / "generators.py"
    if not path.is_file():
        return None
    loader = importlib.util.spec_from_file_location("mfpbench_hartmann_generators", path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def benchmarks() -> ModuleType | None:
    """The whole mf-prior-bench package, or None if it does not import here."""
    try:
        import mfpbench
    except ImportError:
        return None
    return mfpbench


def queries(w: MFHartmann, seed: int, n: int = 40) -> list[tuple[dict[str, float], int]]:
    rng = np.random.default_rng(seed + 17 * w.dims)
    return [({n_: float(v) for n_, v in zip(w.names, rng.random(w.dims))}, int(rng.integers(1, 101))) for _ in range(n)]


@pytest.mark.skipif(generators() is None, reason="mf-prior-bench is not installed (pip install --no-deps mf-prior-bench)")
def test_values_equal_mfpbench_generators() -> None:
    ref = generators()
    assert ref is not None
    for cls, preset, seed in CASES:
        w = cls(preset=preset, seed=seed)
        bias, noise = PRESETS[preset]
        make = ref.MFHartmann3 if w.dims == 3 else ref.MFHartmann6
        gen = make(n_fidelities=100, fidelity_bias=bias, fidelity_noise=noise, seed=seed)
        for config, z in queries(w, seed):
            want = gen(z=z, Xs=tuple(config[n] for n in w.names))
            assert w.value(config, z) == pytest.approx(want, rel=1e-12, abs=1e-12), (w.name, preset, seed, config, z)
    assert (tuple(ref.MFHartmann3.optimum), tuple(ref.MFHartmann6.optimum)) == (MINIMIZER3, MINIMIZER6)


@pytest.mark.skipif(benchmarks() is None, reason="mf-prior-bench does not import here (it needs ConfigSpace and more-itertools)")
def test_values_and_costs_equal_mfpbench_benchmarks() -> None:
    mfpbench = benchmarks()
    assert mfpbench is not None
    for cls, preset, seed in CASES:
        w = cls(preset=preset, seed=seed)
        bench = mfpbench.get(w.name if preset is None else f"{w.name}_{preset}", seed=seed)
        assert (bench.start, bench.end) == (1, w.top)
        for config, z in queries(w, seed):
            result = bench.query(config, at=z)
            assert w.value(config, z) == pytest.approx(result.value.value, rel=1e-12, abs=1e-12), (bench.name, seed, config, z)
            assert hartmann_cost(z) == pytest.approx(result.fid_cost.value, rel=1e-12)
        assert w.optimum == bench.Result.metric_defs["value"].bounds[0]
