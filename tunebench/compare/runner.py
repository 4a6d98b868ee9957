"""Run a comparison matrix cell by cell; finished cells are never redone.

Every cell is an ordinary run directory under ``DIR/`` (ours through :func:`tunebench.run.run`,
a peer's through its :class:`~tunebench.compare.peer.Peer`), and ``DIR/matrix.json`` records
the resolved matrix and each cell's status (``done``, ``failed`` or ``unsupported``, with the
error or reason), rewritten atomically after every cell. A cell whose ``summary.json`` says
``completed`` is skipped, so an interrupted comparison continues where it stopped; a run cut
off mid-way is resumed from its journal; a cell that failed is moved aside and run again; a
failing cell never stops the others. Where cells run is a placement
(:mod:`tunebench.compare.placement`): one after another here (our cells on a local Dask cluster
share one per setting, :mod:`tunebench.compare.clusters`), ``jobs`` at once in local processes,
or on a Ray or Dask cluster (``cluster``); the tables are the same wherever they ran, and this
process alone writes ``matrix.json`` as outcomes arrive and the top-level tables with them, as
often as keeps their rewriting under :data:`WRITER_SHARE` of the study's time (every cell while
they are small; all of them at the end, and on Ctrl-C). Each cell's
row says where it ran (``ran_on``: placement, host, pid, Ray node or Dask worker), the CPUs it
held (``cpus``), whether it ran alone (``alone``) and whether it resumed a journal
(``resumed``); the top-level ``placement`` records the last invocation's. Ctrl-C interrupts
the cells out (each writes its tables so far), leaves ``matrix.json`` consistent and raises
:class:`StudyInterrupted`; the same command continues the study.

A peer's own console output (its library's banners, logging, warnings, its worker processes'
output) goes to the cell's ``peer.log`` (:mod:`tunebench.compare.capture`), never to the
terminal; the one line compare prints for a failed peer cell points there.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunebench import registry
from tunebench.compare.capture import PEER_LOG, captured, terminal
from tunebench.compare.clusters import SharedClusters
from tunebench.compare.matrix import experiment_raw, probe
from tunebench.compare.peer import PeerTask, PeerUnsupported
from tunebench.compare.placement import INTERRUPTED, Placement, placement_for, reserves, virtual
from tunebench.compare.progress import CellProgress, Lines, Tally, progress_for
from tunebench.store import ComparisonTables, atomic_write_json
from tunebench.store.comparison import MATRIX, Cell, Matrix, read_matrix

PLACED = ("ran_on", "cpus", "alone", "resumed")  # what a cell's row says of where and how it ran
RETRIES = 3  # sends of a cell again after its worker died
WRITER_SHARE = 0.1  # the most of a study's wall time the top-level tables' rewriting may take
TICK_S = 0.5  # how long the driver waits for an outcome before it looks for room to send more


def cell_state(path: Path) -> str:
    """``finished`` (a completed summary), ``failed`` (a failed one), ``partial`` (a journal and
    no summary, or an interrupted one: resumable) or ``new``."""
    summary = path / "summary.json"
    status = json.loads(summary.read_text()).get("status") if summary.is_file() else None
    if status == "completed":
        return "finished"
    if status not in (None, "interrupted"):
        return "failed"
    return "partial" if (path / "journal.jsonl").is_file() else "new"


def move_aside(path: Path) -> Path:
    """Rename a failed cell's directory to ``<name>.failed-<k>``, keeping it for inspection."""
    k = 1
    while path.with_name(f"{path.name}.failed-{k}").exists():
        k += 1
    target = path.with_name(f"{path.name}.failed-{k}")
    path.rename(target)
    return target


def run_ours(cell: Cell, data: dict[str, Any], path: Path, clusters: SharedClusters | None = None) -> dict[str, Any]:
    from tunebench.config import load_experiment
    from tunebench.run import run

    raw = experiment_raw(cell, data)
    if clusters is not None:
        raw["executor"] = clusters.executor_section(raw["executor"])
    if cell_state(path) == "partial":
        from tunebench.resume import resume

        return resume(path, progress=False, executor=raw["executor"]).summary
    return run(load_experiment(raw=raw), path, progress=False).summary


