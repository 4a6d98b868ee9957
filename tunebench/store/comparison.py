"""A comparison directory's ``matrix.json``: the records ``compare`` writes and everyone reads.

``compare`` resolves a matrix config into a :class:`Matrix`: its cells in the order they run
and each contender's algorithm settings. It writes ``DIR/matrix.json`` beside one run
directory per cell, rewritten as each cell finishes::

    {
      "name": "bench-sgd",
      "matrix": {...},                     # the matrix as given (validated): seeds, workers, workloads,
                                           # executors, budget, target_score, schedulers, peers, ...
      "contenders": [                      # one per label, ours then peers, in matrix order
        {"label": "hyperband", "kind": "scheduler", "name": "hyperband", "searcher": null, "workers": 2,
         "algorithm": "hyperband", "settings": {"eta": 3}, "received": {"eta": "eta"}, "differs": {}}
      ],
      "cells": [
        {"cell_id": "sgd/hyperband@dask/seed0", "kind": "scheduler", "label": "hyperband", "workload": "sgd",
         "executor": "dask", "seed": 0, "workers": 2, "searcher": null, "dir": "sgd/hyperband@dask/seed0",
         "status": "done",                 # "done", "failed", "unsupported" or "pending" (not run yet)
         "error": null,                    # why a failed cell failed
         "reason": null,                   # why an unsupported cell could not run
         "seconds": 12.5, "best_score": 0.93}
      ],
      "published": [...]                   # numbers others published, beside which the report prints ours
                                           # (:mod:`tunebench.store.published`); [] when the matrix gives none
    }

A peer's cell names its own engine as ``executor``; a ``done`` cell's directory is an ordinary
run directory, ours or a peer's alike. :func:`read_matrix` is the one reader of the file: the
report, :func:`tunebench.load` and ``compare`` itself (the outcomes of cells finished earlier)
go through it. ``executors``, ``workloads``, ``seeds``, ``budget``, ``target_score`` and
``machine`` given at the top level win over the matrix's own (a hand-made file may give only
those and the cells).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tunebench.store.published import Published, parse_published

MATRIX = "matrix.json"
STATUSES = ("done", "failed", "unsupported", "pending")
KINDS = ("scheduler", "peer")
TOP_KEYS = ("executors", "workloads", "seeds", "budget", "target_score")
CELL_KEYS = ("cell_id", "label", "executor", "workload", "seed", "status")
SECTIONS = ("section", "workload_section", "executor_section", "searcher_section")


@dataclass(frozen=True)
class Contender:
    """One label of the matrix (a scheduler entry, with its searcher and worker count, or a
    peer): its algorithm family and effective shared settings (:mod:`tunebench.compare.fairness`)."""

    label: str
    kind: str
    algorithm: str = ""  # random, successive_halving, hyperband, asha, pbt; "" unknown
    settings: Mapping[str, Any] = field(default_factory=dict)  # shared setting -> effective value
    received: Mapping[str, str] = field(default_factory=dict)  # shared setting -> its own system's name for it, or "fixed"
    differs: Mapping[str, str] = field(default_factory=dict)  # shared setting -> why this contender differs
    name: str = ""  # the scheduler's or peer's registered name
    searcher: str | None = None
    workers: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "name": self.name,
            "searcher": self.searcher,
            "workers": self.workers,
            "algorithm": self.algorithm,
            "settings": dict(self.settings),
            "received": dict(self.received),
            "differs": dict(self.differs),
        }


@dataclass(frozen=True)
class Cell:
    """One run of the matrix: a contender on a workload (and executor, for ours) with a seed,
    and what became of it. The sections are what ``compare`` runs; a cell read back from
    ``matrix.json`` has none."""

    cell_id: str
    kind: str  # "scheduler" or "peer"
    label: str
    workload: str
    executor: str
    seed: int
    section: dict[str, Any] = field(default_factory=dict)
    workload_section: dict[str, Any] = field(default_factory=dict)
    executor_section: dict[str, Any] | None = None
    workers: int = 1
    searcher: str | None = None  # the searcher's label (ours; None: the default, random)
    searcher_section: dict[str, Any] | None = None
    status: str = "pending"
    error: str | None = None
    reason: str | None = None
    seconds: float | None = None
    best_score: float | None = None

    @property
    def dir(self) -> str:
        """The run directory, relative to the comparison directory."""
        return self.cell_id

    @property
    def done(self) -> bool:
        return self.status == "done"

    @property
    def why(self) -> str | None:
        """Why the cell has no results: its error, or the reason it could not run."""
        return self.error or self.reason

    def row(self) -> dict[str, Any]:
        """The cell as ``matrix.json`` lists it (no sections)."""
        return {**{f.name: getattr(self, f.name) for f in fields(self) if f.name not in SECTIONS}, "dir": self.dir}


@dataclass
class Matrix:
    """A matrix and its cells, in the order they run (seed-major, so an interrupted comparison
    has whole seeds rather than whole contenders); ``root`` is the comparison directory it was
    read from."""

    name: str
    raw: dict[str, Any]
    cells: list[Cell] = field(default_factory=list)
    contenders: list[Contender] = field(default_factory=list)
    root: Path | None = None
    machine: Mapping[str, Any] | None = None
    published: list[Published] = field(default_factory=list)
    placement: Mapping[str, Any] | None = None  # how the last ``compare`` placed its cells

    @property
    def budget(self) -> dict[str, Any]:
        return dict(self.raw.get("budget") or {})

    @property
    def target_score(self) -> float | None:
        target = self.raw.get("target_score")
        return None if target is None else float(target)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.raw.get("seeds") or [])

    @property
    def workers(self) -> tuple[int, ...]:
        """The worker counts: several when the matrix's ``workers`` is an axis."""
        given = self.raw.get("workers")
        return tuple(int(k) for k in (given if isinstance(given, list) else [] if given is None else [given]))

    @property
    def workloads(self) -> tuple[str, ...]:
        return tuple(name_of(w) for w in self.raw.get("workloads") or [])

    @property
    def executors(self) -> tuple[str, ...]:
        return tuple(name_of(e) for e in self.raw.get("executors") or [])

    def contender(self, label: str) -> Contender | None:
        return next((c for c in self.contenders if c.label == label), None)

    def kind_of(self, label: str) -> str:
        """``scheduler`` or ``peer``: as the contenders say, else as its cells do, else ours."""
        listed = self.contender(label)
        return listed.kind if listed else next((c.kind for c in self.cells if c.label == label), "scheduler")

    def path(self, cell: Cell) -> Path:
        if self.root is None:
            raise ValueError(f"matrix {self.name!r} was not read from a directory: cell {cell.cell_id} has no path")
        return self.root / cell.dir


