"""PBT's explore: composable per-parameter operators that always stay inside the space.

An operator is a pure function ``(value, domain, rng) -> value`` over one *plain* domain
(:class:`~tunebench.space.Uniform`, :class:`~tunebench.space.IntUniform`,
:class:`~tunebench.space.Choice`). A parameter's *chain* applies operators in order, and puts
the value back inside the bounds after every operator (``clip`` or ``reflect``, in unit space:
log space for log domains). Config form, one chain per parameter::

    explore:
      alpha: [{resample: 0.25}, {perturb: [0.8, 1.2]}]   # a list, applied in order
      eta0: {gaussian: 0.1}                               # a mapping: its operators in written order
      learning_rate: neighbour                            # a name: that operator with its default
      l1_ratio: [{call: "mypkg.mod:fn"}]                  # fn(value, domain, rng) -> value
      average: []                                         # never explored
    boundary: clip                                        # or reflect

A ``resample`` that fires ends its chain (Ray Tune's "resample, else perturb"). Parameters the
config does not name get the default chain: ``[{resample: p}, {perturb: factors}]`` for numbers,
``[{resample: p}, {neighbour: 1}]`` for choices. Constants never change; a :class:`Mixture`
value is moved inside its own component (``resample`` draws from the whole mixture); a
:class:`Conditional` parameter is explored in the case picked by the new config, and
resampled there if its old value does not belong to it.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunebench.space import Choice, Conditional, Constant, Domain, IntUniform, Mixture, Space, Uniform, to_python

BOUNDARIES = ("clip", "reflect")
OPERATORS = ("resample", "perturb", "gaussian", "neighbour", "call")
NUMERIC = (Uniform, IntUniform)
SUPPORTS: dict[str, tuple[type, ...]] = {
    "resample": (Uniform, IntUniform, Choice),
    "perturb": NUMERIC,
    "gaussian": NUMERIC,
    "neighbour": (IntUniform, Choice),
    "call": (Uniform, IntUniform, Choice),
}
UserFn = Callable[[Any, Domain, np.random.Generator], Any]


# -- unit coordinates and boundaries -------------------------------------------------------


def to_unit(domain: Uniform | IntUniform, value: float) -> float:
    """``value`` in unit coordinates of a numeric domain (log space if ``log``); may leave [0, 1].

    An integer domain's unit interval is its cells (:meth:`~tunebench.space.IntUniform.to_unit`),
    so every integer owns an equal share of it, as sampling gives it.
    """
    if isinstance(domain, IntUniform):
        return domain.to_unit(float(value))
    low, high = float(domain.low), float(domain.high)
    if domain.log:
        span = math.log(high) - math.log(low)
        if span == 0:
            return 0.0
        return (math.log(value) - math.log(low)) / span if value > 0 else -math.inf
    return (float(value) - low) / (high - low) if high > low else 0.0


def unit_value(domain: Uniform | IntUniform, u: float) -> float:
    """The raw value at unit coordinate ``u`` (the inverse of :func:`to_unit`): outside the
    bounds when ``u`` is outside [0, 1], a real number for an integer domain too."""
    if isinstance(domain, IntUniform):
        low, high = domain.cells()
    else:
        low, high = float(domain.low), float(domain.high)
        if high == low:
            return low
        if domain.log:
            low, high = math.log(low), math.log(high)
    v = low + u * (high - low)
    return math.exp(v) if domain.log else v


def from_unit(domain: Uniform | IntUniform, u: float) -> float | int:
    """The value at unit coordinate ``u`` in ``[0, 1]``, exactly inside the bounds; an integer
    domain gives the integer whose cell holds ``u``, so uniform ``u`` decodes to each integer
    with its sampling probability."""
    return domain.clip(unit_value(domain, u))


def fold(u: float, boundary: str) -> float:
    """Bring a unit coordinate into [0, 1]: ``clip`` to the nearer end, or ``reflect`` off it."""
    if math.isnan(u):
        raise ValueError("explore produced NaN")
    if boundary == "reflect" and math.isfinite(u):
        u = u % 2.0
        return 2.0 - u if u > 1.0 else u
    return min(1.0, max(0.0, u))


def fold_index(i: int, n: int, boundary: str) -> int:
    """Bring an index into ``range(n)`` by clipping or reflecting (period ``2 * (n - 1)``)."""
    if n == 1:
        return 0
    if boundary == "reflect":
        i %= 2 * (n - 1)
        return 2 * (n - 1) - i if i > n - 1 else i
    return min(n - 1, max(0, i))


def keep_in(domain: Domain, value: Any, boundary: str) -> Any:
    """``value`` put back inside a plain domain: numbers by ``boundary``, others must belong."""
    if isinstance(domain, NUMERIC):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"explore produced {value!r} for a numeric domain {domain}")
        v = float(value)
        if math.isnan(v):
            raise ValueError(f"explore produced NaN for {domain}")
        if isinstance(domain, Uniform):
            return v if domain.contains(v) else float(from_unit(domain, fold(to_unit(domain, v), boundary)))
        if math.isfinite(v) and v == round(v) and domain.contains(int(v)):
            return int(v)
        return int(from_unit(domain, fold(to_unit(domain, v), boundary)))
    if not domain.contains(value):
        raise ValueError(f"explore produced {value!r}, which is not in {domain}")
    return to_python(value)


# -- the operators: pure (value, domain, rng) -> value --------------------------------------


def resample(value: Any, domain: Domain, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> Any:
    """A fresh draw from the domain, ignoring ``value`` (clipped: a log draw can overshoot by an ulp)."""
    new = to_python(domain.sample(rng, config))
    plain = plain_domain(domain, new, config or {})
    return new if isinstance(plain, Constant) else keep_in(plain, new, "clip")


def perturb(value: float, domain: Domain, rng: np.random.Generator, factors: Sequence[float] = (0.8, 1.2)) -> float | int:
    """Multiply by a factor drawn from ``factors`` (Ray Tune's perturbation).

    For a log domain this is a shift in log space. Integers move by at least one in the
    factor's direction, so a small integer is not stuck. A linear value at 0 stays at 0.
    """
    f = float(factors[int(rng.integers(len(factors)))])
    new = float(value) * f
    if isinstance(domain, IntUniform):
        step = round(new)
        if step == value and f != 1.0:
            step = int(value) + (1 if f > 1.0 else -1)
        return int(step)
    return new


def gaussian(value: float, domain: Domain, rng: np.random.Generator, sigma: float = 0.1) -> float:
    """Add ``N(0, sigma)`` in unit coordinates (log space for log domains); returns the raw value."""
    assert isinstance(domain, NUMERIC)
    return unit_value(domain, to_unit(domain, float(value)) + float(rng.normal(0.0, sigma)))


def neighbour(value: Any, domain: Domain, rng: np.random.Generator, k: int = 1, boundary: str = "clip") -> Any:
    """Move up to ``k`` places along a choice's values (or an integer range), either way."""
    shift = int(rng.integers(1, k + 1)) * (1 if rng.random() < 0.5 else -1)
    if isinstance(domain, Choice):
        return domain.values[fold_index(domain.index(value) + shift, len(domain.values), boundary)]
    assert isinstance(domain, IntUniform)
    return int(domain.low) + fold_index(int(value) - int(domain.low) + shift, int(domain.high) - int(domain.low) + 1, boundary)


@functools.cache
def import_callable(path: str) -> UserFn:
    """Import ``"module:function"``; a ValueError saying what is wrong otherwise."""
    if not isinstance(path, str) or path.count(":") != 1:
        raise ValueError(f"call takes 'module:function', got {path!r}")
    module, _, name = path.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"call {path!r} cannot be imported: {exc}") from None
    if not callable(fn):
        raise ValueError(f"call {path!r} is not callable")
    return fn


