"""Search spaces in other libraries' forms, and back.

``to_spec`` gives our own YAML form of a :class:`~tunebench.space.Space` (the inverse of
:meth:`Space.from_spec`). ``to_optuna`` / ``from_optuna``, ``to_ray_tune`` / ``from_ray_tune``
and ``to_scipy`` / ``from_scipy`` translate a space into Optuna distributions, a Ray Tune
``param_space`` and the ``param_distributions`` scikit-learn's and Dask-ML's searches take
(scipy.stats distributions and lists), and read those forms back as a :class:`Space`.

What each form can hold:

============== ========= ========= ===================================================
kind           Optuna    Ray Tune  scipy.stats / scikit-learn
============== ========= ========= ===================================================
constant       value     value     ``[value]``
uniform        yes       yes       ``uniform(low, high - low)``
loguniform     yes       yes       ``loguniform(low, high)``
randint        yes       yes       ``randint(low, high + 1)``
lograndint     yes       yes       ``rv_discrete`` with :func:`log_int_probabilities`
choice         yes       yes       a list of the values
weighted       no        no        :class:`WeightedChoice` (an ``rvs`` object)
mixture        no        no        :class:`MixtureDistribution` (an ``rvs`` object)
depends_on     no        no        no: ``ParameterSampler`` draws each parameter alone
============== ========= ========= ===================================================

``to_hyperopt`` / ``from_hyperopt`` hold every kind, ``depends_on`` included (a choice of
sub-spaces, Hyperopt's conditional form). A form that has no place for a kind raises one
``ValueError`` naming the parameter.

>>> from tunebench.space import Space
>>> spec = {"alpha": {"loguniform": [1e-6, 0.1]}, "loss": "log_loss"}
>>> Space.from_spec(to_spec(Space.from_spec(spec))).domains == Space.from_spec(spec).domains
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunebench.scipy_domain import scipy_domain
from tunebench.space import (
    Choice,
    Conditional,
    Constant,
    Domain,
    IntUniform,
    Mixture,
    Space,
    Uniform,
    log_int_probabilities,
    to_python,
)


def domain_spec(dom: Domain) -> Any:
    """One domain in the YAML form of :mod:`tunebench.space`."""
    if isinstance(dom, Constant):
        return {"constant": dom.value}
    if isinstance(dom, Uniform):
        return {"loguniform" if dom.log else "uniform": [dom.low, dom.high]}
    if isinstance(dom, IntUniform):
        return {"lograndint" if dom.log else "randint": [dom.low, dom.high]}
    if isinstance(dom, Choice):
        return {"choice": list(dom.values), **({"weights": list(dom.weights)} if dom.weights is not None else {})}
    if isinstance(dom, Mixture):
        return {"mixture": [[w, domain_spec(d)] for w, d in dom.components]}
    if isinstance(dom, Conditional):
        return {"depends_on": dom.depends_on, "cases": {v: domain_spec(d) for v, d in dom.cases}}
    raise ValueError(f"unknown domain type {type(dom).__name__}")


def to_spec(space: Space) -> dict[str, Any]:
    """The whole space in YAML form."""
    return {name: domain_spec(dom) for name, dom in space.domains.items()}


def to_optuna(space: Space) -> dict[str, Any]:
    """Optuna distributions for ``study.ask(fixed_distributions)``; a constant stays a plain value.

    >>> from tunebench.space import Space
    >>> d = to_optuna(Space.from_spec({"alpha": {"loguniform": [1e-6, 0.1]}, "k": {"randint": [1, 4]}}))
    >>> d["alpha"].log, d["k"].high
    (True, 4)
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, dom in space.domains.items():
        if isinstance(dom, Constant):
            out[name] = dom.value
        elif isinstance(dom, Uniform):
            out[name] = FloatDistribution(dom.low, dom.high, log=dom.log)
        elif isinstance(dom, IntUniform):
            out[name] = IntDistribution(dom.low, dom.high, log=dom.log)
        elif isinstance(dom, Choice) and dom.weights is None:
            out[name] = CategoricalDistribution(list(dom.values))
        else:
            raise ValueError(
                f"space.{name}: {domain_spec(dom)} has no Optuna distribution (weighted choice, mixture and depends_on do not)"
            )
    return out