def peer_task(cell: Cell, data: dict[str, Any]) -> PeerTask:
    """The same task our schedulers get: the workload's data arrays, space, seed, workers, budget."""
    from tunebench.config import load_experiment

    exp = load_experiment(
        raw={
            "seed": cell.seed,
            "workload": cell.workload_section,
            "scheduler": probe(data),
            **({"space": data["space"]} if data.get("space") is not None else {}),
        }
    )
    built = exp.build()
    budget = data.get("budget") or {}
    return PeerTask(
        workload=built.workload,
        data=built.workload.load(cell.seed),
        space=built.space,
        seed=cell.seed,
        n_workers=cell.workers,
        max_iter=int(data["max_iter"]),
        total_steps=budget.get("total_steps"),
        wall_time_s=budget.get("wall_time_s"),
        evaluations=budget.get("evaluations"),
        target_score=data.get("target_score"),
        n_trials=cell.section.get("n_trials"),
    )


def run_peer(cell: Cell, data: dict[str, Any], path: Path) -> dict[str, Any]:
    cls = registry.load("peer", str(cell.section["name"]))
    peer = cls(**{k: v for k, v in cell.section.items() if k != "name"})
    task = peer_task(cell, data)
    peer.check(task)
    if path.exists() and any(path.iterdir()):
        move_aside(path)
    with captured(path / PEER_LOG):
        return peer.run(task, path)


def run_cell(cell: Cell, data: dict[str, Any], out: str, clusters: SharedClusters | None = None) -> dict[str, Any]:
    """Run one cell (ours on a shared cluster when ``clusters`` is given); never raises: the
    outcome says ``done``, ``failed`` or ``unsupported``."""
    path = Path(out) / cell.dir
    t0 = time.monotonic()
    resumed = {"resumed": cell_state(path) == "partial"}
    try:
        if cell_state(path) == "failed":
            move_aside(path)
        summary = run_ours(cell, data, path, clusters) if cell.kind == "scheduler" else run_peer(cell, data, path)
        status = "done" if summary.get("status", "completed") == "completed" else "failed"
        return {
            "status": status,
            "error": summary.get("error"),
            "reason": None,
            "seconds": time.monotonic() - t0,
            "best_score": summary.get("best_score"),
            **resumed,
        }
    except PeerUnsupported as exc:
        return {"status": "unsupported", "error": None, "reason": str(exc), "seconds": time.monotonic() - t0, **resumed}
    except Exception as exc:  # a failing cell is reported, the others go on
        error = f"{type(exc).__name__}: {exc}"
        return {"status": "failed", "error": error, "reason": None, "seconds": time.monotonic() - t0, **resumed}


