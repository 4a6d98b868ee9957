"""How often a scheduler was wrong: on recorded curves the future of every trial it ended early is
known, so the report can say how many of them would have ended well.

A trial *ended early* when it stopped, or paused and was never resumed, before the run's
``max_iter`` (the *horizon*): where it would have finished is its config's recorded score at the
horizon. Per run, :func:`thrown_away` counts the trials ended early whose recorded final score is
among the top :data:`TOP_SHARE` of every recorded config's final score, and those whose final
score beats the run's final incumbent (the best score at the horizon the run itself reached),
and keeps the best final score thrown away beside the best one kept. :func:`section` shows this
per contender, as interquartile means over seeds with their bootstrap intervals, for every
workload whose cells (ours, on the simulated executor) replayed a recording.

>>> from tunebench.workloads.curves import frame_from_rows
>>> frame = frame_from_rows([
...     {"config_id": i, "config.x": x, "step": s, "score": x * s, "test_score": 0.0, "step_s": 1.0, "score_s": 0.0}
...     for i, x in enumerate([0.1, 0.2, 0.3, 0.4]) for s in (1, 2)])
>>> curves = Curves.from_frame(frame, {"workload": "demo", "space": {"x": {"uniform": [0, 1]}}})
>>> trials = pd.DataFrame({"trial_id": [0, 1, 2], "status": ["stopped", "paused", "completed"], "steps": [1, 1, 2],
...                        "config": ['{"x": 0.4}', '{"x": 0.1}', '{"x": 0.3}']})
>>> results = pd.DataFrame({"trial_id": [0, 1, 2, 2], "step": [1, 1, 1, 2], "score": [0.4, 0.1, 0.3, 0.6]})
>>> t = thrown_away(trials, results, curves, horizon=2, mode="max", share=0.25)
>>> (t.ended, t.top, t.above, t.thrown, t.kept, t.top_rate, t.above_rate)
(2, 1, 1, 0.8, 0.6, 0.5, 0.5)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from tunebench.report.analysis import WorkloadView, series_row
from tunebench.report.document import Block, Section, Table, fmt
from tunebench.report.runs import CellRun
from tunebench.report.sections import estimate_cell, ratio_cell
from tunebench.report.stats import iqm_interval, median_or_none
from tunebench.scores import best_of, better, rank_key
from tunebench.workloads.curves import Curves, CurvesError, read_curves

TITLE = "Trials stopped that would have ended well"
TOP_SHARE = 0.10
ENDED_EARLY = ("stopped", "paused")


@dataclass(frozen=True)
class Thrown:
    """What one run ended early and what it kept: ``ended`` trials ended before ``horizon``, of
    which ``top`` would have finished among the recording's top ``k`` and ``above`` above the
    run's final incumbent ``kept``; ``thrown`` is the best final score among them; ``nearest``
    of them are not in the recording and took their nearest recorded config's future;
    ``n_configs``: how many configs the recording holds."""

    ended: int
    top: int
    above: int
    thrown: float | None
    kept: float | None
    k: int
    horizon: int
    nearest: int = 0
    n_configs: int = 0

    @property
    def top_rate(self) -> float | None:
        """The share of the trials ended early that would have finished in the top ``k``."""
        return self.top / self.ended if self.ended else None

    @property
    def above_rate(self) -> float | None:
        """The share that would have finished above the incumbent (``None`` without one)."""
        return self.above / self.ended if self.ended and self.kept is not None else None


def top_k(n_configs: int, share: float = TOP_SHARE) -> int:
    """How many recorded configs make the top ``share`` (at least one).

    >>> top_k(128), top_k(30), top_k(5), top_k(10, 0.2)
    (13, 3, 1, 2)
    """
    return max(1, math.ceil(round(share * n_configs, 9)))


def kth_best(finals: Sequence[float], k: int, mode: str) -> float:
    """The rank key (:func:`tunebench.scores.rank_key`) of the ``k``-th best of ``finals``: a
    score is in the top ``k`` when its key is at least this (ties at the ``k``-th count in).

    >>> kth_best([0.5, 0.9, float("nan"), 0.7], 2, "max"), kth_best([0.5, 0.9, 0.7], 1, "min")
    (0.7, -0.5)
    """
    keys = sorted((rank_key(float(s), mode) for s in finals), reverse=True)
    return keys[min(k, len(keys)) - 1]


def ended_early(trials: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The trials a run stopped, or left paused at its end, before ``horizon`` steps.

    >>> t = pd.DataFrame({"status": ["stopped", "paused", "completed", "stopped", "failed"], "steps": [1, 3, 9, 9, 1]})
    >>> ended_early(t, 9).index.tolist()
    [0, 1]
    """
    if trials.empty:
        return trials
    return trials[trials["status"].isin(ENDED_EARLY) & (trials["steps"].astype(int) < horizon)]