def to_ray_tune(space: Space) -> dict[str, Any]:
    """A Ray Tune ``param_space``; a constant stays a plain value.

    >>> from tunebench.space import Space
    >>> type(to_ray_tune(Space.from_spec({"alpha": {"loguniform": [1e-6, 0.1]}}))["alpha"]).__name__
    'Float'
    """
    from ray import tune

    out: dict[str, Any] = {}
    for name, dom in space.domains.items():
        if isinstance(dom, Constant):
            out[name] = dom.value
        elif isinstance(dom, Uniform):
            out[name] = (tune.loguniform if dom.log else tune.uniform)(dom.low, dom.high)
        elif isinstance(dom, IntUniform):  # Ray's randint excludes its upper bound
            out[name] = (tune.lograndint if dom.log else tune.randint)(dom.low, dom.high + 1)
        elif isinstance(dom, Choice) and dom.weights is None:
            out[name] = tune.choice(list(dom.values))
        else:
            raise ValueError(
                f"space.{name}: {domain_spec(dom)} has no Ray Tune domain (weighted choice, mixture and depends_on do not)"
            )
    return out


def hyperopt_expr(label: str, dom: Domain) -> Any:
    """One plain domain (or a mixture of them) as a Hyperopt expression labelled ``label``.

    Integers draw a real number on ``[low - 0.5, high + 0.5]`` (log-uniformly for ``lograndint``)
    and round it, so every integer gets a whole cell, as :class:`~tunebench.space.IntUniform`
    samples; TPE keeps them ordinal (``hp.randint`` would make them categorical).
    """
    import math

    from hyperopt import hp
    from hyperopt.pyll import scope

    if isinstance(dom, Constant):
        return dom.value
    if isinstance(dom, Uniform):
        if dom.low == dom.high:
            return dom.low
        return hp.loguniform(label, math.log(dom.low), math.log(dom.high)) if dom.log else hp.uniform(label, dom.low, dom.high)
    if isinstance(dom, IntUniform):
        if dom.low == dom.high:
            return dom.low
        if dom.log:
            return scope.int(hp.qloguniform(label, math.log(dom.low - 0.5), math.log(dom.high + 0.5), 1))
        return scope.int(hp.quniform(label, dom.low - 0.5, dom.high + 0.5, 1))
    if isinstance(dom, Choice):
        if dom.weights is None:
            return hp.choice(label, list(dom.values))
        return hp.pchoice(label, [(float(p), v) for p, v in zip(dom.probabilities, dom.values)])
    if isinstance(dom, Mixture):
        total = sum(w for w, _ in dom.components)
        return hp.pchoice(label, [(w / total, hyperopt_expr(f"{label}/{i}", d)) for i, (w, d) in enumerate(dom.components)])
    raise ValueError(f"{label}: {domain_spec(dom)} has no Hyperopt expression")


def hyperopt_parents(space: Space) -> dict[str, list[str]]:
    """Each parameter some ``depends_on`` names, with the parameters that depend on it."""
    parents: dict[str, list[str]] = {}
    for name, dom in space.domains.items():
        if isinstance(dom, Conditional):
            parents.setdefault(dom.depends_on, []).append(name)
    return parents


def hyperopt_branches(space: Space, parent: str, children: list[str]) -> Any:
    """A parent parameter and its dependents as one Hyperopt choice of sub-spaces, one per value."""
    from hyperopt import hp

    dom = space.domains[parent]
    if isinstance(dom, Conditional) or not isinstance(dom, (Choice, Constant)):
        raise ValueError(
            f"space.{parent}: {domain_spec(dom)} is named by depends_on; Hyperopt needs it to be a choice or a constant"
        )
    values = list(dom.values) if isinstance(dom, Choice) else [dom.value]
    branches = []
    for value in values:
        branch: dict[str, Any] = {parent: value}
        for child in children:
            try:
                case = space.domains[child].domain_for({parent: value})
            except ValueError as exc:
                raise ValueError(f"space.{child}: {exc}") from None
            branch[child] = hyperopt_expr(f"{child}|{parent}={value}", case)
        branches.append(branch)
    if isinstance(dom, Constant):
        return branches[0]
    if dom.weights is None:
        return hp.choice(parent, branches)
    return hp.pchoice(parent, [(float(p), b) for p, b in zip(dom.probabilities, branches)])


