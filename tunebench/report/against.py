"""The report's "against" views: how the results change along each axis the matrix varies
(:mod:`tunebench.report.axes`): workers, executors, searchers, or one setting of a contender
(``bracket_order``, ``patience``, a peer's ``parallelism``, ...).

One table per axis and workload, a line per row and value: the final validation score as an
interquartile mean over seeds with its bootstrap interval, its paired gain over the axis' first
value (the interquartile mean of the per-seed differences, positive is better), the time to
target (without a target: the whole run's wall time) as a median over seeds and the speedup
over the first value (the median of per-seed ratios), calls and utilisation, and whether the final
score differs from the first value's by a paired test over seeds (Wilcoxon signed-rank, exact
permutation for few seeds, Holm-corrected over the table's comparisons). Along workers the
section adds a figure and, per row, where one more step of workers stops cutting the time by
at least :data:`SATURATION_GAIN`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tunebench.report.analysis import WorkloadView
from tunebench.report.axes import Axis
from tunebench.report.document import Block, Image, Items, Section, Table, fmt
from tunebench.report.runs import CellRun
from tunebench.report.significance import ALPHA, holm, paired_test
from tunebench.report.stats import Estimate, iqm, iqm_interval, median_or_none, reach
from tunebench.scores import finite, rank_key

SATURATION_GAIN = 0.10
WORKERS_PNG = "against_workers.png"


@dataclass(frozen=True)
class Step:
    """One value of one row: a series' numbers over its seeds, and against the row's first value."""

    row: str
    value: Any
    series: str
    n_seeds: int
    best: Estimate | None
    gain: float | None
    time: float | None
    reached: int
    speedup: float | None
    calls: float | None
    utilization: float | None
    times: tuple[float, ...] = ()  # each seed's time, where it has one
    first: bool = False  # the row's first value: what the gain and the speedup are against
    p: float | None = None  # the paired test of its final scores against the first value's, uncorrected


def time_of(run: CellRun, target: float | None, mode: str) -> float | None:
    """Seconds to the target (``None``: never reached), or without a target the run's wall time."""
    if target is not None:
        return reach(run.by_time.x, run.by_time.y, target, mode)
    return run.get("wall_time_s")


def gains(first: Mapping[int, float | None], this: Mapping[int, float | None], mode: str) -> list[float]:
    """Per seed both have a finite score: how much better ``this`` is, in the metric's direction.

    >>> gains({0: 0.80, 1: 0.90}, {0: 0.85, 1: None}, "max"), gains({0: 0.3}, {0: 0.2}, "min")
    ([0.04999999999999993], [0.09999999999999998])
    """
    return [
        rank_key(this[s], mode) - rank_key(first[s], mode)
        for s in sorted(set(first) & set(this))
        if finite(first[s]) and finite(this[s])
    ]


def ratios(first: Mapping[int, float | None], this: Mapping[int, float | None]) -> list[float]:
    """Per seed both took a positive time: the first value's time over this one's (a speedup).

    >>> ratios({0: 10.0, 1: 8.0, 2: None}, {0: 5.0, 1: 8.0, 2: 1.0})
    [2.0, 1.0]
    """
    pairs = [(first[s], this[s]) for s in sorted(set(first) & set(this))]
    return [a / b for a, b in pairs if a is not None and b is not None and b > 0]


def steps_of(view: WorkloadView, axis: Axis, target: float | None) -> list[Step]:
    """Every row of ``axis`` on one workload, each value a :class:`Step`."""
    out = []
    for row in axis.rows:
        present = {v: s for v, s in row.series.items() if view.of(s)}
        if len(present) < 2:
            continue
        first = next(iter(present.values()))
        base = view.of(first)
        best0 = {r.seed: r.get("best_score") for r in base}
        time0 = {r.seed: time_of(r, target, view.mode) for r in base}
        for value, series in present.items():
            runs = view.of(series)
            times = {r.seed: time_of(r, target, view.mode) for r in runs}
            bests = {r.seed: r.get("best_score") for r in runs}
            delta = gains(best0, bests, view.mode)
            out.append(
                Step(
                    row.name,
                    value,
                    series,
                    len(runs),
                    iqm_interval([r.get("best_score") for r in runs]),
                    iqm(delta) if delta else None,
                    median_or_none(list(times.values())),
                    sum(t is not None for t in times.values()),
                    median_or_none(ratios(time0, times)),
                    median_or_none([r.get("partial_fit_calls") for r in runs]),
                    median_or_none([r.get("utilization") for r in runs]),
                    tuple(float(t) for t in times.values() if t is not None),
                    series == first,
                    None if series == first else paired_test(bests, best0, view.mode).p,
                )
            )
    return out


def saturation(values: Sequence[int], times: Sequence[float | None], gain: float = SATURATION_GAIN) -> int | None:
    """The first worker count past which one more step cuts the median time by less than
    ``gain`` (``None``: every step still pays).

    >>> saturation([4, 8, 16, 32], [100.0, 55.0, 40.0, 39.0]), saturation([1, 2], [10.0, 5.0])
    (16, None)
    """
    for i in range(len(values) - 1):
        a, b = times[i], times[i + 1]
        if a is None or b is None or b > (1 - gain) * a:
            return values[i]
    return None