def name_of(entry: Any) -> str:
    """A workload or executor as the cells name it: itself, or a mapping's ``label`` or ``name``.

    >>> name_of("sgd"), name_of({"name": "dask"}), name_of({"label": "fifo", "name": "simulated"})
    ('sgd', 'dask', 'fifo')
    """
    if isinstance(entry, Mapping):
        return str(entry.get("label") or entry.get("name"))
    return str(entry)


def _need(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise ValueError(f"{where}: missing key {key!r}")
    return obj[key]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_cell(raw: Mapping[str, Any], where: str, kinds: Mapping[str, str]) -> Cell:
    """One entry of ``cells``; its ``kind`` if given, else its contender's."""
    values = {k: _need(raw, k, where) for k in CELL_KEYS}
    if values["status"] not in STATUSES:
        raise ValueError(f"{where}: status {values['status']!r} is not one of {', '.join(STATUSES)}")
    label = str(values["label"])
    return Cell(
        cell_id=str(values["cell_id"]),
        kind=str(raw.get("kind") or kinds.get(label, "scheduler")),
        label=label,
        workload=str(values["workload"]),
        executor=str(values["executor"]),
        seed=int(values["seed"]),
        workers=int(raw.get("workers") or 1),
        searcher=_text(raw.get("searcher")),
        status=str(values["status"]),
        error=_text(raw.get("error")),
        reason=_text(raw.get("reason")),
        seconds=None if raw.get("seconds") is None else float(raw["seconds"]),
        best_score=None if raw.get("best_score") is None else float(raw["best_score"]),
    )


def parse_contender(raw: Mapping[str, Any], where: str) -> Contender:
    kind = str(raw.get("kind", "scheduler"))
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    return Contender(
        str(_need(raw, "label", where)),
        kind,
        str(raw.get("algorithm") or ""),
        dict(raw.get("settings") or {}),
        {k: str(v) for k, v in (raw.get("received") or {}).items()},
        {k: str(v) for k, v in (raw.get("differs") or {}).items()},
        str(raw.get("name") or ""),
        _text(raw.get("searcher")),
        None if raw.get("workers") is None else int(raw["workers"]),
    )


def parse_matrix(raw: Mapping[str, Any], root: Path) -> Matrix:
    """A :class:`Matrix` from the decoded ``matrix.json``; a missing key or a bad value is a
    ``ValueError`` naming it."""
    where = str(root / MATRIX)
    given: Mapping[str, Any] = raw["matrix"] if isinstance(raw.get("matrix"), Mapping) else {}
    spec = {**given, **{k: raw[k] for k in TOP_KEYS if raw.get(k) is not None}}
    contenders = [parse_contender(c, f"{where}: contenders[{i}]") for i, c in enumerate(raw.get("contenders") or [])]
    kinds = {c.label: c.kind for c in contenders}
    cells = [parse_cell(c, f"{where}: cells[{i}]", kinds) for i, c in enumerate(_need(raw, "cells", where))]
    published = [parse_published(p, f"{where}: published[{i}]") for i, p in enumerate(raw.get("published") or [])]
    name = str(raw.get("name") or spec.get("name") or root.name)
    placement = raw.get("placement") if isinstance(raw.get("placement"), Mapping) else None
    return Matrix(name, spec, cells, contenders, root, raw.get("machine"), published, placement)


def read_matrix(root: str | Path) -> Matrix:
    """The comparison in ``root``, read from ``root/matrix.json``."""
    root = Path(root)
    path = root / MATRIX
    if not path.is_file():
        raise FileNotFoundError(f"{str(root)!r} is not a comparison directory: no {MATRIX}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc}); rerun tunebench compare on {str(root)!r} to rewrite it") from None
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: expected a JSON object, got {type(raw).__name__}")
    if not isinstance(raw.get("cells"), list):
        raise ValueError(f"{path}: no list of cells: expected the {MATRIX} that tunebench compare writes")
    return parse_matrix(raw, root)
