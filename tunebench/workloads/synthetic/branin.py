"""MF-Branin: the Branin function with coefficients that drift at low fidelity (Kandasamy et al. 2017).

mfpbench has no Branin; this is Dragonfly's (the authors' own package:
``examples/synthetic/branin/branin.py`` and ``branin_mf.py``) with its three fidelity
coordinates tied into one, ``u = z / 100`` for ``z`` in 1..100::

    f(x, z) = (x2 - b(u) x1**2 + c(u) x1 - 6)**2 + 10 (1 - t(u)) cos(x1) + 10
    b(u) = 5.1 / (4 pi**2) - 0.01 (1 - u),  c(u) = 5 / pi - 0.1 (1 - u),  t(u) = 1 / (8 pi) + 0.005 (1 - u)

on x1 in [-5, 10], x2 in [0, 15], without noise. The cost of an evaluation is Dragonfly's
``0.05 + 0.95 u**1.5``. At the top fidelity it is Branin, minimum 0.397887 at (-pi, 12.275),
(pi, 2.275) and (9.42478, 2.475); a lower fidelity may dip below that.

>>> round(branin(-math.pi, 12.275, 100), 6), round(branin(9.42478, 2.475, 100), 6)
(0.397887, 0.397887)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tunebench.space import Space, Uniform
from tunebench.workloads.synthetic.base import SyntheticWorkload

TOP = 100
OPTIMUM = 0.397887


def branin(x1: float, x2: float, z: int) -> float:
    """MF-Branin at ``(x1, x2)`` and fidelity ``z`` in 1..100 (module docstring)."""
    if not 1 <= z <= TOP:
        raise ValueError(f"fidelity z must be in [1, {TOP}], got {z}")
    gap = 1 - z / TOP
    b = 5.1 / (4 * math.pi**2) - 0.01 * gap
    c = 5 / math.pi - 0.1 * gap
    t = 1 / (8 * math.pi) + 0.005 * gap
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def branin_cost(z: int) -> float:
    """The cost of an evaluation at ``z``: ``0.05 + 0.95 (z / 100)**1.5``."""
    return 0.05 + 0.95 * (z / TOP) ** 1.5


class MFBranin(SyntheticWorkload):
    """MF-Branin (Dragonfly's, one fidelity in 1..100): noiseless, minimum 0.397887."""

    name = "mf-branin"
    optimum = OPTIMUM

    def value(self, config: Mapping[str, Any], fidelity: int) -> float:
        return branin(float(config["x1"]), float(config["x2"]), fidelity)

    def expected(self, config: Mapping[str, Any]) -> float:
        return self.value(config, TOP)

    def cost(self, fidelity: int) -> float:
        return branin_cost(fidelity)

    def default_space(self) -> Space:
        return Space({"x1": Uniform(-5.0, 10.0), "x2": Uniform(0.0, 15.0)})


__all__ = ["MFBranin", "branin", "branin_cost"]
