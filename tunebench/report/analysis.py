"""Everything the report says about one workload, computed from its finished cells: anytime
bands, normalized regret and average rank over time, each series' final numbers, and the
verdicts of :mod:`tunebench.report.significance` on them.

Final scores are the summaries' (the best trial's last validation score, and its test
score); anytime curves and time to target use the best score observed so far.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tunebench.report.curves import Band, band, grid_for, mean_rows, on_grid
from tunebench.report.runs import CellRun
from tunebench.report.significance import (
    Profile,
    Ranking,
    SeedsNeeded,
    Verdict,
    differences,
    iqm_key,
    normalized_scores,
    performance_profile,
    ranking,
    seeds_needed,
    verdict,
)
from tunebench.report.stats import (
    Estimate,
    average_rank,
    iqm_interval,
    median_or_none,
    normalized_regret,
    reach,
    regret_bounds,
    speedup,
    win_loss,
)
from tunebench.scores import regret
from tunebench.store.comparison import Matrix


@dataclass(frozen=True)
class WorkloadView:
    """One workload's cells and the curves over seeds of each series on it."""

    workload: str
    metric: str
    mode: str
    series: tuple[str, ...]
    runs: tuple[CellRun, ...]
    by_time: Mapping[str, Band]
    by_calls: Mapping[str, Band]
    regret: Mapping[str, Band]
    rank: Mapping[str, Band]

    def of(self, series: str) -> list[CellRun]:
        return sorted((r for r in self.runs if r.series == series), key=lambda r: r.seed)


@dataclass(frozen=True)
class SeriesRow:
    """One series' line of a workload's table; medians are over seeds."""

    series: str
    n_seeds: int
    best: Estimate | None
    test: Estimate | None
    calls: float | None
    wall_time_s: float | None
    time_to_target: float | None
    calls_to_target: float | None
    reached: int
    speedup_time: float | None
    speedup_calls: float | None
    utilization: float | None
    regret: Estimate | None = None  # of the best validation score, against the workload's known optimum


def workload_view(workload: str, runs: Sequence[CellRun], order: Sequence[str]) -> WorkloadView:
    """Bands of the best score so far (against time and calls), regret and rank over time."""
    mode = runs[0].mode
    series = tuple(s for s in order if any(r.series == s for r in runs))
    t_grid, c_grid = grid_for((r.by_time for r in runs), log=True), grid_for((r.by_calls for r in runs), log=True)
    on_t = {id(r): on_grid(r.by_time, t_grid) for r in runs}
    bounds = bounds_of(runs, mode)
    by_time, by_calls, regret, rank = {}, {}, {}, {}
    ranks = ranks_over_time(runs, on_t, mode)
    for s in series:
        mine = [r for r in runs if r.series == s]
        by_time[s] = band(t_grid, [on_t[id(r)] for r in mine])
        by_calls[s] = band(c_grid, [on_grid(r.by_calls, c_grid) for r in mine])
        if bounds is not None:
            regret[s] = band(t_grid, [normalized_regret(on_t[id(r)], *bounds, mode) for r in mine])
        rank[s] = mean_rows(t_grid, ranks.get(s, []))
    metric = str(runs[0].summary.get("metric") or "score")
    return WorkloadView(workload, metric, mode, series, tuple(runs), by_time, by_calls, regret, rank)


def bounds_of(runs: Iterable[CellRun], mode: str) -> tuple[float, float] | None:
    """The best and worst score any run of a workload saw: the bounds of its normalized regret."""
    return regret_bounds([y for r in runs for y in r.by_time.y], mode)


def ranks_over_time(runs: Sequence[CellRun], on_t: Mapping[int, np.ndarray], mode: str) -> dict[str, list[np.ndarray]]:
    """Per seed, each series' rank among the series that ran that seed, at each grid point."""
    out: dict[str, list[np.ndarray]] = {}
    for seed in sorted({r.seed for r in runs}):
        curves = {r.series: on_t[id(r)] for r in runs if r.seed == seed}
        if len(curves) < 2:
            continue
        for s, rk in average_rank(curves, mode).items():
            out.setdefault(s, []).append(rk)
    return out


