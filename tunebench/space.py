"""Search spaces: distributions with bounds, seeded sampling, and their YAML form.

A :class:`Space` maps parameter names to :class:`Domain` objects. Every domain samples from a
``numpy.random.Generator`` and knows its bounds, so PBT's explore operators can stay inside
them. YAML form, one entry per parameter::

    alpha: {loguniform: [1.0e-6, 1.0e-1]}
    l1_ratio: {uniform: [0, 1]}
    batch_size: {choice: [32, 64, 128]}
    optimizer: {choice: [SGD, Adam], weights: [5, 2]}
    n_hidden: {randint: [16, 256]}
    weight_decay: {mixture: [[1, 0.0], [5, {loguniform: [1.0e-5, 1.0e-3]}]]}
    lr: {depends_on: optimizer, cases: {SGD: {loguniform: [0.03, 10]}, Adam: {loguniform: [1.0e-4, 0.1]}}}
    learning_rate: constant            # a plain value is a constant

>>> import numpy as np
>>> space = Space.from_spec({"alpha": {"loguniform": [1e-6, 1e-1]}, "loss": "log_loss"})
>>> cfg = space.sample(np.random.default_rng(0))
>>> 1e-6 <= cfg["alpha"] <= 1e-1 and cfg["loss"] == "log_loss"
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunebench.names import did_you_mean, each


class SpaceError(ValueError):
    """A search-space entry that cannot be understood."""


class Domain:
    """One parameter's distribution."""

    def sample(self, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> Any:
        raise NotImplementedError

    def contains(self, value: Any, config: Mapping[str, Any] | None = None) -> bool:
        raise NotImplementedError

    def domain_for(self, config: Mapping[str, Any] | None) -> Domain:
        """The plain domain that applies given the rest of ``config`` (see :class:`Conditional`)."""
        return self


@dataclass(frozen=True)
class Constant(Domain):
    value: Any

    def sample(self, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> Any:
        return self.value

    def contains(self, value: Any, config: Mapping[str, Any] | None = None) -> bool:
        return bool(value == self.value)


@dataclass(frozen=True)
class Uniform(Domain):
    """Uniform on ``[low, high]``; ``log=True`` makes it log-uniform."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise SpaceError(f"need finite low <= high, got [{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise SpaceError(f"loguniform needs low > 0, got {self.low}")

    def to_unit(self, value: float) -> float:
        """Map a value to [0, 1] (in log space for a log domain)."""
        if self.high == self.low or (self.log and math.log(self.high) == math.log(self.low)):
            return 0.0
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        """Inverse of :meth:`to_unit`, clipped to the bounds."""
        u = min(1.0, max(0.0, u))
        if self.log:
            return self.clip(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        return self.clip(self.low + u * (self.high - self.low))

    def sample(self, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> float:
        return self.from_unit(float(rng.random()))

    def clip(self, value: float) -> float:
        return float(min(self.high, max(self.low, value)))

    def contains(self, value: Any, config: Mapping[str, Any] | None = None) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high


@dataclass(frozen=True)
class IntUniform(Domain):
    """Integers uniform on ``[low, high]`` inclusive; ``log=True`` samples in log space.

    The log form draws ``v`` log-uniformly on ``[low - 0.5, high + 0.5]`` and rounds it, as
    Optuna's ``IntDistribution(log=True)`` does, so each integer ``k`` gets the log-width of
    the cell ``[k - 0.5, k + 0.5]`` (:func:`log_int_probabilities`); rounding a draw on
    ``[low, high]`` would give the two ends half a cell each. :meth:`to_unit` and
    :meth:`from_unit` use the same cells, so a uniform draw on ``[0, 1]`` decodes to each
    integer with its sampling probability.
    """

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise SpaceError(f"need low <= high, got [{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise SpaceError(f"log randint needs low > 0, got {self.low}")

    def sample(self, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> int:
        if self.log:
            return self.clip(math.exp(rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5))))
        return int(rng.integers(self.low, self.high + 1))

    def clip(self, value: float) -> int:
        return int(min(self.high, max(self.low, round(value))))

    def cells(self) -> tuple[float, float]:
        """The span ``[low - 0.5, high + 0.5]`` every integer's cell lies in (log space if ``log``)."""
        low, high = self.low - 0.5, self.high + 0.5
        return (math.log(low), math.log(high)) if self.log else (low, high)

    def to_unit(self, value: float) -> float:
        """``value``'s place in ``[0, 1]``: an integer maps to the centre of its cell; a value
        outside the bounds maps outside ``[0, 1]`` (``-inf`` for a log domain's value <= 0).

        >>> IntUniform(0, 3).to_unit(0), IntUniform(0, 3).to_unit(3)
        (0.125, 0.875)
        """
        low, high = self.cells()
        if self.log:
            if value <= 0:
                return -math.inf
            value = math.log(value)
        return (value - low) / (high - low)

    def from_unit(self, u: float) -> int:
        """The integer whose cell holds ``u`` (clipped to ``[0, 1]``).

        >>> [IntUniform(0, 3).from_unit(u) for u in (0.0, 0.24, 0.26, 0.74, 0.76, 1.0)]
        [0, 0, 1, 2, 3, 3]
        """
        low, high = self.cells()
        v = low + min(1.0, max(0.0, u)) * (high - low)
        return self.clip(math.exp(v) if self.log else v)

    def contains(self, value: Any, config: Mapping[str, Any] | None = None) -> bool:
        return isinstance(value, (int, np.integer)) and bool(self.low <= value <= self.high)


def log_int_probabilities(low: int, high: int) -> list[float]:
    """The probability of each integer in ``[low, high]`` under ``lograndint``.

    ``P(k) = (log(k + 0.5) - log(k - 0.5)) / (log(high + 0.5) - log(low - 0.5))``.

    >>> [round(p, 3) for p in log_int_probabilities(1, 4)]
    [0.5, 0.232, 0.153, 0.114]
    """
    span = math.log(high + 0.5) - math.log(low - 0.5)
    return [(math.log(k + 0.5) - math.log(k - 0.5)) / span for k in range(low, high + 1)]


@dataclass(frozen=True)
class Choice(Domain):
    """One of ``values``, with optional relative ``weights``; ordered for neighbour moves."""

    values: tuple[Any, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.values:
            raise SpaceError("choice needs at least one value")
        if self.weights is not None:
            if len(self.weights) != len(self.values) or min(self.weights) < 0 or sum(self.weights) <= 0:
                raise SpaceError(
                    f"choice weights must be {len(self.values)} non-negative numbers with a positive sum, "
                    f"got {list(self.weights)}"
                )

    @property
    def probabilities(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.values), 1.0 / len(self.values))
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> Any:
        return self.values[int(rng.choice(len(self.values), p=self.probabilities))]

    def index(self, value: Any) -> int:
        return self.values.index(value)

    def contains(self, value: Any, config: Mapping[str, Any] | None = None) -> bool:
        return value in self.values


@dataclass(frozen=True)
class Mixture(Domain):
    """Draw a component with probability proportional to its weight, then sample it."""

    components: tuple[tuple[float, Domain], ...]

    def sample(self, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> Any:
        w = np.asarray([c[0] for c in self.components], dtype=float)
        k = int(rng.choice(len(self.components), p=w / w.sum()))
        return self.components[k][1].sample(rng, config)

    def contains(self, value: Any, config: Mapping[str, Any] | None = None) -> bool:
        return any(d.contains(value, config) for _, d in self.components)

    def component_for(self, value: Any) -> Domain:
        """The component ``value`` belongs to (the first that contains it)."""
        for _, d in self.components:
            if d.contains(value):
                return d
        return self.components[-1][1]


@dataclass(frozen=True)
class Conditional(Domain):
    """A domain chosen by the value of another parameter, sampled before this one."""

    depends_on: str
    cases: tuple[tuple[Any, Domain], ...]

    def domain_for(self, config: Mapping[str, Any] | None) -> Domain:
        if config is None or self.depends_on not in config:
            raise SpaceError(f"needs the value of {self.depends_on!r} first")
        key = config[self.depends_on]
        for value, dom in self.cases:
            if value == key:
                return dom
        raise SpaceError(f"no case for {self.depends_on}={key!r}; cases: {[v for v, _ in self.cases]}")

    def sample(self, rng: np.random.Generator, config: Mapping[str, Any] | None = None) -> Any:
        return self.domain_for(config).sample(rng, config)

    def contains(self, value: Any, config: Mapping[str, Any] | None = None) -> bool:
        return self.domain_for(config).contains(value, config)


class Space:
    """An ordered mapping of parameter names to domains."""

    def __init__(self, domains: Mapping[str, Domain]):
        self.domains: dict[str, Domain] = dict(domains)
        plain = [n for n, d in self.domains.items() if not isinstance(d, Conditional)]
        self._order = plain + [n for n in self.domains if n not in plain]
        for name, dom in self.domains.items():
            if isinstance(dom, Conditional) and dom.depends_on not in self.domains:
                hint = did_you_mean(dom.depends_on, [n for n in self.domains if n != name])
                raise SpaceError(f"{name}: depends_on {dom.depends_on!r}{hint} is not a parameter of the space")

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Space:
        """Build from the YAML form in the module docstring."""
        out: dict[str, Domain] = {}
        for name, entry in spec.items():
            try:
                out[str(name)] = parse_domain(entry)
            except SpaceError as exc:
                raise SpaceError(f"space.{name}: {exc}") from None
        return cls(out)

    def merged(self, other: Mapping[str, Domain]) -> Space:
        return Space({**self.domains, **other})

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One config; plain domains first, then those that depend on them, in spec order."""
        config: dict[str, Any] = {}
        for name in self._order:
            config[name] = to_python(self.domains[name].sample(rng, config))
        return {name: config[name] for name in self.domains}

    def order(self) -> list[str]:
        """Sampling order: plain parameters first, then those conditioned on them."""
        return list(self._order)

    def contains(self, config: Mapping[str, Any]) -> bool:
        return all(name in config and d.contains(config[name], config) for name, d in self.domains.items())

    def __contains__(self, name: object) -> bool:
        return name in self.domains

    def __getitem__(self, name: str) -> Domain:
        return self.domains[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.domains)

    def __len__(self) -> int:
        return len(self.domains)

    def __repr__(self) -> str:
        return f"Space({self.domains!r})"


def to_python(value: Any) -> Any:
    """numpy scalars to plain Python, so configs serialise to JSON and YAML."""
    if isinstance(value, np.generic):
        return value.item()
    return value


_KINDS = ("uniform", "loguniform", "randint", "lograndint", "choice", "mixture", "depends_on", "constant")


def parse_domain(entry: Any) -> Domain:
    """Parse one YAML entry (see the module docstring) into a :class:`Domain`."""
    if isinstance(entry, Domain):
        return entry
    if not isinstance(entry, Mapping):
        return Constant(entry)
    keys = set(entry)
    if "depends_on" in keys:
        if not isinstance(entry.get("cases"), Mapping) or not entry["cases"]:
            raise SpaceError("depends_on needs a non-empty 'cases' mapping of value -> domain")
        return Conditional(str(entry["depends_on"]), tuple((k, parse_domain(v)) for k, v in entry["cases"].items()))
    kind = [k for k in keys if k in _KINDS]
    if len(kind) != 1:
        others = [key for key in keys if key not in _KINDS and key != "weights"]
        hint = did_you_mean(others[0], _KINDS) if not kind and len(others) == 1 else ""
        raise SpaceError(f"expected exactly one of {', '.join(_KINDS)}; got keys {sorted(keys)}{hint}")
    k = kind[0]
    arg = entry[k]
    extra = keys - {k, "weights"}
    if extra:
        raise SpaceError(f"unknown key(s) {each(sorted(extra, key=str), ['weights'], quote=True)} beside {k!r}")
    if k == "constant":
        return Constant(arg)
    if k == "choice":
        if not isinstance(arg, Sequence) or isinstance(arg, str):
            raise SpaceError(f"choice takes a list of values, got {arg!r}")
        w = entry.get("weights")
        return Choice(tuple(arg), tuple(float(x) for x in w) if w is not None else None)
    if k == "mixture":
        if not isinstance(arg, Sequence) or not arg or any(not isinstance(c, Sequence) or len(c) != 2 for c in arg):
            raise SpaceError("mixture takes a list of [weight, domain] pairs")
        return Mixture(tuple((float(w), parse_domain(d)) for w, d in arg))
    if not isinstance(arg, Sequence) or len(arg) != 2:
        raise SpaceError(f"{k} takes [low, high], got {arg!r}")
    try:
        low, high = (float(arg[0]), float(arg[1]))
    except (TypeError, ValueError):
        raise SpaceError(f"{k} bounds must be numbers, got {arg!r}") from None
    if k in ("uniform", "loguniform"):
        return Uniform(low, high, log=k == "loguniform")
    if low != int(low) or high != int(high):
        raise SpaceError(f"{k} bounds must be integers, got {arg!r}")
    return IntUniform(int(low), int(high), log=k == "lograndint")
