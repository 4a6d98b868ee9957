"""Layout decisions for the report's figures, as pure functions: which series share a panel
(one per algorithm family, ours beside the peers of that family, random search in each as
the reference), how panels wrap, whether an axis is logarithmic and what it is called.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tunebench.report.curves import Band
from tunebench.report.palette import Style, styles
from tunebench.report.runs import CellRun
from tunebench.store.comparison import Contender

FAMILIES = ("random", "successive_halving", "hyperband", "asha", "pbt")  # panel order; others follow, "other" last
FAMILY_TITLES = {
    "random": "random search",
    "successive_halving": "successive halving",
    "hyperband": "Hyperband",
    "asha": "ASHA",
    "pbt": "PBT",
}
OTHER = "other"
ONE_PANEL_MAX = 6  # up to this many series share one panel
LOG_DECADES = 1.5  # a positive range wider than this many decades is drawn on a log axis


@dataclass(frozen=True)
class Group:
    """The series of one panel (one column of panels with several workloads): ``name`` is the
    family, "" when every series shares the panel; ``reference`` series are drawn in every
    group, in grey, whether they belong to it or not."""

    name: str
    members: tuple[str, ...]
    reference: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return FAMILY_TITLES.get(self.name, self.name.replace("_", " "))

    @property
    def drawn(self) -> tuple[str, ...]:
        """References first (underneath), then the members."""
        return (*self.reference, *(s for s in self.members if s not in self.reference))


def families_of(runs: Iterable[CellRun], contenders: Sequence[Contender]) -> dict[str, str]:
    """Series -> its contender's algorithm family, :data:`OTHER` when the matrix does not say."""
    algorithm = {c.label: c.algorithm for c in contenders}
    return {r.series: algorithm.get(r.cell.label) or OTHER for r in runs}


def family_order(names: Iterable[str]) -> list[str]:
    """Known families in :data:`FAMILIES` order, then the rest as they come, "other" last.

    >>> family_order(["pbt", "other", "bohb", "random", "hyperband"])
    ['random', 'hyperband', 'pbt', 'bohb', 'other']
    """
    seen = list(dict.fromkeys(names))
    rank = {f: i for i, f in enumerate(FAMILIES)}
    return sorted(seen, key=lambda f: (f == OTHER, rank.get(f, len(rank)), seen.index(f)))


def groups(
    order: Sequence[str], family: Mapping[str, str], reference: Sequence[str] = (), one_panel_max: int = ONE_PANEL_MAX
) -> list[Group]:
    """One group for a few series; else one per family, each with the reference series (a
    family of nothing but the reference adds no panel of its own).

    >>> fam = {"random": "random", "hb": "hyperband", "dask-hb": "hyperband", "pbt": "pbt", "sk-random": "random"}
    >>> [(g.name, g.drawn) for g in groups(list(fam), fam, ["random"], one_panel_max=3)]
    [('random', ('random', 'sk-random')), ('hyperband', ('random', 'hb', 'dask-hb')), ('pbt', ('random', 'pbt'))]
    >>> [g.name for g in groups(["random", "hb", "pbt"], fam, ["random"], one_panel_max=2)]
    ['hyperband', 'pbt']
    >>> [g.drawn for g in groups(list(fam), fam, ["random"])]
    [('random', 'hb', 'dask-hb', 'pbt', 'sk-random')]
    """
    ref = tuple(s for s in order if s in reference)
    if len(order) <= one_panel_max:
        return [Group("", tuple(order), ref)]
    out = [
        Group(f, tuple(s for s in order if family.get(s, OTHER) == f), ref)
        for f in family_order(family.get(s, OTHER) for s in order)
    ]
    return [g for g in out if set(g.members) - set(ref)]


def report_styles(order: Sequence[str], family: Mapping[str, str], reference: Sequence[str] = ()) -> dict[str, Style]:
    """Each series' look for every figure of one report, assigned over the panels of
    :func:`groups` (no two lines of a panel share a colour); a figure that draws other
    subsets (performance profile, critical difference) takes its series' looks from here too.

    >>> looks = report_styles(["random", "hb", "dask-hb"], {"random": "random", "hb": "hyperband", "dask-hb": "hyperband"}, ["random"])
    >>> looks["random"].reference, looks["hb"].colour != looks["dask-hb"].colour
    (True, True)
    """
    panes = groups(order, family, reference)
    return styles(order, {s: g.name for g in panes for s in g.members}, reference)


def wrap(n: int, most: int) -> tuple[int, int]:
    """Rows and columns for ``n`` panels, at most ``most`` a row, rows as even as they can be.

    >>> wrap(5, 3), wrap(4, 3), wrap(3, 3), wrap(7, 3), wrap(1, 3)
    ((2, 3), (2, 2), (1, 3), (3, 3), (1, 1))
    """
    n = max(n, 1)
    rows = math.ceil(n / most)
    cols = math.ceil(n / rows)
    return math.ceil(n / cols), cols


def log_scale(xs: Iterable[float], decades: float = LOG_DECADES) -> bool:
    """Whether values spread over more than ``decades`` decades of their positive range (then
    a log axis shows the first second as well as the last minute); zeros and NaN are ignored.

    >>> log_scale([0.0, 0.1, 0.5, 30.0]), log_scale([2.0, 9.0, 30.0]), log_scale([0.0, float("nan")])
    (True, False, False)
    """
    x = np.asarray(list(xs), dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    return len(x) > 1 and math.log10(x.max() / x.min()) > decades


def drawn_x(bands: Iterable[Band]) -> np.ndarray:
    """The x values at which some band has a median: what a panel actually shows."""
    xs = [b.grid[np.isfinite(b.median)] for b in bands]
    return np.concatenate(xs) if xs else np.array([])


def x_limits(xs: np.ndarray, log: bool) -> tuple[float, float] | None:
    """From the first value shown (log) or zero (linear) to the last, a little past each end.

    >>> x_limits(np.array([0.0, 0.1, 10.0]), log=True), x_limits(np.array([0.0, 0.1, 10.0]), log=False)
    ((0.08, 12.5), (0.0, 10.0))
    """
    x = xs[np.isfinite(xs) & (xs > 0)] if log else xs[np.isfinite(xs)]
    if not len(x):
        return None
    hi = float(x.max())
    return (round(float(x.min()) / 1.25, 12), round(hi * 1.25, 12)) if log else (0.0, hi if hi > 0 else 1.0)


def axis_label(quantity: str, unit: str, log: bool) -> str:
    """An axis label with its unit and, if so drawn, its scale.

    >>> axis_label("wall time", "s", True), axis_label("partial_fit calls", "", True), axis_label("wall time", "s", False)
    ('wall time (s, log scale)', 'partial_fit calls (log scale)', 'wall time (s)')
    """
    bits = [b for b in (unit, "log scale" if log else "") if b]
    return f"{quantity} ({', '.join(bits)})" if bits else quantity
