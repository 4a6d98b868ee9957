"""Search-space parsing, seeded sampling and bounds."""

from __future__ import annotations

import numpy as np
import pytest

from tunebench.space import Choice, Conditional, Constant, IntUniform, Mixture, Space, SpaceError, Uniform, parse_domain


def test_yaml_forms_parse() -> None:
    space = Space.from_spec(
        {
            "alpha": {"loguniform": [1e-6, 1e-1]},
            "l1": {"uniform": [0, 1]},
            "k": {"randint": [2, 5]},
            "opt": {"choice": ["SGD", "Adam"], "weights": [5, 2]},
            "wd": {"mixture": [[1, 0.0], [5, {"loguniform": [1e-5, 1e-3]}]]},
            "lr": {"depends_on": "opt", "cases": {"SGD": {"loguniform": [0.03, 10]}, "Adam": {"loguniform": [1e-4, 0.1]}}},
            "loss": "log_loss",
        }
    )
    assert isinstance(space["alpha"], Uniform) and space["alpha"].log
    assert isinstance(space["k"], IntUniform) and isinstance(space["opt"], Choice)
    assert isinstance(space["wd"], Mixture) and isinstance(space["lr"], Conditional) and isinstance(space["loss"], Constant)
    rng = np.random.default_rng(0)
    configs = [space.sample(rng) for _ in range(300)]
    assert all(space.contains(c) for c in configs)
    assert list(configs[0]) == list(space)
    sgd = [c for c in configs if c["opt"] == "SGD"]
    assert 0.6 < len(sgd) / len(configs) < 0.82
    assert all(0.03 <= c["lr"] <= 10 for c in sgd)
    assert 0.08 < np.mean([c["wd"] == 0.0 for c in configs]) < 0.28
    assert {c["k"] for c in configs} == {2, 3, 4, 5}


def test_sampling_is_seeded() -> None:
    space = Space({"a": Uniform(0, 1), "b": Uniform(1e-3, 1, log=True)})
    a = [space.sample(np.random.default_rng(7)) for _ in range(3)]
    b = [space.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a == b
    assert space.sample(np.random.default_rng(8)) != a[0]


def test_unit_round_trip_and_log_spacing() -> None:
    dom = Uniform(1e-4, 1.0, log=True)
    for v in (1e-4, 1e-2, 0.5, 1.0):
        assert dom.from_unit(dom.to_unit(v)) == pytest.approx(v)
    assert dom.to_unit(1e-2) == pytest.approx(0.5)
    assert dom.from_unit(1.7) == 1.0 and dom.from_unit(-3) == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"uniform": [1, 0]}, "low <= high"),
        ({"loguniform": [0, 1]}, "low > 0"),
        ({"uniform": [0]}, r"\[low, high\]"),
        ({"randint": [0.5, 2]}, "integers"),
        ({"choice": []}, "at least one"),
        ({"choice": [1, 2], "weights": [1]}, "weights"),
        ({"uniform": [0, 1], "log": True}, "unknown key"),
        ({"gamma": [1, 2]}, "exactly one of"),
        ({"depends_on": "x"}, "cases"),
    ],
)
def test_bad_entries_say_what_is_wrong(entry, message) -> None:
    with pytest.raises(SpaceError, match=message):
        parse_domain(entry)


def test_conditional_needs_its_parent() -> None:
    with pytest.raises(SpaceError, match="depends_on 'opt'"):
        Space.from_spec({"lr": {"depends_on": "opt", "cases": {"SGD": {"uniform": [0, 1]}}}})


@pytest.mark.parametrize(("low", "high"), [(1, 4), (2, 9), (5, 5)])
def test_lograndint_frequencies_match_the_log_widths_of_the_integer_cells(low: int, high: int) -> None:
    from scipy.stats import chisquare

    from tunebench.space import IntUniform, log_int_probabilities

    rng = np.random.default_rng(0)
    dom = IntUniform(low, high, log=True)
    n = 20_000
    draws = np.array([dom.sample(rng) for _ in range(n)])
    values = np.arange(low, high + 1)
    counts = np.array([(draws == v).sum() for v in values])
    assert counts.sum() == n
    expected = np.array(log_int_probabilities(low, high)) * n
    if len(values) > 1:
        assert chisquare(counts, expected).pvalue > 1e-3
    assert np.abs(counts / n - expected / n).max() < 0.01