# -- chains --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One operator of a chain with its argument (probability, factors, sigma, k or path)."""

    kind: str
    arg: Any

    @property
    def label(self) -> str:
        return f"{self.kind}({self.arg})" if self.kind == "call" else self.kind

    def apply(self, value: Any, domain: Domain, rng: np.random.Generator, boundary: str) -> Any:
        """The operator's raw output for one plain domain (``resample`` handled by the chain)."""
        if self.kind == "perturb":
            return perturb(value, domain, rng, self.arg)
        if self.kind == "gaussian":
            return gaussian(value, domain, rng, self.arg)
        if self.kind == "neighbour":
            return neighbour(value, domain, rng, self.arg, boundary)
        if self.kind == "call":
            return import_callable(self.arg)(value, domain, rng)
        return resample(value, domain, rng)


Chain = tuple[Op, ...]


def plain_domain(domain: Domain, value: Any, config: Mapping[str, Any]) -> Domain:
    """The plain domain a value is moved in: a mixture's component, a conditional's case."""
    if isinstance(domain, Conditional):
        domain = domain.domain_for(config)
    if isinstance(domain, Mixture):
        return plain_domain(domain.component_for(value), value, config)
    return domain


def apply_chain(
    chain: Chain, value: Any, domain: Domain, config: Mapping[str, Any], rng: np.random.Generator, boundary: str
) -> tuple[Any, list[str]]:
    """Run one parameter's chain; return the new value and the labels of what fired."""
    if isinstance(domain, Conditional):
        case = domain.domain_for(config)
        if not case.contains(value, config):
            return resample(value, case, rng, config), ["resample(case)"]
        domain = case
    fired: list[str] = []
    for op in chain:
        if op.kind == "resample":
            if rng.random() < op.arg:
                return resample(value, domain, rng, config), [*fired, "resample"]
            continue
        plain = plain_domain(domain, value, config)
        if isinstance(plain, Constant):
            continue
        value = keep_in(plain, op.apply(value, plain, rng, boundary), boundary)
        fired.append(op.label)
    return value, fired


def explore_config(
    config: Mapping[str, Any], space: Space, chains: Mapping[str, Chain], rng: np.random.Generator, boundary: str
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A mutated copy of ``config``: plain parameters first, then those depending on them."""
    new = dict(config)
    fired: dict[str, list[str]] = {}
    for name in space.order():
        domain = space[name]
        if isinstance(domain, Constant) or name not in chains:
            continue
        new[name], labels = apply_chain(chains[name], new[name], domain, new, rng, boundary)
        if labels:
            fired[name] = labels
    return new, fired
