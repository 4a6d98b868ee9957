"""SMAC3's benchmark tasks as workloads, against their definitions and a direct scikit-learn computation.

The expected spaces, conditions, data and evaluations are written out from SMAC3's source at
commit 1c32e140ac44d94c416604b0e066a7a26a62c9a7 (v2.4.0): ``benchmark/src/models/mlp.py``,
``benchmark/src/models/svm.py``, ``benchmark/src/datasets/breast_cancer.py``,
``benchmark/src/datasets/digits.py``, ``benchmark/src/tasks/__init__.py`` (the tasks
``MLP-BreastCancer (HB)``, budget 1 to 25, and ``SVM-Digits (HB)``, instances, two seeds,
budget 10 to 50) and ``smac/intensifier/abstract_intensifier.py``
(``_reorder_instance_seed_keys``: the instance-seed order under ``shuffle_once``). Each direct
computation runs on one BLAS thread, as the workload evaluates.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn import datasets, svm
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from tunebench.config import ConfigError, load_experiment
from tunebench.space import Choice, Conditional, Constant, IntUniform, Space, Uniform
from tunebench.workloads.smac.base import SMACTask, active
from tunebench.workloads.smac.mlp import CONDITIONS as MLP_CONDITIONS
from tunebench.workloads.smac.mlp import DEFAULT as MLP_DEFAULT
from tunebench.workloads.smac.mlp import SMACMLP
from tunebench.workloads.smac.svm import CONDITIONS as SVM_CONDITIONS
from tunebench.workloads.smac.svm import DEFAULT as SVM_DEFAULT
from tunebench.workloads.smac.svm import SMACSVM, instance_order

MLP_SPACE = {
    "n_layer": IntUniform(1, 5),
    "n_neurons": IntUniform(8, 256, log=True),
    "activation": Choice(("logistic", "tanh", "relu")),
    "solver": Choice(("lbfgs", "sgd", "adam")),
    "batch_size": IntUniform(30, 300),
    "learning_rate": Choice(("constant", "invscaling", "adaptive")),
    "learning_rate_init": Uniform(0.0001, 1.0, log=True),
}
MLP_WHEN = {
    "batch_size": ("solver", {"sgd", "adam"}),
    "learning_rate": ("solver", {"sgd"}),
    "learning_rate_init": ("solver", {"sgd", "adam"}),
}
MLP_PASSED_WHEN_INACTIVE = {"batch_size": 200, "learning_rate": "constant", "learning_rate_init": 0.001}
MLP_DEFAULTS = {
    "n_layer": 1,
    "n_neurons": 10,
    "activation": "tanh",
    "solver": "adam",
    "batch_size": 200,
    "learning_rate": "constant",
    "learning_rate_init": 0.001,
}

SVM_SPACE = {
    "kernel": Choice(("linear", "poly", "rbf", "sigmoid")),
    "C": Uniform(0.001, 1000.0, log=True),
    "shrinking": Choice((True, False)),
    "degree": IntUniform(1, 5),
    "coef0": Uniform(0.0, 10.0),
    "gamma": Choice(("auto", "value")),
    "gamma_value": Uniform(0.0001, 8.0, log=True),
}
SVM_WHEN = {
    "degree": ("kernel", {"poly"}),
    "coef0": ("kernel", {"poly", "sigmoid"}),
    "gamma": ("kernel", {"rbf", "poly", "sigmoid"}),
    "gamma_value": ("gamma", {"value"}),
}
SVM_DEFAULTS = {"kernel": "poly", "C": 1.0, "shrinking": True, "degree": 3, "coef0": 0.0, "gamma": "auto", "gamma_value": 1.0}

MLP_CONFIGS = [
    {
        "n_layer": 2,
        "n_neurons": 16,
        "activation": "tanh",
        "solver": "lbfgs",
        "batch_size": 200,
        "learning_rate": "constant",
        "learning_rate_init": 0.001,
    },
    {
        "n_layer": 1,
        "n_neurons": 32,
        "activation": "relu",
        "solver": "sgd",
        "batch_size": 64,
        "learning_rate": "adaptive",
        "learning_rate_init": 0.01,
    },
    {
        "n_layer": 3,
        "n_neurons": 12,
        "activation": "logistic",
        "solver": "adam",
        "batch_size": 100,
        "learning_rate": "constant",
        "learning_rate_init": 0.005,
    },
]
SVM_CONFIGS = [
    {"kernel": "linear", "C": 0.5, "shrinking": True, "degree": 3, "coef0": 0.0, "gamma": "auto", "gamma_value": 1.0},
    {"kernel": "poly", "C": 2.0, "shrinking": False, "degree": 2, "coef0": 1.5, "gamma": "value", "gamma_value": 0.01},
    {"kernel": "rbf", "C": 10.0, "shrinking": True, "degree": 3, "coef0": 0.0, "gamma": "value", "gamma_value": 0.002},
    {"kernel": "sigmoid", "C": 0.1, "shrinking": True, "degree": 3, "coef0": 2.0, "gamma": "auto", "gamma_value": 1.0},
]


def smac_mlp_accuracy(config: dict[str, Any], budget: int, seed: int, n_samples: int | None = None) -> float:
    """SMAC's ``MLPModel.train``, as accuracy (it returns ``1 - np.mean(score)``), on the first
    ``n_samples`` rows (``None``: all, as SMAC's task)."""
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X, y = X[:n_samples], y[:n_samples]
    on = config["solver"] in ("sgd", "adam")
    classifier = MLPClassifier(
        hidden_layer_sizes=[config["n_neurons"]] * config["n_layer"],
        solver=config["solver"],
        batch_size=config["batch_size"] if on else 200,
        activation=config["activation"],
        learning_rate=config["learning_rate"] if config["solver"] == "sgd" else "constant",
        learning_rate_init=config["learning_rate_init"] if on else 0.001,
        max_iter=int(np.ceil(budget)),
        random_state=seed,
    )
    cv = StratifiedKFold(n_splits=5, random_state=seed, shuffle=True)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        return float(np.mean(cross_val_score(classifier, X, y, cv=cv, error_score="raise")))


@functools.cache
def digits() -> Any:
    """scikit-learn's digits, loaded once for the module."""
    return datasets.load_digits()


def smac_instance_order() -> list[str]:
    """SMAC's first 50 instance-seed keys' instances: two seed groups, each shuffled by one RandomState(0)."""
    names = [f"{a}-{b}" for a, b in itertools.combinations(digits().target_names, 2)]
    rng = np.random.RandomState(0)
    return [k for _ in range(2) for k in rng.choice(names, size=len(names), replace=False)][:50]


def smac_svm_accuracy(config: dict[str, Any], budget: int, n_folds: int = 5) -> float:
    """SMAC's ``SVMModel.train`` on each of the first ``budget`` instances, averaged as its run history does,
    with ``n_folds``-fold cross-validation (SMAC's: 5)."""
    items = tuple(config.items())
    with threadpool_limits(1):
        return float(np.mean([smac_svm_instance_accuracy(items, n_folds, k) for k in range(budget)]))


@functools.cache
def smac_svm_instance_accuracy(items: tuple[tuple[str, Any], ...], n_folds: int, k: int) -> float:
    """SMAC's ``SVMModel.train`` on its ``k``-th instance; once per config, folds and instance for the module."""
    config = dict(items)
    config_dict = {key: v for key, v in config.items() if key in ("kernel", "C", "shrinking")}
    if config["kernel"] == "poly":
        config_dict["degree"] = config["degree"]
    if config["kernel"] in ("poly", "sigmoid"):
        config_dict["coef0"] = config["coef0"]
    if config["kernel"] != "linear":
        config_dict["gamma"] = config["gamma_value"] if config["gamma"] == "value" else "auto"
    a, b = smac_instance_order()[k].split("-")
    rows = np.where(np.logical_or(int(a) == digits().target, int(b) == digits().target))
    scores = cross_val_score(svm.SVC(**config_dict, random_state=0), digits().data[rows], digits().target[rows], cv=n_folds)
    return float(np.mean(scores))


@pytest.mark.parametrize(
    "task, expected, when, inactive",
    [
        (SMACMLP(), MLP_SPACE, MLP_WHEN, MLP_PASSED_WHEN_INACTIVE),
        (SMACSVM(), SVM_SPACE, SVM_WHEN, {n: SVM_DEFAULTS[n] for n in SVM_WHEN}),
    ],
    ids=["mlp", "svm"],
)
def test_the_space_is_smacs_names_ranges_and_conditions(
    task: SMACTask, expected: dict[str, Any], when: dict[str, Any], inactive: dict[str, Any]
) -> None:
    space = task.default_space()
    assert list(space.domains) == list(expected) and task.hyperparameters() == set(expected)
    for name, dom in space.domains.items():
        if name not in when:
            assert dom == expected[name], name
            continue
        parent, values = when[name]
        assert isinstance(dom, Conditional) and dom.depends_on == parent, name
        parent_values = expected[parent].values
        assert [v for v, _ in dom.cases] == list(parent_values)
        for value in parent_values:
            want = expected[name] if value in values else Constant(inactive[name])
            assert dom.domain_for({parent: value}) == want, (name, value)


@pytest.mark.parametrize(
    "task, defaults, when", [(SMACMLP(), MLP_DEFAULTS, MLP_WHEN), (SMACSVM(), SVM_DEFAULTS, SVM_WHEN)], ids=["mlp", "svm"]
)
def test_samples_and_smacs_default_lie_in_the_space_and_activity_follows_the_conditions(
    task: SMACTask, defaults: dict[str, Any], when: dict[str, Any]
) -> None:
    space = task.default_space()
    conditions = MLP_CONDITIONS if isinstance(task, SMACMLP) else SVM_CONDITIONS
    assert space.contains(defaults) and (MLP_DEFAULT if isinstance(task, SMACMLP) else SVM_DEFAULT) == defaults
    rng = np.random.default_rng(0)
    for _ in range(200):
        config = space.sample(rng)
        assert space.contains(config)
        on = active(config, conditions)
        for name, (parent, values) in when.items():
            parent_on = parent in on
            assert (name in on) == (parent_on and config[parent] in values)


def test_gamma_value_is_active_only_where_gamma_is() -> None:
    linear = {**SVM_DEFAULTS, "kernel": "linear", "gamma": "value"}
    assert active(linear, SVM_CONDITIONS) == {"kernel", "C", "shrinking"}
    rbf = {**SVM_DEFAULTS, "kernel": "rbf", "gamma": "value"}
    assert active(rbf, SVM_CONDITIONS) == {"kernel", "C", "shrinking", "gamma", "gamma_value"}


@pytest.mark.parametrize("config", MLP_CONFIGS, ids=lambda c: c["solver"])
def test_an_mlp_trial_scores_what_smacs_cross_validation_gives_at_each_budget(config: dict[str, Any]) -> None:
    task = SMACMLP(seed=3, n_samples=200)
    trial = task.build(config, task.load(3), seed=123)
    for n_steps, budget in ((1, 1), (2, 3), (6, 9)):
        trial.train(n_steps)
        assert (trial.steps, task.budget(trial.steps)) == (budget, budget)
        assert trial.score() == smac_mlp_accuracy(config, budget, seed=3, n_samples=200)
    assert trial.test_score() == smac_mlp_accuracy(config, 25, seed=3, n_samples=200)


def test_mlp_steps_map_to_smacs_hyperband_epochs() -> None:
    task = SMACMLP(max_iter=9)
    assert [task.budget(k) for k in (1, 3, 9)] == [int(np.ceil(25 / 9)), int(np.ceil(25 / 3)), 25] == [3, 9, 25]
    assert [SMACMLP().budget(k) for k in range(1, 26)] == list(range(1, 26))
    with pytest.raises(ValueError, match=r"step 10 is past workload.max_iter=9, the step of the top budget \(25 epochs\)"):
        task.budget(10)
    trial = task.build(MLP_CONFIGS[0], task.load(0), seed=0)
    trial.train(1)
    assert trial.score() == smac_mlp_accuracy(MLP_CONFIGS[0], 3, seed=0)


def test_an_mlp_whose_weights_diverge_fails_its_trial_as_it_crashes_smacs() -> None:
    config = {
        "n_layer": 5,
        "n_neurons": 30,
        "activation": "relu",
        "solver": "sgd",
        "batch_size": 181,
        "learning_rate": "adaptive",
        "learning_rate_init": 0.18407161286353055,
    }
    task = SMACMLP()
    trial = task.build(config, task.load(0), seed=0)
    trial.train(1)
    assert trial.score() == smac_mlp_accuracy(config, 1, seed=0)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        smac_mlp_accuracy(config, 2, seed=0)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        trial.train(1)


def test_an_inactive_mlp_parameter_is_replaced_as_smacs_train_replaces_it() -> None:
    task = SMACMLP(n_samples=120, n_folds=3)
    data = task.load(0)
    lbfgs = {**MLP_CONFIGS[0], "batch_size": 30, "learning_rate": "adaptive", "learning_rate_init": 0.9}
    a, b = task.build(lbfgs, data, 0), task.build(MLP_CONFIGS[0], data, 0)
    a.train(2)
    b.train(2)
    assert a.scores == b.scores


def test_the_instance_order_is_smacs() -> None:
    assert instance_order() == smac_instance_order()
    assert instance_order()[:5] == ["4-5", "5-8", "3-7", "0-5", "1-3"]


@pytest.mark.parametrize("config", SVM_CONFIGS, ids=lambda c: c["kernel"])
def test_an_svm_trial_scores_what_smacs_instances_give_at_each_budget_and_evaluates_each_pair_once(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    task = SMACSVM(max_iter=3, n_folds=2)
    calls: list[str] = []
    evaluate = SMACSVM.pair_accuracy
    monkeypatch.setattr(SMACSVM, "pair_accuracy", lambda self, c, d, i: calls.append(i) or evaluate(self, c, d, i))
    trial = task.build(config, task.load(0), seed=0)
    trial.train(1)
    assert task.budget(1) == 16 and trial.score() == smac_svm_accuracy(config, 16, n_folds=2)
    trial.train(2)
    assert task.budget(3) == 50 and trial.score() == smac_svm_accuracy(config, 50, n_folds=2) == trial.test_score()
    assert calls == instance_order()


def test_svm_steps_map_to_smacs_instance_budgets() -> None:
    assert [SMACSVM().budget(k) for k in (1, 9, 10, 11, 50)] == [10, 10, 10, 11, 50]
    assert [SMACSVM(max_iter=5).budget(k) for k in range(1, 6)] == [10, 20, 30, 40, 50]
    task = SMACSVM(max_iter=5, n_folds=2)
    trial = task.build(SVM_CONFIGS[2], task.load(0), seed=0)
    trial.train(1)
    assert trial.score() == smac_svm_accuracy(SVM_CONFIGS[2], 10, n_folds=2)
    assert trial.test_score() == smac_svm_accuracy(SVM_CONFIGS[2], 50, n_folds=2)


def test_one_seed_one_outcome() -> None:
    config = MLP_CONFIGS[0]

    def scores(seed: int, trial_seed: int) -> list[float]:
        task = SMACMLP(n_samples=150, seed=seed)
        trial = task.build(config, task.load(seed), seed=trial_seed)
        trial.train(4)
        return trial.scores

    first = scores(1, 0)
    assert first == scores(1, 99)
    assert first != scores(2, 0)
    trials = [SMACSVM(seed=s).build(SVM_CONFIGS[1], SMACSVM().load(s), seed=s) for s in (0, 7)]
    for trial in trials:
        trial.train(10)
    assert trials[0].scores == trials[1].scores


def test_save_restore_and_a_new_config_in_place() -> None:
    task = SMACSVM(max_iter=5)
    data = task.load(0)
    trial = task.build(SVM_CONFIGS[0], data, 0)
    trial.train(1)
    copy = task.build(SVM_CONFIGS[0], data, 0)
    copy.restore(trial.save())
    copy.train(1)
    trial.train(1)
    assert (copy.steps, copy.scores) == (trial.steps, trial.scores)
    trial.reset_config(SVM_CONFIGS[2])
    assert trial.score() == smac_svm_accuracy(SVM_CONFIGS[2], 20)


def test_a_scheduler_past_the_top_budget_is_refused_when_the_config_loads() -> None:
    raw = {"workload": {"name": "smac-svm", "max_iter": 3}, "scheduler": {"name": "hyperband", "max_iter": 9}}
    with pytest.raises(ConfigError, match=r"scheduler max_iter=9 is past workload 'smac-svm'.*workload.max_iter=3"):
        load_experiment(raw=raw)
    raw = {
        "workload": {"name": "smac-mlp"},
        "scheduler": {"name": "hyperband", "max_iter": 9},
        "space": {"n_layer": 1, "momentum": {"uniform": [0, 1]}},
    }
    with pytest.raises(ConfigError, match=r"workload 'smac-mlp' has no hyperparameter\(s\) 'momentum'"):
        load_experiment(raw=raw)


def test_the_run_seed_is_the_tasks_seed_and_describe_says_what_a_budget_is() -> None:
    raw = {"seed": 4, "workload": {"name": "smac-mlp", "max_iter": 9}, "scheduler": {"name": "hyperband", "max_iter": 9}}
    workload = load_experiment(raw=raw).build().workload
    assert isinstance(workload, SMACMLP) and workload.seed == 4
    assert workload.describe() == {
        "name": "smac-mlp",
        "metric": "accuracy",
        "mode": "max",
        "max_iter": 9,
        "top_budget": 25,
        "budget_unit": "epochs",
        "n_folds": 5,
        "seed": 4,
        "n_samples": None,
    }
    assert isinstance(SMACSVM().default_space(), Space) and SMACSVM().describe()["budget_unit"] == "instance-seed pairs"
