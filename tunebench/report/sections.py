"""The report's sections, as :mod:`tunebench.report.document` records: the verdict, a table per
workload with the tests behind it, the figures, the ranking across workloads, the performance
profile, pairwise wins, what was compared, the cells left out, versions and machine."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from tunebench.report.analysis import Judgement, Profiles, SeriesRow, WorkloadView, optimum_of
from tunebench.report.anytime import REGRET_FLOOR
from tunebench.report.document import Image, Items, Section, Table, fmt
from tunebench.report.environment import version_rows
from tunebench.report.heatmap import why_not as heatmap_why_not
from tunebench.report.panels import LOG_DECADES, ONE_PANEL_MAX
from tunebench.report.runs import CellRun, Missing, describe_contender
from tunebench.report.significance import Ranking
from tunebench.report.stats import Estimate
from tunebench.report.verdict import evidence
from tunebench.store.comparison import STATUSES, Matrix

TITLES = {
    "verdict": "Verdict",
    "compared": "What was compared",
    "anytime": "Anytime best validation score",
    "regret": "Normalized regret and average rank over time",
    "final": "Final scores per workload",
    "across": "Across workloads",
    "profile": "Performance profile",
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
        lines.append(
            f"{s} ({kind} {what} on {mine[0].cell.executor}; {len(mine)} cells, {seeds} seeds): {describe_contender(mine)}"
        )
    ran = {r.cell.label for r in runs}
    for c in matrix.contenders:
        if c.label not in ran:
            lines.append(f"{c.label} ({'peer' if c.kind == 'peer' else 'our scheduler'}): no finished cell (see below)")
    tally = Counter(c.status for c in matrix.cells)
    states = ", ".join(f"{tally[k]} {k}" for k in STATUSES if tally[k])
    intro = (
        f"{len(matrix.cells)} cells ({states}): contenders {', '.join(c.label for c in matrix.contenders) or '-'}; "
        f"executors {', '.join(matrix.executors) or '-'}; workloads {', '.join(matrix.workloads) or '-'}; "
        f"seeds {', '.join(map(str, matrix.seeds)) or '-'}; budget {_budget(matrix.budget)}; "
        f"target score {fmt(matrix.target_score)}."
    )
    note = (
        "Time and calls to a score count from when the score was observed: a contender that scores only "
        "at the end of long Jobs sees its good configurations later than one that scores every step."
    )
    return Section(TITLES["compared"], (intro, Items(tuple(lines)), note))


def _budget(budget: Mapping[str, Any]) -> str:
    set_ = {k: v for k, v in budget.items() if v is not None}
    return ", ".join(f"{k}={v}" for k, v in set_.items()) if set_ else "none"


def figures(
    time_png: str,
    calls_png: str,
    regret_png: str,
    rank_png: str,
    heatmap_png: str | None = None,
    n_workloads: int | None = None,
    *,
    clock: str = "wall time",
    evaluations_png: str | None = None,
    without_evaluations: Sequence[str] = (),
    optimum_pngs: tuple[str | None, str] | None = None,
    optima: Mapping[str, float] | None = None,
) -> tuple[Section, Section]:
    """The anytime and regret sections; with ``n_workloads`` given, the regret section ends with
    the heatmap of final regret (several workloads) or why there is none. ``clock``: what the time
    axis counts; ``evaluations_png``: the best score against evaluations (``without_evaluations``:
    the series it leaves out); ``optimum_pngs``: the regret against the known ``optima``, against
    evaluations (``None`` when no contender records any) and against the clock."""
    left = f" Left out (their cells record no evaluations): {_names(without_evaluations)}." if without_evaluations else ""
    evaluations: tuple[str | Image, ...] = (
        (
            "Against evaluations, as the papers plot it: an evaluation is one results row of our schedulers (a Job run and "
            "scored, in order of elapsed_s) or one evaluation a multi-fidelity peer's library asked for (a row of its "
            f"evaluations.parquet).{left}",
            Image(evaluations_png, "against evaluations"),
        )
        if evaluations_png is not None
        else ()
    )
    anytime = Section(
        TITLES["anytime"],
        (
            "Best validation score so far; line: median over seeds, band: 25th to 75th percentile, from when every seed "
            f"had a score. With more than {ONE_PANEL_MAX} contenders, one panel per algorithm family (ours beside the "
            "peers of that family; one row per workload), our random search drawn in each as the grey dashed reference. "
            "A contender keeps its colour, dash and marker in every figure; time and calls are on a log axis where they "
            f"span more than {LOG_DECADES:g} decades. Time is each cell's clock: virtual time on the simulated executor "
            "(the Jobs' modelled cost), wall time elsewhere.",
            Image(time_png, f"against {clock}"),
            Image(calls_png, "against partial_fit calls"),
            *evaluations,
        ),
    )
    heat: tuple[str | Image, ...] = ()
    if n_workloads is not None:
        why = heatmap_why_not(n_workloads)
        heat = (
            (why,)
            if why or heatmap_png is None
            else (
                "Final normalized regret per contender (row) and workload (column): the median over seeds of each final "
                "validation score's regret, 0 the best score any contender saw on the workload, 1 the worst; grey: no "
                "finished cell.",
                Image(heatmap_png, "final normalized regret per contender and workload"),
            )
        )
    regret = Section(
        TITLES["regret"],
        (
            "Normalized regret (Syne Tune): (best so far - best) / (worst - best) per workload, best and worst over "
            "every contender and seed, clipped to [0, 1]; 1 until a first score. Average rank: per seed, the "
            "contenders ranked by best score so far (1 is best), averaged over seeds.",
            Image(regret_png, f"normalized regret over {clock} (median and interquartile band over seeds)"),
            Image(rank_png, f"average rank over {clock}"),
            *heat,
            *optimum_blocks(optimum_pngs, optima or {}, clock),
        ),
    )
    return anytime, regret


def optimum_blocks(pngs: tuple[str | None, str] | None, optima: Mapping[str, float], clock: str) -> tuple[str | Image, ...]:
    """The regret against each workload's known optimum, against evaluations and against the clock."""
    if pngs is None or not optima:
        return ()
    by_evaluations = () if pngs[0] is None else (Image(pngs[0], "regret against the optimum over evaluations (log scale)"),)
    known = ", ".join(f"{w} {fmt(v)}" for w, v in optima.items())
    return (
        f"Regret against the known optimum ({known}): |best validation score so far - optimum| (best - optimum when "
        "lower is better, optimum - best when higher is better; a noisy score past the optimum counts by its distance), "
        f"on a log axis, clipped at {REGRET_FLOOR:g}; line: median over seeds, band: 25th to 75th percentile. Drawn only for the "
        "workloads with a known optimum; against evaluations only the contenders whose cells record evaluations.",
        *by_evaluations,
        Image(pngs[1], f"regret against the optimum over {clock} (log scale)"),
    )


