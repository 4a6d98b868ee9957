"""What a matrix varies, read from its finished cells: the axes the report's "against" views
are keyed on.

Every series has a place: its system (our scheduler or a peer, by name), the number of workers,
the executor (ours only: a peer brings its own engine), the searcher (ours) and each of its
own settings that is a single value (``bracket_order``, ``patience``, ``parallelism``, ...;
a setting that is a list or a mapping, such as PBT's ``explore``, only tells series apart).
An *axis* is one of these that changes while everything else stays the same: the series that
differ only there form a *row*, one series per value. ``workers: [1, 8, 64]`` is a workers
axis; two executors, a ``searchers`` list, or two Hyperband entries differing only in
``bracket_order`` are axes too. A matrix that crosses nothing has none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tunebench.report.runs import CellRun

PLACED = ("workers", "executor", "searcher")  # where a series ran; every other axis is a setting
SCALAR = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Place:
    """Where a series sits: ``system`` and ``identity`` (its settings that are not single
    values) never vary along an axis; ``coordinates`` may."""

    system: str
    identity: str
    coordinates: Mapping[str, Any]


@dataclass(frozen=True)
class Row:
    """Series that differ only along one axis: ``series`` maps each value to its series."""

    name: str
    series: Mapping[Any, str]


@dataclass(frozen=True)
class Axis:
    """A quantity the matrix varies, its values in order and its rows."""

    name: str
    values: tuple[Any, ...]
    rows: tuple[Row, ...]

    @property
    def placed(self) -> bool:
        """Where the series ran (workers, executor, searcher) rather than one of their settings."""
        return self.name in PLACED


def place(run: CellRun) -> Place:
    """A run's system, identity and coordinates, from its cell and its ``summary.json``."""
    config: Mapping[str, Any] = run.summary["config"] if isinstance(run.summary.get("config"), Mapping) else {}
    peer = run.cell.kind == "peer" or bool(run.summary.get("peer"))
    if peer:
        system, settings = str(run.summary.get("scheduler") or run.cell.executor), dict(config.get("peer") or {})
    else:
        settings = dict(config.get("scheduler") or {})
        system = str(settings.pop("name", None) or run.summary.get("scheduler") or run.cell.label)
    settings.pop("max_iter", None)
    searcher = None if peer else (run.cell.searcher or (config.get("searcher") or {}).get("name") or "random")
    coords: dict[str, Any] = {
        "workers": int(run.cell.workers),
        "executor": None if peer else run.cell.executor,
        "searcher": searcher,
    }
    coords.update({k: v for k, v in settings.items() if isinstance(v, SCALAR) and k not in coords})
    rest = {k: v for k, v in settings.items() if not isinstance(v, SCALAR)}
    return Place(f"{'peer' if peer else 'scheduler'} {system}", json.dumps(rest, sort_keys=True, default=str), coords)


def ordered(values: Iterable[Any]) -> tuple[Any, ...]:
    """Numbers ascending (``None``, a setting left unset, first); anything else as it came.

    >>> ordered([32, 8, None, 1]), ordered(["longest_first", "aggressive_first"])
    ((None, 1, 8, 32), ('longest_first', 'aggressive_first'))
    """
    seen = list(dict.fromkeys(values))
    if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in seen):
        return tuple(sorted(seen, key=lambda v: (v is not None, v or 0)))
    return tuple(seen)


def axes_of(places: Mapping[str, Place], order: Sequence[str]) -> list[Axis]:
    """Every axis of the series in ``order`` (``places``: series -> its place): the workers,
    executor and searcher first, then settings as they first appear."""
    keys = list(dict.fromkeys(k for s in order for k in places[s].coordinates))
    varying = {k for k in PLACED if len({json.dumps(places[s].coordinates.get(k)) for s in order}) > 1}
    out = []
    for key in [*PLACED, *(k for k in keys if k not in PLACED)]:
        groups: dict[str, dict[Any, str]] = {}
        for s in order:
            p = places[s]
            if key not in p.coordinates or (key == "executor" and p.coordinates[key] is None):
                continue
            rest = json.dumps(
                [p.system, p.identity, {k: v for k, v in p.coordinates.items() if k != key}], sort_keys=True, default=str
            )
            groups.setdefault(rest, {}).setdefault(p.coordinates[key], s)
        rows = [g for g in groups.values() if len(g) > 1]
        if rows:
            values = ordered(v for g in rows for v in g)
            out.append(
                Axis(
                    key, values, tuple(Row(row_name(key, g, places, varying), {v: g[v] for v in values if v in g}) for g in rows)
                )
            )
    return out


def row_name(key: str, series: Mapping[Any, str], places: Mapping[str, Place], varying: Iterable[str] = ()) -> str:
    """What a row's series share: the first one's name without the axis' part (``/8w``,
    ``@dask``, ``+tpe``, as ``compare`` labels them), or, along a setting, its system and
    where it ran, where that varies in the matrix (``varying``).

    >>> p = {"asha/8w": Place("scheduler asha", "{}", {"workers": 8}), "asha/1w": Place("scheduler asha", "{}", {"workers": 1})}
    >>> row_name("workers", {8: "asha/8w", 1: "asha/1w"}, p)
    'asha'
    >>> row_name("patience", {None: "asha/8w"}, p, ["workers"])
    'asha, 8 workers'
    """
    value, first = next(iter(series.items()))
    cut = {"workers": f"/{value}w", "executor": f"@{value}", "searcher": f"+{value}"}.get(key)
    if cut is not None and cut in first:
        return first.replace(cut, "", 1)
    where = places[first].coordinates
    said = {
        "workers": f"{where.get('workers')} worker{'' if where.get('workers') == 1 else 's'}",
        "executor": f"on {where.get('executor')}",
        "searcher": f"searcher {where.get('searcher')}",
    }
    return ", ".join(
        [places[first].system.split(" ", 1)[1], *(said[k] for k in PLACED if k in set(varying) and where.get(k) is not None)]
    )


def matrix_axes(runs: Sequence[CellRun], order: Sequence[str]) -> list[Axis]:
    """The axes of a workload's (or a comparison's) finished runs."""
    first = {r.series: r for r in runs}
    return axes_of({s: place(first[s]) for s in order if s in first}, [s for s in order if s in first])