def to_hyperopt(space: Space) -> dict[str, Any]:
    """A Hyperopt search space for ``fmin``; :func:`from_hyperopt` turns a drawn point back into our config.

    Every kind of :mod:`tunebench.space` converts: a constant stays a plain value, a weighted
    choice and a mixture become ``hp.pchoice``, and a parameter named by ``depends_on`` becomes
    a choice of sub-spaces (one per value, holding the parameters that depend on it), the
    conditional form Hyperopt's TPE models.

    >>> import numpy as np
    >>> from hyperopt.pyll.stochastic import sample
    >>> from tunebench.space import Space
    >>> space = Space.from_spec({"alpha": {"loguniform": [1e-6, 0.1]}, "k": {"randint": [1, 4]}, "loss": "log_loss"})
    >>> config = from_hyperopt(space, sample(to_hyperopt(space), rng=np.random.default_rng(0)))
    >>> space.contains(config), sorted(config)
    (True, ['alpha', 'k', 'loss'])
    """
    parents = hyperopt_parents(space)
    out: dict[str, Any] = {}
    for name, dom in space.domains.items():
        if name in parents:
            out[name] = hyperopt_branches(space, name, parents[name])
        elif not isinstance(dom, Conditional):
            out[name] = hyperopt_expr(name, dom)
    return out


def from_hyperopt(space: Space, point: Mapping[str, Any]) -> dict[str, Any]:
    """Our config from a point Hyperopt drew from :func:`to_hyperopt`'s space (what ``fmin``
    hands the objective): sub-spaces flattened, numbers as plain Python inside the bounds."""
    flat: dict[str, Any] = {}
    parents = hyperopt_parents(space)
    for name, value in point.items():
        flat.update(value if name in parents and isinstance(value, Mapping) else {name: value})
    config: dict[str, Any] = {}
    for name in space.order():
        dom = space.domains[name].domain_for(config)
        if isinstance(dom, Mixture):
            dom = dom.component_for(flat[name])
        value = to_python(flat[name])
        config[name] = dom.clip(value) if isinstance(dom, (Uniform, IntUniform)) else value
    return {name: config[name] for name in space.domains}


def from_optuna(distributions: Mapping[str, Any]) -> Space:
    """Optuna distributions (and plain values, as constants) as a Space: the inverse of :func:`to_optuna`.

    >>> from optuna.distributions import FloatDistribution
    >>> from_optuna({"alpha": FloatDistribution(1e-6, 0.1, log=True), "loss": "log_loss"})["alpha"]
    Uniform(low=1e-06, high=0.1, log=True)
    """
    from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Domain] = {}
    for name, dist in distributions.items():
        if not isinstance(dist, BaseDistribution):
            out[name] = Constant(dist)
        elif isinstance(dist, FloatDistribution) and dist.step is None:
            out[name] = Uniform(float(dist.low), float(dist.high), log=bool(dist.log))
        elif isinstance(dist, IntDistribution) and dist.step == 1:
            out[name] = IntUniform(int(dist.low), int(dist.high), log=bool(dist.log))
        elif isinstance(dist, CategoricalDistribution):
            out[name] = Choice(tuple(dist.choices))
        else:
            raise ValueError(f"{name}: {dist!r} has no domain here (a step other than 1 has no kind in tunebench.space)")
    return Space(out)