def estimate_cell(e: Estimate | None) -> str:
    """An IQM with its interval (or its n) as a table cell; ``-`` for none."""
    if e is None:
        return "-"
    if e.low is None or e.high is None:
        return f"{fmt(e.iqm)} (n={e.n})"
    return f"{fmt(e.iqm)} [{fmt(e.low)}, {fmt(e.high)}]"


def ratio_cell(v: float | None) -> str:
    """A speedup as a table cell: ``2.50x``, ``-`` for none."""
    return "-" if v is None else f"{v:.2f}x"


FINAL_HEADERS = (
    "contender",
    "seeds",
    "best validation (IQM [95% CI])",
    "test of best (IQM [95% CI])",
    "calls",
    "wall time (s)",
    "time to target (s)",
    "calls to target",
    "speedup vs random (time)",
    "speedup vs random (calls)",
    "utilisation",
)


REGRET_HEADER = "regret vs optimum (IQM [95% CI])"


def final_table(view: WorkloadView, rows: Sequence[SeriesRow], target: float | None, judged: Judgement) -> Section:
    """A workload's table, its winner marked only when the paired tests separate it from every
    other contender; under it, the p-values the verdict rests on."""
    won = {i for i, r in enumerate(rows) if r.series == judged.score.winner}
    regret = any(r.regret is not None for r in rows)
    body = []
    for i, r in enumerate(rows):
        tail = f" ({r.reached}/{r.n_seeds})" if target is not None and r.reached < r.n_seeds else ""
        body.append(
            (
                r.series + (" ★" if i in won else ""),
                str(r.n_seeds),
                estimate_cell(r.best),
                *((estimate_cell(r.regret),) if regret else ()),
                estimate_cell(r.test),
                fmt(r.calls),
                fmt(r.wall_time_s),
                ("never" if target is not None and r.reached == 0 else fmt(r.time_to_target)) + tail,
                ("never" if target is not None and r.reached == 0 else fmt(r.calls_to_target)) + tail,
                ratio_cell(r.speedup_time),
                ratio_cell(r.speedup_calls),
                fmt(r.utilization, 3),
            )
        )
    caption = (
        f"{view.metric} ({'higher' if view.mode == 'max' else 'lower'} is better); target "
        f"{fmt(target) if target is not None else 'not set'}; medians over seeds unless marked IQM; "
        "(k/n): seeds that reached the target; speedup: random search's time (calls) to the score both "
        "reached over the contender's, median over seeds; ★ winner: first by IQM over seeds (a seed without a "
        "finite score counted worst, where the IQM column leaves it out) and separated from every other "
        "contender by paired tests over seeds (Holm, alpha 0.05)."
        + (
            f" Regret: the best validation score's distance from the known optimum, {fmt(optimum_of(view.runs))}."
            if regret
            else ""
        )
    )
    headers = (*FINAL_HEADERS[:3], REGRET_HEADER, *FINAL_HEADERS[3:]) if regret else FINAL_HEADERS
    table = Table(headers, tuple(body), caption, frozenset(won))
    said = tuple(f"{r.series}: {note}" for r in rows for note in notes_of(view.of(r.series)))
    beside = ("Notes the contenders' runs carry:", Items(said)) if said else ()
    return Section(view.workload, (table, *evidence(judged), *beside), level=3)


