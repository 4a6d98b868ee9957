"""The final normalized regret of each contender (rows) on each workload (columns), the median
over seeds written in every cell: which contender is close to the best on which workload, at a
glance. Drawn only with several workloads; with one, the final table says it all.

Drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas, as :mod:`figures` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tunebench.report.analysis import WorkloadView, bounds_of, final_scores
from tunebench.report.stats import normalized_regret

DPI = 100
CMAP = "cividis"  # sequential and readable with every colour-vision deficiency, and in grey


@dataclass(frozen=True)
class RegretTable:
    """Series x workload: the median over seeds of the final normalized regret (NaN: no cell)."""

    series: tuple[str, ...]
    workloads: tuple[str, ...]
    values: np.ndarray


def why_not(n_workloads: int) -> str:
    """Empty when the heatmap applies, else why not (a sentence for the report).

    >>> why_not(3)
    ''
    >>> print(why_not(1))
    One workload: no heatmap of final regret across workloads; the regret figure ends at each contender's final regret.
    """
    if n_workloads >= 2:
        return ""
    if n_workloads == 0:
        return "No finished workload: no heatmap of final regret."
    return "One workload: no heatmap of final regret across workloads; the regret figure ends at each contender's final regret."


def regret_table(views: Sequence[WorkloadView], order: Sequence[str]) -> RegretTable:
    """Each series' final validation score (its summary's) normalized per workload by the best
    and worst score any run saw there, 0 the best and 1 the worst, median over seeds."""
    series = tuple(s for s in order if any(s in v.series for v in views))
    values = np.full((len(series), len(views)), np.nan)
    for j, v in enumerate(views):
        bounds = bounds_of(v.runs, v.mode)
        for s, finals in final_scores(v).items() if bounds is not None else ():
            values[series.index(s), j] = float(np.median(normalized_regret(list(finals.values()), *bounds, v.mode)))
    return RegretTable(series, tuple(v.workload for v in views), values)


def ink(rgba: Sequence[float]) -> str:
    """Black on a light cell, white on a dark one (relative luminance of the sRGB colour).

    >>> ink((1.0, 1.0, 0.6, 1.0)), ink((0.0, 0.13, 0.3, 1.0))
    ('black', 'white')
    """
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3])
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.2 else "white"


def colour_top(values: np.ndarray) -> float:
    """The top of the colour scale: the worst regret in the table rounded up (to a twentieth
    below 0.2, else a tenth), so that final regrets, which sit near 0, still differ in colour.

    >>> colour_top(np.array([0.01, 0.08, np.nan])), colour_top(np.array([0.3, 0.62])), colour_top(np.array([np.nan]))
    (0.1, 0.7, 1.0)
    """
    v = values[np.isfinite(values)]
    if not len(v) or v.max() <= 0:
        return 1.0
    step = 0.05 if v.max() < 0.2 else 0.1
    return min(1.0, round(math.ceil(v.max() / step - 1e-9) * step, 2))


def heatmap_figure(path: Path, table: RegretTable) -> Path:
    """Cells coloured by regret with the number in each, a colour bar beside; no cell: grey."""
    rows, cols = table.values.shape
    fig = Figure(figsize=(2.4 + 0.95 * cols, 1.3 + 0.3 * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cmap, top = colormaps[CMAP].with_extremes(bad="#e6e6e6"), colour_top(table.values)
    image = ax.imshow(np.ma.masked_invalid(table.values), cmap=cmap, vmin=0.0, vmax=top, aspect="auto")
    for (i, j), v in np.ndenumerate(table.values):
        ax.text(
            j,
            i,
            "–" if np.isnan(v) else f"{v:.{3 if top <= 0.2 else 2}f}",
            ha="center",
            va="center",
            fontsize=8,
            color="black" if np.isnan(v) else ink(cmap(float(v) / top)),
        )
    ax.set_xticks(range(cols), table.workloads, fontsize=9)
    ax.set_yticks(range(rows), table.series, fontsize=9)
    ax.tick_params(top=True, bottom=False, labeltop=True, labelbottom=False, length=0)
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("workload", fontsize=9)
    ax.set_ylabel("contender", fontsize=9)
    for edge in ax.spines.values():
        edge.set_visible(False)
    bar = fig.colorbar(image, ax=ax, fraction=0.08, pad=0.03)
    bar.set_label("normalized regret (0: best score seen, 1: worst)", fontsize=8)
    bar.ax.tick_params(labelsize=8)
    fig.suptitle("Final normalized regret, median over seeds", fontsize=10)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path