def from_ray_tune(param_space: Mapping[str, Any]) -> Space:
    """A Ray Tune ``param_space`` as a Space: the inverse of :func:`to_ray_tune`.

    >>> from ray import tune
    >>> from_ray_tune({"k": tune.randint(1, 5)})["k"]
    IntUniform(low=1, high=4, log=False)
    """
    from ray.tune.search.sample import Categorical, Float, Integer, LogUniform
    from ray.tune.search.sample import Domain as RayDomain
    from ray.tune.search.sample import Uniform as RayUniform

    out: dict[str, Domain] = {}
    for name, dom in param_space.items():
        if not isinstance(dom, RayDomain):
            out[name] = Constant(dom)
            continue
        sampler = dom.get_sampler()
        log = isinstance(sampler, LogUniform)
        if not (log or isinstance(sampler, RayUniform)):
            raise ValueError(f"{name}: Ray Tune {type(dom).__name__} with a {type(sampler).__name__} sampler has no domain here")
        if isinstance(dom, Float):
            out[name] = Uniform(float(dom.lower), float(dom.upper), log=log)
        elif isinstance(dom, Integer):  # Ray's upper bound is exclusive
            out[name] = IntUniform(int(dom.lower), int(dom.upper) - 1, log=log)
        elif isinstance(dom, Categorical) and not log:
            out[name] = Choice(tuple(dom.categories))
        else:
            raise ValueError(f"{name}: Ray Tune domain {dom!r} has no domain here")
    return Space(out)


def generator(random_state: Any) -> Any:
    """Something to draw from: a numpy ``Generator`` or ``RandomState`` as it is, else a new seeded one."""
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    return np.random.default_rng(random_state)


@dataclass(frozen=True)
class WeightedChoice:
    """A weighted choice among any values, in the form ``ParameterSampler`` takes (an ``rvs`` method).

    >>> WeightedChoice(("SGD", "Adam"), (1.0, 0.0)).rvs(random_state=0)
    'SGD'
    """

    values: tuple[Any, ...]
    weights: tuple[float, ...]

    @property
    def probabilities(self) -> np.ndarray:
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        rng = generator(random_state)
        if size is None:
            return self.values[int(rng.choice(len(self.values), p=self.probabilities))]
        return [self.values[int(k)] for k in rng.choice(len(self.values), size=size, p=self.probabilities)]


@dataclass(frozen=True)
class MixtureDistribution:
    """Draw a component with probability proportional to its weight, then draw from it (an ``rvs`` object).

    Each component is a scipy.stats distribution or another ``rvs`` object, a list (a uniform
    choice) or a plain value.
    """

    components: tuple[tuple[float, Any], ...]

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        rng = generator(random_state)
        if size is not None:
            return [self.rvs(random_state=rng) for _ in range(size)]
        w = np.asarray([c[0] for c in self.components], dtype=float)
        part = self.components[int(rng.choice(len(w), p=w / w.sum()))][1]
        if hasattr(part, "rvs"):
            return to_python(part.rvs(random_state=rng))
        if isinstance(part, list):
            return part[int(rng.choice(len(part)))]
        return part


def scipy_form(name: str, dom: Domain) -> Any:
    """One domain as scikit-learn's ``param_distributions`` take it."""
    from scipy import stats

    if isinstance(dom, Constant):
        return [dom.value]
    if isinstance(dom, Uniform):
        return stats.loguniform(dom.low, dom.high) if dom.log else stats.uniform(dom.low, dom.high - dom.low)
    if isinstance(dom, IntUniform) and dom.log:
        return stats.rv_discrete(values=(np.arange(dom.low, dom.high + 1), log_int_probabilities(dom.low, dom.high)))
    if isinstance(dom, IntUniform):
        return stats.randint(dom.low, dom.high + 1)
    if isinstance(dom, Choice):
        return list(dom.values) if dom.weights is None else WeightedChoice(tuple(dom.values), tuple(dom.weights))
    if isinstance(dom, Mixture):
        return MixtureDistribution(tuple((w, scipy_form(name, d)) for w, d in dom.components))
    raise ValueError(
        f"space.{name}: {domain_spec(dom)} has no scipy.stats form: scikit-learn's and Dask-ML's ParameterSampler "
        "draws every parameter on its own, so depends_on cannot be expressed"
    )


