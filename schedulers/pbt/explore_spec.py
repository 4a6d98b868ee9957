"""PBT's explore in config form: per-parameter chains of operators, checked against the space.

See :mod:`schedulers.pbt.explore` for the operators and the YAML shape. Every problem is a
ValueError naming the key (``explore.<param>[i].<operator>``), the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tunebench.checks import Check, Each, Float, Int
from tunebench.names import did_you_mean
from tunebench.space import Choice, Conditional, Constant, Domain, IntUniform, Mixture, Space, Uniform

from schedulers.pbt.explore import OPERATORS, SUPPORTS, Chain, Op, import_callable


def default_chain(domain: Domain, resample_probability: float, factors: Sequence[float]) -> Chain:
    """Ray Tune's defaults: resample with a probability, else perturb numbers or step choices."""
    plains = leaf_domains(domain)
    if all(isinstance(d, Constant) for d in plains):
        return ()
    second = Op("neighbour", 1) if all(isinstance(d, (Choice, Constant)) for d in plains) else Op("perturb", tuple(factors))
    if second.kind == "perturb" and any(isinstance(d, Choice) for d in plains):
        return (Op("resample", resample_probability),)
    return (Op("resample", resample_probability), second)


def leaf_domains(domain: Domain) -> list[Domain]:
    """Every plain domain a value of ``domain`` can live in."""
    if isinstance(domain, Mixture):
        return [leaf for _, d in domain.components for leaf in leaf_domains(d)]
    if isinstance(domain, Conditional):
        return [leaf for _, d in domain.cases for leaf in leaf_domains(d)]
    return [domain]


def parse_op(where: str, entry: Any, defaults: Mapping[str, Any]) -> Op:
    """One operator from ``name`` or ``{name: arg}``; a ValueError naming ``where`` otherwise."""
    if isinstance(entry, str):
        kind, arg = entry, defaults.get(entry)
    elif isinstance(entry, Mapping) and len(entry) == 1:
        kind, arg = next(iter(entry.items()))
    else:
        raise ValueError(f"{where}: expected an operator name or a one-key mapping like {{perturb: [0.8, 1.2]}}, got {entry!r}")
    if kind not in OPERATORS:
        raise ValueError(f"{where}: unknown operator {kind!r}{did_you_mean(kind, OPERATORS)}; allowed: {', '.join(OPERATORS)}")
    if arg is None:
        if kind == "call":
            raise ValueError(f"{where}: call needs an import path 'module:function'")
        arg = defaults[kind]
    return Op(kind, check_arg(f"{where}.{kind}", kind, arg))


ARGS: dict[str, Check] = {
    "resample": Float(0, 1, note="a probability"),
    "perturb": Each(Float(0, low_open=True), note="factors"),
    "gaussian": Float(0, 10, low_open=True, note="a sigma, on the unit-space scale"),
    "neighbour": Int(1, note="how many places to move at most"),
}


def check_arg(where: str, kind: str, arg: Any) -> Any:
    """Validate one operator's argument; return it in canonical (hashable) form."""
    if kind in ARGS:
        return ARGS[kind].check(where, arg)
    try:
        import_callable(arg)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return str(arg)


def parse_chain(where: str, spec: Any, domain: Domain, defaults: Mapping[str, Any]) -> Chain:
    """One parameter's chain from a list, an ordered mapping, a name, or null/[] (frozen)."""
    if spec is None or spec == [] or spec == {} or spec == "none":
        return ()
    if isinstance(spec, (str, Mapping)) and not (isinstance(spec, Mapping) and len(spec) == 1):
        items: list[Any] = [spec] if isinstance(spec, str) else [{k: v} for k, v in spec.items()]
    elif isinstance(spec, Mapping):
        items = [spec]
    elif isinstance(spec, Sequence):
        items = list(spec)
    else:
        raise ValueError(f"{where}: expected a list of operators, got {spec!r}")
    chain = tuple(parse_op(f"{where}[{i}]", item, defaults) for i, item in enumerate(items))
    for i, op in enumerate(chain):
        for leaf in leaf_domains(domain):
            if not isinstance(leaf, (Constant, *SUPPORTS[op.kind])):
                allowed = ", ".join(k for k, kinds in SUPPORTS.items() if isinstance(leaf, kinds))
                raise ValueError(f"{where}[{i}]: {op.kind} does not apply to {describe(leaf)}; use one of {allowed}")
    return chain


def describe(domain: Domain) -> str:
    """A domain as its YAML kind and arguments, for messages."""
    if isinstance(domain, Choice):
        return f"Choice {list(domain.values)}"
    if isinstance(domain, (Uniform, IntUniform)):
        return f"{type(domain).__name__}{' (log)' if domain.log else ''} [{domain.low}, {domain.high}]"
    return repr(domain)


def parse_explore(
    spec: Mapping[str, Any] | None, space: Space, resample_probability: float, factors: Sequence[float]
) -> dict[str, Chain]:
    """Every parameter's chain: those named in ``spec``, the defaults for the rest.

    >>> from tunebench.space import Space
    >>> space = Space.from_spec({"alpha": {"loguniform": [1e-6, 1e-1]}, "loss": {"choice": ["a", "b"]}})
    >>> chains = parse_explore({"alpha": [{"gaussian": 0.2}]}, space, 0.25, (0.8, 1.2))
    >>> [op.kind for op in chains["alpha"]], [op.kind for op in chains["loss"]]
    (['gaussian'], ['resample', 'neighbour'])
    """
    if spec is not None and not isinstance(spec, Mapping):
        raise ValueError(f"explore must be a mapping of parameter -> list of operators, got {spec!r}")
    spec = dict(spec or {})
    unknown = sorted(set(spec) - set(space.domains))
    if unknown:
        hint = did_you_mean(unknown[0], space.domains)
        raise ValueError(f"explore.{unknown[0]}{hint}: not a parameter of the space (parameters: {', '.join(space.domains)})")
    defaults = {"resample": resample_probability, "perturb": tuple(factors), "gaussian": 0.1, "neighbour": 1}
    chains: dict[str, Chain] = {}
    for name, domain in space.domains.items():
        if name in spec:
            chains[name] = parse_chain(f"explore.{name}", spec[name], domain, defaults)
        else:
            chains[name] = default_chain(domain, resample_probability, factors)
    return chains
