"""TuneSearchCV ends with every scheduler's defaults: ASHA gets Hyperband's number of trials,
a set-up that never ends is refused before anything runs with the CLI's message, and unknown
names and keys suggest the near one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import SGDClassifier

from tunebench import registry
from tunebench.algorithm import hyperband_n_trials
from tunebench.config import ConfigError, load_experiment
from tunebench.integrations.sklearn import TuneSearchCV
from tunebench.integrations.sklearn_plugins import UNSUPPORTED

SPACE = {"alpha": [1e-4, 1e-3, 1e-2]}
ACCEPTED = [name for name in registry.names("scheduler") if name not in UNSUPPORTED["scheduler"]]


class NeverTrain(SGDClassifier):
    """Fails the test if any training happens."""

    def partial_fit(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model was trained")


def tiny() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(120, 4, n_informative=3, n_redundant=0, random_state=0)


@pytest.mark.parametrize("scheduler", ACCEPTED)
def test_every_accepted_scheduler_ends_with_its_defaults(scheduler: str) -> None:
    X, y = tiny()
    search = TuneSearchCV(SGDClassifier(), SPACE, scheduler=scheduler, max_iter=3, random_state=0).fit(X, y)
    assert search.run_summary_["status"] == "completed"
    assert search.run_summary_["stop_reason"] == "scheduler_finished"
    assert len(search.cv_results_["params"]) >= 1


def test_asha_with_defaults_ends_on_digits() -> None:
    X, y = load_digits(return_X_y=True)
    search = TuneSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3, 1e-2, 1e-1]}, scheduler="asha", max_iter=9, random_state=0)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == hyperband_n_trials(9, 3) == 17
    assert search.run_summary_["stop_reason"] == "scheduler_finished"
    assert search.best_score_ > 0.8


def test_asha_default_follows_max_iter_and_eta_given() -> None:
    X, y = tiny()
    search = TuneSearchCV(
        SGDClassifier(), SPACE, scheduler="asha", max_iter=3, random_state=0, scheduler_params={"eta": 2, "max_iter": 4}
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == hyperband_n_trials(4, 2)


def test_asha_keeps_n_trials_given() -> None:
    X, y = tiny()
    search = TuneSearchCV(
        SGDClassifier(), SPACE, scheduler="asha", max_iter=3, random_state=0, scheduler_params={"n_trials": 4}
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4


def test_a_search_that_never_ends_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as cli:
        load_experiment(
            raw={
                "workload": {"name": "sgd", "dataset": "circles", "n_samples": 600},
                "scheduler": {"name": "asha", "max_iter": 3, "n_trials": None},
            }
        )
    X, y = tiny()
    run_dir = tmp_path / "run"
    search = TuneSearchCV(
        NeverTrain(), SPACE, scheduler="asha", max_iter=3, scheduler_params={"n_trials": None}, run_dir=str(run_dir)
    )
    with pytest.raises(ConfigError) as ours:
        search.fit(X, y)
    assert str(cli.value) == (
        "scheduler 'asha' has no end of its own: set scheduler.n_trials, budget.total_steps, budget.wall_time_s or budget.evaluations"
    )
    assert str(ours.value) == "scheduler 'asha' has no end of its own: set scheduler_params['n_trials']"
    assert not run_dir.exists()
    assert not hasattr(search, "cv_results_")


@pytest.mark.parametrize(
    "kwargs, near",
    [
        ({"scheduler": "ashaa"}, "asha"),
        ({"scheduler": "hyperbnd"}, "hyperband"),
        ({"executor": "lokal"}, "local"),
        ({"scheduler_params": {"etta": 3}}, "eta"),
        ({"scheduler": "asha", "scheduler_params": {"n_trial": 5}}, "n_trials"),
        ({"executor": "dask", "executor_params": {"n_worker": 2}}, "n_workers"),
    ],
)
def test_unknown_names_and_keys_say_did_you_mean(kwargs: dict[str, Any], near: str) -> None:
    X, y = tiny()
    with pytest.raises(ValueError, match=rf"did you mean '{near}'\?") as err:
        TuneSearchCV(NeverTrain(), SPACE, max_iter=3, **kwargs).fit(X, y)
    assert "\n" not in str(err.value)


def test_refused_plugins_and_filled_keys_say_why() -> None:
    X, y = tiny()
    with pytest.raises(ValueError, match="executor 'simulated' is not supported by TuneSearchCV"):
        TuneSearchCV(NeverTrain(), SPACE, executor="simulated").fit(X, y)
    with pytest.raises(ValueError, match=r"scheduler_params\['seed'\] is set by TuneSearchCV \(from random_state\)"):
        TuneSearchCV(NeverTrain(), SPACE, scheduler_params={"seed": 1}).fit(X, y)
