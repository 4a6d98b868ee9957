"""Space conversion: every distribution kind through Optuna, Ray Tune and scipy.stats and back,
the kinds a form has no place for refused by name, and the scipy forms sampled as scikit-learn does."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.model_selection import ParameterSampler

from tunebench.convert import (
    from_optuna,
    from_ray_tune,
    from_scipy,
    same_domain,
    to_optuna,
    to_ray_tune,
    to_scipy,
    to_spec,
)
from tunebench.space import Space, log_int_probabilities

PLAIN = {
    "uniform": {"uniform": [0.1, 0.7]},
    "loguniform": {"loguniform": [1e-6, 0.1]},
    "randint": {"randint": [2, 9]},
    "lograndint": {"lograndint": [1, 64]},
    "choice": {"choice": ["hinge", "log_loss", 3]},
    "constant": "elasticnet",
}
ONLY_SCIPY = {
    "weighted": {"choice": ["SGD", "Adam"], "weights": [5, 2]},
    "mixture": {"mixture": [[1, 0.0], [5, {"loguniform": [1e-5, 1e-3]}]]},
}
CONDITIONAL = {
    "optimizer": {"choice": ["SGD", "Adam"]},
    "lr": {"depends_on": "optimizer", "cases": {"SGD": {"uniform": [0.1, 1]}, "Adam": {"loguniform": [1e-4, 0.1]}}},
}
FORMS = {"optuna": (to_optuna, from_optuna), "ray-tune": (to_ray_tune, from_ray_tune), "scipy": (to_scipy, from_scipy)}


def assert_same(a: Space, b: Space) -> None:
    assert list(a.domains) == list(b.domains)
    for name in a.domains:
        assert same_domain(a[name], b[name]), (name, a[name], b[name])


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("kind", sorted(PLAIN))
def test_every_plain_kind_round_trips(form: str, kind: str) -> None:
    to, back = FORMS[form]
    space = Space.from_spec({kind: PLAIN[kind]})
    assert_same(back(to(space)), space)
    assert to_spec(back(to(space))).keys() == {kind}


@pytest.mark.parametrize("kind", sorted(ONLY_SCIPY))
def test_weighted_choice_and_mixture_round_trip_through_scipy(kind: str) -> None:
    space = Space.from_spec({kind: ONLY_SCIPY[kind]})
    assert_same(from_scipy(to_scipy(space)), space)


@pytest.mark.parametrize("form", ["optuna", "ray-tune"])
@pytest.mark.parametrize("kind", sorted(ONLY_SCIPY))
def test_optuna_and_ray_tune_refuse_what_they_cannot_hold(form: str, kind: str) -> None:
    with pytest.raises(ValueError, match=f"space.{kind}: "):
        FORMS[form][0](Space.from_spec({kind: ONLY_SCIPY[kind]}))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_depends_on_is_refused_by_name(form: str) -> None:
    with pytest.raises(ValueError, match="space.lr: "):
        FORMS[form][0](Space.from_spec(CONDITIONAL))


def test_the_whole_mixed_space_round_trips_through_scipy() -> None:
    space = Space.from_spec({**PLAIN, **ONLY_SCIPY})
    assert_same(from_scipy(to_scipy(space)), space)


def test_lograndint_keeps_its_probabilities_in_scipy() -> None:
    dist = to_scipy(Space.from_spec({"k": {"lograndint": [1, 8]}}))["k"]
    assert list(dist.xk) == list(range(1, 9))
    assert np.allclose(dist.pk, log_int_probabilities(1, 8))


def test_a_non_uniform_rv_discrete_comes_back_as_a_weighted_choice() -> None:
    from scipy import stats

    dom = from_scipy({"k": stats.rv_discrete(values=([1, 2, 3], [0.2, 0.3, 0.5]))})["k"]
    assert dom.values == (1, 2, 3) and np.allclose(dom.weights, [0.2, 0.3, 0.5])


def test_scikit_learn_samples_the_scipy_forms_inside_the_space() -> None:
    space = Space.from_spec({**PLAIN, **ONLY_SCIPY})
    draws = list(ParameterSampler(to_scipy(space), n_iter=400, random_state=0))
    assert all(space.contains({k: v.item() if isinstance(v, np.generic) else v for k, v in d.items()}) for d in draws)
    share = Counter(d["weighted"] for d in draws)["SGD"] / len(draws)
    assert 0.6 < share < 0.83  # 5 / 7 = 0.71
    zero = sum(d["mixture"] == 0.0 for d in draws) / len(draws)
    assert 0.08 < zero < 0.26  # 1 / 6 = 0.17
    assert len({d["lograndint"] for d in draws}) > 10 and Counter(d["lograndint"] for d in draws)[1] > 30


def test_from_scipy_rejects_what_is_not_a_distribution() -> None:
    with pytest.raises(ValueError, match="alpha: 0.1 is neither a distribution with rvs nor a non-empty list"):
        from_scipy({"alpha": 0.1})
