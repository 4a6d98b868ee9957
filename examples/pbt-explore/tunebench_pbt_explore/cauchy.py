"""A heavy-tailed PBT explore operator: a Cauchy step in the parameter's unit space.

Ray Tune's ``perturb`` multiplies a value by 0.8 or 1.2 and ``gaussian`` adds N(0, sigma) in
unit space: both keep a clone close to its donor. A Cauchy step is as short most of the time
(its median size is ``SCALE`` of the range) but now and then reaches across the range, so a
population that has crowded into one corner still tries values far from it.

The explore operator contract (:mod:`schedulers.pbt.explore`): called with the donor's value as
the config holds it (a float, or an int for an integer domain), the plain domain it lives in
(``Uniform`` or ``IntUniform`` here) and the scheduler's seeded ``numpy.random.Generator``; it
returns a raw value that may lie outside the bounds, which the chain then puts back with the
config's ``boundary`` (``clip`` or ``reflect``, in unit space).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tunebench.space import IntUniform, Uniform

SCALE = 0.05  # the median step, as a fraction of the range in unit (log) space
MAX_STEP = 4.0  # a Cauchy draw can be huge; a few ranges out, clip and reflect already end the same


def value_at(domain: Uniform | IntUniform, u: float) -> float:
    """The raw value at unit coordinate ``u``: the inverse of ``domain.to_unit`` without
    clipping, so outside the bounds when ``u`` is outside [0, 1], and a real number for an
    integer domain too (the chain maps it to the integer whose cell holds it).

    >>> d = Uniform(1e-4, 1.0, log=True)
    >>> round(value_at(d, d.to_unit(0.01)), 12), round(value_at(d, 1.25), 6)
    (0.01, 10.0)
    """
    if isinstance(domain, IntUniform):
        low, high = domain.cells()  # in log space already for a log domain
    elif domain.log:
        low, high = math.log(domain.low), math.log(domain.high)
    else:
        low, high = float(domain.low), float(domain.high)
    v = low + u * (high - low)
    return math.exp(v) if domain.log else v


def cauchy(value: Any, domain: Any, rng: np.random.Generator) -> float:
    """``value`` moved by ``SCALE`` times a standard Cauchy draw (at most ``MAX_STEP`` ranges) in
    unit coordinates, log space for a log domain; numeric domains only.

    >>> d = Uniform(0.0, 1.0)
    >>> rng = np.random.default_rng(0)
    >>> steps = np.abs([cauchy(0.5, d, rng) - 0.5 for _ in range(1000)])
    >>> bool(0.03 < np.median(steps) < 0.07), bool(steps.max() > 1.0)
    (True, True)
    """
    if not isinstance(domain, (Uniform, IntUniform)):
        raise TypeError(f"cauchy explores numbers (uniform, loguniform, randint, lograndint), got {domain!r}")
    step = SCALE * float(rng.standard_cauchy())
    return value_at(domain, domain.to_unit(float(value)) + max(-MAX_STEP, min(MAX_STEP, step)))