def placed(run: CellRun) -> str:
    """Where a run ran: its executor and, from its config, how many workers (a matrix with a
    workers axis compares each count with random search at that count)."""
    executor = (run.summary.get("config") or {}).get("executor") or {}
    return f"{run.cell.executor}/{executor.get('n_workers', '')}"


def baselines(runs: Iterable[CellRun], matrix: Matrix) -> dict[str, str]:
    """Executor and workers -> the series of our random search there (the passive baseline)."""
    out: dict[str, str] = {}
    for r in runs:
        if matrix.kind_of(r.cell.label) == "scheduler" and r.summary.get("scheduler") == "random":
            out.setdefault(placed(r), r.series)
    return out


def baseline_of(run: CellRun, base: Mapping[str, str]) -> str:
    """Random search on the run's executor and workers, else (a peer, on its own engine) on the first one."""
    return base.get(placed(run)) or next(iter(base.values()), "")


def series_rows(view: WorkloadView, target: float | None, base: Mapping[str, str]) -> list[SeriesRow]:
    """Each series' final numbers on this workload, against random search where it ran."""
    return [series_row(view, s, target, base) for s in view.series]


def optimum_of(runs: Iterable[CellRun]) -> float | None:
    """The workload's known optimum, as its runs' summaries give it."""
    return next((v for v in (r.get("optimum") for r in runs) if v is not None), None)


def series_row(view: WorkloadView, s: str, target: float | None, base: Mapping[str, str]) -> SeriesRow:
    mine, mode, optimum = view.of(s), view.mode, optimum_of(view.runs)
    t_hit = [reach(r.by_time.x, r.by_time.y, target, mode) for r in mine] if target is not None else []
    c_hit = [reach(r.by_calls.x, r.by_calls.y, target, mode) for r in mine] if target is not None else []
    ref = {r.seed: r for r in view.of(baseline_of(mine[0], base))} if mine else {}
    pairs = [(ref[r.seed], r) for r in mine if r.seed in ref]
    return SeriesRow(
        series=s,
        n_seeds=len(mine),
        best=iqm_interval([r.get("best_score") for r in mine]),
        test=iqm_interval([r.get("test_score") for r in mine]),
        calls=median_or_none([r.get("partial_fit_calls") for r in mine]),
        wall_time_s=median_or_none([r.get("wall_time_s") for r in mine]),
        time_to_target=median_or_none(t_hit),
        calls_to_target=median_or_none(c_hit),
        reached=sum(t is not None for t in t_hit),
        speedup_time=median_or_none([speedup(b.by_time.x, b.by_time.y, r.by_time.x, r.by_time.y, mode) for b, r in pairs]),
        speedup_calls=median_or_none([speedup(b.by_calls.x, b.by_calls.y, r.by_calls.x, r.by_calls.y, mode) for b, r in pairs]),
        utilization=median_or_none([r.get("utilization") for r in mine]),
        regret=iqm_interval([regret(r.get("best_score"), optimum, mode) for r in mine]),
    )


def final_scores(view: WorkloadView) -> dict[str, dict[int, float]]:
    """Series -> seed -> final best validation score (NaN where the summary has none)."""
    return {s: {r.seed: _or_nan(r.get("best_score")) for r in view.of(s)} for s in view.series}


def times_to_target(view: WorkloadView, target: float) -> dict[str, dict[int, float]]:
    """Series -> seed -> seconds until the best score so far reached ``target``; NaN for a seed
    that never did, which the paired tests rank below every seed that did (censored, not
    given a time)."""
    return {s: {r.seed: _or_nan(reach(r.by_time.x, r.by_time.y, target, view.mode)) for r in view.of(s)} for s in view.series}


def _or_nan(v: float | None) -> float:
    return float("nan") if v is None else v


@dataclass(frozen=True)
class Judgement:
    """One workload's verdicts: by final validation score, by time to target (``None``
    without a target), the seeds the top two would need when they are not separated, and
    the per-seed values each verdict was drawn from."""

    score: Verdict
    time: Verdict | None
    needed: SeedsNeeded | None
    finals: Mapping[str, Mapping[int, float]] | None = None
    times: Mapping[str, Mapping[int, float]] | None = None
    time_needed: SeedsNeeded | None = None
    mode: str = "max"


