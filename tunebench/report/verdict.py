"""The verdict in plain sentences, a line per workload and criterion: who leads on final
validation score and on time to target, by how much (interquartile means over seeds), whether
Holm-corrected paired tests separate the leader or whom it is tied with, and the seeds a close
call would need. The report opens with these lines and ``tunebench compare`` ends with them;
the p-values behind them sit under each workload's table (:func:`evidence`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from tunebench.report.analysis import Judgement, WorkloadView
from tunebench.report.document import fmt
from tunebench.report.significance import ALPHA, NO_DIFFERENCE, POWER, Comparison, SeedsNeeded, Verdict, iqm_key

Values = Mapping[str, Mapping[int, float]]  # contender -> seed -> value


def verdict_lines(views: Sequence[WorkloadView], judged: Mapping[str, Judgement], target: float | None) -> tuple[str, ...]:
    """Per workload, a line on final validation score and, with a target, one on time to it."""
    if not views:
        return ("No cell finished: no verdict.",)
    out: list[str] = []
    for v in views:
        j = judged[v.workload]
        out.append(
            criterion_line(f"{v.workload}, final validation {v.metric}", j.score, j.finals or {}, j.mode, j.needed, "")
            + compute_clause(v, j.score)
        )
        if j.time is not None and target is not None:
            out.append(
                criterion_line(
                    f"{v.workload}, time to {v.metric} {fmt(target)}", j.time, j.times or {}, "min", j.time_needed, " s"
                )
            )
    return tuple(line for line in out if line)


def criterion_line(head: str, v: Verdict, values: Values, mode: str, needed: SeedsNeeded | None, unit: str) -> str:
    """One verdict: the leader and its lead, the paired tests' answer, the seeds a tie would need.

    >>> from tunebench.report.significance import verdict
    >>> a, b = {i: 0.9 + 0.01 * i for i in range(6)}, {i: 0.8 + 0.01 * i for i in range(6)}
    >>> criterion_line("w, final score", verdict({"a": a, "b": b}, "max", "s"), {"a": a, "b": b}, "max", None, "")
    'w, final score: a leads with IQM 0.925, ahead of b (0.825) by 0.1. Significant against every other contender (Holm-corrected paired tests over 6 seeds, largest p=0.031).'
    """
    if not v.order:
        return ""
    if len(v.order) < 2:
        return f"{head}: only {v.best} finished: no verdict."
    if unit and not any(math.isfinite(x) for per in values.values() for x in per.values()):
        return f"{head}: no contender reached it: no verdict."
    best, second = v.order[:2]
    parts = [f"{head}: {best} leads{lead(best, second, values, mode, unit)}", separation(v)]
    if needed is not None:
        parts.append(seeds_clause(needed, unit))
    return ". ".join(parts) + "."


def compute_clause(view: WorkloadView, v: Verdict, margin: float = 1.1) -> str:
    """When the leader made over ``margin`` times the runner-up's calls: both medians, and the best
    score the leader had seen by the runner-up's median calls beside the best it saw in all (both
    from its anytime curve, which for PBT can exceed the final best trial's score)."""
    if len(v.order) < 2:
        return ""
    best, second = v.order[:2]
    mine, theirs = median_calls(view, best), median_calls(view, second)
    if mine is None or theirs is None or theirs <= 0 or mine <= margin * theirs:
        return ""
    early = {r.seed: best_at(r.by_calls.x, r.by_calls.y, theirs, view.mode) for r in view.of(best)}
    end = {r.seed: best_at(r.by_calls.x, r.by_calls.y, math.inf, view.mode) for r in view.of(best)}
    at, last = iqm_of(early, view.mode), iqm_of(end, view.mode)
    said = (
        f" The best score it had seen by {fmt(theirs)} calls was IQM {fmt(at)} ({fmt(last)} by its end)."
        if at is not None and last is not None
        else ""
    )
    return (
        f" It made {fmt(mine / theirs, 2)}x the partial_fit calls of {second} ({fmt(mine)} against {fmt(theirs)}, medians).{said}"
    )


def median_calls(view: WorkloadView, series: str) -> float | None:
    """A contender's median partial_fit calls over its seeds."""
    calls = [c for c in (r.get("partial_fit_calls") for r in view.of(series)) if c is not None and math.isfinite(c)]
    return float(np.median(calls)) if calls else None


def best_at(x: np.ndarray, y: np.ndarray, at: float, mode: str) -> float:
    """The best score seen by ``at`` on a best-so-far step curve; NaN before its first point.

    >>> best_at(np.array([1.0, 5.0, 9.0]), np.array([0.5, 0.7, 0.9]), 6.0, "max")
    0.7
    >>> best_at(np.array([3.0]), np.array([0.5]), 2.0, "max")
    nan
    """
    i = int(np.searchsorted(x, at, side="right"))
    return float(y[i - 1]) if i > 0 else float("nan")


def iqm_of(values: Mapping[int, float], mode: str) -> float | None:
    """The interquartile mean over seeds in the criterion's own units; ``None`` when more than
    a quarter of the seeds have no finite value.

    >>> iqm_of({0: 2.0, 1: 4.0, 2: 6.0, 3: 8.0}, "min"), iqm_of({0: float("nan"), 1: 1.0}, "min")
    (5.0, None)
    """
    key = iqm_key(list(values.values()), mode)
    if not math.isfinite(key):
        return None
    return key if mode == "max" else -key


