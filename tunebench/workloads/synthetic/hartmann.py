"""MF-Hartmann-3 and MF-Hartmann-6 as mf-prior-bench (``mfpbench``) defines ``mfh3`` and ``mfh6``.

The multi-fidelity form of Kandasamy et al. (2017): with ``s = log(z) / log(100)`` the
fidelity ``z`` in 1..100 scaled to [0, 1] on a log axis, the Hartmann function with its
weights lowered by a bias that vanishes at the top fidelity, plus half-normal noise that does
too::

    f(x, z) = -sum_i (alpha_i - bias * (1 - s)) * exp(-sum_j A_ij * (x_j - P_ij)**2)
              + |N(0, 1)| * noise * (1 - s)

The noise draw is mfpbench's: a generator seeded by ``abs(seed * z * hash(x))`` (Python's
hash of the tuple of coordinates, the same in every process on 64-bit CPython; ``seed`` 0 taken
as 1337), so a config at a fidelity always gets the same value under one seed, the run's. The cost of an evaluation is
``0.05 + 0.95 * (z / 100)**2`` (Kandasamy et al., p. 18), 1 at the top fidelity.

``mfh3`` and ``mfh6`` are mfpbench's benchmarks of those names: bias 0.5 and noise 0.1, milder
than any of its correlation presets, which ``preset`` selects instead (mfpbench's
``mfh3_good`` and so on): ``good`` (bias 2.5, noise 2.0), ``moderate`` (3.0, 3.0), ``bad``
(3.5, 4.0), ``terrible`` (4.0, 5.0). At the top fidelity every preset is the plain Hartmann
function, whose global minima are -3.86278 (3-d) and -3.32237 (6-d).

>>> round(hartmann3((0.114614, 0.555649, 0.852547), 100), 5)
-3.86278
>>> round(hartmann6((0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573), 100), 5)
-3.32237
>>> round(hartmann_cost(50), 4)
0.2875
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tunebench.checks import OneOf, check
from tunebench.space import Space
from tunebench.workloads.synthetic.base import SyntheticWorkload, unit_box

ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
A3 = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
P3 = np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]], dtype=float)
A6 = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
P6 = np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ],
    dtype=float,
)
MINIMIZER3 = (0.114614, 0.555649, 0.852547)
MINIMIZER6 = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)
OPTIMUM3 = -3.86278
OPTIMUM6 = -3.32237
TOP = 100
DEFAULT_SEED = 1337  # mfpbench's seed when none (or 0) is given
PRESETS: dict[str | None, tuple[float, float]] = {
    None: (0.5, 0.1),
    "good": (2.5, 2.0),
    "moderate": (3.0, 3.0),
    "bad": (3.5, 4.0),
    "terrible": (4.0, 5.0),
}


def log_share(z: int, top: int = TOP) -> float:
    """The fidelity on a log axis scaled to [0, 1]: 0 at ``z = 1``, 1 at ``z = top``."""
    return (math.log(z) - math.log(1)) / (math.log(top) - math.log(1))


def half_normal(seed: int, z: int, x: tuple[float, ...]) -> float:
    """mfpbench's noise draw for ``x`` at ``z``: ``|N(0, 1)|`` from a generator seeded by
    ``abs(seed * z * hash(x))``."""
    rng = np.random.default_rng(abs((seed or DEFAULT_SEED) * z * hash(x)))
    return float(np.abs(rng.normal(size=1))[0])


def hartmann(
    x: Sequence[float], z: int, A: np.ndarray, P: np.ndarray, *, bias: float = 0.5, noise: float = 0.1, seed: int = 0
) -> float:
    """The multi-fidelity Hartmann function at ``x`` and fidelity ``z`` in 1..100 (module docstring)."""
    if not 1 <= z <= TOP:
        raise ValueError(f"fidelity z must be in [1, {TOP}], got {z}")
    xs = tuple(x)
    s = log_share(z)
    inner = np.sum(A * (np.asarray(xs, dtype=float)[np.newaxis, :] - 0.0001 * P) ** 2, axis=-1)
    value = -np.sum((ALPHA - bias * (1 - s)) * np.exp(-inner))
    return float(value + half_normal(seed, z, xs) * noise * (1 - s))


def hartmann3(x: Sequence[float], z: int, **kw: Any) -> float:
    return hartmann(x, z, A3, P3, **kw)


def hartmann6(x: Sequence[float], z: int, **kw: Any) -> float:
    return hartmann(x, z, A6, P6, **kw)


def hartmann_cost(z: int) -> float:
    """The cost of an evaluation at ``z``: ``0.05 + 0.95 * (z / 100)**2``."""
    return 0.05 + (1 - 0.05) * (z / TOP) ** 2


class MFHartmann(SyntheticWorkload):
    """Multi-fidelity Hartmann (mfpbench's ``mfh3`` / ``mfh6``); fidelity 1..100."""

    dims: int = 3
    A: np.ndarray = A3
    P: np.ndarray = P3
    params = {
        "preset": OneOf(
            tuple(p for p in PRESETS if p), optional=True, note="mfpbench's correlation presets; null: bias 0.5, noise 0.1"
        )
    }

    def __init__(self, preset: str | None = None, max_iter: int = TOP, time_scale: float = 0.0, seed: int = 0) -> None:
        super().__init__(max_iter, time_scale, seed)
        self.preset: str | None = check(self, "preset", preset)
        self.bias, self.noise = PRESETS[self.preset]

    @property
    def names(self) -> list[str]:
        return [f"X_{i}" for i in range(self.dims)]

    def point(self, config: Mapping[str, Any]) -> tuple[float, ...]:
        return tuple(config[n] for n in self.names)

    def value(self, config: Mapping[str, Any], fidelity: int) -> float:
        return hartmann(self.point(config), fidelity, self.A, self.P, bias=self.bias, noise=self.noise, seed=self.seed)

    def expected(self, config: Mapping[str, Any]) -> float:
        return self.value(config, TOP)

    def cost(self, fidelity: int) -> float:
        return hartmann_cost(fidelity)

    def default_space(self) -> Space:
        return unit_box(self.names)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "preset": self.preset, "bias": self.bias, "noise": self.noise}


class MFHartmann3(MFHartmann):
    """MF-Hartmann-3 (mfpbench ``mfh3``): 3 coordinates in [0, 1], minimum -3.86278."""

    name = "mfh3"
    optimum = OPTIMUM3


class MFHartmann6(MFHartmann):
    """MF-Hartmann-6 (mfpbench ``mfh6``): 6 coordinates in [0, 1], minimum -3.32237."""

    name = "mfh6"
    dims = 6
    A = A6
    P = P6
    optimum = OPTIMUM6


__all__ = [
    "MFHartmann3",
    "MFHartmann6",
    "MINIMIZER3",
    "MINIMIZER6",
    "OPTIMUM3",
    "OPTIMUM6",
    "PRESETS",
    "hartmann",
    "hartmann3",
    "hartmann6",
    "hartmann_cost",
]
