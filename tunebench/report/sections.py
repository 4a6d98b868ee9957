"""The report's sections, as :mod:`tunebench.report.document` records: what was compared, the
figures, a table per workload, pairwise wins, the cells left out, versions and machine."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Mapping, Sequence

from tunebench.report.analysis import SeriesRow, WorkloadView, winners
from tunebench.report.cells import STATUSES, Matrix
from tunebench.report.document import Image, Items, Section, Table, fmt
from tunebench.report.environment import version_rows
from tunebench.report.runs import CellRun, Missing, describe_contender
from tunebench.report.stats import Estimate

TITLES = {
    "compared": "What was compared",
    "anytime": "Anytime best validation score",
    "regret": "Normalized regret and average rank over time",
    "final": "Final scores per workload",
    "pairwise": "Pairwise wins and losses over seeds",
    "missing": "Cells not in the report",
    "environment": "Versions, machine, spaces, budgets and seeds",
}


def compared(matrix: Matrix, runs: Sequence[CellRun], order: Sequence[str]) -> Section:
    """The matrix, and a line per series of what it did (when it scored)."""
    lines = []
    for s in order:
        mine = [r for r in runs if r.series == s]
        label = mine[0].cell.label
        kind = "peer" if matrix.kind_of(label) == "peer" else "our scheduler"
        what = mine[0].summary.get("scheduler") or label
        searcher = (_config(mine[0]).get("searcher") or {}).get("name")
        what += f" with searcher {searcher}" if kind == "our scheduler" and searcher else ""
        seeds = len({r.seed for r in mine})
        lines.append(f"{s} ({kind} {what} on {mine[0].cell.executor}; {len(mine)} cells, {seeds} seeds): {describe_contender(mine)}")
    ran = {r.cell.label for r in runs}
    for c in matrix.contenders:
        if c.label not in ran:
            lines.append(f"{c.label} ({'peer' if c.kind == 'peer' else 'our scheduler'}): no finished cell (see below)")
    tally = Counter(c.status for c in matrix.cells)
    states = ", ".join(f"{tally[k]} {k}" for k in STATUSES if tally[k])
    intro = (f"{len(matrix.cells)} cells ({states}): contenders {', '.join(c.label for c in matrix.contenders) or '-'}; "
             f"executors {', '.join(matrix.executors) or '-'}; workloads {', '.join(matrix.workloads) or '-'}; "
             f"seeds {', '.join(map(str, matrix.seeds)) or '-'}; budget {_budget(matrix.budget)}; "
             f"target score {fmt(matrix.target_score)}.")
    note = ("Time and calls to a score count from when the score was observed: a contender that scores only "
            "at the end of long Jobs sees its good configurations later than one that scores every step.")
    return Section(TITLES["compared"], (intro, Items(tuple(lines)), note))


def _budget(budget: Mapping[str, Any]) -> str:
    set_ = {k: v for k, v in budget.items() if v is not None}
    return ", ".join(f"{k}={v}" for k, v in set_.items()) if set_ else "none"


def figures(time_png: str, calls_png: str, regret_png: str, rank_png: str) -> tuple[Section, Section]:
    anytime = Section(TITLES["anytime"], (
        "Best validation score so far; line: median over seeds, band: 25th to 75th percentile, from when every seed "
        "had a score.",
        Image(time_png, "against wall time"), Image(calls_png, "against partial_fit calls"),
    ))
    regret = Section(TITLES["regret"], (
        "Normalized regret (Syne Tune): (best so far - best) / (worst - best) per workload, best and worst over "
        "every contender and seed, clipped to [0, 1]; 1 until a first score. Average rank: per seed, the "
        "contenders ranked by best score so far (1 is best), averaged over seeds.",
        Image(regret_png, "normalized regret over wall time (median and interquartile band over seeds)"),
        Image(rank_png, "average rank over wall time"),
    ))
    return anytime, regret


def _est(e: Estimate | None) -> str:
    if e is None:
        return "-"
    if e.low is None or e.high is None:
        return f"{fmt(e.iqm)} (n={e.n})"
    return f"{fmt(e.iqm)} [{fmt(e.low)}, {fmt(e.high)}]"


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


FINAL_HEADERS = (
    "contender", "seeds", "best validation (IQM [95% CI])", "test of best (IQM [95% CI])", "calls", "wall time (s)",
    "time to target (s)", "calls to target", "speedup vs random (time)", "speedup vs random (calls)", "utilisation",
)


def final_table(view: WorkloadView, rows: Sequence[SeriesRow], target: float | None) -> Section:
    """A workload's table: the winner (best IQM of the final validation score) marked."""
    won = winners(rows, view.mode)
    body = []
    for i, r in enumerate(rows):
        tail = f" ({r.reached}/{r.n_seeds})" if target is not None and r.reached < r.n_seeds else ""
        body.append((
            r.series + (" ★" if i in won else ""), str(r.n_seeds), _est(r.best), _est(r.test), fmt(r.calls),
            fmt(r.wall_time_s), ("never" if target is not None and r.reached == 0 else fmt(r.time_to_target)) + tail,
            ("never" if target is not None and r.reached == 0 else fmt(r.calls_to_target)) + tail,
            _x(r.speedup_time), _x(r.speedup_calls), fmt(r.utilization, 3),
        ))
    caption = (f"{view.metric} ({'higher' if view.mode == 'max' else 'lower'} is better); target "
               f"{fmt(target) if target is not None else 'not set'}; medians over seeds unless marked IQM; "
               "(k/n): seeds that reached the target; speedup: random search's time (calls) to the score both "
               "reached over the contender's, median over seeds; ★ winner.")
    table = Table(FINAL_HEADERS, tuple(body), caption, frozenset(won))
    said = tuple(f"{r.series}: {note}" for r in rows for note in notes_of(view.of(r.series)))
    beside = ("Notes the contenders' runs carry:", Items(said)) if said else ()
    return Section(view.workload, (table, *beside), level=3)


