"""Our search space as a ConfigSpace ``ConfigurationSpace`` (ConfigSpace 1.2), and a Configuration back as our config.

DEHB, HpBandSter and SMAC3 search a ``ConfigurationSpace``. What each kind of
:mod:`tunebench.space` becomes:

================== ==============================================================================
kind               ConfigSpace
================== ==============================================================================
constant           ``Constant``
uniform            ``UniformFloatHyperparameter`` (``log=True`` for loguniform); ``low == high``: ``Constant``
randint            ``UniformIntegerHyperparameter`` (``log=True`` for lograndint); ``low == high``: ``Constant``
choice             ``CategoricalHyperparameter``, a weighted choice with its ``weights``
depends_on         one hyperparameter per group of the parent's values that share a case, named
                   ``child|parent=values`` and active under an ``EqualsCondition`` (one value) or
                   ``InCondition`` on the parent; a chain of ``depends_on`` nests the same way
mixture            none: a ConfigSpace hyperparameter has one distribution
================== ==============================================================================

A parameter named by ``depends_on`` must be a choice or a constant (a condition on a number
would need a case for every value). What has no form is :class:`PeerUnsupported`, naming the
parameter. :func:`from_configuration` reads a Configuration (or its dict) back as our config:
each parameter from its active hyperparameter, numbers clipped to our bounds, a choice as our
own value. :func:`from_configspace` reads back a space without conditions.

>>> from tunebench.space import Space
>>> space = Space.from_spec({"alpha": {"loguniform": [1e-6, 0.1]}, "opt": {"choice": ["SGD", "Adam"], "weights": [5, 2]},
...                          "lr": {"depends_on": "opt", "cases": {"SGD": {"uniform": [0.01, 1]}, "Adam": {"uniform": [1e-4, 0.1]}}}})
>>> cs = to_configspace(space, seed=0)
>>> sorted(cs), sorted(str(c) for c in cs.conditions)
(['alpha', 'lr|opt=Adam', 'lr|opt=SGD', 'opt'], ["lr|opt=Adam | opt == 'Adam'", "lr|opt=SGD | opt == 'SGD'"])
>>> config = from_configuration(space, cs.sample_configuration())
>>> space.contains(config), sorted(config)
(True, ['alpha', 'lr', 'opt'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tunebench.compare.peer import PeerUnsupported
from tunebench.convert import domain_spec
from tunebench.space import Choice, Conditional, Constant, Domain, IntUniform, Mixture, Space, SpaceError, Uniform, to_python


@dataclass(frozen=True)
class Variant:
    """One ConfigSpace hyperparameter standing for one of our parameters: its plain ``domain``,
    active while the hyperparameter ``parent`` (``None``: always) takes one of ``values``."""

    name: str
    param: str
    domain: Domain
    parent: str | None = None
    values: tuple[Any, ...] = ()


def unsupported(name: str, dom: Domain, why: str) -> PeerUnsupported:
    return PeerUnsupported(f"space.{name}: {domain_spec(dom)} has no ConfigSpace form: {why}")


def plain(name: str, dom: Domain) -> Domain:
    """``dom`` if ConfigSpace has a hyperparameter for it."""
    if isinstance(dom, Mixture):
        raise unsupported(name, dom, "a ConfigSpace hyperparameter has one distribution, a mixture has several")
    if isinstance(dom, Conditional):
        raise unsupported(name, dom, "a case of depends_on must be a plain domain")
    return dom


def parent_values(name: str, dom: Domain, parent: Variant) -> tuple[Any, ...]:
    """The values a parent variant takes: a choice's or a constant's."""
    if isinstance(parent.domain, Choice):
        return tuple(parent.domain.values)
    if isinstance(parent.domain, Constant):
        return (parent.domain.value,)
    raise unsupported(
        name, dom, f"its parent {parent.param!r} is {domain_spec(parent.domain)}; a condition needs a choice or a constant"
    )


def case_groups(name: str, dom: Conditional, parent: Variant) -> list[tuple[Domain, list[Any]]]:
    """The parent's values grouped by the case each gives ``name``, in the parent's order."""
    groups: list[tuple[Domain, list[Any]]] = []
    for value in parent_values(name, dom, parent):
        try:
            case = plain(name, dom.domain_for({dom.depends_on: value}))
        except SpaceError as exc:
            raise unsupported(name, dom, str(exc)) from None
        same = next((g for g in groups if g[0] == case), None)
        if same is None:
            groups.append((case, [value]))
        else:
            same[1].append(value)
    return groups


def conditional_variants(name: str, dom: Conditional, parents: list[Variant]) -> list[Variant]:
    """A conditional parameter's variants: one per parent variant and group of its values."""
    found = [(p, case, tuple(values)) for p in parents for case, values in case_groups(name, dom, p)]
    out = []
    for p, case, values in found:
        always = p.parent is None and len(values) == len(parent_values(name, dom, p))
        label = name if len(found) == 1 else f"{name}|{p.name}={','.join(str(v) for v in values)}"
        out.append(Variant(label, name, case, None if always else p.name, values))
    return out


def variants(space: Space) -> dict[str, list[Variant]]:
    """Each of our parameters (in sampling order) with the hyperparameters that stand for it."""
    table: dict[str, list[Variant]] = {}
    for name in space.order():
        dom = space.domains[name]
        if not isinstance(dom, Conditional):
            table[name] = [Variant(name, name, plain(name, dom))]
        elif dom.depends_on not in table:
            raise unsupported(name, dom, f"it is listed before {dom.depends_on!r}, on which it depends")
        else:
            table[name] = conditional_variants(name, dom, table[dom.depends_on])
    names = [v.name for vs in table.values() for v in vs]
    clash = next((n for n in names if names.count(n) > 1), None)
    if clash is not None:
        raise PeerUnsupported(f"space: two ConfigSpace hyperparameters would both be named {clash!r}; rename a parameter")
    return table


