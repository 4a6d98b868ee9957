"""PBT's explore operators: every result stays inside the space, chains compose as configured."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunebench.space import Choice, Domain, IntUniform, Space, Uniform

from schedulers.pbt.explore import (
    BOUNDARIES,
    Op,
    apply_chain,
    explore_config,
    fold,
    fold_index,
    keep_in,
    neighbour,
    perturb,
    resample,
)
from schedulers.pbt.explore_spec import SUPPORTS, parse_explore

SETTINGS = settings(max_examples=200, deadline=None)
boundaries = st.sampled_from(BOUNDARIES)
seeds = st.integers(0, 2**32 - 1)


@st.composite
def numeric_domains(draw: st.DrawFn) -> Domain:
    log = draw(st.booleans())
    if draw(st.booleans()):
        low = draw(st.integers(1, 50) if log else st.integers(-50, 50))
        return IntUniform(low, low + draw(st.integers(0, 60)), log=log)
    low = draw(st.floats(1e-8, 1e3) if log else st.floats(-1e3, 1e3))
    high = low * draw(st.floats(1.0, 1e6)) if log else low + draw(st.floats(0.0, 1e3))
    return Uniform(low, high, log=log)


@st.composite
def domains(draw: st.DrawFn) -> Domain:
    if draw(st.integers(0, 3)) == 0:
        values = draw(st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), min_size=1, max_size=6, unique=True))
        return Choice(tuple(values))
    return draw(numeric_domains())


@st.composite
def ops_for(draw: st.DrawFn, domain: Domain) -> Op:
    kinds = [k for k, allowed in SUPPORTS.items() if isinstance(domain, allowed) and k != "call"]
    kind = draw(st.sampled_from(kinds))
    if kind == "resample":
        return Op(kind, draw(st.floats(0.0, 1.0)))
    if kind == "perturb":
        return Op(kind, tuple(draw(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=4))))
    if kind == "gaussian":
        return Op(kind, draw(st.floats(0.001, 10.0)))
    return Op(kind, draw(st.integers(1, 10)))


@given(st.data(), domains(), boundaries, seeds)
@SETTINGS
def test_every_operator_chain_stays_in_bounds(data: st.DataObject, domain: Domain, boundary: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    value = resample(None, domain, rng)
    chain = tuple(data.draw(st.lists(ops_for(domain), min_size=1, max_size=4)))
    for _ in range(5):
        value, _ = apply_chain(chain, value, domain, {}, rng, boundary)
        assert domain.contains(value), (domain, chain, value)
        if isinstance(domain, Uniform):
            assert isinstance(value, float)


@given(numeric_domains(), st.floats(allow_nan=False), boundaries)
@SETTINGS
def test_keep_in_brings_any_number_inside(domain: Domain, raw: float, boundary: str) -> None:
    assert domain.contains(keep_in(domain, raw, boundary))


@given(st.floats(-1e6, 1e6))
def test_reflect_stays_in_the_unit_interval_and_fixes_inside_points(u: float) -> None:
    r = fold(u, "reflect")
    assert 0.0 <= r <= 1.0
    if 0.0 <= u <= 1.0:
        assert r == u


@given(st.integers(-100, 100), st.integers(1, 9), boundaries)
def test_fold_index_stays_in_range(i: int, n: int, boundary: str) -> None:
    assert 0 <= fold_index(i, n, boundary) < n


@given(st.data(), seeds, boundaries)
@SETTINGS
def test_explore_config_stays_in_a_random_space(data: st.DataObject, seed: int, boundary: str) -> None:
    doms = data.draw(st.lists(domains(), min_size=1, max_size=4))
    space = Space({f"p{i}": d for i, d in enumerate(doms)})
    rng = np.random.default_rng(seed)
    config = space.sample(rng)
    chains = parse_explore(None, space, 0.25, (0.8, 1.2))
    for _ in range(4):
        config, _ = explore_config(config, space, chains, rng, boundary)
        assert space.contains(config)


def test_perturb_multiplies_and_reflect_or_clip_at_the_bound() -> None:
    rng = np.random.default_rng(0)
    dom = Uniform(0.0, 1.0)
    assert perturb(0.5, dom, rng, (1.2,)) == pytest.approx(0.6)
    assert keep_in(dom, 0.95 * 1.2, "clip") == 1.0
    assert keep_in(dom, 0.95 * 1.2, "reflect") == pytest.approx(0.86)
    log = Uniform(1e-4, 1.0, log=True)
    assert keep_in(log, 2.0, "reflect") == pytest.approx(0.5)
    assert keep_in(log, 2.0, "clip") == 1.0


def test_perturb_moves_a_small_integer_by_at_least_one() -> None:
    rng = np.random.default_rng(0)
    assert perturb(1, IntUniform(1, 10), rng, (1.2,)) == 2
    assert perturb(2, IntUniform(1, 10), rng, (0.8,)) == 1


def test_neighbour_steps_along_the_choice_and_stops_or_bounces_at_the_ends() -> None:
    dom = Choice(("a", "b", "c"))
    rng = np.random.default_rng(1)
    moves = {neighbour("b", dom, rng, 1) for _ in range(50)}
    assert moves == {"a", "c"}
    assert {neighbour("a", dom, rng, 1, "clip") for _ in range(50)} == {"a", "b"}
    assert {neighbour("a", dom, rng, 1, "reflect") for _ in range(50)} == {"b"}


def test_gaussian_works_in_log_space() -> None:
    rng = np.random.default_rng(0)
    dom = Uniform(1e-6, 1.0, log=True)
    out = [apply_chain((Op("gaussian", 0.05),), 1e-3, dom, {}, rng, "clip")[0] for _ in range(400)]
    ratios = np.log10(np.array(out) / 1e-3)
    assert abs(float(np.mean(ratios))) < 0.05
    assert float(np.std(ratios)) == pytest.approx(0.05 * 6, rel=0.15)


def test_resample_that_fires_ends_the_chain() -> None:
    space = Space({"x": Uniform(0.0, 1.0)})
    chains = parse_explore({"x": [{"resample": 1.0}, {"call": "tests.test_pbt_explore:boom"}]}, space, 0.25, (0.8, 1.2))
    config, fired = explore_config({"x": 0.5}, space, chains, np.random.default_rng(0), "clip")
    assert fired == {"x": ["resample"]} and 0.0 <= config["x"] <= 1.0


def double(value: float, domain: Domain, rng: np.random.Generator) -> float:
    return value * 2


def boom(value: float, domain: Domain, rng: np.random.Generator) -> float:
    raise AssertionError("the chain went on after a resample")


def test_user_callable_by_import_path_is_kept_in_bounds() -> None:
    space = Space({"x": Uniform(0.0, 1.0), "n": IntUniform(1, 8)})
    spec = {"x": [{"call": "tests.test_pbt_explore:double"}], "n": {"call": "tests.test_pbt_explore:double"}}
    chains = parse_explore(spec, space, 0.25, (0.8, 1.2))
    config, fired = explore_config({"x": 0.3, "n": 5}, space, chains, np.random.default_rng(0), "clip")
    assert config == {"x": 0.6, "n": 8}
    assert fired["x"] == ["call(tests.test_pbt_explore:double)"]


def test_defaults_follow_ray_tune_and_constants_never_change() -> None:
    space = Space.from_spec(
        {
            "alpha": {"loguniform": [1e-6, 1e-1]},
            "loss": {"choice": ["hinge", "log_loss"]},
            "lr": "constant",
            "wd": {"mixture": [[1, 0.0], [3, {"loguniform": [1e-5, 1e-2]}]]},
        }
    )
    chains = parse_explore(None, space, 0.3, (0.5, 2.0))
    assert chains["alpha"] == (Op("resample", 0.3), Op("perturb", (0.5, 2.0)))
    assert chains["loss"] == (Op("resample", 0.3), Op("neighbour", 1))
    assert chains["lr"] == ()
    rng = np.random.default_rng(0)
    config = {"alpha": 1e-3, "loss": "hinge", "lr": "constant", "wd": 0.0}
    for _ in range(50):
        config, _ = explore_config(config, space, chains, rng, "clip")
        assert config["lr"] == "constant" and space.contains(config)


def test_conditional_parameter_follows_its_case() -> None:
    space = Space.from_spec(
        {
            "opt": {"choice": ["sgd", "adam"]},
            "lr": {"depends_on": "opt", "cases": {"sgd": {"loguniform": [0.1, 1.0]}, "adam": {"loguniform": [1e-4, 1e-3]}}},
        }
    )
    chains = parse_explore({"opt": [{"neighbour": 1}]}, space, 0.0, (1.2,))
    config, _ = explore_config({"opt": "sgd", "lr": 0.5}, space, chains, np.random.default_rng(0), "reflect")
    assert config["opt"] == "adam" and 1e-4 <= config["lr"] <= 1e-3


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"nope": ["perturb"]}, ["explore.nope", "not a parameter"]),
        ({"x": [{"perturbb": 1}]}, ["explore.x[0]", "unknown operator", "perturb"]),
        ({"x": [{"perturb": [0.8, -1]}]}, ["explore.x[0].perturb", "each a number > 0"]),
        ({"x": [{"resample": 2}]}, ["explore.x[0].resample", "[0, 1]"]),
        ({"c": [{"perturb": [0.8]}]}, ["explore.c[0]", "does not apply to Choice"]),
        ({"x": [{"neighbour": 1}]}, ["explore.x[0]", "does not apply to Uniform"]),
        ({"x": [{"call": "no.such.module:fn"}]}, ["explore.x[0].call", "cannot be imported"]),
        ({"x": 3}, ["explore.x", "expected a list"]),
    ],
)
def test_bad_explore_specs_name_the_key(spec: dict, words: list[str]) -> None:
    space = Space({"x": Uniform(0.0, 1.0), "c": Choice((1, 2))})
    with pytest.raises(ValueError) as err:
        parse_explore(spec, space, 0.25, (0.8, 1.2))
    for word in words:
        assert word in str(err.value)


def test_chain_forms_are_equivalent() -> None:
    space = Space({"x": Uniform(0.0, 1.0)})
    forms = [
        [{"resample": 0.1}, {"gaussian": 0.2}],
        {"resample": 0.1, "gaussian": 0.2},
    ]
    parsed = [parse_explore({"x": f}, space, 0.25, (0.8, 1.2))["x"] for f in forms]
    assert parsed[0] == parsed[1] == (Op("resample", 0.1), Op("gaussian", 0.2))
    assert parse_explore({"x": "perturb"}, space, 0.25, (0.9, 1.1))["x"] == (Op("perturb", (0.9, 1.1)),)
    assert parse_explore({"x": []}, space, 0.25, (0.9, 1.1))["x"] == ()
    assert math.isclose(parse_explore({"x": "gaussian"}, space, 0.25, (0.9,))["x"][0].arg, 0.1)


@pytest.mark.parametrize("dom", [IntUniform(0, 3), IntUniform(-2, 7), IntUniform(1, 4, log=True), IntUniform(5, 5)])
def test_decoding_unit_draws_gives_each_integer_its_share(dom: IntUniform) -> None:
    """A uniform draw on [0, 1] decodes to each integer with its sampling probability: equal
    shares (log-widths of the cells for ``lograndint``), as PB2's candidates and the unit-space
    operators decode them. Rounding ``low + u * (high - low)`` gave the two end integers half a
    share each."""
    from tunebench.space import log_int_probabilities

    from schedulers.pbt.explore import from_unit, to_unit

    u = np.random.default_rng(0).random(40_000)
    values = list(range(dom.low, dom.high + 1))
    counts = np.array([0] * len(values))
    for x in u:
        counts[values.index(from_unit(dom, float(x)))] += 1
    want = log_int_probabilities(dom.low, dom.high) if dom.log else [1 / len(values)] * len(values)
    assert np.abs(counts / len(u) - want).max() < 0.01, (counts / len(u), want)
    assert [from_unit(dom, to_unit(dom, k)) for k in values] == values
    assert [dom.from_unit(dom.to_unit(k)) for k in values] == values
    assert from_unit(dom, 0.0) == dom.low and from_unit(dom, 1.0) == dom.high
