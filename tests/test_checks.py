"""The shared parameter checks: their wording, and that every built-in plugin's bad-parameter
error comes from them, in the same shape as what ``tunebench list`` prints."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tests.helpers import tiny_config
from tunebench import registry
from tunebench.checks import Bool, Check, Each, Float, Int, OneOf, ParamError, Text, check, check_choice, check_int, fail, specs
from tunebench.cli import main
from tunebench.config import ConfigError, load_experiment
from tunebench.space import Space

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-5, 1e-1]}, "l1_ratio": {"uniform": [0, 1]}})
REQUIRED = {("executor", "simulated"): {"curves": "sgd-circles"}}
UNCHECKED = {
    ("scheduler", "pbt"): {"explore"},  # parsed by its own reader (with the shared checks for operator arguments)
    ("executor", "simulated"): {
        "curves"
    },  # read by read_curves (a name, a file, a run directory or Curves), which names what is wrong
}
PLUGINS = [(kind, name) for kind in registry.KINDS for name in registry.names(kind)]


def bad_values(c: Check) -> list[Any]:
    """Values ``c`` must refuse: the wrong type, and just outside each end of its range."""
    out: list[Any] = [] if c.optional else [None]
    if isinstance(c, Int):
        out += [True, 1.5, "3"] + ([c.low - 1] if c.low is not None else []) + ([c.high + 1] if c.high is not None else [])
    elif isinstance(c, Float):
        out += [True, "0.5", math.nan, math.inf]
        out += [c.low if c.low_open else c.low - 1] if c.low is not None else []
        out += [c.high if c.high_open else c.high + 1] if c.high is not None else []
    elif isinstance(c, Bool):
        out += [1, "yes"]
    elif isinstance(c, OneOf):
        out += ["no-such-choice", 99] + ([] if any(isinstance(v, bool) for v in c.choices) else [True])
    elif isinstance(c, Text):
        out += ["", "  ", 3]
    elif isinstance(c, Each):
        out += [[], "ab", [bad for bad in bad_values(c.item) if bad is not None][:1]]
    return out


def build(kind: str, cls: type, **params: Any) -> Any:
    args = (SPACE,) if kind in ("scheduler", "searcher") else ()
    return cls(*args, **{**REQUIRED.get((kind, cls.name), {}), **params})


def loaded(kind: str, name: str) -> type:
    try:
        return registry.load(kind, name)
    except registry.RegistryError as exc:
        pytest.skip(f"not importable here: {exc}")


def test_message_shape_names_key_value_and_range() -> None:
    assert str(fail("eta", 1, "an integer >= 2")) == "eta must be an integer >= 2, got 1"
    with pytest.raises(ParamError, match=r"^n_trials must be an integer >= 1 or null \(null: no limit\), got 0$"):
        Int(1, optional=True, note="null: no limit").check("n_trials", 0)
    with pytest.raises(ParamError, match=r"^q must be a number in \(0, 0\.5\], got 0$"):
        Float(0, 0.5, low_open=True).check("q", 0)
    with pytest.raises(ParamError, match=r"^f must be a non-empty list, each a number > 0, got \[1, -1\]$"):
        Each(Float(0, low_open=True)).check("f", [1, -1])
    assert issubclass(ParamError, ValueError)


def test_accepted_values_come_back_plain() -> None:
    assert type(Int(0).check("k", np.int64(3))) is int
    assert type(Float(0, 1).check("k", np.float32(0.5))) is float
    assert Float(0, 1).check("k", 1) == 1.0 and Int(1, optional=True).check("k", None) is None
    assert Each(Float(0, low_open=True)).check("k", [0.8, 1]) == (0.8, 1.0)
    assert Text().check("k", " host:1 ") == "host:1"
    assert check_choice("k", 2, (1, 2, 3)) == 2 and check_int("k", 5, 1, 9) == 5
    with pytest.raises(ParamError, match="k must be one of 1, 2, 3, got True"):
        check_choice("k", True, (1, 2, 3))
    with pytest.raises(ParamError, match="k must be true or false, got 1"):
        Bool().check("k", 1)


def test_specs_merge_along_the_mro_and_check_refuses_an_undeclared_key() -> None:
    class Base:
        params = {"a": Int(0), "b": Int(0)}

    class Child(Base):
        params = {"b": Int(5)}

    assert specs(Child()) == {"a": Int(0), "b": Int(5)}
    with pytest.raises(ParamError, match="b must be an integer >= 5, got 1"):
        check(Child, "b", 1)
    with pytest.raises(LookupError, match="Child.params declares no check for 'c'"):
        check(Child, "c", 1)


@pytest.mark.parametrize(("kind", "name"), PLUGINS, ids=[f"{k}-{n}" for k, n in PLUGINS])
def test_every_bad_parameter_error_comes_from_the_shared_checks(kind: str, name: str) -> None:
    cls = loaded(kind, name)
    keys = registry.params(kind, cls)
    taken = set(keys) | set(registry.RESERVED[kind])
    assert set(vars(cls).get("params", {})) <= taken, "a check for a key __init__ does not take"
    declared = {k: c for k, c in specs(cls).items() if k in taken}  # a base's keys a subclass fixes are left out
    unchecked = {k for k, p in keys.items() if k not in declared and not p.required}
    assert unchecked == UNCHECKED.get((kind, name), set()), f"keys without a declared check: {sorted(unchecked)}"
    tried = 0
    for key, spec in declared.items():
        for bad in bad_values(spec):
            with pytest.raises(ParamError) as err:
                build(kind, cls, **{key: bad})
            assert str(err.value) == f"{key} must be {spec.allowed()}, got {bad!r}"
            tried += 1
    assert tried >= len(declared)


def test_a_bad_parameter_in_a_config_is_one_config_error_naming_the_plugin() -> None:
    with pytest.raises(
        ConfigError, match=r"^scheduler 'asha': grace must be an integer >= 1 \(steps before the first rung\), got 0$"
    ):
        load_experiment(raw=tiny_config({"name": "asha", "grace": 0})).build()


def test_range_checks_that_depend_on_another_key_use_the_same_shape() -> None:
    from schedulers.asha import ASHA
    from schedulers.successive_halving import SuccessiveHalving

    with pytest.raises(ParamError, match=r"^grace must be an integer in \[1, 9\] \(at most max_iter\), got 10$"):
        ASHA(SPACE, max_iter=9, grace=10)
    with pytest.raises(ParamError, match=r"^brackets must be an integer in \[1, 3\] .*, got 4$"):
        ASHA(SPACE, max_iter=9, brackets=4)
    with pytest.raises(ParamError, match=r"^min_iter must be an integer in \[1, 9\] \(at most max_iter\), got 27$"):
        SuccessiveHalving(SPACE, max_iter=9, min_iter=27)


def test_list_prints_the_range_each_check_enforces(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for kind, name in (("scheduler", "asha"), ("executor", "simulated"), ("workload", "sgd"), ("searcher", "bohb")):
        for key, spec in specs(registry.load(kind, name)).items():
            if key not in registry.RESERVED[kind]:
                default = registry.params(kind, registry.load(kind, name))[key].default
                assert f"{key}={default!r}".ljust(28) + " " + spec.allowed() in out
