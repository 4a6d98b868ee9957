"""tunebench: compare hyperparameter-tuning schedulers on the engines people already run.

The public API is :data:`__all__`; everything else is internal and may change. Names are
imported on first use (PEP 562), so ``import tunebench`` loads nothing heavy: numpy, pandas,
Ray and Dask come in only with what needs them.

Running experiments: :func:`load_experiment`, :func:`run`, :func:`resume`, :func:`replay`;
comparisons: :func:`load_matrix`, :func:`compare`, :func:`load` (a comparison's or a run's
tables as DataFrames), :func:`build_report`; scikit-learn:
:class:`TuneSearchCV`. Writing plugins: the bases :class:`Scheduler`, :class:`Searcher`,
:class:`Executor`, :class:`Workload`, :class:`Peer`; the records :class:`Space`,
:class:`Trial`, :class:`Job`, :class:`Result`, :class:`Decision`; the parameter checks of
:mod:`tunebench.checks`; :func:`play` to drive a scheduler on synthetic scores; and
:func:`load_plugin` / :func:`plugin_names` to find plugins by name (``docs/plugins.md``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from tunebench.version import __version__

_EXPORTS = {
    # loading and running experiments
    "Experiment": "tunebench.config:Experiment",
    "load_experiment": "tunebench.config:load_experiment",
    "run": "tunebench.run:run",
    "RunResult": "tunebench.run:RunResult",
    "resume": "tunebench.resume:resume",
    "replay": "tunebench.replay:replay",
    "load_matrix": "tunebench.compare.matrix:load_matrix",
    "load": "tunebench.store.loader:load",
    "compare": "tunebench.compare.runner:compare",
    "build_report": "tunebench.report:build_report",
    "TuneSearchCV": "tunebench.integrations.sklearn:TuneSearchCV",
    # plugins: finding them, their bases, and testing a scheduler without an executor
    "load_plugin": "tunebench.registry:load",
    "plugin_names": "tunebench.registry:names",
    "Scheduler": "tunebench.scheduler:Scheduler",
    "Searcher": "tunebench.searcher:Searcher",
    "Executor": "tunebench.executors.base:Executor",
    "Workload": "tunebench.workloads.base:Workload",
    "Dataset": "tunebench.workloads.base:Dataset",
    "Peer": "tunebench.compare.peer:Peer",
    "PeerTask": "tunebench.compare.peer:PeerTask",
    "play": "tunebench.synthetic:play",
    # records
    "Space": "tunebench.space:Space",
    "Config": "tunebench.trial:Config",
    "Trial": "tunebench.trial:Trial",
    "TrialStatus": "tunebench.trial:TrialStatus",
    "Job": "tunebench.trial:Job",
    "Result": "tunebench.trial:Result",
    "Decision": "tunebench.trial:Decision",
    "Trainable": "tunebench.trial:Trainable",
    # parameter checks
    "Check": "tunebench.checks:Check",
    "Int": "tunebench.checks:Int",
    "Float": "tunebench.checks:Float",
    "Bool": "tunebench.checks:Bool",
    "OneOf": "tunebench.checks:OneOf",
    "Text": "tunebench.checks:Text",
    "Each": "tunebench.checks:Each",
    "check": "tunebench.checks:check",
    "check_int": "tunebench.checks:check_int",
    "check_float": "tunebench.checks:check_float",
    "check_bool": "tunebench.checks:check_bool",
    "check_choice": "tunebench.checks:check_choice",
    "fail": "tunebench.checks:fail",
    "specs": "tunebench.checks:specs",
    # errors
    "ParamError": "tunebench.checks:ParamError",
    "ConfigError": "tunebench.config:ConfigError",
    "RegistryError": "tunebench.registry:RegistryError",
    "SpaceError": "tunebench.space:SpaceError",
    "ExecutorError": "tunebench.executors.base:ExecutorError",
    "StoreError": "tunebench.store.rundir:StoreError",
    "PeerUnsupported": "tunebench.compare.peer:PeerUnsupported",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name on first use and keep it."""
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'tunebench' has no attribute {name!r}")
    module, attr = target.split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _PublicModule(types.ModuleType):
    """``tunebench.run``, ``resume``, ``replay`` and ``compare`` stay the public functions when
    the submodules of the same names load (the import system sets a package attribute for
    every submodule; ``from tunebench.run import ...`` reads ``sys.modules`` and is unaffected)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicModule


if TYPE_CHECKING:
    from tunebench.checks import (
        Bool,
        Check,
        Each,
        Float,
        Int,
        OneOf,
        ParamError,
        Text,
        check,
        check_bool,
        check_choice,
        check_float,
        check_int,
        fail,
        specs,
    )
    from tunebench.compare.matrix import load_matrix
    from tunebench.compare.peer import Peer, PeerTask, PeerUnsupported
    from tunebench.compare.runner import compare
    from tunebench.config import ConfigError, Experiment, load_experiment
    from tunebench.executors.base import Executor, ExecutorError
    from tunebench.integrations.sklearn import TuneSearchCV
    from tunebench.registry import RegistryError
    from tunebench.registry import load as load_plugin
    from tunebench.registry import names as plugin_names
    from tunebench.replay import replay
    from tunebench.report import build_report
    from tunebench.resume import resume
    from tunebench.run import RunResult, run
    from tunebench.scheduler import Scheduler
    from tunebench.searcher import Searcher
    from tunebench.space import Space, SpaceError
    from tunebench.store.loader import load
    from tunebench.store.rundir import StoreError
    from tunebench.synthetic import play
    from tunebench.trial import Config, Decision, Job, Result, Trainable, Trial, TrialStatus
    from tunebench.workloads.base import Dataset, Workload