def hyperparameter(v: Variant) -> Any:
    """The ConfigSpace hyperparameter of one variant."""
    import ConfigSpace as CS

    dom = v.domain
    try:
        if isinstance(dom, Uniform):
            if dom.low == dom.high:
                return CS.Constant(v.name, float(dom.low))
            return CS.UniformFloatHyperparameter(v.name, dom.low, dom.high, log=dom.log)
        if isinstance(dom, IntUniform):
            if dom.low == dom.high:
                return CS.Constant(v.name, int(dom.low))
            return CS.UniformIntegerHyperparameter(v.name, dom.low, dom.high, log=dom.log)
        if isinstance(dom, Choice):
            weights = None if dom.weights is None else [float(p) for p in dom.probabilities]
            return CS.CategoricalHyperparameter(v.name, list(dom.values), weights=weights)
        if isinstance(dom, Constant):
            return CS.Constant(v.name, dom.value)
    except (TypeError, ValueError) as exc:
        raise unsupported(v.param, dom, f"ConfigSpace says {exc}") from None
    raise unsupported(v.param, dom, f"no hyperparameter for a {type(dom).__name__}")


def condition(v: Variant, hps: Mapping[str, Any]) -> Any:
    """``EqualsCondition`` for one parent value, ``InCondition`` for several."""
    import ConfigSpace as CS

    assert v.parent is not None
    if len(v.values) == 1:
        return CS.EqualsCondition(hps[v.name], hps[v.parent], v.values[0])
    return CS.InCondition(hps[v.name], hps[v.parent], list(v.values))


def to_configspace(space: Space, seed: int | None = None) -> Any:
    """A ``ConfigurationSpace`` for ``space`` (see the module table), seeded with ``seed``."""
    import ConfigSpace as CS

    table = variants(space)
    hps = {v.name: hyperparameter(v) for vs in table.values() for v in vs}
    cs = CS.ConfigurationSpace(seed=seed)
    cs.add(*hps.values())
    conditions = [condition(v, hps) for vs in table.values() for v in vs if v.parent is not None]
    if conditions:
        cs.add(*conditions)
    return cs


def pick(dom: Domain, candidates: list[Variant], on: Mapping[str, Variant], config: Mapping[str, Any]) -> Variant:
    """The active one of a parameter's variants, given the active variants and values of the parameters before it."""
    if not isinstance(dom, Conditional):
        return candidates[0]
    dep = dom.depends_on
    return next(v for v in candidates if v.parent is None or (v.parent == on[dep].name and config[dep] in v.values))


def active(space: Space, table: Mapping[str, list[Variant]], config: Mapping[str, Any]) -> dict[str, Variant]:
    """The variant of each parameter that is active for ``config`` (our values)."""
    on: dict[str, Variant] = {}
    for name in space.order():
        on[name] = pick(space.domains[name], table[name], on, config)
    return on


def our_value(dom: Domain, value: Any) -> Any:
    """A ConfigSpace value as our domain holds it: numbers clipped, a choice's or constant's own value."""
    value = to_python(value)
    if isinstance(dom, Uniform):
        return dom.clip(float(value))
    if isinstance(dom, IntUniform):
        return dom.clip(value)
    if isinstance(dom, Constant):
        return dom.value
    if isinstance(dom, Choice):
        return next((c for c in dom.values if c == value), value)
    return value


def from_configuration(space: Space, values: Mapping[str, Any]) -> dict[str, Any]:
    """Our config from a Configuration of :func:`to_configspace`'s space (or its dict of active values)."""
    table = variants(space)
    on: dict[str, Variant] = {}
    config: dict[str, Any] = {}
    for name in space.order():
        on[name] = pick(space.domains[name], table[name], on, config)
        config[name] = our_value(on[name].domain, values[on[name].name])
    return {name: config[name] for name in space.domains}


def to_configuration(space: Space, cs: Any, config: Mapping[str, Any]) -> Any:
    """Our config as a Configuration of ``cs`` (made by :func:`to_configspace` from ``space``)."""
    import ConfigSpace as CS

    on = active(space, variants(space), config)
    return CS.Configuration(cs, values={v.name: config[name] for name, v in on.items()})


def from_hyperparameter(hp: Any) -> Domain:
    """One unconditioned hyperparameter as our domain."""
    import ConfigSpace as CS

    if isinstance(hp, CS.UniformFloatHyperparameter):
        return Uniform(float(hp.lower), float(hp.upper), log=bool(hp.log))
    if isinstance(hp, CS.UniformIntegerHyperparameter):
        return IntUniform(int(hp.lower), int(hp.upper), log=bool(hp.log))
    if isinstance(hp, CS.CategoricalHyperparameter):
        values = tuple(to_python(c) for c in hp.choices)
        return Choice(values, None if hp.weights is None else tuple(float(w) for w in hp.weights))
    if isinstance(hp, CS.Constant):
        return Constant(to_python(hp.value))
    raise ValueError(f"{hp.name}: a {type(hp).__name__} has no domain in tunebench.space")


def from_configspace(cs: Any) -> Space:
    """A ``ConfigurationSpace`` without conditions or forbidden clauses as our Space: the inverse of
    :func:`to_configspace` for every kind but ``depends_on``."""
    if cs.conditions or cs.forbidden_clauses:
        raise ValueError("a ConfigurationSpace with conditions or forbidden clauses has no tunebench.space form here")
    return Space({str(name): from_hyperparameter(hp) for name, hp in cs.items()})
