"""The public surface: ``tunebench.__all__`` is pinned, every name resolves, ``import tunebench``
stays light, and the command line is one module per command registered the same way."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import tunebench
import tunebench.cli

PUBLIC = [
    "Bool",
    "Check",
    "Config",
    "ConfigError",
    "Dataset",
    "Decision",
    "Each",
    "Executor",
    "ExecutorError",
    "Experiment",
    "Float",
    "Int",
    "Job",
    "OneOf",
    "ParamError",
    "Peer",
    "PeerTask",
    "PeerUnsupported",
    "RegistryError",
    "Result",
    "RunResult",
    "Scheduler",
    "Searcher",
    "Space",
    "SpaceError",
    "StoreError",
    "Text",
    "Trainable",
    "Trial",
    "TrialStatus",
    "TuneSearchCV",
    "Workload",
    "build_report",
    "check",
    "check_bool",
    "check_choice",
    "check_float",
    "check_int",
    "compare",
    "fail",
    "load",
    "load_experiment",
    "load_matrix",
    "load_plugin",
    "play",
    "plugin_names",
    "replay",
    "resume",
    "run",
    "specs",
]


def test_all_is_pinned() -> None:
    assert tunebench.__all__ == PUBLIC, "changing the public surface is deliberate: update PUBLIC too"


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(tunebench, name)
    assert value is not None and name in dir(tunebench)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__.startswith("tunebench."), "public names are tunebench's own"


def test_the_bases_are_what_plugins_subclass() -> None:
    from tunebench.executors.local import LocalExecutor
    from tunebench.workloads.sgd import SGDWorkload

    from schedulers.hyperband import Hyperband
    from schedulers.searchers.tpe import TPESearcher

    assert issubclass(Hyperband, tunebench.Scheduler) and issubclass(TPESearcher, tunebench.Searcher)
    assert issubclass(LocalExecutor, tunebench.Executor) and issubclass(SGDWorkload, tunebench.Workload)
    assert tunebench.load_plugin("scheduler", "hyperband") is Hyperband and "hyperband" in tunebench.plugin_names("scheduler")


def test_functions_keep_their_names_when_submodules_of_the_same_name_load() -> None:
    import tunebench.compare.runner
    import tunebench.replay
    import tunebench.resume
    import tunebench.run  # noqa: F401

    for name in ("run", "resume", "replay", "compare"):
        assert inspect.isfunction(getattr(tunebench, name)), name
    from tunebench.run import RunResult

    assert RunResult is tunebench.RunResult


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Hyperband'"):
        tunebench.Hyperband  # noqa: B018


def test_import_tunebench_loads_nothing_heavy() -> None:
    code = "import sys, tunebench; print(sorted(m for m in ('numpy', 'pandas', 'yaml', 'sklearn', 'ray', 'dask', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_each_command_is_one_module_registered_the_same_way() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(tunebench.cli.__path__) if not m.name.startswith("_"))
    assert sorted(name.replace("-", "_") for name in tunebench.cli.COMMANDS) == modules
    parser = tunebench.cli.build_parser()
    for name in modules:
        module = importlib.import_module(f"tunebench.cli.{name}")
        assert list(inspect.signature(module.register).parameters) == ["sub"]
        assert list(inspect.signature(module.main).parameters) == ["args"]
        assert parser.parse_args(_minimal_args(name)).func is module.main


def _minimal_args(command: str) -> list[str]:
    needs = {
        "run": ["c.yaml"],
        "resume": ["d"],
        "replay": ["d"],
        "compare": ["m.yaml"],
        "report": ["d"],
        "record": ["c.yaml", "--n-configs", "1", "--out", "x.parquet"],
    }
    return [command, *needs.get(command, [])]