def verdicts(steps: Sequence[Step], alpha: float = ALPHA) -> list[str]:
    """Per step: ``reference`` for a row's first value, else better, worse or tied against it with
    the Holm-corrected p over every comparison of the table (the sign from the paired gain).

    >>> s = [Step("r", v, v, 8, None, g, None, 0, None, None, None, first=f, p=p) for v, g, f, p in
    ...      [("a", None, True, None), ("b", 0.2, False, 0.004), ("c", -0.1, False, 0.3)]]
    >>> verdicts(s)
    ['reference', 'better (p 0.008)', 'tied (p 0.3)']
    """
    tested = {i: s.p for i, s in enumerate(steps) if not s.first and s.p is not None}
    adjusted = dict(zip(tested, holm(list(tested.values()))))
    out = []
    for i, s in enumerate(steps):
        if s.first or i not in adjusted:
            out.append("reference" if s.first else "-")
            continue
        p = adjusted[i]
        word = "tied" if p >= alpha or not s.gain else "better" if s.gain > 0 else "worse"
        out.append(f"{word} (p {p:.2g})")
    return out


def value_text(value: Any) -> str:
    return "none" if value is None else str(value)


def table(steps: Sequence[Step], axis: Axis, target: float | None, metric: str) -> Table:
    first = value_text(axis.values[0])
    when = "time to target (s)" if target is not None else "wall time (s)"
    rows = []
    for s, verdict in zip(steps, verdicts(steps)):
        reached = f" ({s.reached}/{s.n_seeds})" if target is not None and s.reached < s.n_seeds else ""
        time = ("never" if target is not None and s.reached == 0 else fmt(s.time)) + reached
        best = (
            "-"
            if s.best is None
            else fmt(s.best.iqm) + (f" [{fmt(s.best.low)}, {fmt(s.best.high)}]" if s.best.low is not None else "")
        )
        gain = "reference" if s.first else "-" if s.gain is None else f"{s.gain:+.4g}"
        rows.append(
            (
                s.row,
                value_text(s.value),
                str(s.n_seeds),
                best,
                gain,
                verdict,
                time,
                "-" if s.speedup is None else f"{s.speedup:.2f}x",
                fmt(s.calls),
                fmt(s.utilization, 3),
            )
        )
    caption = (
        f"{metric}: interquartile mean over seeds [95% bootstrap interval]; gain: interquartile mean of the per-seed "
        f"difference from the row's first {axis.name} value ({first} where the row has it), positive is better; "
        f"vs first: a paired test of the final scores over seeds (Wilcoxon signed-rank, exact permutation up to "
        f"its limit), Holm-corrected over this table's comparisons, alpha {ALPHA}; "
        f"{when}: median over seeds{' (k/n: seeds that reached the target)' if target is not None else ''}; speedup: "
        f"median over seeds of the first value's time over this one's; calls and utilisation: medians."
    )
    return Table(
        ("row", axis.name, "seeds", f"best {metric}", "gain", "vs first", when, "speedup", "calls", "utilisation"),
        tuple(rows),
        caption,
    )


def saturation_lines(steps: Sequence[Step]) -> list[str]:
    """Along workers, per row: the speedup from its fewest to its most workers and where it saturates."""
    out = []
    for row in dict.fromkeys(s.row for s in steps):
        mine = [s for s in steps if s.row == row]
        at = saturation([int(s.value) for s in mine], [s.time for s in mine])
        end = mine[-1].speedup
        out.append(
            f"{row}: {'-' if end is None else f'{end:.2f}x'} from {mine[0].value} to {mine[-1].value} workers; "
            + (
                f"one more step of workers cuts the median time by less than {SATURATION_GAIN:.0%} from {at} workers on"
                if at is not None
                else f"every step of workers still cuts the median time by {SATURATION_GAIN:.0%} or more"
            )
        )
    return out


def section(
    axis: Axis, steps: Mapping[str, Sequence[Step]], views: Sequence[WorkloadView], target: float | None, png: str | None = None
) -> Section:
    """The view of one axis: a table per workload (under its name when there are several)."""
    intro = (
        f"The matrix varies {axis.name} ({', '.join(value_text(v) for v in axis.values)}): each row holds the series "
        f"that differ only in {axis.name}."
    )
    blocks: list[Block] = [intro]
    for v in views:
        mine = steps.get(v.workload) or []
        if not mine:
            continue
        if len(views) > 1:
            blocks.append(f"Workload {v.workload}:")
        blocks.append(table(mine, axis, target, v.metric))
        if axis.name == "workers":
            blocks.append(Items(tuple(saturation_lines(mine))))
    if png is not None:
        blocks.append(Image(png, "against workers: time (median, interquartile band over seeds) and best score (IQM) per row"))
    return Section(f"Against {axis.name}", tuple(blocks))
