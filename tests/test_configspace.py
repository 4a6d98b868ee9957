"""Our spaces as ConfigSpace 1.2 spaces and back: every kind it can express round-trips, the rest is refused by name."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tunebench.compare.peer import PeerUnsupported
from tunebench.compare.peers.configspace import from_configspace, from_configuration, to_configspace, to_configuration
from tunebench.convert import same_domain
from tunebench.space import Choice, Conditional, Constant, IntUniform, Mixture, Space, Uniform

PLAIN = {
    "uniform": Uniform(0.0, 1.0),
    "loguniform": Uniform(1e-6, 0.1, log=True),
    "randint": IntUniform(1, 10),
    "lograndint": IntUniform(8, 256, log=True),
    "choice": Choice(("a", "b", "c")),
    "numbers": Choice((32, 64, 128)),
    "flags": Choice((True, False)),
    "weighted": Choice(("SGD", "Adam"), weights=(5.0, 2.0)),
    "text": Constant("log_loss"),
    "count": Constant(3),
    "nothing": Constant(None),
}
CONDITIONAL = {
    "optimizer": Choice(("SGD", "Adam", "RMSprop"), weights=(5.0, 2.0, 1.0)),
    "lr": Conditional(
        "optimizer",
        (
            ("SGD", Uniform(0.03, 10.0, log=True)),
            ("Adam", Uniform(1e-4, 0.1, log=True)),
            ("RMSprop", Uniform(1e-4, 0.1, log=True)),
        ),
    ),
    "momentum": Conditional("optimizer", (("SGD", Uniform(0.0, 1.0)), ("Adam", Constant(0.0)), ("RMSprop", Constant(0.0)))),
    "kernel": Constant("rbf"),
    "gamma": Conditional("kernel", (("rbf", Choice(("auto", "value"))), ("linear", Constant("auto")))),
    "gamma_value": Conditional("gamma", (("value", Uniform(1e-4, 8.0, log=True)), ("auto", Constant(1.0)))),
    "same": Conditional("optimizer", (("SGD", IntUniform(1, 5)), ("Adam", IntUniform(1, 5)), ("RMSprop", IntUniform(1, 5)))),
}


def close(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal, floats to ConfigSpace's rounding (it keeps 13 decimal places)."""
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12)
        if isinstance(a[k], float)
        else a[k] == b[k] and type(a[k]) is type(b[k])
        for k in a
    )


def test_every_plain_kind_round_trips() -> None:
    space = Space(PLAIN)
    back = from_configspace(to_configspace(space))
    assert sorted(back.domains) == sorted(space.domains)  # ConfigSpace keeps its hyperparameters by name
    for name, dom in space.domains.items():
        assert same_domain(back[name], dom), name
    assert np.allclose(to_configspace(space)["weighted"].probabilities, [5 / 7, 2 / 7])


@pytest.mark.parametrize("domains", [PLAIN, CONDITIONAL], ids=["plain", "conditional"])
def test_configurations_round_trip(domains: dict[str, Any]) -> None:
    space = Space(domains)
    cs = to_configspace(space, seed=0)
    for configuration in cs.sample_configuration(200):
        config = from_configuration(space, configuration)
        assert space.contains(config), config
        assert dict(to_configuration(space, cs, config)) == dict(configuration)
    rng = np.random.default_rng(0)
    for _ in range(200):
        config = space.sample(rng)
        assert close(from_configuration(space, to_configuration(space, cs, config)), config)


def test_a_condition_per_group_of_cases_and_chains_nest() -> None:
    cs = to_configspace(Space(CONDITIONAL))
    assert sorted(str(c) for c in cs.conditions) == [
        "gamma_value|gamma=auto | gamma == 'auto'",
        "gamma_value|gamma=value | gamma == 'value'",
        "lr|optimizer=Adam,RMSprop | optimizer in {'Adam', 'RMSprop'}",
        "lr|optimizer=SGD | optimizer == 'SGD'",
        "momentum|optimizer=Adam,RMSprop | optimizer in {'Adam', 'RMSprop'}",
        "momentum|optimizer=SGD | optimizer == 'SGD'",
    ]
    assert {"same", "gamma", "kernel", "optimizer"} <= set(cs)  # one case for every value, or a constant parent: no condition


def test_degenerate_ranges_are_constants() -> None:
    cs = to_configspace(Space({"x": Uniform(0.5, 0.5), "k": IntUniform(4, 4)}))
    assert from_configspace(cs).domains == {"x": Constant(0.5), "k": Constant(4)}
    assert from_configuration(Space({"x": Uniform(0.5, 0.5), "k": IntUniform(4, 4)}), cs.sample_configuration()) == {
        "x": 0.5,
        "k": 4,
    }


@pytest.mark.parametrize(
    "domains, message",
    [
        (
            {"wd": Mixture(((1.0, Constant(0.0)), (5.0, Uniform(1e-5, 1e-3, log=True))))},
            r"space\.wd: \{'mixture'.*one distribution",
        ),
        (
            {"n": IntUniform(1, 2), "lr": Conditional("n", ((1, Uniform(0.1, 1.0)), (2, Uniform(0.01, 0.1))))},
            r"space\.lr: .*its parent 'n'",
        ),
        (
            {"o": Choice(("a", "b")), "x": Conditional("o", (("a", Mixture(((1.0, Constant(0)),))), ("b", Constant(1))))},
            r"space\.x: .*one distribution",
        ),
        ({"o": Choice(("a", "b")), "x": Conditional("o", (("a", Uniform(0.0, 1.0)),))}, r"space\.x: .*no case for o='b'"),
    ],
)
def test_what_has_no_form_is_refused_by_name(domains: dict[str, Any], message: str) -> None:
    with pytest.raises(PeerUnsupported, match=message) as err:
        to_configspace(Space(domains))
    assert "\n" not in str(err.value)


def test_a_space_with_conditions_does_not_read_back_as_a_plain_space() -> None:
    with pytest.raises(ValueError, match="conditions"):
        from_configspace(to_configspace(Space(CONDITIONAL)))