def judge(view: WorkloadView, target: float | None) -> Judgement:
    """The verdicts on a workload (:func:`tunebench.report.significance.verdict`)."""
    finals = final_scores(view)
    score = verdict(finals, view.mode, "final validation score")
    times = times_to_target(view, target) if target is not None else None
    time = verdict(times, "min", "time to target") if times is not None else None
    time_needed = close_call(time, times, "min") if time is not None and times is not None else None
    return Judgement(score, time, close_call(score, finals, view.mode), finals, times, time_needed, view.mode)


def close_call(v: Verdict, values: Mapping[str, Mapping[int, float]], mode: str) -> SeedsNeeded | None:
    """The seeds the top two would need, when the runner-up is tied with the candidate best."""
    if v.winner is not None or len(v.order) < 2 or v.order[1] not in v.tied:
        return None
    a, b = v.order[:2]
    return seeds_needed(a, b, differences(values[a], values[b], mode).tolist())


def ranking_of(views: Iterable[WorkloadView]) -> Ranking:
    """Average ranks across workloads: a contender's score on a workload is its interquartile
    mean over seeds (so a block is a workload, as in Demšar 2006, not a seed)."""
    return ranking({v.workload: {s: iqm_key(list(f.values()), v.mode) for s, f in final_scores(v).items()} for v in views})


@dataclass(frozen=True)
class Profiles:
    """Each series' performance profile over every workload, or why there is none."""

    curves: Mapping[str, Profile]
    why_not: str


def profiles_of(views: Iterable[WorkloadView], order: Sequence[str]) -> Profiles:
    """Final scores normalized per workload (1 - normalized regret, bounds over every run's
    curve), profiled per series over (workload, seed)."""
    runs: dict[str, dict[str, list[float]]] = {}
    for v in views:
        bounds = bounds_of(v.runs, v.mode)
        if bounds is not None:
            for s, f in final_scores(v).items():
                runs.setdefault(s, {})[v.workload] = normalized_scores(list(f.values()), *bounds, v.mode).tolist()
    why = profile_why_not({s: {w: len(x) for w, x in per.items()} for s, per in runs.items()})
    return Profiles({} if why else {s: performance_profile(runs[s]) for s in order if s in runs}, why)


def profile_why_not(seeds: Mapping[str, Mapping[str, int]]) -> str:
    """Why no performance profile can be drawn ("" if one can); ``seeds``: contender ->
    workload -> finished seeds with a normalized score.

    >>> profile_why_not({"a": {"w": 1}, "b": {"w": 1}}), profile_why_not({"a": {"w": 2}})
    ('fewer than 2 seeds per contender and workload: no bootstrap band over seeds', '')
    """
    counts = [n for per in seeds.values() for n in per.values()]
    if not counts:
        return "no finished cell has a finite score to normalize against"
    if max(counts) < 2:
        return "fewer than 2 seeds per contender and workload: no bootstrap band over seeds"
    return ""


def pairwise(views: Iterable[WorkloadView], order: Sequence[str]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(a, b) -> wins, losses, ties of a against b over every (workload, seed) both finished,
    by final best validation score."""
    finals: dict[str, dict[tuple[str, int], float]] = {s: {} for s in order}
    modes: dict[str, str] = {}
    for v in views:
        modes[v.workload] = v.mode
        for r in v.runs:
            score = r.get("best_score")
            finals[r.series][(v.workload, r.seed)] = float("nan") if score is None else score
    out = {}
    for a in order:
        for b in order:
            if a != b:
                tallies = [win_loss(_only(finals[a], w), _only(finals[b], w), m) for w, m in modes.items()]
                out[(a, b)] = tuple(int(sum(t[i] for t in tallies)) for i in range(3))  # type: ignore[assignment]
    return out


def _only(finals: Mapping[tuple[str, int], float], workload: str) -> dict[int, float]:
    return {seed: v for (w, seed), v in finals.items() if w == workload}
