"""The field's claims, each tested on a matrix's cells: the record a matrix's ``claims:`` entry
becomes, and the arithmetic that turns per-block measurements into a verdict.

A claim names contenders by their labels and a measure. A *block* is where two of them ran
under the same conditions: a workload (a suite's task), executor, worker count and seed. In each
block the claim's measure gives a paired difference ``d``, positive where the first contender
did better:

- ``final``: the other's final normalized regret minus its own (regret 0 is the best score any
  run of the workload saw, 1 the worst: comparable across tasks);
- ``anytime``: the same for the mean normalized regret over the run, on a linear time grid from
  0 to the later end of the two runs (the area under the regret curve over its length);
- ``time_to_target``: ``log(t_other / t_own)``, the times to the score both runs reached (the
  worse of their final bests), as the report's speedup over random search counts them.

Each kind of claim turns ``d`` into the contrasts it tests (Wilcoxon signed-rank, exact
permutation for few blocks, :func:`tunebench.report.significance.paired_test`); Holm's correction
runs over every test of one matrix's claims (:func:`judge`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunebench.report.curves import GRID_POINTS, Curve, on_grid
from tunebench.report.document import fmt
from tunebench.report.significance import ALPHA, holm, paired_test, seeds_needed
from tunebench.report.stats import normalized_regret, speedup

KINDS = ("better", "not_better", "alike", "saturates")
MEASURES = {
    "final": "final normalized regret",
    "anytime": "mean normalized regret over the run",
    "time_to_target": "time to the score both runs reached",
}
GROWS_WITH = ("workers",)


@dataclass(frozen=True)
class Claim:
    """One claim: ``a`` better than ``b`` (``by`` times, for a time ratio; growing with ``grows_with``),
    ``a`` not better than ``b`` (by more than ``margin``), ``a`` and ``b`` alike (within ``margin``),
    or ``a``'s speedup from ``workers[0]`` to ``workers[1]`` workers at most ``at_most``.
    ``workers`` otherwise restricts the blocks to those counts (empty: every count)."""

    kind: str
    a: str
    b: str | None
    measure: str
    source: str
    claim: str = ""
    by: float | None = None
    margin: float | None = None
    grows_with: str | None = None
    workers: tuple[int, ...] = ()
    at_most: float | None = None

    def as_json(self) -> dict[str, Any]:
        """The claim as a matrix's ``claims:`` entry states it, every default filled in.

        >>> Claim("alike", "a", "b", "final", "S", margin=0.02).as_json()
        {'alike': ['a', 'b'], 'measure': 'final', 'source': 'S', 'margin': 0.02}
        """
        heads: dict[str, dict[str, Any]] = {
            "better": {"better": self.a, "than": self.b},
            "not_better": {"not_better": self.a, "than": self.b},
            "alike": {"alike": [self.a, self.b]},
            "saturates": {"saturates": self.a, "between": list(self.workers)},
        }
        head = heads[self.kind]
        rest: dict[str, Any] = {"by": self.by, "margin": self.margin, "grows_with": self.grows_with, "at_most": self.at_most}
        if self.kind != "saturates" and self.workers:
            rest["workers"] = list(self.workers)
        said = {"claim": self.claim} if self.claim else {}
        return {
            **head,
            "measure": self.measure,
            "source": self.source,
            **said,
            **{k: v for k, v in rest.items() if v is not None},
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Claim:
        """The claim of an entry :meth:`as_json` wrote (``matrix.json`` keeps them so).

        >>> c = Claim("saturates", "asha", None, "time_to_target", "S", workers=(16, 24), at_most=1.5)
        >>> Claim.from_json(c.as_json()) == c
        True
        """
        kind = next(k for k in KINDS if k in raw)
        a, b = (raw["alike"][0], raw["alike"][1]) if kind == "alike" else (raw[kind], raw.get("than"))
        counts = raw.get("between") if kind == "saturates" else raw.get("workers")
        return cls(
            kind,
            str(a),
            None if b is None else str(b),
            str(raw["measure"]),
            str(raw["source"]),
            str(raw.get("claim") or ""),
            None if raw.get("by") is None else float(raw["by"]),
            None if raw.get("margin") is None else float(raw["margin"]),
            raw.get("grows_with"),
            tuple(int(k) for k in counts or ()),
            None if raw.get("at_most") is None else float(raw["at_most"]),
        )

    @property
    def stated(self) -> str:
        """The claim in the matrix's words.

        >>> Claim("better", "hyperband", "random", "time_to_target", "S", by=3.0).stated
        'better: hyperband, than: random, measure: time_to_target, by: 3'
        >>> Claim("alike", "a", "b", "anytime", "S", margin=0.02).stated
        'alike: [a, b], measure: anytime, margin: 0.02'
        """
        return ", ".join(f"{k}: {said(v)}" for k, v in self.as_json().items() if k not in ("source", "claim"))


def said(value: Any) -> str:
    """A claim's value as the matrix writes it.

    >>> said([16, 24]), said(3.0), said("asha")
    ('[16, 24]', '3', 'asha')
    """
    if isinstance(value, list):
        return "[" + ", ".join(said(v) for v in value) + "]"
    return fmt(value) if isinstance(value, float) else str(value)


def final_regret(score: float | None, bounds: tuple[float, float], mode: str) -> float:
    """A final score's normalized regret on its workload (no score: 1).

    >>> round(final_regret(0.8, (0.9, 0.5), "max"), 6), final_regret(None, (0.9, 0.5), "max")
    (0.25, 1.0)
    """
    return float(normalized_regret([math.nan if score is None else score], *bounds, mode)[0])


def anytime_regret(curve: Curve, end: float, bounds: tuple[float, float], mode: str) -> float:
    """The mean normalized regret of a best-so-far curve on a linear grid from 0 to ``end``.

    >>> anytime_regret(Curve(np.array([2.0]), np.array([0.9])), 4.0, (0.9, 0.5), "max") > 0.4
    True
    """
    grid = np.linspace(0.0, end, GRID_POINTS)
    return float(np.mean(normalized_regret(on_grid(curve, grid).tolist(), *bounds, mode)))


def paired_difference(
    measure: str, a: tuple[Curve, float | None], b: tuple[Curve, float | None], bounds: Any, mode: str
) -> float | None:
    """``d`` of one block: how much better ``a`` did than ``b`` by ``measure``, each given as its
    best-so-far time curve and final score; ``None`` when the block has no value.

    >>> fast, slow = Curve(np.array([1.0, 2.0]), np.array([0.5, 0.9])), Curve(np.array([4.0, 8.0]), np.array([0.5, 0.9]))
    >>> round(paired_difference("time_to_target", (fast, 0.9), (slow, 0.9), (0.9, 0.5), "max"), 4)  # log 4
    1.3863
    >>> round(paired_difference("final", (fast, 0.9), (slow, 0.7), (0.9, 0.5), "max"), 6)
    0.5
    """
    (ca, fa), (cb, fb) = a, b
    if measure == "final":
        return final_regret(fb, bounds, mode) - final_regret(fa, bounds, mode)
    if measure == "anytime":
        end = max(ca.end, cb.end)
        return anytime_regret(cb, end, bounds, mode) - anytime_regret(ca, end, bounds, mode) if end > 0 else None
    ratio = speedup(cb.x.tolist(), cb.y.tolist(), ca.x.tolist(), ca.y.tolist(), mode)
    return None if ratio is None or ratio <= 0 else math.log(ratio)


def two_sided(x: Sequence[float] | np.ndarray) -> tuple[float, float, str]:
    """The paired test of the contrasts ``x`` against 0: two-sided p, signed-rank statistic (positive:
    ``x`` above 0), method.

    >>> two_sided([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    (0.03125, 21.0, 'exact permutation')
    """
    t = paired_test(dict(enumerate(map(float, x))), {i: 0.0 for i in range(len(x))}, "max")
    return t.p, t.statistic, t.method


def one_sided(x: Sequence[float] | np.ndarray) -> float:
    """p of the test that ``x`` lies above 0, from the two-sided one (its null is symmetric).

    >>> one_sided([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), one_sided([-0.1, -0.2])
    (0.015625, 0.75)
    """
    p, statistic, _ = two_sided(x)
    return p / 2 if statistic > 0 else 1 - p / 2 if statistic < 0 else 0.5


def margin_of(claim: Claim) -> float:
    """The margin in the units of ``d`` (a time ratio's on a log scale); 0 when none is given."""
    m = claim.margin or 0.0
    return math.log(m) if claim.measure == "time_to_target" and m > 0 else m


def contrasts(claim: Claim, d: Sequence[float]) -> list[np.ndarray]:
    """The contrasts a claim tests, each positive where the claim holds: one for a difference,
    a ratio or a speedup, two for ``alike`` (within ``margin`` from below and from above: TOST).

    >>> [c.tolist() for c in contrasts(Claim("not_better", "a", "b", "final", "S", margin=0.1), [0.05, 0.2])]
    [[0.05, -0.1]]
    """
    x, m = np.asarray(d, dtype=float), margin_of(claim)
    if claim.kind == "better":
        return [x - (math.log(claim.by) if claim.by else 0.0)]
    if claim.kind == "not_better":
        return [m - x]
    if claim.kind == "alike":
        return [x + m, m - x]
    return [math.log(claim.at_most or claim.workers[1] / claim.workers[0]) - x]


def pvalues(claim: Claim, d: Sequence[float]) -> tuple[tuple[float, ...], float, str]:
    """The p-values a claim puts into Holm's correction, the statistic and the method: a
    two-sided test of its contrast, or for ``alike`` the TOST p (the larger one-sided p) and the
    p that the difference lies beyond the margin on either side (twice the smaller one-sided p).

    >>> pvalues(Claim("alike", "a", "b", "final", "S", margin=0.5), [0.1, -0.1, 0.0, 0.05, -0.05, 0.1])[0]
    (0.015625, 1.0)
    """
    parts = contrasts(claim, d)
    if claim.kind != "alike":
        p, statistic, method = two_sided(parts[0])
        return (p,), statistic, method
    tost = max(one_sided(c) for c in parts)
    beyond = min(1.0, 2 * min(one_sided(-c) for c in parts))
    _, statistic, method = two_sided(d)
    return (tost, beyond), statistic, method


@dataclass(frozen=True)
class Measured:
    """A claim's paired differences ``d``, one per block, over ``seeds`` seeds of ``groups`` blocks
    each (what a group is: ``unit``); ``why`` says why there is none."""

    d: tuple[float, ...]
    seeds: int
    groups: int
    unit: str = "(task, seed)"
    why: str = ""


@dataclass(frozen=True)
class Outcome:
    """A claim's verdict and the numbers behind it."""

    claim: Claim
    measured: Measured
    p: tuple[float, ...]
    p_holm: tuple[float, ...]
    statistic: float
    method: str
    verdict: str
    seeds_needed: int | None = None


def verdict_word(claim: Claim, p_holm: Sequence[float], statistic: float, seeds: int, alpha: float = ALPHA) -> str:
    """``supported``, ``refuted`` or ``not separable at N seeds``.

    >>> c = Claim("better", "a", "b", "final", "S")
    >>> verdict_word(c, [0.01], 5.0, 8), verdict_word(c, [0.01], -5.0, 8), verdict_word(c, [0.2], 5.0, 8)
    ('supported', 'refuted', 'not separable at 8 seeds')
    """
    if claim.kind == "alike":
        supported, refuted = p_holm[0] < alpha, p_holm[1] < alpha
    else:
        supported, refuted = p_holm[0] < alpha and statistic > 0, p_holm[0] < alpha and statistic < 0
    return "supported" if supported else "refuted" if refuted else f"not separable at {seeds} seed{'s' if seeds != 1 else ''}"


def needed(claim: Claim, m: Measured) -> int | None:
    """Seeds a difference of the observed size would need (:func:`seeds_needed`, blocks divided by
    the blocks per seed): for ``alike``, on the side of the margin the data points to."""
    parts = contrasts(claim, m.d)
    side = min(parts, key=lambda c: float(np.mean(c)))  # alike: the side of the margin nearer the mean difference
    inside = claim.kind != "alike" or abs(float(np.mean(m.d))) < margin_of(claim)
    n = seeds_needed("a", "b", (side if inside else -side).tolist())
    return None if n is None or n.seeds is None else math.ceil(n.seeds / max(m.groups, 1))


def judge(claims: Sequence[Claim], measured: Sequence[Measured], alpha: float = ALPHA) -> list[Outcome]:
    """Each claim's outcome, Holm-corrected over every p-value of the claims that have blocks (a
    claim without any has no verdict).

    >>> up = Measured(tuple(0.1 + 0.01 * i for i in range(10)), 10, 1)
    >>> [o.verdict for o in judge([Claim("better", "a", "b", "final", "S"), Claim("not_better", "a", "b", "final", "S")], [up, up])]
    ['supported', 'refuted']
    """
    tested = {i: pvalues(c, m.d) for i, (c, m) in enumerate(zip(claims, measured)) if m.d}
    flat = holm([p for ps, _, _ in tested.values() for p in ps])
    out: list[Outcome] = []
    for i, (c, m) in enumerate(zip(claims, measured)):
        if i not in tested:
            out.append(Outcome(c, m, (), (), 0.0, "", f"no verdict: {m.why or 'no block where both ran'}"))
            continue
        ps, statistic, method = tested[i]
        adjusted, flat = tuple(flat[: len(ps)]), flat[len(ps) :]
        word = verdict_word(c, adjusted, statistic, m.seeds, alpha)
        out.append(Outcome(c, m, ps, adjusted, statistic, method, word, needed(c, m) if word.startswith("not") else None))
    return out
