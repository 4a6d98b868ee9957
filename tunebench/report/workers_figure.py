"""The figure of the "against workers" view: per workload (a column), the time to target (or
the wall time) against workers, median with the interquartile band over seeds, and the final
score's interquartile mean against workers; one line per row of the axis, workers on a base-2
log axis, time on a log axis where it spans decades."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tunebench.report.against import Step
from tunebench.report.figures import LEGEND_W, save
from tunebench.report.palette import styles
from tunebench.report.panels import log_scale


def band(times: Sequence[float]) -> tuple[float, float, float]:
    """Median, 25th and 75th percentile of a step's times (NaN for none).

    >>> band([1.0, 2.0, 3.0, 4.0])
    (2.5, 1.75, 3.25)
    """
    if not times:
        return (float("nan"),) * 3
    a = np.asarray(times, dtype=float)
    return float(np.median(a)), float(np.percentile(a, 25)), float(np.percentile(a, 75))


def workers_figure(path: Path, steps: Mapping[str, Sequence[Step]], *, timed: str, metric: Mapping[str, str]) -> Path:
    """Write the figure for ``steps`` (workload -> the workers axis' steps) to ``path``."""
    workloads = [w for w, s in steps.items() if s]
    names = list(dict.fromkeys(s.row for w in workloads for s in steps[w]))
    look = styles(names, lambda name: "all")
    width = 4.2 * len(workloads)
    fig = Figure(figsize=(width + LEGEND_W, 6.0))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, len(workloads), squeeze=False, sharex="col")
    for j, w in enumerate(workloads):
        top, bottom = axes[0][j], axes[1][j]
        drawn: list[float] = []
        for name in names:
            mine = [s for s in steps[w] if s.row == name]
            if not mine:
                continue
            x = [int(s.value) for s in mine]
            mid, low, high = (np.array(v) for v in zip(*(band(s.times) for s in mine)))
            st = look[name]
            top.plot(x, mid, color=st.colour, linestyle=st.dash, marker=st.marker, label=name)
            top.fill_between(x, low, high, color=st.colour, alpha=0.15, linewidth=0)
            bottom.plot(
                x, [np.nan if s.best is None else s.best.iqm for s in mine], color=st.colour, linestyle=st.dash, marker=st.marker
            )
            drawn += [v for v in (*low, *high) if np.isfinite(v) and v > 0]
        counts = sorted({int(s.value) for s in steps[w]})
        for ax in (top, bottom):
            ax.set_xscale("log", base=2)
            ax.set_xticks(counts, [str(k) for k in counts])
            ax.minorticks_off()
        if log_scale(drawn):
            top.set_yscale("log")
        top.set(title=w, ylabel=timed if j == 0 else None)
        bottom.set(xlabel="workers", ylabel=f"best {metric.get(w, 'score')} (IQM)" if j == 0 else None)
    handles, labels = axes[0][0].get_legend_handles_labels()
    right = width / (width + LEGEND_W)
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(right, 0.5), frameon=False, fontsize=8)
    fig.suptitle("Against workers")
    fig.tight_layout(rect=(0.0, 0.0, right, 1.0))
    save(fig, path)
    return path
