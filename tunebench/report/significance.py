"""When a contender may be called best: paired tests over seeds, Holm's correction, a verdict
per workload, Friedman and the Nemenyi critical difference across workloads (Demšar 2006),
the seeds a close call would need, and performance profiles (Agarwal et al., NeurIPS 2021).

Scores go through :func:`tunebench.scores.rank_key` first (larger is better, a score that is
not a finite number is ``-inf``), so everything here holds for ``mode="min"`` and ranks a
diverged run worst. The tests use only the signs and the ranks of the paired differences, so
a pair where one side is ``-inf`` (a diverged run, or a target never reached) counts as a loss
for that side larger than any observed difference, and a pair where both are counts as a tie:
no number is invented for the missing score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from tunebench.report.stats import normalized_regret, ranks
from tunebench.scores import rank_key

ALPHA = 0.05
POWER = 0.8
EXACT_UP_TO = 13  # up to 2**13 sign patterns enumerated, scipy's wilcoxon's own limit with ties
NO_DIFFERENCE = "no difference"  # the method named when every paired difference is zero
Scores = Mapping[int, "float | None"]  # seed -> score


@dataclass(frozen=True)
class PairedTest:
    """A two-sided paired test of ``a`` against ``b`` over the ``n`` seeds both have; the
    ``statistic``, the sum of signed ranks of ``a - b``, is positive when ``a`` ranks above."""

    n: int
    statistic: float
    p: float
    method: str


def differences(a: Scores, b: Scores, mode: str) -> np.ndarray:
    """``a - b`` in rank keys over the shared seeds, in seed order; both ``-inf`` is a tie (0).

    >>> differences({0: 0.9, 1: float("nan"), 2: 0.5}, {0: 0.8, 1: 0.7, 3: 0.1}, "max").round(6).tolist()
    [0.1, -inf]
    >>> differences({0: None}, {0: float("nan")}, "min").tolist()
    [0.0]
    """
    seeds = sorted(set(a) & set(b))
    ka = np.array([rank_key(a[s], mode) for s in seeds], dtype=float)
    kb = np.array([rank_key(b[s], mode) for s in seeds], dtype=float)
    with np.errstate(invalid="ignore"):
        d = ka - kb
    return np.where(np.isnan(d), 0.0, d)


def paired_test(a: Scores, b: Scores, mode: str) -> PairedTest:
    """Wilcoxon's signed-rank test of ``a`` against ``b``, zero differences dropped. Up to
    :data:`EXACT_UP_TO` nonzero differences the p-value is an exact permutation test of the
    same statistic (``scipy.stats.permutation_test``, swapping within each pair: exact with
    ties, where scipy's exact Wilcoxon is not); above, ``scipy.stats.wilcoxon``. No nonzero
    difference: p = 1.

    >>> paired_test({i: float(v) for i, v in enumerate([1, 2, 3, 4])}, {i: 0.0 for i in range(4)}, "max")
    PairedTest(n=4, statistic=10.0, p=0.125, method='exact permutation')
    >>> paired_test({0: 0.5, 1: 0.6}, {0: 0.5, 1: 0.6}, "min").p
    1.0
    """
    every = differences(a, b, mode)
    d, n = every[every != 0], int(every.size)
    if d.size == 0:
        return PairedTest(n, 0.0, 1.0, NO_DIFFERENCE)
    signed = np.sign(d) * st.rankdata(np.abs(d))
    if d.size == 1:  # two sign patterns, each as extreme as the other
        return PairedTest(n, float(signed.sum()), 1.0, "exact permutation")
    if d.size <= EXACT_UP_TO:  # swapping a pair (signed rank, 0) flips its sign; the sum is the statistic
        p = st.permutation_test(
            (signed, np.zeros_like(signed)),
            lambda x, y, axis=-1: np.sum(x - y, axis=axis),
            permutation_type="samples",
            vectorized=True,
            n_resamples=np.inf,
        ).pvalue
        return PairedTest(n, float(signed.sum()), float(min(p, 1.0)), "exact permutation")
    return PairedTest(n, float(signed.sum()), float(st.wilcoxon(signed).pvalue), "Wilcoxon signed-rank")


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: the i-th smallest p is multiplied
    by (m - i + 1), kept monotone, capped at 1. Reject where the adjusted p < alpha.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    >>> holm([1.6e-19, 0.44])
    [3.2e-19, 0.44]
    """
    m, out, running = len(pvalues), [0.0] * len(pvalues), 0.0
    for i, j in enumerate(sorted(range(m), key=lambda j: pvalues[j])):
        out[j] = running = float(f"{max(running, min(1.0, (m - i) * pvalues[j])):.12g}")  # 12 significant digits, not decimals
    return out


def iqm_key(scores: Sequence[float | None], mode: str) -> float:
    """Interquartile mean of the rank keys (a non-finite score is ``-inf``: trimmed if it is in
    the worst quarter, else it drags the mean to ``-inf``).

    >>> iqm_key([0.2, 0.1, 0.3, 0.4], "min"), iqm_key([float("nan"), 0.5, 0.6, 0.7], "max")
    (-0.25, 0.55)
    """
    keys = np.array([rank_key(s, mode) for s in scores], dtype=float)
    return float(st.trim_mean(keys, 0.25)) if keys.size else float("-inf")


def standing(scores: Mapping[str, Scores], mode: str) -> list[str]:
    """Contenders best first: by :func:`iqm_key` over seeds, ties by mean rank over the seeds
    (among the contenders that ran each), then in the order given.

    >>> standing({"a": {0: 0.5, 1: 0.7}, "b": {0: 0.9, 1: 0.8}, "c": {0: 0.9, 1: 0.8}}, "max")
    ['b', 'c', 'a']
    """
    names = list(scores)
    mean_rank = {n: [] for n in names}  # type: dict[str, list[float]]
    for seed in sorted({s for v in scores.values() for s in v}):
        here = [n for n in names if seed in scores[n]]
        for n, r in zip(here, ranks([scores[n][seed] for n in here], mode)):
            mean_rank[n].append(float(r))
    key = {
        n: (-iqm_key(list(scores[n].values()), mode), float(np.mean(mean_rank[n] or [math.inf])), i) for i, n in enumerate(names)
    }
    return sorted(names, key=key.__getitem__)


@dataclass(frozen=True)
class Comparison:
    """The candidate best against one other contender."""

    other: str
    test: PairedTest
    p_holm: float


@dataclass(frozen=True)
class Verdict:
    """Who is best on one workload by one criterion, or who the best is tied with."""

    criterion: str
    order: tuple[str, ...]  # best first, by :func:`standing`
    winner: str | None
    tied: tuple[str, ...]  # not separated from the candidate best
    ahead: tuple[str, ...]  # separated from it, in their own favour
    comparisons: tuple[Comparison, ...]
    alpha: float = ALPHA

    @property
    def best(self) -> str | None:
        return self.order[0] if self.order else None


def verdict(scores: Mapping[str, Scores], mode: str, criterion: str, alpha: float = ALPHA) -> Verdict:
    """The candidate best (:func:`standing`) is the winner only if the Holm-corrected paired
    test separates it, in its favour, from every other contender; a lone contender wins nothing.

    >>> same = {i: 0.8 + 0.01 * i for i in range(10)}
    >>> verdict({"a": same, "b": dict(same)}, "max", "score").tied
    ('b',)
    >>> verdict({"a": {i: v + 0.05 for i, v in same.items()}, "b": same}, "max", "score").winner
    'a'
    """
    order = tuple(standing(scores, mode))
    if len(order) < 2:
        return Verdict(criterion, order, None, (), (), (), alpha)
    best, others = order[0], order[1:]
    tests = [paired_test(scores[best], scores[o], mode) for o in others]
    adjusted = holm([t.p for t in tests])
    comps = tuple(Comparison(o, t, p) for o, t, p in zip(others, tests, adjusted))
    tied = tuple(c.other for c in comps if c.p_holm >= alpha)
    ahead = tuple(c.other for c in comps if c.p_holm < alpha and c.test.statistic < 0)
    winner = best if not tied and not ahead else None
    return Verdict(criterion, order, winner, tied, ahead, comps, alpha)


@dataclass(frozen=True)
class SeedsNeeded:
    """How many seeds the observed paired difference of the top two would need."""

    a: str
    b: str
    mean: float
    sd: float
    n_pairs: int
    seeds: int | None  # None: the differences average zero


def t_test_seeds(effect: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """Seeds for a two-sided paired t test to reach ``power`` at standardized effect
    ``effect`` (mean / sd of the differences), from the noncentral t (``scipy.stats.nct``).

    >>> t_test_seeds(1.0), t_test_seeds(0.5)
    (10, 34)
    """

    def reached(n: int) -> bool:
        t = float(st.t.ppf(1 - alpha / 2, n - 1))
        nc = abs(effect) * math.sqrt(n)
        got = float(st.nct.sf(t, n - 1, nc) + st.nct.cdf(-t, n - 1, nc))
        return got >= power if math.isfinite(got) else nc > t  # far in the tail nct gives NaN

    lo, hi = 2, 2
    while not reached(hi) and hi < 2**40:
        lo, hi = hi + 1, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reached(mid) else (mid + 1, hi)
    return hi


def seeds_needed(a: str, b: str, diffs: Sequence[float], alpha: float = ALPHA, power: float = POWER) -> SeedsNeeded | None:
    """Seeds a difference like the finite paired ``diffs`` would need for ``power`` with the
    signed-rank test: the paired t test's count (:func:`t_test_seeds`) over the signed-rank
    test's asymptotic relative efficiency 3/pi for normal differences, and at least the
    fewest seeds at which the exact test can reach ``alpha`` at all (2 ** (1 - n) <= alpha).
    ``None`` with fewer than two finite differences.

    >>> seeds_needed("a", "b", [0.0, 2.0]).seeds  # mean 1, sd sqrt(2): t needs 18, 18 * pi / 3 -> 19
    19
    >>> seeds_needed("a", "b", [0.04, 0.04]).seeds, seeds_needed("a", "b", [0.1, -0.1]).seeds
    (6, None)
    """
    d = np.array([x for x in diffs if math.isfinite(x)], dtype=float)
    if d.size < 2:
        return None
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    sd = 0.0 if sd <= 1e-9 * abs(mean) else sd  # equal differences up to rounding
    if mean == 0:
        return SeedsNeeded(a, b, mean, sd, int(d.size), None)
    n_t = 2 if sd == 0 else t_test_seeds(mean / sd, alpha, power)
    return SeedsNeeded(a, b, mean, sd, int(d.size), max(math.ceil(n_t * math.pi / 3), math.ceil(1 - math.log2(alpha))))


@dataclass(frozen=True)
class Ranking:
    """Average ranks across workloads (a block is a workload, a contender's score there its
    IQM over seeds), Friedman's test over them and the Nemenyi critical difference."""

    names: tuple[str, ...]  # by average rank, best first
    average_rank: tuple[float, ...]
    n_blocks: int
    statistic: float | None
    p: float | None
    cd: float | None
    groups: tuple[tuple[str, ...], ...]  # contenders whose average ranks differ by less than the CD
    why_not: str  # why there is no Friedman test ("" when there is)
    left_out: tuple[str, ...] = ()  # contenders without a finished cell on every workload
    alpha: float = ALPHA


def critical_difference(k: int, n_blocks: int, alpha: float = ALPHA) -> float:
    """Nemenyi's CD = q_alpha * sqrt(k (k + 1) / (6 N)), q_alpha the studentized range
    quantile over sqrt(2) (Demšar 2006, table 5a: 2.343 for k = 3).

    >>> round(critical_difference(3, 4), 4)  # 2.3437 * sqrt(12 / 24)
    1.6572
    """
    q = float(st.studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    return q * math.sqrt(k * (k + 1) / (6 * n_blocks))


def cd_groups(names: Sequence[str], avg: Sequence[float], cd: float) -> tuple[tuple[str, ...], ...]:
    """Maximal runs of contenders (sorted by average rank) whose ranks span less than ``cd``;
    a contender alone is no group.

    >>> cd_groups(["a", "b", "c", "d"], [1.0, 1.5, 2.5, 3.5], 1.6)
    (('a', 'b', 'c'), ('c', 'd'))
    """
    out: list[tuple[str, ...]] = []
    for i in range(len(names)):
        j = max(j for j in range(i, len(names)) if avg[j] - avg[i] < cd)
        if j > i and not (out and names[j] in out[-1]):
            out.append(tuple(names[i : j + 1]))
    return tuple(out)


def ranking(blocks: Mapping[str, Mapping[str, float]], alpha: float = ALPHA) -> Ranking:
    """``blocks``: workload -> contender -> a score where larger is better (``-inf`` worst).
    Only contenders in every block are ranked; Friedman needs three of them and two blocks.

    >>> r = ranking({"w1": {"a": 3, "b": 2, "c": 1}, "w2": {"a": 3, "b": 1, "c": 2},
    ...              "w3": {"a": 2, "b": 3, "c": 1}, "w4": {"a": 3, "b": 2, "c": 1}})
    >>> r.names, r.average_rank, round(r.statistic, 6), round(r.p, 4)
    (('a', 'b', 'c'), (1.25, 2.0, 2.75), 4.5, 0.1054)
    """
    seen = list(dict.fromkeys(n for b in blocks.values() for n in b))
    names = [n for n in seen if all(n in b for b in blocks.values())]
    table = np.array([ranks([b[n] for n in names], "max") for b in blocks.values()]).reshape(len(blocks), len(names))
    avg = table.mean(axis=0) if len(blocks) else np.zeros(len(names))
    order = sorted(range(len(names)), key=lambda i: (avg[i], i))
    sorted_names, sorted_avg = tuple(names[i] for i in order), tuple(round(float(avg[i]), 12) for i in order)
    left_out = tuple(n for n in seen if n not in names)
    k, n = len(names), len(blocks)
    few = f"{k} contender{'s' if k != 1 else ''} ran on every workload; the Friedman test needs at least 3"
    why = "no finished cell" if n == 0 else "one workload: no ranking across workloads" if n == 1 else few if k < 3 else ""
    if why:
        return Ranking(sorted_names, sorted_avg, n, None, None, None, (), why, left_out, alpha)
    if np.all(table == table[:, :1]):
        stat, p = 0.0, 1.0
    else:
        res = st.friedmanchisquare(*[[b[m] for b in blocks.values()] for m in names])
        stat, p = float(res.statistic), float(res.pvalue)
    cd = critical_difference(k, n, alpha)
    return Ranking(sorted_names, sorted_avg, n, stat, p, cd, cd_groups(sorted_names, sorted_avg, cd), "", left_out, alpha)


@dataclass(frozen=True)
class Profile:
    """The fraction of runs scoring at least ``tau``, with a bootstrap band over seeds."""

    tau: np.ndarray
    fraction: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_runs: int


def normalized_scores(finals: Sequence[float | None], best: float, worst: float, mode: str) -> np.ndarray:
    """1 - normalized regret of each final score (:func:`~tunebench.report.stats.normalized_regret`):
    1 is the best any contender reached on the workload, 0 the worst; no score is 0.

    >>> normalized_scores([0.9, 0.7, None], best=0.9, worst=0.5, mode="max").round(6).tolist()
    [1.0, 0.5, 0.0]
    """
    return 1.0 - normalized_regret([np.nan if v is None else v for v in finals], best, worst, mode)


def performance_profile(
    runs: Mapping[str, Sequence[float]], seed: int = 0, n_resamples: int = 2000, confidence: float = 0.95
) -> Profile:
    """``runs``: workload -> one contender's normalized scores over seeds. The profile at tau
    is the fraction of seeds scoring >= tau, averaged over workloads (rliable's weighting:
    each workload counts once, so it is the fraction of runs when every workload has the same
    seeds); the band resamples seeds within each workload with a seeded numpy Generator.

    >>> p = performance_profile({"w": [0.2, 0.6, 1.0, 1.0]})
    >>> p.fraction[[0, 20, 30, 100]].tolist(), p.n_runs
    ([1.0, 1.0, 0.75, 0.5], 4)
    >>> bool(np.all(p.low <= p.fraction) and np.all(p.fraction <= p.high))
    True
    """
    tau = np.arange(101) / 100
    rng = np.random.default_rng(seed)
    point, boot = np.zeros_like(tau), np.zeros((n_resamples, tau.size))
    for x in (np.asarray(v, dtype=float) for v in runs.values()):
        point += (x[:, None] >= tau).mean(axis=0)
        sample = x[rng.integers(0, x.size, size=(n_resamples, x.size))]
        boot += (sample[:, :, None] >= tau).mean(axis=1)
    m = max(len(runs), 1)
    edge = 100 * (1 - confidence) / 2
    low, high = np.percentile(boot / m, [edge, 100 - edge], axis=0)
    return Profile(tau, point / m, low, high, sum(len(v) for v in runs.values()))