def verdict(lines: Sequence[str]) -> Section:
    """The report's opening: the verdict lines (:func:`tunebench.report.verdict.verdict_lines`)."""
    return Section(TITLES["verdict"], (Items(tuple(lines)),))


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def across_workloads(r: Ranking, png: str) -> Section:
    """Average ranks over workloads, Friedman's test and the critical-difference diagram."""
    if r.n_blocks < 2:
        return Section(TITLES["across"], (f"{r.why_not[0].upper()}{r.why_not[1:]}.",))
    left = f" Left out (no finished cell on every workload): {_names(r.left_out)}." if r.left_out else ""
    intro = (
        f"A block is a workload: each contender's interquartile mean over seeds of the final validation score "
        f"(a non-finite score counted worst) is ranked per workload (1 is best), and the ranks are averaged over "
        f"the {r.n_blocks} workloads (Demšar 2006).{left}"
    )
    table = Table(("contender", "average rank"), tuple((n, fmt(a, 3)) for n, a in zip(r.names, r.average_rank)))
    if r.why_not or r.statistic is None or r.p is None or r.cd is None:
        return Section(TITLES["across"], (intro, table, f"No Friedman test: {r.why_not}."))
    rejects = r.p < r.alpha
    test = (
        f"Friedman chi-square {fmt(r.statistic)} ({len(r.names) - 1} df), p={fmt(r.p, 2)}: "
        f"{'rejects' if rejects else 'does not reject'} equal average ranks at alpha {fmt(r.alpha)}. "
        f"Nemenyi critical difference CD={fmt(r.cd, 3)}: contenders whose average ranks differ by less than CD are "
        "joined by a bar" + ("." if rejects else ", shown for reference only since Friedman does not reject.")
    )
    return Section(TITLES["across"], (intro, table, test, Image(png, "critical-difference diagram of average ranks")))


