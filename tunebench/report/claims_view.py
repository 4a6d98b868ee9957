"""The report's "Claims" section: each claim a matrix lists (``claims:``, validated by
:mod:`tunebench.compare.claims`) measured on its finished cells block by block and judged by
:mod:`tunebench.report.claims`, with a line in the verdict: the effect in words, the p-values raw and Holm-corrected, the
blocks, the source.

A block is a workload (a suite's task), executor, worker count and seed where the claim's
contenders both finished; a claim that names no worker counts pools every count of the matrix.
``grows_with: workers`` pairs, per workload, executor and seed, the difference at the largest
count with the one at the smallest; ``saturates`` pairs one contender's runs at its two counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from tunebench.report.analysis import WorkloadView, bounds_of
from tunebench.report.claims import MEASURES, Claim, Measured, Outcome, judge, paired_difference
from tunebench.report.curves import Curve
from tunebench.report.document import Items, Section, fmt
from tunebench.report.significance import ALPHA, NO_DIFFERENCE, POWER
from tunebench.report.stats import speedup
from tunebench.store.comparison import Matrix

TITLE = "Claims"
Block = tuple[str, str, int, int]  # workload, executor, workers, seed


@dataclass(frozen=True)
class Claimed:
    """The Claims section and its verdict lines (for the report's verdict)."""

    sections: tuple[Section, ...] = ()
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ran:
    """What a claim reads of one finished cell: its best-so-far curve over time, its final best
    score, and its workload's regret bounds and mode."""

    curve: Curve
    final: float | None
    bounds: tuple[float, float]
    mode: str

    @property
    def curve_lists(self) -> tuple[list[float], list[float]]:
        return self.curve.x.tolist(), self.curve.y.tolist()


def base_label(label: str, workers: int, axis: bool) -> str:
    """A cell's contender label without the worker count a workers axis adds to it.

    >>> base_label("asha/16w", 16, True), base_label("asha/16w", 16, False), base_label("a/b", 4, True)
    ('asha', 'asha/16w', 'a/b')
    """
    suffix = f"/{workers}w"
    return label[: -len(suffix)] if axis and label.endswith(suffix) else label


def index(views: Sequence[WorkloadView], axis: bool) -> dict[str, dict[Block, Ran]]:
    """Contender label -> block -> its run there, over every workload with a finite score."""
    out: dict[str, dict[Block, Ran]] = {}
    for v in views:
        bounds = bounds_of(v.runs, v.mode)
        if bounds is None:
            continue
        for r in v.runs:
            key = (v.workload, r.cell.executor, int(r.cell.workers), r.seed)
            out.setdefault(base_label(r.cell.label, r.cell.workers, axis), {})[key] = Ran(
                r.by_time, r.get("best_score"), bounds, v.mode
            )
    return out


def paired(a: Mapping[Block, Ran], b: Mapping[Block, Ran]) -> dict[Block, tuple[Ran, Ran]]:
    """Block -> the two contenders' runs there. Two contenders that share no executor (a peer runs
    on its own engine) pair at the same workload, worker count and seed wherever one of them has a
    single run there, the block named by both executors.

    >>> r = Ran(Curve(np.array([1.0]), np.array([0.5])), 0.5, (1.0, 0.0), "max")
    >>> list(paired({("w", "dask", 2, 0): r}, {("w", "dask", 2, 0): r, ("w", "ray", 2, 0): r}))
    [('w', 'dask', 2, 0)]
    >>> list(paired({("w", "dask", 2, 0): r, ("w", "ray", 2, 0): r}, {("w", "optuna", 2, 0): r}))
    [('w', 'dask vs optuna', 2, 0), ('w', 'ray vs optuna', 2, 0)]
    """
    if {k[1] for k in a} & {k[1] for k in b}:
        return {k: (a[k], b[k]) for k in sorted(a.keys() & b.keys())}
    mine, theirs = by_cell(a), by_cell(b)
    out = {}
    for (w, k, s), ours in mine.items():
        other = theirs.get((w, k, s), [])
        if len(ours) == 1 or len(other) == 1:
            for ea, ra in ours:
                for eb, rb in other:
                    out[(w, f"{ea} vs {eb}", k, s)] = (ra, rb)
    return dict(sorted(out.items()))


def by_cell(runs: Mapping[Block, Ran]) -> dict[tuple[str, int, int], list[tuple[str, Ran]]]:
    """(workload, workers, seed) -> the (executor, run) pairs there."""
    out: dict[tuple[str, int, int], list[tuple[str, Ran]]] = {}
    for (w, e, k, s), r in sorted(runs.items()):
        out.setdefault((w, k, s), []).append((e, r))
    return out


def differences(claim: Claim, runs: Mapping[str, Mapping[Block, Ran]], counts: Sequence[int]) -> dict[Block, float]:
    """Block -> ``d`` of the claim's two contenders, at the claim's worker counts (else every count)."""
    keep = set(claim.workers or counts)
    out = {}
    for key, (ra, rb) in paired(runs.get(claim.a, {}), runs.get(str(claim.b), {})).items():
        if key[2] not in keep:
            continue
        d = paired_difference(claim.measure, (ra.curve, ra.final), (rb.curve, rb.final), ra.bounds, ra.mode)
        if d is not None and math.isfinite(d):
            out[key] = d
    return out


def growth(claim: Claim, runs: Mapping[str, Mapping[Block, Ran]], counts: Sequence[int]) -> dict[Block, float]:
    """Per workload, executor and seed: ``d`` at the largest worker count minus ``d`` at the smallest."""
    ks = claim.workers or tuple(counts)
    lo, hi = min(ks), max(ks)
    d = differences(replace(claim, workers=(lo, hi)), runs, counts)
    return {(w, e, k, s): x - d[(w, e, lo, s)] for (w, e, k, s), x in d.items() if k == hi and (w, e, lo, s) in d}


def speedups(claim: Claim, runs: Mapping[str, Mapping[Block, Ran]]) -> dict[Block, float]:
    """Per workload, executor and seed: the log of the contender's speedup from its fewer to its
    more workers, in time to the score both runs reached."""
    lo, hi = claim.workers
    mine = runs.get(claim.a, {})
    out = {}
    for (w, e, k, s), ran in sorted(mine.items()):
        more = mine.get((w, e, hi, s))
        ratio = speedup(*ran.curve_lists, *more.curve_lists, ran.mode) if k == lo and more else None
        if ratio is not None and ratio > 0:
            out[(w, e, hi, s)] = math.log(ratio)
    return out


def measured(claim: Claim, runs: Mapping[str, Mapping[Block, Ran]], counts: Sequence[int], task: str) -> Measured:
    """The claim's paired differences over its blocks, and how the blocks group by seed."""
    if claim.kind == "saturates":
        values = speedups(claim, runs)
    else:
        values = growth(claim, runs, counts) if claim.grows_with else differences(claim, runs, counts)
    keys = list(values)
    executors, workers = len({k[1] for k in keys}) > 1, len({k[2] for k in keys}) > 1
    unit = "(" + ", ".join([task, *(["executor"] if executors else []), *(["workers"] if workers else []), "seed"]) + ")"
    who = claim.a if claim.b is None else f"{claim.a} and {claim.b}"
    return Measured(
        tuple(values.values()),
        len({k[3] for k in keys}),
        len({k[:3] for k in keys}),
        unit,
        "" if keys else f"no {unit} block where {who} finished with a score (at the worker counts the claim needs)",
    )


def effect(claim: Claim, d: Sequence[float]) -> str:
    """The observed effect in words: a mean paired difference, or a geometric mean of time ratios.

    >>> effect(Claim("better", "hyperband", "random", "time_to_target", "S", by=3.0), [math.log(2), math.log(2)])
    'hyperband reached the score both runs reached 2x as fast as random (geometric mean over blocks; claimed: 3x or more)'
    >>> effect(Claim("better", "asha", "hyperband", "anytime", "S"), [0.05, 0.03])
    "asha's mean normalized regret over the run is lower than hyperband's by 0.04 (mean paired difference)"
    """
    mean = float(np.mean(d))
    a, b = claim.a, claim.b
    if claim.kind == "saturates":
        ideal = claim.workers[1] / claim.workers[0]
        limit = f"; counted as saturated below {fmt(claim.at_most)}x" if claim.at_most else ""
        return (
            f"{a}'s speedup from {claim.workers[0]} to {claim.workers[1]} workers in time to the score both runs reached: "
            f"{fmt(math.exp(mean), 3)}x (geometric mean over blocks; ideal {fmt(ideal, 3)}x{limit})"
        )
    if claim.grows_with:
        lo, hi = min(claim.workers), max(claim.workers)
        if claim.measure == "time_to_target":
            return f"{a}'s speedup over {b} at {hi} workers is {fmt(math.exp(mean), 3)}x its speedup at {lo} (geometric mean over blocks)"
        more = f"{'larger' if mean >= 0 else 'smaller'} by {fmt(abs(mean), 2)}"
        return f"{a}'s lead over {b} ({MEASURES[claim.measure]}) is {more} at {hi} workers than at {lo} (mean over blocks)"
    if claim.measure == "time_to_target":
        said = f"; claimed: {fmt(claim.by)}x or more" if claim.by else ""
        margin = f"; margin {fmt(claim.margin)}x" if claim.margin else ""
        return f"{a} reached the score both runs reached {fmt(math.exp(mean), 3)}x as fast as {b} (geometric mean over blocks{said}{margin})"
    word = "lower than" if mean > 0 else "higher than" if mean < 0 else "equal to"
    margin = f"; margin {fmt(claim.margin)}" if claim.margin else ""
    by = f" by {fmt(abs(mean), 2)}" if mean else ""
    return f"{a}'s {MEASURES[claim.measure]} is {word} {b}'s{by} (mean paired difference{margin})"


def numbers(o: Outcome) -> str:
    """The tests' p-values, raw and Holm-corrected, and the blocks they ran on."""
    m = o.measured
    blocks = f"{len(m.d)} {m.unit} blocks over {m.seeds} seed{'s' if m.seeds != 1 else ''}"
    if o.claim.kind == "alike":
        tests = f"TOST p={fmt(o.p[0], 2)} (Holm {fmt(o.p_holm[0], 2)}), beyond the margin p={fmt(o.p[1], 2)} (Holm {fmt(o.p_holm[1], 2)})"
    elif o.method == NO_DIFFERENCE:
        tests = f"every paired difference is zero: p={fmt(o.p[0], 2)} (Holm {fmt(o.p_holm[0], 2)})"
    else:
        tests = f"{o.method} p={fmt(o.p[0], 2)} (Holm {fmt(o.p_holm[0], 2)})"
    return f"{tests}; {blocks}"


def line(o: Outcome) -> str:
    """One claim's line: what it says, its verdict, the effect and the tests, its source."""
    c = o.claim
    more = ""
    if o.seeds_needed is not None:
        n = o.seeds_needed
        more = f" (a difference of this size would need about {n} seed{'s' if n != 1 else ''} for {POWER:.0%} power at alpha {fmt(ALPHA)} before Holm's correction)"
    elif o.verdict.startswith("not") and o.measured.d:
        more = " (the paired differences average zero: more seeds would not separate them)"
    text = f"{c.claim} " if c.claim else ""
    if not o.p:
        return f"{text}[{c.stated}]: {o.verdict}. Source: {c.source}."
    return f"{text}[{c.stated}]: {o.verdict}{more}. {effect(c, o.measured.d)}; {numbers(o)}. Source: {c.source}."


def verdict_line(o: Outcome) -> str:
    """The claim's line in the report's verdict.

    >>> from tunebench.report.claims import Claim, Measured, Outcome
    >>> o = Outcome(Claim("better", "a", "b", "final", "Li et al.", claim="A beats B"), Measured((0.1,), 1, 1), (0.01,), (0.02,), 1.0, "x", "supported")
    >>> verdict_line(o)
    'Claim: A beats B (Li et al.): supported (Holm p=0.02).'
    """
    said = o.claim.claim or o.claim.stated
    p = f" (Holm p={fmt(min(o.p_holm), 2)})" if o.p_holm else ""
    return f"Claim: {said} ({o.claim.source}): {o.verdict}{p}."


def claims_view(matrix: Matrix, views: Sequence[WorkloadView]) -> Claimed:
    """The Claims section of the matrix's claims; nothing without any."""
    given = matrix.raw.get("claims") or []
    if not given:
        return Claimed()
    claims = [Claim.from_json(c) for c in given]
    counts = matrix.workers or tuple(sorted({int(r.cell.workers) for v in views for r in v.runs}))
    runs = index(views, len(matrix.workers) > 1)
    task = "task" if matrix.raw.get("suite") else "workload"
    outcomes = judge(claims, [measured(c, runs, counts, task) for c in claims])
    n = sum(len(o.p) for o in outcomes)
    intro = (
        f"The field's claims this matrix tests. A block is a {task}, worker count and seed where the claim's contenders "
        f"both finished; per block the claim's measure gives a paired difference. Verdict: supported or refuted when a "
        f"paired test over the blocks (Wilcoxon signed-rank, exact permutation up to 13 blocks) says so at alpha "
        f"{fmt(ALPHA)} after Holm's correction over the {n} test{'s' if n != 1 else ''} of these claims; else not separable "
        "at this many seeds, with the seeds a difference of the observed size would need (the paired t test's count over "
        "the signed-rank test's efficiency 3/pi, divided by the blocks per seed)."
    )
    how = (
        f"Measures: final: {MEASURES['final']} (0: the best score any run of the {task} saw, 1: the worst); anytime: "
        f"{MEASURES['anytime']} (a linear grid from 0 to the later end of the two runs); time_to_target: "
        f"{MEASURES['time_to_target']} (the worse of their final bests), as a ratio on a log scale. by: a ratio claim, "
        "tested on the log time ratio against the log of by. alike: two one-sided tests (TOST) against the margin; "
        "refuted when a difference beyond the margin is significant. grows_with: workers: the difference at the most "
        "workers minus the one at the fewest, per block. saturates: the speedup from the first count to the second, "
        "tested against the ideal (their ratio) or at_most."
    )
    section = Section(TITLE, (intro, Items(tuple(line(o) for o in outcomes)), how))
    return Claimed((section,), tuple(verdict_line(o) for o in outcomes))