def notes_of(runs: Sequence[CellRun]) -> list[str]:
    """The distinct ``notes`` the cells' summaries carry (a peer says there what its numbers mean:
    what is not reproducible, what it cannot do), in cell order.

    >>> from types import SimpleNamespace as R
    >>> notes_of([R(summary={"notes": "polls once a second"}), R(summary={"notes": "polls once a second"}), R(summary={})])
    ['polls once a second']
    """
    out: list[str] = []
    for r in runs:
        raw = r.summary.get("notes")
        for note in [raw] if isinstance(raw, str) else list(raw or []):
            if str(note).strip() and str(note) not in out:
                out.append(str(note))
    return out


def pairwise_table(order: Sequence[str], tally: Mapping[tuple[str, str], tuple[int, int, int]]) -> Section:
    """Row against column: wins-losses(-ties) by final best validation score over (workload, seed)."""
    rows = []
    for a in order:
        cells = []
        for b in order:
            if a == b:
                cells.append("")
            else:
                w, l, t = tally[(a, b)]
                cells.append(f"{w}-{l}" + (f" ({t} tied)" if t else ""))
        rows.append((a, *cells))
    caption = "Row against column: wins-losses over every workload and seed both finished, by final best validation score."
    return Section(TITLES["pairwise"], (Table(("", *order), tuple(rows), caption),))


def missing_table(missing: Sequence[Missing]) -> Section:
    if not missing:
        return Section(TITLES["missing"], ("Every cell of the matrix finished and is in the report.",))
    rows = tuple((m.cell.cell_id, m.cell.label, m.cell.executor, m.cell.workload, str(m.cell.seed), m.cell.status, m.reason)
                 for m in missing)
    return Section(TITLES["missing"], (Table(("cell", "contender", "executor", "workload", "seed", "status", "reason"), rows),))


def environment(matrix: Matrix, runs: Sequence[CellRun], order: Sequence[str], here: Mapping[str, Any]) -> Section:
    """Versions (recorded and installed), the machine, each workload's space, budgets and seeds."""
    versions = Table(("package", "recorded by the runs", "installed where the report was built"),
                     tuple(version_rows(r.summary for r in runs)))
    where = "as the comparison recorded it" if matrix.machine else "where the report was built"
    box = Items(tuple(f"{k}: {v}" for k, v in (matrix.machine or here).items()))
    spaces = []
    for w in dict.fromkeys(r.cell.workload for r in runs):
        space = next((_config(r).get("space") for r in runs if r.cell.workload == w and _config(r).get("space")), None)
        spaces.append((w, json.dumps(space, sort_keys=True) if space else "the workload's default space"))
    budgets = []
    for s in order:
        r = next(r for r in runs if r.series == s)
        seeds = sorted({x.seed for x in runs if x.series == s})
        cfg = _config(r)
        max_iter = (cfg.get("scheduler") or {}).get("max_iter", "-")
        workers = (cfg.get("executor") or {}).get("n_workers", "-")
        budgets.append((s, _budget(cfg.get("budget") or matrix.budget), str(max_iter), str(workers), ", ".join(map(str, seeds))))
    return Section(TITLES["environment"], (
        versions, f"Machine ({where}):", box, Table(("workload", "space"), tuple(spaces)),
        Table(("contender", "budget", "max_iter", "workers", "seeds"), tuple(budgets)),
    ))


def _config(run: CellRun) -> Mapping[str, Any]:
    cfg = run.summary.get("config")
    return cfg if isinstance(cfg, Mapping) else {}
