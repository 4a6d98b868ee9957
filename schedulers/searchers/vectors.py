"""Configs as points of the unit cube (and category codes), for density models such as BOHB's.

A float parameter maps to ``[0, 1]`` (in log space for a log domain), an integer to the centre
of its cell of ``[0, 1]`` (so each integer owns an equal slice, log-scaled for ``lograndint``
as :class:`~tunebench.space.IntUniform` samples it), a choice to its index. Constants take no
dimension. Conditional and mixture domains have no fixed place in a cube and are refused.

>>> from tunebench.space import Space
>>> enc = Encoding(Space.from_spec({"a": {"uniform": [0, 10]}, "k": {"randint": [1, 4]},
...                                 "c": {"choice": ["x", "y"]}, "z": "const"}))
>>> enc.n_values, enc.encode({"a": 5.0, "k": 2, "c": "y", "z": "const"}).tolist()
((0, 0, 2), [0.5, 0.375, 1.0])
>>> enc.decode(enc.encode({"a": 5.0, "k": 2, "c": "y", "z": "const"}))
{'a': 5.0, 'k': 2, 'c': 'y', 'z': 'const'}
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tunebench.space import Choice, Constant, Domain, IntUniform, Space, Uniform, to_python
from tunebench.trial import Config


def int_span(dom: IntUniform) -> tuple[float, float]:
    """The interval an integer domain's unit cube stands for: the cells ``[low - 0.5, high + 0.5]``,
    in log space for a log domain."""
    lo, hi = dom.low - 0.5, dom.high + 0.5
    return (math.log(lo), math.log(hi)) if dom.log else (lo, hi)


def int_to_unit(dom: IntUniform, value: int) -> float:
    """``value``'s place in ``[0, 1]``.

    >>> int_to_unit(IntUniform(0, 1), 0), int_to_unit(IntUniform(0, 1), 1)
    (0.25, 0.75)
    """
    lo, hi = int_span(dom)
    v = math.log(value) if dom.log else float(value)
    return (v - lo) / (hi - lo)


def int_from_unit(dom: IntUniform, u: float) -> int:
    """The integer whose cell holds ``u`` (clipped to the domain).

    >>> int_from_unit(IntUniform(0, 1), 0.49), int_from_unit(IntUniform(0, 1), 0.51)
    (0, 1)
    """
    lo, hi = int_span(dom)
    v = lo + min(1.0, max(0.0, u)) * (hi - lo)
    return dom.clip(math.exp(v) if dom.log else v)


class Encoding:
    """The cube dimensions of a space: one per parameter that is not a constant."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self.constants = {n: d.value for n, d in space.domains.items() if isinstance(d, Constant)}
        self.names = [n for n in space.domains if n not in self.constants]
        for name in self.names:
            dom = space.domains[name]
            if not isinstance(dom, (Uniform, IntUniform, Choice)):
                raise ValueError(
                    f"space.{name}: a {type(dom).__name__.lower()} domain has no place in a density model; "
                    "allowed: uniform, loguniform, randint, lograndint, choice, constant"
                )
        domains = [space.domains[n] for n in self.names]
        self.n_values = tuple(len(d.values) if isinstance(d, Choice) else 0 for d in domains)

    @property
    def dims(self) -> int:
        return len(self.names)

    def encode(self, config: Config) -> np.ndarray:
        """One config as a vector."""
        return np.array([encode_one(self.space.domains[n], config[n]) for n in self.names], dtype=float)

    def decode(self, vector: np.ndarray) -> Config:
        """A vector back to a config in the space's order, constants included."""
        values = {n: decode_one(self.space.domains[n], float(v)) for n, v in zip(self.names, vector)}
        merged = {**self.constants, **values}
        return {n: to_python(merged[n]) for n in self.space.domains}


def encode_one(dom: Domain, value: Any) -> float:
    if isinstance(dom, Uniform):
        return dom.to_unit(float(value))
    if isinstance(dom, IntUniform):
        return int_to_unit(dom, int(value))
    assert isinstance(dom, Choice)
    return float(dom.index(value))


def decode_one(dom: Domain, v: float) -> Any:
    if isinstance(dom, Uniform):
        return dom.from_unit(v)
    if isinstance(dom, IntUniform):
        return int_from_unit(dom, v)
    assert isinstance(dom, Choice)
    return dom.values[int(min(len(dom.values) - 1, max(0, round(v))))]
