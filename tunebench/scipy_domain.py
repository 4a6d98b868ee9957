"""A frozen scipy.stats distribution as the closest domain of ours.

Named distributions with bounds (``uniform``, ``loguniform``, ``randint``) become bounded
domains, so they show in the trial table with their bounds; any other frozen distribution stays
itself, a :class:`Frozen` domain sampled through its own ``rvs`` from the scheduler's generator.
Both :mod:`tunebench.convert` (``from_scipy``) and the scikit-learn integration read
``param_distributions`` through :func:`scipy_domain`.

>>> from scipy import stats
>>> scipy_domain(stats.loguniform(1e-5, 1e-1)), scipy_domain(stats.randint(1, 4))
(Uniform(low=1e-05, high=0.1, log=True), IntUniform(low=1, high=3, log=False))
>>> type(scipy_domain(stats.norm(0, 1))).__name__
'Frozen'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunebench.space import Domain, IntUniform, Uniform


@dataclass(frozen=True, eq=False)
class Frozen(Domain):
    """Any frozen scipy.stats distribution, sampled with the scheduler's generator."""

    dist: Any

    def sample(self, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> Any:
        value = self.dist.rvs(random_state=rng)
        return value.item() if isinstance(value, np.generic) else value

    def contains(self, value: Any, config: Mapping[str, Any] | None = None) -> bool:
        low, high = self.dist.support()
        return bool(low <= value <= high)


def scipy_domain(dist: Any) -> Domain:
    """A frozen scipy.stats distribution as the closest domain of ours."""
    name = getattr(getattr(dist, "dist", None), "name", "")
    args, kwds = tuple(getattr(dist, "args", ())), dict(getattr(dist, "kwds", {}))
    if name == "uniform" and not kwds.get("scale", 1) < 0:
        loc, scale = (list(args) + [kwds.get("loc", 0.0), kwds.get("scale", 1.0)][len(args) :])[:2]
        return Uniform(float(loc), float(loc) + float(scale))
    if name in ("loguniform", "reciprocal") and not kwds and len(args) == 2:
        return Uniform(float(args[0]), float(args[1]), log=True)
    if name == "randint" and not kwds.get("loc") and len(args) == 2:
        return IntUniform(int(args[0]), int(args[1]) - 1)
    return Frozen(dist)


__all__ = ["Frozen", "scipy_domain"]
