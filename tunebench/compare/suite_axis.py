"""A matrix's ``suite`` axis: every recorded task of the suite (or a named subset) as a workload
replayed on the simulated executor.

``suite: all`` (or a list of task names, :data:`tunebench.workloads.suite.SUITE`) takes the place
of ``workloads``: each task becomes a workload labelled with its name, built from its
recording's workload section, and each of the matrix's executors (only ``simulated`` ones,
default ``{name: simulated}``) replays that task's curves. ``max_iter`` defaults to the most
steps every task recorded; a larger one is refused, naming the task. Peers train for real, so a
suite matrix has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tunebench.config import ConfigError
from tunebench.names import did_you_mean
from tunebench.workloads.curves import CurvesError, Pending
from tunebench.workloads.suite import SUITE, SuiteTask, common_max_iter, suite

KEY = "suite"


def tasks_of(given: Any) -> list[SuiteTask]:
    """The tasks ``suite:`` names: ``all``, or a non-empty list of distinct task names."""
    if given == "all":
        return suite()
    if not isinstance(given, list) or not given or any(not isinstance(n, str) for n in given) or len(set(given)) < len(given):
        raise ConfigError(f"suite must be 'all' or a non-empty list of distinct task names ({', '.join(SUITE)}), got {given!r}")
    unknown = [n for n in given if n not in SUITE]
    if unknown:
        raise ConfigError(
            f"suite: unknown task {unknown[0]!r}{did_you_mean(unknown[0], SUITE)}; the suite's tasks: {', '.join(SUITE)}"
        )
    try:
        return suite(given)
    except CurvesError as exc:
        raise ConfigError(f"suite: {exc}") from None


def expand(data: dict[str, Any]) -> None:
    """Replace ``suite`` in ``data`` by the ``workloads`` it stands for, check the executors and
    ``max_iter`` against the tasks; a matrix without ``suite`` is left as it is."""
    if KEY not in data:
        return
    if data.get("workloads"):
        raise ConfigError("a matrix takes workloads or suite, not both: suite replays every task it names as a workload")
    if data.get("peers"):
        raise ConfigError("a suite matrix has no peers: the suite replays recorded curves, and peers train for real")
    tasks = tasks_of(data.pop(KEY))
    executors = data.get("executors") or [{"name": "simulated"}]
    for e in executors:
        name = e.get("name") if isinstance(e, Mapping) else e
        if name != "simulated":
            raise ConfigError(f"suite: executor {name!r} cannot replay a recording; a suite runs on the simulated executor only")
        if isinstance(e, Mapping) and "curves" in e:
            raise ConfigError("suite: the simulated executor's curves are each task's own; drop executors[].curves")
    top = common_max_iter(tasks)
    max_iter = data.setdefault("max_iter", top)
    if isinstance(max_iter, int) and not isinstance(max_iter, bool) and max_iter > top:
        short = next(t for t in tasks if t.max_iter < max_iter)
        raise ConfigError(
            f"max_iter={max_iter} is past task {short.name!r}'s {short.max_iter} recorded steps; "
            f"every task of this suite reaches {top}"
        )
    data["workloads"] = [{"label": t.name, **t.workload} for t in tasks]
    data["executors"] = [e if isinstance(e, Mapping) else {"name": e} for e in executors]
    data["suite"] = [t.name for t in tasks]


def executors_for(workload: Mapping[str, Any], executors: list[dict[str, Any]], suite_tasks: Any) -> list[dict[str, Any]]:
    """The executors a workload's cells run on: a suite task's replay its curves; ``{workload}``
    in a ``curves`` path stands for the workload's label (one recording per workload)."""
    if not suite_tasks or workload["label"] not in suite_tasks:
        return [per_workload(e, str(workload["label"])) for e in executors]
    return [{**e, "curves": workload["label"]} for e in executors]


def per_workload(executor: dict[str, Any], label: str) -> dict[str, Any]:
    """``executor`` with ``{workload}`` in its ``curves`` path replaced by ``label``; a recording
    not made yet is :class:`~tunebench.workloads.curves.Pending` (``tunebench record MATRIX --matrix`` makes it).

    >>> per_workload({"name": "simulated", "curves": "no-such-dir/{workload}.parquet"}, "sgd")
    {'name': 'simulated', 'curves': Pending(path='no-such-dir/sgd.parquet')}
    """
    curves = executor.get("curves")
    if not isinstance(curves, str) or "{workload}" not in curves:
        return executor
    path = curves.replace("{workload}", label)
    return {**executor, "curves": path if Path(path).exists() else Pending(path)}


__all__ = ["KEY", "executors_for", "expand", "per_workload", "tasks_of"]
