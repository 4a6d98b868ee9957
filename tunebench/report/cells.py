"""The comparison directory's ``matrix.json``: what the report reads of it, and nothing more.

``compare`` writes ``DIR/matrix.json`` beside one run directory per cell. The report needs
only this (any other key is ignored, so the runner may record more)::

    {
      "contenders": [                      # one per scheduler or peer, in matrix order
        {"label": "hyperband", "kind": "scheduler", "algorithm": "hyperband"},   # kind: "scheduler" or "peer"
        {"label": "dask-ml-hyperband", "kind": "peer", "algorithm": "hyperband",  # algorithm: the family
         "settings": {"eta": 3}, "received": {"eta": "aggressiveness"},          # optional: shared settings,
         "differs": {}}                                                           # each system's own name
      ],
      "executors": ["dask"],               # as the cells name them (or mappings with a "label" or "name")
      "workloads": ["sgd"],                # as the cells name them (or mappings with a "label" or "name")
      "seeds": [0, 1],
      "budget": {"total_steps": 2000, "wall_time_s": null},   # shown as given
      "target_score": 0.9,                 # or null: no time-to-target columns
      "machine": {...},                    # optional: where the cells ran (else: this machine)
      "matrix": {...},                     # optional: the matrix as given; executors, workloads,
                                           # seeds, budget and target_score missing above are read here
      "cells": [
        {"cell_id": "hyperband-dask-sgd-0", "label": "hyperband", "executor": "dask",
         "workload": "sgd", "seed": 0, "dir": "hyperband-dask-sgd-0",   # relative to DIR
         "status": "done",                 # "done", "failed", "unsupported" or "pending" (not run yet)
         "error": null,                    # why a failed cell failed
         "reason": null}                   # why an unsupported cell could not run
      ]
    }

A peer's cell names its own engine as ``executor``. A ``done`` cell's directory is an ordinary run directory (``summary.json``,
``results.parquet``, ``trials.parquet``, ``journal.jsonl``), ours or a peer's alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

MATRIX = "matrix.json"
STATUSES = ("done", "failed", "unsupported", "pending")
KINDS = ("scheduler", "peer")
MATRIX_KEYS = ("executors", "workloads", "seeds", "budget", "target_score")
CELL_KEYS = ("cell_id", "label", "executor", "workload", "seed", "dir", "status")


@dataclass(frozen=True)
class Contender:
    """One scheduler or peer of the matrix."""

    label: str
    kind: str
    algorithm: str = ""  # the algorithm family (random, successive_halving, hyperband, asha, pbt); "" unknown
    settings: Mapping[str, Any] = field(default_factory=dict)  # shared setting -> effective value
    received: Mapping[str, str] = field(default_factory=dict)  # shared setting -> the name its own system uses
    differs: Mapping[str, str] = field(default_factory=dict)  # shared setting -> why this contender differs


@dataclass(frozen=True)
class Cell:
    """One (contender, executor, workload, seed) of the matrix and what became of it."""

    cell_id: str
    label: str
    executor: str
    workload: str
    seed: int
    dir: str
    status: str
    reason: str | None = None

    @property
    def done(self) -> bool:
        return self.status == "done"


@dataclass(frozen=True)
class Matrix:
    """The resolved matrix as ``compare`` ran it."""

    root: Path
    contenders: tuple[Contender, ...]
    executors: tuple[str, ...]
    workloads: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: Mapping[str, Any]
    target_score: float | None
    cells: tuple[Cell, ...]
    machine: Mapping[str, Any] | None = None

    def kind_of(self, label: str) -> str:
        """``scheduler`` or ``peer``; a label the contenders do not list counts as ours."""
        return next((c.kind for c in self.contenders if c.label == label), "scheduler")

    def path(self, cell: Cell) -> Path:
        return self.root / cell.dir


def _need(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise ValueError(f"{where}: missing key {key!r}")
    return obj[key]


def _name(entry: Any) -> str:
    """A workload or executor as the cells name it: itself, or a mapping's ``label`` or ``name``."""
    if isinstance(entry, Mapping):
        return str(entry.get("label") or entry.get("name"))
    return str(entry)


def parse_cell(raw: Mapping[str, Any], where: str) -> Cell:
    """One entry of ``cells``; ``error`` or ``reason`` (whichever is set) becomes :attr:`Cell.reason`."""
    values = {k: _need(raw, k, where) for k in CELL_KEYS}
    if values["status"] not in STATUSES:
        raise ValueError(f"{where}: status {values['status']!r} is not one of {', '.join(STATUSES)}")
    reason = raw.get("error") or raw.get("reason")
    return Cell(
        cell_id=str(values["cell_id"]), label=str(values["label"]), executor=str(values["executor"]),
        workload=str(values["workload"]), seed=int(values["seed"]), dir=str(values["dir"]),
        status=str(values["status"]), reason=None if reason is None else str(reason),
    )


def parse_contender(raw: Mapping[str, Any], where: str) -> Contender:
    kind = str(raw.get("kind", "scheduler"))
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    return Contender(str(_need(raw, "label", where)), kind, str(raw.get("algorithm") or ""), dict(raw.get("settings") or {}),
                     {k: str(v) for k, v in (raw.get("received") or {}).items()}, {k: str(v) for k, v in (raw.get("differs") or {}).items()})


def parse_matrix(raw: Mapping[str, Any], root: Path) -> Matrix:
    """A :class:`Matrix` from the decoded ``matrix.json``; a missing key or bad value is a
    ``ValueError`` naming it."""
    where = str(root / MATRIX)
    given = raw.get("matrix") if isinstance(raw.get("matrix"), Mapping) else {}
    raw = {**{k: given[k] for k in MATRIX_KEYS if k in given}, **{k: v for k, v in raw.items() if v is not None}}
    target = raw.get("target_score")
    return Matrix(
        root=root,
        contenders=tuple(parse_contender(c, f"{where}: contenders[{i}]") for i, c in enumerate(raw.get("contenders") or [])),
        executors=tuple(_name(e) for e in raw.get("executors") or []),
        workloads=tuple(_name(w) for w in raw.get("workloads") or []),
        seeds=tuple(int(s) for s in raw.get("seeds") or []),
        budget=dict(raw.get("budget") or {}),
        target_score=None if target is None else float(target),
        cells=tuple(parse_cell(c, f"{where}: cells[{i}]") for i, c in enumerate(_need(raw, "cells", where))),
        machine=raw.get("machine"),
    )


def load_matrix(root: str | Path) -> Matrix:
    """Read ``root/matrix.json``."""
    root = Path(root)
    path = root / MATRIX
    if not path.is_file():
        raise FileNotFoundError(f"{str(root)!r} is not a comparison directory: no {MATRIX}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: expected a JSON object, got {type(raw).__name__}")
    return parse_matrix(raw, root)


def load_cells(root: str | Path) -> tuple[Cell, ...]:
    """Every cell of the comparison in ``root``, in the order ``matrix.json`` lists them."""
    return load_matrix(root).cells
