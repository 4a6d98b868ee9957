"""A misspelt key, name or choice says "did you mean X?" when one allowed name is close,
on the command line, in experiment configs and in comparison matrices; a far-off one does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import tiny_config
from tunebench import registry
from tunebench.cli import main
from tunebench.compare.matrix import load_matrix
from tunebench.config import ConfigError, load_experiment
from tunebench.names import did_you_mean, each, near

RANDOM = {"name": "random", "n_trials": 2, "max_iter": 2}
MATRIX: dict[str, Any] = {
    "seeds": [0],
    "workers": 1,
    "max_iter": 9,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 300}],
    "schedulers": [{"label": "hyperband", "name": "hyperband", "eta": 3}],
}


def with_(base: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {**base, **change}


def refusal(load: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load()
    return str(info.value)


def test_the_helpers_hint_only_at_a_close_name() -> None:
    assert near("etta", ["eta", "min_iter"]) == "eta"
    assert did_you_mean("etta", ["eta", "min_iter"]) == " (did you mean 'eta'?)"
    assert did_you_mean("qqq", ["eta", "min_iter"]) == ""
    assert each(["etta", "qqq"], ["eta"], "scheduler.") == "scheduler.etta (did you mean 'eta'?), scheduler.qqq"


def test_the_cli_set_of_a_misspelt_key_is_one_line_with_a_hint(write_config, capsys, tmp_path: Path) -> None:
    path = write_config(tiny_config({"name": "hyperband", "max_iter": 9}))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--set", "scheduler.etta=3"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert (
        "unknown key scheduler.etta (did you mean 'eta'?) (from --set) for scheduler 'hyperband'; allowed: max_iter, eta"
        in lines[0]
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rnu"], "invalid choice: 'rnu' (did you mean 'run'?) (choose from"),
        (["run", "c.yaml", "--quite"], "unrecognized arguments: --quite (did you mean '--quiet'?)"),
        (["compare", "m.yaml", "--no-reprot"], "unrecognized arguments: --no-reprot (did you mean '--no-report'?)"),
    ],
)
def test_a_misspelt_command_or_option_gets_a_hint(capsys, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "overrides", "message"),
    [
        (
            with_(tiny_config(RANDOM), schedular=RANDOM),
            [],
            "unknown top-level key(s) schedular (did you mean 'scheduler'?) (config ",
        ),
        (tiny_config(RANDOM), ["schedulr.eta=3"], "no key 'schedulr' (did you mean 'scheduler'?); top-level keys are"),
        (
            tiny_config(RANDOM, space={"alpha": {"uniform": [0.1, 0.2]}}),
            ["space.alpah=0.1"],
            "the config's space has no parameter 'alpah' (did you mean 'alpha'?) (it has alpha)",
        ),
        (tiny_config({"name": "hyperbnd"}), [], "unknown scheduler 'hyperbnd' (did you mean 'hyperband'?); registered: "),
        (tiny_config(RANDOM, executor="locl"), [], "unknown executor 'locl' (did you mean 'local'?); registered: "),
        (
            with_(tiny_config(RANDOM), workload={"name": "sgdd"}),
            [],
            "unknown workload 'sgdd' (did you mean 'sgd'?); registered: ",
        ),
        (
            with_(tiny_config({"name": "hyperband", "max_iter": 9}), searcher={"name": "tpee"}),
            [],
            "unknown searcher 'tpee' (did you mean 'tpe'?); registered: ",
        ),
        (with_(tiny_config(RANDOM), scheduler={"nmae": "random"}), [], "got {'nmae': 'random'} (did you mean 'name'?)"),
        (
            tiny_config({"name": "hyperband", "max_iter": 9, "etta": 3}),
            [],
            "unknown key scheduler.etta (did you mean 'eta'?) for scheduler 'hyperband'; allowed: ",
        ),
        (
            with_(tiny_config(RANDOM), workload={"name": "sgd", "n_sample": 300}),
            [],
            "unknown key workload.n_sample (did you mean 'n_samples'?) for workload 'sgd'; allowed: ",
        ),
        (
            tiny_config(RANDOM, budget={"total_step": 4}),
            [],
            "unknown key(s) budget.total_step (did you mean 'total_steps'?); allowed: total_steps, wall_time_s, target_score",
        ),
        (
            tiny_config(RANDOM, failures={"max_failure": 1}),
            [],
            "unknown key(s) failures.max_failure (did you mean 'max_failures'?); allowed: max_failures, timeout_s",
        ),
        (
            tiny_config({"name": "asha", "max_iter": 9, "variant": "stoping"}),
            [],
            "variant must be one of promotion, stopping, got 'stoping' (did you mean 'stopping'?)",
        ),
        (with_(tiny_config(RANDOM), workload={"name": "sgd", "dataset": "digit"}), [], "got 'digit' (did you mean 'digits'?)"),
        (
            with_(tiny_config({"name": "hyperband", "max_iter": 9}), searcher={"name": "tpe", "pending": "constant_lier"}),
            [],
            "got 'constant_lier' (did you mean 'constant_liar'?)",
        ),
        (
            tiny_config({"name": "hyperband", "max_iter": 9, "bracket_order": "longest"}),
            [],
            "got 'longest' (did you mean 'longest_first'?)",
        ),
        (
            tiny_config(RANDOM, space={"alpha": {"loguniformm": [1e-6, 0.1]}}),
            [],
            "got keys ['loguniformm'] (did you mean 'loguniform'?)",
        ),
        (
            tiny_config(RANDOM, space={"alpha": {"choice": [0.1, 0.2], "weigths": [1, 1]}}),
            [],
            "unknown key(s) 'weigths' (did you mean 'weights'?) beside 'choice'",
        ),
        (
            tiny_config(RANDOM, space={"alpha": {"depends_on": "l1ratio", "cases": {0.5: 0.1}}, "l1_ratio": 0.5}),
            [],
            "depends_on 'l1ratio' (did you mean 'l1_ratio'?) is not a parameter of the space",
        ),
        (
            tiny_config({"name": "pbt", "explore": {"alpha": [{"perturbb": [0.8, 1.2]}]}}),
            [],
            "unknown operator 'perturbb' (did you mean 'perturb'?); allowed: ",
        ),
        (
            tiny_config({"name": "pbt", "explore": {"alpah": ["resample"]}}),
            [],
            "explore.alpah (did you mean 'alpha'?): not a parameter",
        ),
    ],
)
def test_a_misspelt_config_says_what_was_meant(write_config, config: dict[str, Any], overrides: list[str], message: str) -> None:
    path = write_config(config)
    assert message in refusal(lambda: load_experiment(path, overrides))


def test_a_misspelt_recording_name_says_what_was_meant() -> None:
    config = with_(tiny_config(RANDOM), executor={"name": "simulated", "curves": "sgd-circls"})
    assert "curves 'sgd-circls' (did you mean 'sgd-circles'?): not a recording" in refusal(lambda: load_experiment(raw=config))


def test_an_unknown_sgd_hyperparameter_says_what_was_meant() -> None:
    workload = registry.load("workload", "sgd")(dataset="circles", n_samples=300)
    with pytest.raises(ValueError, match=r"sgd: unknown hyperparameter\(s\) 'alpah' \(did you mean 'alpha'\?\); allowed: "):
        workload.build({"alpah": 1e-3}, workload.load(0), 0)


def test_an_unknown_autoencoder_hyperparameter_says_what_was_meant() -> None:
    pytest.importorskip("torch")
    from tunebench.workloads.autoencoder_model import HyperParams

    with pytest.raises(ValueError, match=r"'optimizer__llr' \(did you mean 'optimizer__lr'\?\); allowed: "):
        HyperParams.from_config({"optimizer__llr": 0.1})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": [0]}, "unknown matrix key(s) seed (did you mean 'seeds'?); allowed: name, seeds"),
        (
            {"peers": [{"label": "tune", "name": "ray-tune-ashaa"}]},
            "unknown peer 'ray-tune-ashaa' (did you mean 'ray-tune-asha'?); registered: ",
        ),
        (
            {"peers": [{"label": "tune", "name": "ray-tune-asha", "n_trial": 4}]},
            "unknown key(s) n_trial (did you mean 'n_trials'?) for peer 'ray-tune-asha'; allowed: ",
        ),
        ({"schedulers": [{"label": "hb", "name": "hyperbnd"}]}, "unknown scheduler 'hyperbnd' (did you mean 'hyperband'?)"),
        ({"schedulers": [{"label": "hb", "name": "hyperband", "etta": 3}]}, "unknown key scheduler.etta (did you mean 'eta'?)"),
        ({"executors": [{"name": "locl"}]}, "unknown executor 'locl' (did you mean 'local'?)"),
        ({"searchers": ["tpee"]}, "unknown searcher 'tpee' (did you mean 'tpe'?)"),
        (
            {"workloads": [{"nme": "sgd"}]},
            "workloads[0] must be a mapping with a 'name', got {'nme': 'sgd'} (did you mean 'name'?)",
        ),
        (
            {"budget": {"wall_time": 5}},
            "unknown key(s) budget.wall_time (did you mean 'wall_time_s'?); allowed: total_steps, wall_time_s",
        ),
        ({"shared": {"etta": 3}}, "shared: unknown key 'etta' (did you mean 'eta'?); allowed: "),
        ({"shared": {"asha": {"n_trial": 3}}}, "shared.asha: 'n_trial' (did you mean 'n_trials'?) is not a setting of asha"),
        (
            {"schedulers": [{"label": "hb", "name": "hyperband", "differs": {"etta": "why"}}]},
            "got {'etta': 'why'} (did you mean 'eta'?)",
        ),
    ],
)
def test_a_misspelt_matrix_says_what_was_meant(change: dict[str, Any], message: str) -> None:
    assert message in refusal(lambda: load_matrix(raw=with_(MATRIX, **change)))


def test_the_compare_set_of_a_misspelt_key_gets_a_hint() -> None:
    assert "no key 'seed' (did you mean 'seeds'?)" in refusal(lambda: load_matrix(raw=MATRIX, overrides=["seed=[1]"]))


@pytest.mark.parametrize(
    "load",
    [
        lambda: load_experiment(raw=tiny_config({"name": "zzz"})),
        lambda: load_experiment(raw=tiny_config({"name": "hyperband", "max_iter": 9, "qqq": 3})),
        lambda: load_experiment(raw=with_(tiny_config(RANDOM), colour="blue")),
        lambda: load_experiment(raw=tiny_config({"name": "asha", "max_iter": 9, "variant": "fast"})),
        lambda: load_experiment(raw=tiny_config(RANDOM, budget={"qqq": 1})),
        lambda: load_experiment(raw=tiny_config(RANDOM, space={"alpha": {"qqq": [1, 2]}})),
        lambda: load_matrix(raw=with_(MATRIX, colour="blue")),
        lambda: load_matrix(raw=with_(MATRIX, peers=[{"label": "p", "name": "zzz"}])),
    ],
)
def test_a_far_off_name_gets_no_hint(load: Any) -> None:
    assert "did you mean" not in refusal(load)


def test_a_far_off_command_gets_no_hint(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["zzz"])
    err = capsys.readouterr().err
    assert "invalid choice: 'zzz'" in err and "did you mean" not in err


def test_a_space_parameter_the_workload_lacks_is_refused_at_load_with_a_hint(write_config, capsys, tmp_path: Path) -> None:
    config = tiny_config({"name": "random", "n_trials": 1, "max_iter": 2}, space={"alpah": {"loguniform": [1e-6, 1e-1]}})
    out = tmp_path / "run"
    assert main(["run", str(write_config(config)), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "tunebench: error: space: workload 'sgd' has no hyperparameter(s) 'alpah' (did you mean 'alpha'?); "
        "allowed: alpha, average, epsilon, eta0, fit_intercept, l1_ratio, learning_rate, loss, penalty, power_t"
    ]
    assert not out.exists()


def test_the_autoencoder_space_is_checked_at_load() -> None:
    with pytest.raises(ConfigError, match=r"'optimizer__lrr' \(did you mean 'optimizer__lr'\?\)"):
        load_experiment(
            raw={
                "workload": {"name": "autoencoder", "n_images": 100},
                "scheduler": {"name": "random", "n_trials": 1},
                "executor": {"name": "local"},
                "space": {"optimizer__lrr": {"loguniform": [0.01, 1.0]}},
            }
        )
