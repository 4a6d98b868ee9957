"""Fair by construction: a matrix's ``shared`` block reaches every contender of a family in its own
system's vocabulary (checked on the library objects the peers build), and two contenders of one
family with different settings are refused, naming both and the setting, unless ``differs`` says why."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tunebench import registry
from tunebench.compare.matrix import experiment_raw, load_matrix
from tunebench.compare.runner import peer_task
from tunebench.config import ConfigError, load_experiment
from tunebench.store.comparison import Cell, Matrix

BASE: dict[str, Any] = {
    "name": "fair",
    "seeds": [0],
    "workers": 1,
    "max_iter": 27,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 400}],
    "executors": [{"name": "local"}],
}

SHARED = {
    "eta": 4,
    "min_iter": 2,
    "asha": {"n_trials": 30},
    "successive_halving": {"n_trials": 16},
    "random": {"n_trials": 5},
    "pbt": {"population": 4, "perturbation_interval": 5, "quantile_fraction": 0.5, "resample_probability": 0.1},
}

EVERY_PEER = [
    {"label": "tune-asha", "name": "ray-tune-asha"},
    {"label": "tune-hyperband", "name": "ray-tune-hyperband"},
    {"label": "tune-pbt", "name": "ray-tune-pbt"},
    {"label": "optuna-hyperband", "name": "optuna-hyperband"},
    {"label": "optuna-sha", "name": "optuna-successive-halving"},
    {"label": "dask-ml-hyperband", "name": "dask-ml-hyperband"},
    {"label": "dask-ml-sha", "name": "dask-ml-successive-halving"},
    {"label": "sklearn-halving", "name": "sklearn-halving"},
    {"label": "sklearn-random", "name": "sklearn-random"},
    {"label": "hyperopt", "name": "hyperopt-tpe"},
]

OURS = [
    {"label": "asha", "name": "asha", "variant": "stopping"},
    {"label": "hyperband", "name": "hyperband"},
    {"label": "sha", "name": "successive_halving"},
    {"label": "pbt", "name": "pbt"},
    {"label": "random", "name": "random"},
]


def matrix(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE), **copy.deepcopy(changes)}


def refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        load_matrix(raw=raw)
    return str(err.value)


def test_two_contenders_of_one_family_with_different_settings_are_refused_naming_both_and_the_setting() -> None:
    raw = matrix(
        schedulers=[{"label": "pbt", "name": "pbt", "perturbation_interval": 9}],
        peers=[{"label": "ray-tune-pbt", "name": "ray-tune-pbt"}],
    )
    message = refusal(raw)
    assert "pbt and ray-tune-pbt both run pbt but differ in perturbation_interval: 9 against 3" in message
    assert "differs" in message and "shared" in message
    raw["peers"][0]["differs"] = {"perturbation_interval": "Ray Tune's default, on purpose"}
    m = load_matrix(raw=raw)
    assert m.contender("ray-tune-pbt").differs == {"perturbation_interval": "Ray Tune's default, on purpose"}
    raw["peers"][0]["differs"] = {}
    raw["shared"] = {"pbt": {"perturbation_interval": 9}}  # our entry's own 9 agrees with it: no conflict
    assert load_matrix(raw=raw).contender("ray-tune-pbt").settings["perturbation_interval"] == 9


def test_a_contender_that_overrides_the_shared_value_or_cannot_take_it_is_refused() -> None:
    raw = matrix(shared={"eta": 3}, schedulers=[{"label": "hb", "name": "hyperband", "eta": 2}])
    assert "schedulers[hb] sets eta=2, but shared gives hyperband eta=3" in refusal(raw)
    raw = matrix(shared={"asha": {"variant": "promotion"}}, peers=[{"label": "tune-asha", "name": "ray-tune-asha"}])
    assert "peers[tune-asha] (asha) always runs variant='stopping' and cannot take shared variant='promotion'" in refusal(raw)
    raw["peers"][0]["differs"] = {"variant": "Ray Tune's ASHA only stops"}
    assert load_matrix(raw=raw).contender("tune-asha").settings["variant"] == "stopping"


def test_promotion_and_stopping_asha_need_a_reason_and_defaults_are_resolved_before_comparing() -> None:
    ours = [
        {"label": "promo", "name": "asha", "variant": "promotion", "n_trials": 49},
        {"label": "stop", "name": "asha", "variant": "stopping", "n_trials": 49},
    ]
    assert "promo and stop both run asha but differ in variant: 'promotion' against 'stopping'" in refusal(
        matrix(schedulers=ours)
    )
    ours[0]["differs"] = {"variant": "the paper's variant"}
    load_matrix(raw=matrix(schedulers=ours))
    # Ray Tune's ASHA defaults to as many trials as Hyperband starts (49 at max_iter 27, eta 3): the same as ours
    m = load_matrix(raw=matrix(schedulers=ours, peers=[{"label": "tune", "name": "ray-tune-asha"}]))
    assert m.contender("tune").settings == {"eta": 3, "n_trials": 49, "min_iter": 1, "variant": "stopping"}
    ours[1]["n_trials"] = 48
    assert "differ in n_trials: 49 against 48" in refusal(matrix(schedulers=ours))


@pytest.mark.parametrize(
    "shared, message",
    [
        ({"etta": 3}, "shared: unknown key 'etta' (did you mean 'eta'?); allowed: settings n_trials, eta, min_iter"),
        ({"max_iter": 27}, "max_iter and budget are the matrix's own keys"),
        ({"pbt": {"eta": 3}}, "shared.pbt: 'eta' is not a setting of pbt; its settings: population, perturbation_interval"),
        ({"asha": 3}, "shared.asha must be a mapping of asha's settings"),
        ([3], "shared must be a mapping"),
    ],
)
def test_a_malformed_shared_block_names_what_is_wrong_and_what_is_allowed(shared: Any, message: str) -> None:
    assert message in refusal(matrix(shared=shared, schedulers=[{"label": "hb", "name": "hyperband"}]))


def test_differs_must_name_a_setting_of_the_family_with_a_reason() -> None:
    bad = matrix(schedulers=[{"label": "hb", "name": "hyperband", "differs": {"population": "no"}}])
    assert "schedulers[hb].differs must map settings of its family (eta, n_trials) to the reason they differ" in refusal(bad)
    empty = matrix(schedulers=[{"label": "hb", "name": "hyperband", "differs": {"eta": " "}}])
    assert "to the reason they differ" in refusal(empty)


def cells_by_label(m: Matrix) -> dict[str, Cell]:
    return {c.label: c for c in m.cells}


def peer_of(cell: Cell) -> Any:
    cls = registry.load("peer", str(cell.section["name"]))
    return cls(**{k: v for k, v in cell.section.items() if k != "name"})


def test_the_shared_block_reaches_every_system_as_its_own_argument() -> None:
    """Checked on the objects each library is handed: Ray Tune's schedulers, Optuna's pruners,
    Dask-ML's and scikit-learn's searches, Hyperopt's max_evals, and our own schedulers."""
    from tunebench.compare.peers.estimators import estimator_parts

    m = load_matrix(raw=matrix(shared=SHARED, schedulers=OURS, peers=EVERY_PEER))
    cells = cells_by_label(m)
    task = {label: peer_task(c, m.raw) for label, c in cells.items() if c.kind == "peer"}
    peer = {label: peer_of(c) for label, c in cells.items() if c.kind == "peer"}

    asha = peer["tune-asha"].make_scheduler(task["tune-asha"])
    assert (asha._reduction_factor, min(r[0] for r in asha._brackets[0]._rungs), asha._max_t) == (4, 2, 27)
    assert peer["tune-asha"].n_trials_for(task["tune-asha"]) == 30
    assert peer["tune-hyperband"].make_scheduler(task["tune-hyperband"])._eta == 4
    pbt = peer["tune-pbt"].make_scheduler(task["tune-pbt"])
    assert (pbt._perturbation_interval, pbt._quantile_fraction, pbt._resample_probability) == (5, 0.5, 0.1)
    assert peer["tune-pbt"].n_trials_for(task["tune-pbt"]) == 4

    assert peer["optuna-hyperband"].make_pruner(task["optuna-hyperband"])._reduction_factor == 4
    sha = peer["optuna-sha"].make_pruner(task["optuna-sha"])
    assert (sha._reduction_factor, sha._min_resource) == (4, 2) and peer["optuna-sha"].n_trials_for(task["optuna-sha"]) == 30

    hb = peer["dask-ml-hyperband"].make_search(task["dask-ml-hyperband"], estimator_parts(task["dask-ml-hyperband"], "dask-ml"))
    assert hb.aggressiveness == 4
    dsha = peer["dask-ml-sha"].make_search(task["dask-ml-sha"], estimator_parts(task["dask-ml-sha"], "dask-ml"))
    assert (dsha.aggressiveness, dsha.n_initial_parameters, dsha.n_initial_iter) == (4, 16, 2)

    halving = peer["sklearn-halving"].make_search(task["sklearn-halving"], None, {}, None, None)
    assert (halving.factor, halving.min_resources, halving.n_candidates) == (4, 2, 16)
    assert peer["sklearn-random"].make_search(task["sklearn-random"], None, {}, None, None).n_iter == 5
    assert peer["hyperopt"].max_evals(task["hyperopt"]) == 5

    ours = {
        label: load_experiment(raw=experiment_raw(c, m.raw)).build().scheduler
        for label, c in cells.items()
        if c.kind == "scheduler"
    }
    assert (ours["asha"].eta, ours["asha"].grace, ours["asha"].n_trials) == (4, 2, 30)
    assert (ours["pbt"].n_trials, ours["pbt"].interval, ours["pbt"].quantile_fraction) == (4, 5, 0.5)
    assert ours["random"].n_trials == 5 and ours["hyperband"].eta == 4


def test_matrix_json_records_each_contenders_family_settings_and_their_names_in_its_own_system() -> None:
    m = load_matrix(raw=matrix(shared=SHARED, schedulers=OURS[:2], peers=EVERY_PEER[:2]))
    rows = {c["label"]: c for c in json.loads(json.dumps([c.as_json() for c in m.contenders]))}
    assert rows["tune-asha"]["algorithm"] == "asha"
    assert rows["tune-asha"]["settings"] == {"eta": 4, "min_iter": 2, "n_trials": 30, "variant": "stopping"}
    assert rows["tune-asha"]["received"] == {
        "eta": "reduction_factor",
        "min_iter": "grace_period",
        "n_trials": "num_samples",
        "variant": "fixed",
    }
    assert rows["hyperband"]["settings"] == {"eta": 4, "n_trials": 25}  # derived: what Hyperband at max_iter 27, eta 4 starts
    assert rows["asha"]["received"]["min_iter"] == "grace"


def test_every_shipped_matrix_is_fair() -> None:
    for path in sorted(Path(__file__).resolve().parents[1].joinpath("configs").glob("*.yaml")):
        text = path.read_text()
        if "workloads:" in text:
            load_matrix(path)
