"""PNG figures of a comparison: one panel per workload, one line per series (the median or
mean over seeds) with its interquartile band.

Figures are drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no
global state, no display needed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tunebench.report.curves import Band

Panels = Mapping[str, Mapping[str, Band]]  # workload -> series -> band
PANEL_W, PANEL_H, DPI = 5.0, 3.6, 110


def colours(series: list[str]) -> dict[str, tuple[float, float, float, float]]:
    """A fixed colour per series, the same in every figure of one report."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(series) <= 10 else "tab20"]
    return {s: cmap(i % cmap.N) for i, s in enumerate(series)}


def panel_figure(path: Path, panels: Panels, *, series: list[str], xlabel: str, ylabel: str | Mapping[str, str], title: str,
                 ylim: tuple[float, float] | None = None, invert: bool = False) -> Path:
    """Write one figure with a panel per workload (``ylabel`` one for all, or per workload);
    return its path."""
    n = max(len(panels), 1)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(PANEL_W * cols, PANEL_H * rows + 0.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    colour = colours(series)
    for ax, (workload, bands) in zip(axes, panels.items()):
        for name in series:
            if name in bands:
                _draw(ax, bands[name], name, colour[name])
        ax.set_title(workload)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel if isinstance(ylabel, str) else ylabel.get(workload, ""))
        ax.grid(alpha=0.3)
        if ylim is not None:
            ax.set_ylim(*ylim)
        if invert:
            ax.invert_yaxis()
        ax.legend(fontsize="small", loc="best")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def _draw(ax, b: Band, name: str, colour) -> None:  # type: ignore[no-untyped-def]
    label = f"{name} (n={b.n})"
    ax.step(b.grid, b.median, where="post", color=colour, label=label, linewidth=1.6)
    if not np.array_equal(b.low, b.high, equal_nan=True):
        ax.fill_between(b.grid, b.low, b.high, step="post", color=colour, alpha=0.2, linewidth=0)
