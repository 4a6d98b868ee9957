"""One look per series for every figure of a report: a colour from Okabe and Ito's
colour-blind-safe palette, a dash pattern and a marker, so two lines differ by more than hue
and stay apart in grey. Random search, the reference drawn in every panel, is grey and dashed.

Styles are assigned once per report from the series order and their panels, so a contender
looks the same in every figure; within one panel no two series share a colour.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Dash = str | tuple[float, tuple[float, ...]]

# Okabe and Ito (2008) without black and yellow: black reads as the grey reference in print,
# yellow is faint on white.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES: tuple[Dash, ...] = ("-", (0, (5.0, 1.5)), (0, (1.2, 1.2)), (0, (6.0, 1.5, 1.2, 1.5)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
REFERENCE_COLOUR = "#7f7f7f"
REFERENCE_DASHES: tuple[Dash, ...] = ((0, (4.0, 2.0)), (0, (1.5, 1.5)), (0, (7.0, 2.0, 1.5, 2.0)))


@dataclass(frozen=True)
class Style:
    """How one series is drawn."""

    colour: str
    dash: Dash
    marker: str
    reference: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """What tells two lines apart in grey and in colour."""
        return self.colour, repr(self.dash)


def styles(
    series: Sequence[str], group_of: Callable[[str], str] | Mapping[str, str], reference: Sequence[str] = ()
) -> dict[str, Style]:
    """A style per series, in order: each takes the colour least used so far among those not
    yet in its group (panel) and not yet worn with every dash, then the first dash not yet
    paired with that colour, preferring one its group has not used; markers go round in order. ``reference`` series (random
    search) are grey with their own dashes and no marker.

    >>> s = styles(["a", "b", "c"], {"a": "x", "b": "x", "c": "y"})
    >>> [(v.colour, v.dash) for v in s.values()]
    [('#0072B2', '-'), ('#D55E00', (0, (5.0, 1.5))), ('#009E73', '-')]
    >>> styles(["r"], {"r": "random"}, reference=["r"])["r"].colour
    '#7f7f7f'
    """
    group = group_of if callable(group_of) else group_of.__getitem__
    out: dict[str, Style] = {}
    used: Counter[int] = Counter()
    pairs: set[tuple[int, int]] = set()
    in_group: dict[str, set[int]] = defaultdict(set)
    dashes_in: dict[str, set[int]] = defaultdict(set)
    refs = [s for s in series if s in reference]
    for s in refs:
        out[s] = Style(REFERENCE_COLOUR, REFERENCE_DASHES[refs.index(s) % len(REFERENCE_DASHES)], "", reference=True)
    for i, s in enumerate(x for x in series if x not in reference):
        g = group(s)
        c = min(range(len(COLOURS)), key=lambda k: (k in in_group[g], len(DASHES) <= sum(p[0] == k for p in pairs), used[k], k))
        d = min(range(len(DASHES)), key=lambda k: ((c, k) in pairs, k in dashes_in[g], k))
        used[c] += 1
        pairs.add((c, d))
        in_group[g].add(c)
        dashes_in[g].add(d)
        out[s] = Style(COLOURS[c], DASHES[d], MARKERS[i % len(MARKERS)])
    return {s: out[s] for s in series}