def incumbent(results: pd.DataFrame, horizon: int, mode: str) -> float | None:
    """The best score the run reached at ``horizon`` steps; ``None`` if no trial got there.

    >>> r = pd.DataFrame({"step": [1, 9, 9, 3], "score": [0.99, 0.8, 0.85, 0.9]})
    >>> incumbent(r, 9, "max"), incumbent(r, 27, "max")
    (0.85, None)
    """
    if results.empty:
        return None
    return best_of(results.loc[results["step"].astype(int) >= horizon, "score"].astype(float).tolist(), mode)


def futures(trials: pd.DataFrame, curves: Curves, horizon: int) -> tuple[list[float], int]:
    """Each trial's recorded score at ``horizon`` (its config's, else its nearest recorded
    config's, as the simulated executor replays it) and how many took the nearest one."""
    out, nearest = [], 0
    for raw in trials["config"]:
        i, exact = curves.lookup(json.loads(raw) if isinstance(raw, str) else dict(raw))
        out.append(float(curves.score[i, horizon]))
        nearest += not exact
    return out, nearest


def thrown_away(
    trials: pd.DataFrame, results: pd.DataFrame, curves: Curves, horizon: int, mode: str, share: float = TOP_SHARE
) -> Thrown:
    """What one run ended early against what it kept (see the module docstring)."""
    horizon = min(horizon, curves.max_iter)
    k = top_k(curves.n_configs, share)
    cut = kth_best(curves.score[:, horizon].tolist(), k, mode)
    ended = ended_early(trials, horizon)
    finals, nearest = futures(ended, curves, horizon) if len(ended) else ([], 0)
    kept = incumbent(results, horizon, mode)
    return Thrown(
        ended=len(finals),
        top=sum(rank_key(f, mode) >= cut > float("-inf") for f in finals),
        above=sum(better(f, kept, mode) for f in finals) if kept is not None else 0,
        thrown=best_of(finals, mode) if finals else None,
        kept=kept,
        k=k,
        horizon=horizon,
        nearest=nearest,
        n_configs=curves.n_configs,
    )


def recording_of(run: CellRun) -> str | None:
    """The recording one of our cells replayed on the simulated executor (``executor.curves``);
    ``None`` for a peer, another executor, or a synthetic workload without one."""
    config = run.summary.get("config")
    executor = (config.get("executor") or {}) if isinstance(config, Mapping) else {}
    if run.cell.kind != "scheduler" or run.summary.get("peer") or executor.get("name") != "simulated":
        return None
    curves = executor.get("curves")
    return None if curves is None else str(curves)


def horizon_of(run: CellRun, curves: Curves) -> int:
    """The step a trial not ended early reaches: the scheduler's ``max_iter``, else the recording's."""
    config = run.summary.get("config")
    scheduler = (config.get("scheduler") or {}) if isinstance(config, Mapping) else {}
    return min(int(scheduler.get("max_iter") or curves.max_iter), curves.max_iter)


def measured(runs: Sequence[CellRun], read: Callable[[str], Curves] = read_curves) -> tuple[dict[int, Thrown], list[str]]:
    """Each run's :class:`Thrown` by ``id(run)``, and a line for every recording that could not be used."""
    out: dict[int, Thrown] = {}
    read_back: dict[str, Curves | str] = {}
    notes: list[str] = []
    for run in runs:
        source = recording_of(run)
        if source is None:
            continue
        if source not in read_back:
            try:
                read_back[source] = read(source)
            except (CurvesError, OSError, ValueError) as exc:
                read_back[source] = str(exc)
                notes.append(f"recording {source!r} could not be read, its cells are left out: {exc}")
        curves = read_back[source]
        if isinstance(curves, Curves):
            try:
                out[id(run)] = thrown_away(run.trials, run.results, curves, horizon_of(run, curves), run.mode)
            except CurvesError as exc:
                notes.append(f"{run.cell.cell_id} is left out: {exc}")
    return out, notes


def _iqm(values: Sequence[float | None]) -> str:
    return estimate_cell(iqm_interval([v for v in values if v is not None]))


def rows_of(
    view: WorkloadView, thrown: Mapping[int, Thrown], target: float | None, base: Mapping[str, str]
) -> list[tuple[str, ...]]:
    """One row per series of ``view`` with a measured run: seeds, trials ended early (median),
    both shares, the best final score thrown away and kept, and the final table's speedups."""
    rows = []
    for s in view.series:
        mine = [thrown[id(r)] for r in view.of(s) if id(r) in thrown]
        if not mine:
            continue
        speed = series_row(view, s, target, base) if base else None
        rows.append(
            (
                s,
                str(len(mine)),
                fmt(median_or_none([t.ended for t in mine])),
                _iqm([t.top_rate for t in mine]),
                _iqm([t.above_rate for t in mine]),
                _iqm([t.thrown for t in mine]),
                _iqm([t.kept for t in mine]),
                *((ratio_cell(speed.speedup_time), ratio_cell(speed.speedup_calls)) if speed is not None else ()),
            )
        )
    return rows