def one_line(text: str, limit: int = 240) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters.

    >>> one_line("TuneError: 2 trials failed\\n  File ...")
    'TuneError: 2 trials failed'
    """
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[: limit - 3] + "..."


class Comparison:
    """The state of one comparison directory while its cells run: ``matrix.json`` and the
    top-level ``results.parquet``, ``trials.parquet`` and ``cells.parquet`` (every cell's rows in
    one, see :mod:`tunebench.store.combined`), all rewritten atomically as each cell finishes."""

    def __init__(self, matrix: Matrix, out: Path, say: Callable[[str], None]) -> None:
        self.matrix, self.out, self.say = matrix, out, say
        self.shown: CellProgress = Lines(say)  # compare() puts a bar here on a terminal
        self.status: dict[str, dict[str, Any]] = {}
        self.tables = ComparisonTables(out)  # reads each finished cell once, at the first write after it finished
        self.placement: dict[str, Any] | None = None  # how this invocation places its cells
        self.sent: dict[str, dict[str, Any]] = {}  # per cell out: the CPUs it holds, whether it runs alone
        self.tables_due = 0.0  # monotonic time from which a finished cell rewrites the top-level tables
        if (out / MATRIX).is_file():
            rows = {str(r.get("cell_id")): r for r in json.loads((out / MATRIX).read_text(encoding="utf-8"))["cells"]}
            for c in read_matrix(out).cells:
                self.status[c.cell_id] = {
                    "status": c.status,
                    "error": c.error,
                    "reason": c.reason,
                    "seconds": c.seconds,
                    "best_score": c.best_score,
                    **{k: v for k, v in rows.get(c.cell_id, {}).items() if k in PLACED},
                }

    def todo(self) -> list[Cell]:
        return [c for c in self.matrix.cells if cell_state(self.out / c.dir) != "finished"]

    def start(self, cell: Cell, cpus: int | None, alone: bool) -> None:
        self.sent[cell.cell_id] = {"cpus": cpus, "alone": alone}
        self.shown.start(cell.cell_id)

    def record(self, cell: Cell, outcome: dict[str, Any]) -> None:
        """A cell's outcome, from wherever it ran; an interrupted cell has none (it stays pending)."""
        if outcome.get("status") == INTERRUPTED:
            return
        outcome = {"error": None, "reason": None, "seconds": None, **outcome, **self.sent.pop(cell.cell_id, {})}
        self.status[cell.cell_id] = outcome
        self.write(tables=time.monotonic() >= self.tables_due)
        done = sum(1 for c in self.matrix.cells if cell_state(self.out / c.dir) == "finished")
        extra = one_line(outcome.get("reason") or outcome.get("error") or f"best {outcome.get('best_score')}")
        log = self.out / cell.dir / PEER_LOG
        if outcome["status"] == "failed" and cell.kind == "peer" and log.is_file():
            extra += f"; its output is in {log}"
        took = "?" if outcome["seconds"] is None else f"{outcome['seconds']:.1f}"
        line = f"[{done}/{len(self.matrix.cells)}] {cell.cell_id}: {outcome['status']} in {took} s ({extra})"
        self.shown.finish(cell.cell_id, line, outcome["status"] == "done", outcome["seconds"])

    def write(self, tables: bool = True) -> None:
        """Rewrite ``matrix.json`` and, with ``tables``, the top-level tables; after each tables
        write the next is due no sooner than :data:`WRITER_SHARE` of its own time allows."""
        cells = []
        for c in self.matrix.cells:
            row = c.row()
            state = "done" if cell_state(self.out / c.dir) == "finished" else None
            row.update({"status": state or "pending", "error": None, "reason": None, "seconds": None})
            row.update({k: v for k, v in self.status.get(c.cell_id, {}).items() if state is None or k != "status"})
            if state is None and row["status"] == "done":  # done last time, but its summary is gone or no longer completed
                row["status"] = "pending"
            cells.append(row)
        atomic_write_json(
            self.out / MATRIX,
            {
                "name": self.matrix.name,
                "matrix": self.matrix.raw,
                "contenders": [c.as_json() for c in self.matrix.contenders],
                "cells": cells,
                "published": [p.as_json() for p in self.matrix.published],
                **({"placement": self.placement} if self.placement is not None else {}),
            },
        )
        if tables:
            t0 = time.monotonic()
            self.tables.write(cells)
            self.tables_due = time.monotonic() + (time.monotonic() - t0) * (1 - WRITER_SHARE) / WRITER_SHARE


class StudyInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a study: ``matrix.json`` is consistent and the cells that were
    out wrote their tables so far; the same ``compare`` command continues it."""

    def __init__(self, out_dir: Path) -> None:
        super().__init__(str(out_dir))
        self.out_dir = out_dir


def compare(
    matrix: Matrix,
    out_dir: str | Path,
    *,
    jobs: int = 1,
    cluster: str | None = None,
    exclusive: bool = False,
    retries: int = RETRIES,
    say: Callable[[str], None] | None = None,
) -> Path:
    """Run every cell not finished yet; write ``matrix.json`` and the top-level tables (rebuilt
    from the finished cells on disk, then updated as each cell finishes); return the directory.

    Cells run one after another, ``jobs`` at once in local processes, or on the Ray or Dask
    cluster at ``cluster`` (reached before anything is written: an unreachable address is an
    :class:`~tunebench.executors.base.ExecutorError`); a cell whose worker dies is sent again
    up to ``retries`` times. ``exclusive`` runs the cells that measure real time (ours on a real
    executor, peers) alone, one at a time, after the others. Progress goes to ``say`` as lines
    when it is given, else to stderr: a bar on a terminal, lines elsewhere
    (:mod:`tunebench.compare.progress`)."""
    out = Path(out_dir)
    placement = placement_for(cluster, jobs, run_cell, matrix.raw, out, retries)
    placement.open()
    try:
        out.mkdir(parents=True, exist_ok=True)
        lines = say or (lambda line: print(line, file=sys.stderr, flush=True))
        state = Comparison(matrix, out, lines)
        state.placement = {**placement.describe(), "exclusive": exclusive}
        todo = state.todo()
        total, done = len(matrix.cells), len(matrix.cells) - len(todo)
        lines(f"{matrix.name}: {total} cells, {done} finished already, {len(todo)} to run")
        state.write()
        if not todo:
            return out
        shown = Lines(lines, Tally(total, done)) if say else progress_for(terminal(sys.stderr), lines, total, done, matrix.name)
        state.shown = shown
        t0 = time.perf_counter()
        try:
            run_all(state, todo, placement, exclusive)
        finally:
            shown.close()
        state.placement.update(throughput(len(todo), time.perf_counter() - t0))
        state.write()
        lines(
            f"{matrix.name}: {len(todo)} cells in {state.placement['wall_s']:.1f} s, {state.placement['cells_per_s']:.3g} cells/s"
        )
    finally:
        placement.close()
    return out


def throughput(cells: int, seconds: float) -> dict[str, Any]:
    """What ``matrix.json`` records of an invocation that ran to its end: cells run, wall seconds
    from the first cell sent to the last one back, and cells per second.

    >>> throughput(12, 4.0)
    {'cells_run': 12, 'wall_s': 4.0, 'cells_per_s': 3.0}
    """
    return {"cells_run": cells, "wall_s": round(seconds, 3), "cells_per_s": round(cells / seconds, 4) if seconds > 0 else None}


def measures_time(cell: Cell) -> bool:
    """Whether a cell's numbers include real time: a peer's, or ours on a real executor."""
    return cell.kind == "peer" or not virtual(str((cell.executor_section or {}).get("name") or cell.executor))


def run_all(state: Comparison, todo: list[Cell], placement: Placement, exclusive: bool) -> None:
    """Send cells out as the placement has room, each recorded as it ends; with ``exclusive``,
    those that measure real time go last, one at a time with nothing else out. Ctrl-C stops the
    cells out and raises :class:`StudyInterrupted`."""
    shared = deque(c for c in todo if not (exclusive and measures_time(c)))
    alone = deque(c for c in todo if exclusive and measures_time(c))
    try:
        while shared or alone or placement.pending:
            while shared and placement.fits(reserves(shared[0])):
                send(state, placement, shared.popleft(), placement.one_at_a_time)
            if not shared and alone and not placement.pending:
                send(state, placement, alone.popleft(), True)
            for cell, outcome in placement.wait(TICK_S):
                state.record(cell, outcome)
    except KeyboardInterrupt:
        for cell, outcome in placement.stop():
            state.record(cell, outcome)
        state.write()
        raise StudyInterrupted(state.out) from None


def send(state: Comparison, placement: Placement, cell: Cell, alone: bool) -> None:
    state.start(cell, placement.submit(cell, reserves(cell)), alone)