def performance_profile(p: Profiles, png: str) -> Section:
    """The performance-profile figure, or why there is none."""
    if p.why_not:
        return Section(TITLES["profile"], (f"No performance profile: {p.why_not}.",))
    return Section(
        TITLES["profile"],
        (
            "Per contender, the fraction of its runs (workload, seed) whose final validation score, normalized per workload "
            "to 1 - normalized regret (1: the best score any contender saw there, 0: the worst), is at least tau "
            "(Agarwal et al., NeurIPS 2021); each workload weighs the same. Band: 95% bootstrap interval, seeds resampled "
            "within each workload. A curve above another is better at every threshold.",
            Image(png, "performance profile of final normalized scores"),
        ),
    )


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
                won, lost, t = tally[(a, b)]
                cells.append(f"{won}-{lost}" + (f" ({t} tied)" if t else ""))
        rows.append((a, *cells))
    caption = "Row against column: wins-losses over every workload and seed both finished, by final best validation score."
    return Section(TITLES["pairwise"], (Table(("", *order), tuple(rows), caption),))


def missing_table(missing: Sequence[Missing]) -> Section:
    if not missing:
        return Section(TITLES["missing"], ("Every cell of the matrix finished and is in the report.",))
    rows = tuple(
        (m.cell.cell_id, m.cell.label, m.cell.executor, m.cell.workload, str(m.cell.seed), m.cell.status, m.reason)
        for m in missing
    )
    return Section(TITLES["missing"], (Table(("cell", "contender", "executor", "workload", "seed", "status", "reason"), rows),))


def placed(placement: Mapping[str, Any] | None) -> str:
    """Where the last ``compare`` ran the cells, and whether timed cells had the machine alone.

    >>> placed({"where": "local", "jobs": 2, "exclusive": False})
    'Cells ran 2 at a time in local processes; timed cells may have shared the machine with others, so their wall times include that contention.'
    >>> placed({"where": "ray", "address": "10.0.0.5:6379", "exclusive": True})
    'Cells ran on the Ray cluster at 10.0.0.5:6379; timed cells (ours on a real executor, peers) ran alone, one at a time (--exclusive).'
    >>> placed({"where": "serial", "cells_run": 40, "wall_s": 20.0, "cells_per_s": 2.0})
    'Cells ran one after another in one process, so every cell had the machine to itself. The last invocation ran 40 cells in 20 s (2 cells/s).'
    """
    if not placement:
        return "Cells ran one after another in one process."
    where = str(placement.get("where"))
    text = {
        "serial": "one after another in one process",
        "local": f"{placement.get('jobs')} at a time in local processes",
        "ray": f"on the Ray cluster at {placement.get('address')}",
        "dask": f"on the Dask scheduler at {placement.get('address')}",
    }.get(where, where)
    if where == "serial":
        alone = "so every cell had the machine to itself."
    elif placement.get("exclusive"):
        alone = "timed cells (ours on a real executor, peers) ran alone, one at a time (--exclusive)."
    else:
        alone = "timed cells may have shared the machine with others, so their wall times include that contention."
    said = f"Cells ran {text}; {alone}" if where != "serial" else f"Cells ran {text}, {alone}"
    if placement.get("cells_per_s"):
        said += f" The last invocation ran {placement.get('cells_run')} cells in {fmt(placement.get('wall_s'))} s ({fmt(placement['cells_per_s'])} cells/s)."
    return said


def environment(matrix: Matrix, runs: Sequence[CellRun], order: Sequence[str], here: Mapping[str, Any]) -> Section:
    """Versions (recorded and installed), the machine, each workload's space, budgets and seeds."""
    versions = Table(
        ("package", "recorded by the runs", "installed where the report was built"), tuple(version_rows(r.summary for r in runs))
    )
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
    return Section(
        TITLES["environment"],
        (
            versions,
            f"Machine ({where}):",
            box,
            placed(matrix.placement),
            Table(("workload", "space"), tuple(spaces)),
            Table(("contender", "budget", "max_iter", "workers", "seeds"), tuple(budgets)),
        ),
    )


def _config(run: CellRun) -> Mapping[str, Any]:
    cfg = run.summary.get("config")
    return cfg if isinstance(cfg, Mapping) else {}