def lead(best: str, second: str, values: Values, mode: str, unit: str) -> str:
    """How far the leader is ahead of the runner-up by IQM over seeds.

    >>> lead("a", "b", {"a": {0: 1.0, 1: 2.0}, "b": {0: 3.0, 1: 4.0}}, "min", " s")
    ' with IQM 1.5 s, ahead of b (3.5 s) by 2 s'
    >>> lead("a", "b", {"a": {0: 0.5}, "b": {0: 0.5}}, "max", "")
    ' with IQM 0.5, level with b'
    """
    a, b = iqm_of(values.get(best, {}), mode), iqm_of(values.get(second, {}), mode)
    if a is None:
        return " on paired seeds (more than a quarter of its seeds have no value, so no IQM)"
    if b is None:
        return f" with IQM {fmt(a)}{unit}, ahead of {second}, which has no value on more than a quarter of its seeds"
    if a == b:
        return f" with IQM {fmt(a)}{unit}, level with {second}"
    return f" with IQM {fmt(a)}{unit}, ahead of {second} ({fmt(b)}{unit}) by {fmt(abs(a - b), 2)}{unit}"


def separation(v: Verdict) -> str:
    """Whether the paired tests separate the leader from each other contender."""
    tests = f"Holm-corrected paired tests over {seeds_of(v.comparisons)}"
    if v.winner is not None:
        return f"Significant against every other contender ({tests}, largest p={fmt(max(c.p_holm for c in v.comparisons), 2)})"
    apart = [c.other for c in v.comparisons if c.other not in v.tied and c.other not in v.ahead]
    said = []
    if v.tied:
        said.append(f"Not significant: tied with {names(v.tied)}")
    if apart:
        said.append(f"{'separated' if said else 'Separated'} from {names(apart)}")
    if v.ahead:
        rank = f"{names(v.ahead)} {'rank' if len(v.ahead) > 1 else 'ranks'} above {v.best}"
        said.append(f"yet {rank} on paired seeds" if said else f"On paired seeds, {rank}")
    return ", ".join(said) + f" ({tests}, alpha {fmt(v.alpha)})"


def seeds_of(comparisons: Sequence[Comparison]) -> str:
    """The seeds the paired tests ran on, said once.

    >>> from tunebench.report.significance import PairedTest
    >>> seeds_of([Comparison("b", PairedTest(1, 1.0, 1.0, "x"), 1.0)])
    '1 seed'
    """
    ns = sorted({c.test.n for c in comparisons})
    if len(ns) == 1:
        return f"{ns[0]} seed{'s' if ns[0] != 1 else ''}"
    return f"{ns[0]} to {ns[-1]} seeds"


def seeds_clause(n: SeedsNeeded, unit: str) -> str:
    """How many seeds the leader's paired lead over the runner-up would need."""
    if n.seeds is None:
        return f"The paired differences of {n.a} and {n.b} average zero: more seeds would not separate them"
    return (
        f"A lead like {n.a}'s over {n.b} (mean {fmt(n.mean, 2)}{unit}, sd {fmt(n.sd, 2)}{unit} over {n.n_pairs} "
        f"paired seeds) would need about {n.seeds} seeds for {POWER:.0%} power"
    )


def names(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def p_values(v: Verdict) -> str:
    """The Holm-corrected p against each other contender, with the test and seeds said once
    when every comparison shares them."""

    def how(c: Comparison) -> str:
        n = f"{c.test.n} paired seed{'s' if c.test.n != 1 else ''}"
        return f"no paired seed of {c.test.n} differs" if c.test.method == NO_DIFFERENCE else f"{c.test.method} over {n}"

    ways = {how(c) for c in v.comparisons}
    if len(ways) == 1:
        return f"{ways.pop()}: " + ", ".join(f"p={fmt(c.p_holm, 2)} against {c.other}" for c in v.comparisons)
    return "; ".join(f"p={fmt(c.p_holm, 2)} against {c.other}, {how(c)}" for c in v.comparisons)


def evidence(judged: Judgement) -> tuple[str, ...]:
    """What the verdict on a workload rests on: each test's Holm-corrected p-value, and how the
    seeds needed were counted."""
    tests = [
        f"by {v.criterion}, {v.best} against each: {p_values(v)}"
        for v in (judged.score, judged.time)
        if v is not None and len(v.order) > 1
    ]
    out = (
        [
            f"Paired tests behind the verdict (two-sided, Holm-corrected over the comparisons with the leader, alpha "
            f"{fmt(ALPHA)}): " + "; ".join(tests) + "."
        ]
        if tests
        else []
    )
    if any(n is not None and n.seeds is not None for n in (judged.needed, judged.time_needed)):
        out.append(
            f"Seeds needed: the paired t test's count at {POWER:.0%} power and alpha {fmt(ALPHA)} from the "
            "noncentral t, over the signed-rank test's efficiency 3/pi, from the observed paired differences."
        )
    return tuple(out)