HEADERS = (
    "contender",
    "seeds",
    "trials ended early (median)",
    "share that would have been top k (IQM [95% CI])",
    "share that would have beaten the incumbent (IQM [95% CI])",
    "best final score thrown away (IQM [95% CI])",
    "best final score kept (IQM [95% CI])",
)
SPEEDUPS = ("speedup vs random (time)", "speedup vs random (calls)")


def intro(share: float = TOP_SHARE) -> str:
    """What the section measures, and on which cells."""
    return (
        "On recorded curves the future of every trial is known. A trial ended early when the scheduler stopped it, or "
        "left it paused and never resumed it, before the run's max_iter; where it would have finished is its config's "
        "recorded score at max_iter. Per contender: how many trials it ended early; the share of them that would have "
        f"finished among the top k of all the recording's configs by their score at max_iter (k: the top {share:.0%}, "
        "at least one; a tie with the k-th counts in); the share that would have finished above the run's final "
        "incumbent (the best score at max_iter the run itself reached); and the best final score among the trials it "
        "ended early beside the best it kept (the incumbent). Shares and scores are interquartile means over seeds with "
        "95% bootstrap intervals; a seed that ended no trial early (or, for the second share, reached max_iter with "
        "none) has no share and is left out. Only our schedulers' cells on the simulated executor with a recording "
        "count: peers train for real and have none. The numbers need exact lookups, each trial's own config in the "
        "recording; where a run replayed its nearest recorded config instead, that config's curve stands in, and the "
        "section says so below."
    )


def exactness(views: Sequence[WorkloadView], thrown: Mapping[int, Thrown]) -> str:
    """Whether every trial ended early was in the recording; if not, which series took nearest configs."""
    inexact = []
    for v in views:
        for s in v.series:
            mine = [(r, thrown[id(r)]) for r in v.of(s) if id(r) in thrown]
            nearest, ended = sum(t.nearest for _, t in mine), sum(t.ended for _, t in mine)
            replayed = sum(int((r.summary.get("executor_stats") or {}).get("lookups_nearest") or 0) for r, _ in mine)
            if nearest or replayed:
                where = f" on {v.workload}" if len(views) > 1 else ""
                inexact.append(
                    f"{s}{where}: {nearest} of the {ended} trials it ended early (the executor: {replayed} lookups by nearest)"
                )
    if not inexact:
        return (
            "Every lookup was exact: each trial ended early has its own config in the recording, and its own curve as its future."
        )
    return (
        "Not every lookup was exact (configs: nearest, a scheduler without a searcher, or a PBT explore): for these trials "
        f"the nearest recorded config's curve stands in for their future, as it did in the run, so their numbers are approximate: "
        f"{'; '.join(inexact)}."
    )


def caption(view: WorkloadView, thrown: Mapping[int, Thrown], speedups: bool) -> str:
    """Which recording, how many configs, k and max_iter the table's numbers are against."""
    used = sorted(
        {
            (str(recording_of(r)), thrown[id(r)].n_configs, thrown[id(r)].k, thrown[id(r)].horizon)
            for r in view.runs
            if id(r) in thrown
        }
    )
    against = "; ".join(f"recording {name} ({n} configs): top k = {k} at max_iter {h}" for name, n, k, h in used)
    tail = " Speedups: as in the final table (random search's time or calls to the score both reached over the contender's)."
    return f"{view.metric} ({'higher' if view.mode == 'max' else 'lower'} is better); {against}." + (tail if speedups else "")


def section(
    views: Sequence[WorkloadView],
    target: float | None = None,
    base: Mapping[str, str] | None = None,
    read: Callable[[str], Curves] = read_curves,
) -> Section | None:
    """The section, or ``None`` when no workload's cells replayed a recording through our schedulers;
    ``base``: the random-search baselines the final tables' speedups are against."""
    runs = [r for v in views for r in v.runs]
    thrown, notes = measured(runs, read)
    blocks: list[Block] = []
    for v in views:
        rows = rows_of(v, thrown, target, base or {})
        if not rows:
            continue
        headers = (*HEADERS, *SPEEDUPS) if base else HEADERS
        blocks += [f"Workload {v.workload}:", Table(headers, tuple(rows), caption(v, thrown, bool(base)))]
    if not blocks:
        return None
    return Section(TITLE, (intro(), *blocks, exactness(views, thrown), *notes))
