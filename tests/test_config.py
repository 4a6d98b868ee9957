"""Config loading, --set overrides and the errors users see."""

from __future__ import annotations

import pytest

from tests.helpers import tiny_config
from tunebench.config import ConfigError, load_experiment, parse_override


def test_parse_override_reads_yaml_values() -> None:
    assert parse_override("scheduler.eta=4") == (["scheduler", "eta"], 4)
    assert parse_override("budget.total_steps=null") == (["budget", "total_steps"], None)
    assert parse_override("executor.name=dask-on-ray") == (["executor", "name"], "dask-on-ray")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("scheduler.eta")


def test_defaults_are_filled_and_overrides_apply(write_config) -> None:
    path = write_config(tiny_config({"name": "hyperband", "max_iter": 9}))
    exp = load_experiment(path, ["scheduler.eta=4", "executor.name=local"])
    assert exp.scheduler_params["eta"] == 4 and exp.scheduler_params["max_iter"] == 9
    resolved = exp.resolved()
    assert resolved["scheduler"]["name"] == "hyperband"
    assert resolved["workload"]["n_samples"] == 600
    assert "patience" in resolved["scheduler"]
    assert exp.name == "exp"


@pytest.mark.parametrize(
    ("config", "overrides", "message"),
    [
        (tiny_config({"name": "nope"}), [], r"unknown scheduler 'nope'; registered: .*hyperband"),
        ({**tiny_config({"name": "random"}), "workload": {"name": "zzz"}}, [], r"unknown workload 'zzz'; registered: .*sgd"),
        (tiny_config({"name": "hyperband", "eta": 1}), [], r"scheduler 'hyperband': .*eta.*1"),
        (tiny_config({"name": "hyperband", "max_iter": 0}), [], r"max_iter.*0"),
        (tiny_config({"name": "random"}), ["scheduler.foo=1"], r"unknown key scheduler.foo \(from --set\).*allowed: "),
        (tiny_config({"name": "random"}), ["bogus.x=1"], r"no key 'bogus'"),
        (tiny_config({"name": "random"}), ["space.alpha=3"], r"space has no parameter 'alpha'"),
        (tiny_config({"name": "random"}, budget={"total_steps": -1}), [], r"budget.total_steps must be an integer >= 1"),
        (tiny_config({"name": "random"}, budget={"steps": 3}), [], r"budget.steps"),
        ({**tiny_config({"name": "random"}), "seed": "x"}, [], r"seed must be an integer"),
        ({**tiny_config({"name": "random"}), "extra": 1}, [], r"unknown top-level key\(s\) extra"),
        (
            {**tiny_config({"name": "random"}), "workload": {"name": "sgd", "dataset": "cifar10"}},
            [],
            r"dataset must be one of circles",
        ),
        ({**tiny_config({"name": "random"}), "space": {"alpha": {"loguniform": [1, 0.1]}}}, [], r"space.alpha"),
        ({**tiny_config({"name": "random"}), "executor": {"name": "local", "n_workers": 0}}, [], r"n_workers must be"),
        ({k: v for k, v in tiny_config({"name": "random"}).items() if k != "scheduler"}, [], r"missing section 'scheduler'"),
    ],
)
def test_bad_configs_name_what_is_wrong(write_config, config, overrides, message) -> None:
    path = write_config(config)
    with pytest.raises(ConfigError, match=message):
        load_experiment(path, overrides)


def test_malformed_yaml_names_the_line(write_config) -> None:
    path = write_config("seed: 0\nscheduler: {name: random\nworkload: sgd\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_experiment(path)


def test_missing_file_and_non_mapping(write_config, tmp_path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_experiment(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_experiment(write_config("- a\n- b\n"))


def test_space_override_and_custom_space(write_config) -> None:
    config = {
        **tiny_config({"name": "random", "n_trials": 2, "max_iter": 2}),
        "space": {"alpha": {"loguniform": [1e-4, 1e-2]}, "l1_ratio": 0.5},
    }
    exp = load_experiment(write_config(config), ["space.l1_ratio=0.25"])
    space = exp.build().space
    assert space["l1_ratio"].value == 0.25
    assert space["alpha"].low == 1e-4