def to_scipy(space: Space) -> dict[str, Any]:
    """``param_distributions`` for scikit-learn's and Dask-ML's searches (see the module table).

    >>> from tunebench.space import Space
    >>> d = to_scipy(Space.from_spec({"alpha": {"loguniform": [1e-6, 0.1]}, "k": {"randint": [1, 4]}, "loss": "log_loss"}))
    >>> d["alpha"].dist.name, d["k"].support(), d["loss"]
    ('loguniform', (np.int64(1), np.int64(4)), ['log_loss'])
    """
    return {name: scipy_form(name, dom) for name, dom in space.domains.items()}


def discrete_domain(xk: Sequence[Any], pk: Sequence[float]) -> Domain:
    """An ``rv_discrete``'s support and probabilities as the domain they are: ``randint`` when
    uniform over consecutive integers, ``lograndint`` when they follow :func:`log_int_probabilities`,
    else a weighted choice."""
    values = [to_python(v) for v in xk]
    probs = [float(p) for p in pk]
    consecutive = all(isinstance(v, int) for v in values) and values == list(range(values[0], values[0] + len(values)))
    if consecutive and len(values) > 1:
        low, high = values[0], values[-1]
        if np.allclose(probs, 1.0 / len(values), rtol=1e-9, atol=0.0):
            return IntUniform(low, high)
        if low > 0 and np.allclose(probs, log_int_probabilities(low, high), rtol=1e-9, atol=0.0):
            return IntUniform(low, high, log=True)
    return Choice(tuple(values), tuple(probs))


def scipy_domain_of(name: str, value: Any) -> Domain:
    """One ``param_distributions`` entry as a domain: the inverse of :func:`scipy_form`."""
    from scipy import stats

    if isinstance(value, WeightedChoice):
        return Choice(tuple(value.values), tuple(float(w) for w in value.weights))
    if isinstance(value, MixtureDistribution):
        return Mixture(
            tuple(
                (float(w), scipy_domain_of(name, part) if hasattr(part, "rvs") or isinstance(part, list) else Constant(part))
                for w, part in value.components
            )
        )
    if isinstance(value, stats.rv_discrete) and hasattr(value, "xk"):
        return discrete_domain(value.xk, value.pk)
    if hasattr(value, "rvs"):
        return scipy_domain(value)
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) > 0:
        values = tuple(to_python(v) for v in value)
        return Constant(values[0]) if len(values) == 1 else Choice(values)
    raise ValueError(f"{name}: {value!r} is neither a distribution with rvs nor a non-empty list of values")


def from_scipy(param_distributions: Mapping[str, Any]) -> Space:
    """scikit-learn's ``param_distributions`` as a Space: the inverse of :func:`to_scipy`.

    A one-value list comes back as a constant; a scipy.stats distribution with no kind here
    stays itself, sampled through its own ``rvs``.

    >>> from scipy import stats
    >>> s = from_scipy({"alpha": stats.loguniform(1e-6, 0.1), "k": stats.randint(1, 5), "loss": ["log_loss"]})
    >>> s["alpha"], s["k"], s["loss"]
    (Uniform(low=1e-06, high=0.1, log=True), IntUniform(low=1, high=4, log=False), Constant(value='log_loss'))
    """
    return Space({str(name): scipy_domain_of(str(name), value) for name, value in param_distributions.items()})


def same_domain(a: Domain, b: Domain) -> bool:
    """Equal up to floating-point rounding of the bounds (``uniform`` goes through ``loc + scale``).

    >>> same_domain(Uniform(0.1, 0.7), Uniform(0.1, 0.1 + (0.7 - 0.1)))
    True
    """
    if isinstance(a, Uniform) and isinstance(b, Uniform):
        return a.log == b.log and math.isclose(a.low, b.low, rel_tol=1e-12) and math.isclose(a.high, b.high, rel_tol=1e-12)
    if isinstance(a, Choice) and isinstance(b, Choice) and a.values == b.values:
        if a.weights is None or b.weights is None:
            return a.weights is None and b.weights is None
        return bool(np.allclose(Choice(a.values, a.weights).probabilities, Choice(b.values, b.weights).probabilities, rtol=1e-12))
    if isinstance(a, Mixture) and isinstance(b, Mixture) and len(a.components) == len(b.components):
        return all(math.isclose(wa, wb) and same_domain(da, db) for (wa, da), (wb, db) in zip(a.components, b.components))
    return a == b
