"""Search spaces in other libraries' forms, and back.

``to_spec`` gives our own YAML form of a :class:`~tunebench.space.Space` (the inverse of
:meth:`Space.from_spec`).

>>> from tunebench.space import Space
>>> spec = {"alpha": {"loguniform": [1e-6, 0.1]}, "loss": "log_loss"}
>>> Space.from_spec(to_spec(Space.from_spec(spec))).domains == Space.from_spec(spec).domains
True
"""

from __future__ import annotations

from typing import Any

from tunebench.space import Choice, Conditional, Constant, Domain, IntUniform, Mixture, Space, Uniform


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
            raise ValueError(f"space.{name}: {domain_spec(dom)} has no Optuna distribution (weighted choice, mixture and depends_on do not)")
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
            raise ValueError(f"space.{name}: {domain_spec(dom)} has no Ray Tune domain (weighted choice, mixture and depends_on do not)")
    return out
