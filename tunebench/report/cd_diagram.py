"""The significance figures: a critical-difference diagram of average ranks across workloads
(Demšar 2006, drawn as autorank and CARP-S draw it) and the performance profile of final
normalized scores (Agarwal et al., NeurIPS 2021).

Drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas, as :mod:`figures` does.
Each is written only when its record says it can be (:attr:`Ranking.why_not`,
:attr:`Profiles.why_not` empty), so the report and the PNGs beside it always agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from tunebench.report.analysis import Profiles
from tunebench.report.palette import styles
from tunebench.report.significance import Profile, Ranking

CD_PNG, PROFILE_PNG = "critical_difference.png", "performance_profile.png"
DPI = 110
AXIS_W = 5.0  # inches from rank 1 to rank k


def write(
    root: Path, ranking: Ranking, profiles: Profiles, order: Sequence[str], reference: Sequence[str] = ()
) -> tuple[Path, ...]:
    """The figures that apply, written into ``root``; ``reference``: random search's series."""
    out = []
    if not ranking.why_not and ranking.cd is not None:
        out.append(cd_figure(root / CD_PNG, ranking))
    if not profiles.why_not:
        shown = [s for s in order if s in profiles.curves]
        out.append(profile_figure(root / PROFILE_PNG, profiles.curves, shown, [s for s in reference if s in shown]))
    return tuple(out)


def rank_x(rank: float, k: int, width: float = AXIS_W) -> float:
    """Where average rank ``rank`` (1 .. k) sits along the axis, in inches, rank 1 at 0.

    >>> rank_x(1, 5, 4.0), rank_x(5, 5, 4.0), rank_x(3, 5, 4.0)
    (0.0, 4.0, 2.0)
    """
    return width * (rank - 1) / max(k - 1, 1)


def cd_figure(path: Path, r: Ranking) -> Path:
    """The rank axis 1..k with the CD above it, each contender's line down from its average
    rank to its name (better half on the left, best on top), and a thick bar under the axis for
    each group whose ranks differ by less than the CD. Coordinates are inches; the saved PNG is
    cropped to what is drawn, so long names never clip."""
    k, half, cd = len(r.names), math.ceil(len(r.names) / 2), r.cd or 0.0
    step, axis_y, cd_y = 0.3, 0.85, 0.25
    bars = 0.2 * len(r.groups) + 0.1
    first = axis_y + bars + 0.25
    height = first + step * half + 0.35
    fig = Figure(figsize=(AXIS_W + 6, height), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(-3, AXIS_W + 3)
    ax.set_ylim(height, 0)
    line = {"color": "black", "linewidth": 1.2, "solid_capstyle": "butt"}
    ax.plot([0, AXIS_W], [axis_y, axis_y], **line)
    for i in range(1, k + 1):
        ax.plot([rank_x(i, k)] * 2, [axis_y, axis_y - 0.08], **line)
        ax.text(rank_x(i, k), axis_y - 0.11, str(i), ha="center", va="bottom", fontsize=11)
        if i < k:
            ax.plot([rank_x(i + 0.5, k)] * 2, [axis_y, axis_y - 0.04], color="black", linewidth=0.8)
    ax.plot([0, rank_x(1 + cd, k)], [cd_y, cd_y], color="black", linewidth=1.6)
    for x in (0, rank_x(1 + cd, k)):
        ax.plot([x, x], [cd_y - 0.05, cd_y + 0.05], color="black", linewidth=1.6)
    ax.text(rank_x(1 + cd / 2, k), cd_y - 0.07, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=11)
    for g, group in enumerate(r.groups):
        lo, hi = (rank_x(r.average_rank[r.names.index(n)], k) for n in (group[0], group[-1]))
        y = axis_y + 0.18 + 0.2 * g
        ax.plot([lo - 0.04, hi + 0.04], [y, y], color="black", linewidth=5, solid_capstyle="butt")
    for i, (name, avg) in enumerate(zip(r.names, r.average_rank)):
        left = i < half
        y = first + step * (i if left else k - 1 - i)
        end = -0.3 if left else AXIS_W + 0.3
        ax.plot([rank_x(avg, k)] * 2 + [end], [axis_y, y, y], color="black", linewidth=1.0)
        ax.text(
            end + (-0.08 if left else 0.08),
            y,
            f"{name} ({avg:.2f})" if left else f"({avg:.2f}) {name}",
            ha="right" if left else "left",
            va="center",
            fontsize=11,
        )
    note = f"average rank over {r.n_blocks} workloads (1 is best); Friedman p = {r.p:.3g}" if r.p is not None else ""
    ax.text(AXIS_W / 2, height - 0.12, note, ha="center", va="bottom", fontsize=9, color="#444444")
    drawn = fig.canvas.get_renderer()
    box = Bbox.union([a.get_window_extent(drawn) for a in (*ax.lines, *ax.texts)])
    fig.savefig(
        path, format="png", metadata={"Software": None}, bbox_inches=box.transformed(fig.dpi_scale_trans.inverted()).padded(0.15)
    )
    return path


def profile_figure(path: Path, curves: Mapping[str, Profile], series: Sequence[str], reference: Sequence[str] = ()) -> Path:
    """One line per contender with its bootstrap band, in the report's look
    (:func:`tunebench.report.palette.styles`: colour-blind-safe colours, each with its own
    dash; random search grey); the legend sits outside the axes."""
    fig = Figure(figsize=(7.6, 4.2), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    look = styles(series, {s: "" for s in series}, reference)
    for name in series:
        p, style = curves[name], look[name]
        ax.plot(
            p.tau,
            p.fraction,
            color=style.colour,
            linestyle=style.dash,
            linewidth=1.5 if style.reference else 2.0,
            label=f"{name} ({p.n_runs} runs)",
            drawstyle="steps-post",
        )
        ax.fill_between(p.tau, p.low, p.high, color=style.colour, alpha=0.15, linewidth=0, step="post")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.04, 1.06)
    ax.set_xlabel("normalized score τ (1 − normalized regret; 1 is the best score seen on the workload)")
    ax.set_ylabel("fraction of runs with score ≥ τ")
    ax.set_title("Performance profile of final scores (band: 95% bootstrap over seeds)", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path
