"""PNG figures of a comparison as small multiples: a panel per workload (row) and algorithm
family (column), ours beside the peers of that family, random search in every panel as a grey
reference; one line per series (the median or mean over seeds) with its interquartile band,
the legend under each column (or beside a single panel), never over the curves.

Figures are drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no
global state, no display needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy
from PIL import Image

from tunebench.report.curves import Band
from tunebench.report.palette import Style
from tunebench.report.panels import Group, axis_label, drawn_x, log_scale, wrap, x_limits

Panels = Mapping[str, Mapping[str, Band]]  # workload -> series -> band
PANEL_W, PANEL_H, LEGEND_W, LEGEND_GAP, DPI = 3.3, 2.3, 2.4, 0.55, 100  # inches, dots per inch
BLOCKS_A_ROW = {True: 3, False: 5}  # family columns a row: with one workload, with several
REFERENCE_NOTE = "grey dashed: random search (reference)"


@dataclass(frozen=True)
class XAxis:
    """What the x axis counts and its unit; whether it is logarithmic is decided from the data."""

    quantity: str
    unit: str = ""


XAxes = XAxis | Mapping[str, XAxis]  # one x axis for every workload, or one per workload


def panel_figure(
    path: Path,
    panels: Panels,
    *,
    groups: Sequence[Group],
    styles: Mapping[str, Style],
    x: XAxes,
    ylabel: str | Mapping[str, str],
    title: str,
    how: str = "",
    ylim: tuple[float, float] | None = None,
    log_y: bool = False,
) -> Path:
    """Write :func:`small_multiples` as a PNG; return its path."""
    fig = small_multiples(panels, groups=groups, styles=styles, x=x, ylabel=ylabel, title=title, how=how, ylim=ylim, log_y=log_y)
    save(fig, path)
    return path


def save(fig: Figure, path: Path) -> None:
    """A PNG of the figure in 256 colours, so a figure of many panels still suits a README:
    median cut gives the faint bands, which cover many pixels, colours of their own (an
    octree merges them into the white)."""
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    image = Image.fromarray(rgb).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, format="PNG", optimize=True)


@dataclass(frozen=True)
class Frame:
    """How one workload's panels are dressed: the same in every column, so they compare."""

    xlabel: str
    ylabel: str
    log: bool
    xlim: tuple[float, float] | None
    ylim: tuple[float, float] | None
    log_y: bool = False


def x_of(x: XAxes, workload: str) -> XAxis:
    """The workload's x axis (the first one given when it has none of its own)."""
    if isinstance(x, XAxis):
        return x
    return x.get(workload) or next(iter(x.values()), XAxis(""))


def frames(
    panels: Panels, x: XAxes, ylabel: str | Mapping[str, str], ylim: tuple[float, float] | None, log_y: bool = False
) -> dict[str, Frame]:
    """Per workload: a log x axis when its data span decades, limits from the data (or ``ylim``);
    with ``log_y``, a log y axis."""
    out = {}
    for w, bands in panels.items():
        xs = drawn_x(bands.values())
        log = log_scale(xs)
        axis = x_of(x, w)
        out[w] = Frame(
            axis_label(axis.quantity, axis.unit, log),
            ylabel if isinstance(ylabel, str) else ylabel.get(w, ""),
            log,
            x_limits(xs, log),
            ylim or y_limits(bands.values(), log=log_y),
            log_y,
        )
    return out


def small_multiples(
    panels: Panels,
    *,
    groups: Sequence[Group],
    styles: Mapping[str, Style],
    x: XAxes,
    ylabel: str | Mapping[str, str],
    title: str,
    how: str = "",
    ylim: tuple[float, float] | None = None,
    log_y: bool = False,
) -> Figure:
    """Several groups: workloads in rows by groups in columns (wrapped into rows of blocks),
    each group's legend under its column. One group: a panel per workload, wrapped, the legend
    to the right. ``ylabel``: one for all, or per workload; ``ylim``: fixed limits, else from
    the data (the medians: a band's first, widest steps may leave the axes); ``log_y``: a log y axis."""
    workloads = list(panels) or [""]
    several = len(groups) > 1
    n_w = len(workloads) if several else 1
    blocks = wrap(len(groups), BLOCKS_A_ROW[len(workloads) == 1]) if several else wrap(len(workloads), 3)
    fig = Figure(figsize=figure_size(groups, blocks, n_w), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(blocks[0] * n_w, blocks[1], squeeze=False)
    first = x_of(x, "")
    frame = frames(panels, x, ylabel, ylim, log_y) or {
        "": Frame(axis_label(first.quantity, first.unit, False), "", False, None, ylim)
    }
    seeds = {b.n for bands in panels.values() for b in bands.values()}
    look = Look(panels, frame, styles, with_n=len(seeds) > 1)
    used = by_family(axes, look, groups, workloads) if several else by_workload(fig, axes, look, groups, workloads)
    for ax in axes.ravel():
        ax.set_visible(ax in used)
    head = f"{title}: {workloads[0]}" if len(workloads) == 1 and workloads[0] else title
    fig.suptitle(f"{head}\n{how}" if how else head, fontsize=11)
    return fig


@dataclass(frozen=True)
class Look:
    """What every panel of one figure draws from."""

    panels: Panels
    frame: Mapping[str, Frame]
    styles: Mapping[str, Style]
    with_n: bool  # seeds in the legend (they differ between series)


def by_family(axes: np.ndarray, look: Look, groups: Sequence[Group], workloads: Sequence[str]) -> list[Axes]:
    """Block ``k`` (a group's column of workloads) at row ``k // columns``, column ``k % columns``;
    the family titles the top panel, the workload labels a row's first panel, the legend
    goes under the column."""
    n_w, columns, used = len(workloads), axes.shape[1], []
    for k, group in enumerate(groups):
        top, col = (k // columns) * n_w, k % columns
        handles: dict[str, Line2D] = {}
        for r, w in enumerate(workloads):
            ax = axes[top + r, col]
            _panel(ax, group, look, w, handles)
            _dress(
                ax,
                look.frame[w],
                title=group.title if r == 0 else "",
                ylabel=_row(w, look.frame[w].ylabel, n_w) if col == 0 else "",
            )
            used.append(ax)
        _legend_below(axes[top + n_w - 1, col], _ordered(group, handles), handles)
    return used


def by_workload(fig: Figure, axes: np.ndarray, look: Look, groups: Sequence[Group], workloads: Sequence[str]) -> list[Axes]:
    """Every series in each workload's panel; one legend right of them all."""
    group, handles = (groups[0] if groups else Group("", ())), {}
    for ax, w in zip(axes.ravel(), workloads):
        _panel(ax, group, look, w, handles)
        _dress(ax, look.frame[w], title=w if len(workloads) > 1 else "", ylabel=look.frame[w].ylabel)
    entries = _ordered(group, handles)
    if entries:
        fig.legend(
            [handles[s] for s in entries],
            [handles[s].get_label() for s in entries],
            frameon=False,
            loc="outside right upper",
            fontsize="small",
        )
    return list(axes.ravel()[: len(workloads)])


def figure_size(groups: Sequence[Group], blocks: tuple[int, int], n_workloads: int) -> tuple[float, float]:
    """Inches: panels of one size, plus room for the titles and the legends (under each row
    of blocks with several groups, beside the panels with one).

    >>> figure_size([Group("", ("a", "b"))], (1, 1), 1)
    (5.7, 3.0)
    """
    rows, cols = blocks
    if len(groups) <= 1:
        return round(cols * PANEL_W + LEGEND_W, 2), round(rows * PANEL_H + 0.7, 2)
    legend = LEGEND_GAP + 0.19 * max(len(g.drawn) for g in groups)
    return round(cols * PANEL_W, 2), round(rows * (n_workloads * PANEL_H + legend) + 0.7, 2)


def y_limits(bands: Iterable[Band], log: bool = False) -> tuple[float, float] | None:
    """The range of every median, padded by 4% each side (on a log axis: of the positive
    medians, by a fifth of a decade); ``None`` without data.

    >>> b = Band(np.arange(3.0), np.array([np.nan, 0.5, 0.9]), np.array([np.nan, 0.1, 0.9]), np.array([np.nan, 0.6, 1.0]), 3)
    >>> [round(v, 3) for v in y_limits([b])], [round(v, 3) for v in y_limits([b], log=True)]
    ([0.484, 0.916], [0.315, 1.426])
    """
    ys = np.concatenate([b.median for b in bands] or [np.array([])])
    ys = ys[np.isfinite(ys) & (ys > 0)] if log else ys[np.isfinite(ys)]
    if not len(ys):
        return None
    lo, hi = float(ys.min()), float(ys.max())
    if log:
        return lo / 10**0.2, hi * 10**0.2
    pad = 0.04 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
    return lo - pad, hi + pad


def _row(workload: str, ylabel: str, n_workloads: int) -> str:
    """The y label of a row's first panel, naming the workload when rows are workloads."""
    return f"{workload}\n{ylabel}" if n_workloads > 1 else ylabel


def _panel(ax: Axes, group: Group, look: Look, workload: str, handles: dict[str, Line2D]) -> None:
    """The group's series on one workload; the first line drawn of each series is its handle."""
    bands = look.panels.get(workload, {})
    for j, s in enumerate(s for s in group.drawn if s in bands):
        style = look.styles[s]
        handles.setdefault(s, _draw(ax, legend_label(s, bands[s].n, look.with_n, style.reference), bands[s], style, j))


def _ordered(group: Group, handles: Mapping[str, Line2D]) -> list[str]:
    """Legend order: the group's own series, then the reference."""
    return [s for s in group.members if s in handles and s not in group.reference] + [s for s in group.reference if s in handles]


def _legend_below(ax: Axes, entries: Sequence[str], lines: Mapping[str, Line2D]) -> None:
    """The legend a fixed distance under the axes (clear of its tick labels and x label);
    constrained layout makes room for it."""
    if not entries:
        return
    below = offset_copy(ax.transAxes, fig=ax.figure, y=-LEGEND_GAP + 0.08, units="inches")
    ax.legend(
        [lines[s] for s in entries],
        [lines[s].get_label() for s in entries],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=below,
        frameon=False,
        fontsize="small",
    )


def legend_label(series: str, n: int, with_n: bool, reference: bool) -> str:
    """A series in the legend: whether it is the reference, and its seeds when they differ.

    >>> legend_label("random", 3, True, True), legend_label("pbt", 5, False, False)
    ('random (reference, n=3)', 'pbt')
    """
    notes = [*(["reference"] if reference else []), *([f"n={n}"] if with_n else [])]
    return f"{series} ({', '.join(notes)})" if notes else series


def _draw(ax: Axes, label: str, b: Band, style: Style, j: int) -> Line2D:
    """A series' median as a step line (markers staggered so they do not stack) and its band."""
    drawn = int(np.isfinite(b.median).sum()) >= 2  # matplotlib cannot space markers along a line with no points
    marks = (
        {"marker": style.marker, "markersize": 4.0, "markevery": (0.03 + 0.045 * (j % 4), 0.18)} if style.marker and drawn else {}
    )
    (line,) = ax.plot(
        b.grid,
        b.median,
        drawstyle="steps-post",
        color=style.colour,
        linestyle=style.dash,
        linewidth=1.3 if style.reference else 1.7,
        zorder=2 if style.reference else 3,
        label=label,
        **marks,
    )
    if not np.array_equal(b.low, b.high, equal_nan=True):
        ax.fill_between(
            b.grid, b.low, b.high, step="post", color=style.colour, alpha=0.1 if style.reference else 0.14, linewidth=0, zorder=1
        )
    return line


def _dress(ax: Axes, f: Frame, *, title: str, ylabel: str) -> None:
    if f.log:
        ax.set_xscale("log")
    if f.log_y:
        ax.set_yscale("log")
    if f.xlim is not None:
        ax.set_xlim(*f.xlim)
    if f.ylim is not None:
        ax.set_ylim(*f.ylim)
    ax.set_title(title, fontsize=10, fontweight="bold")
    ax.set_xlabel(f.xlabel, fontsize="small")
    ax.set_ylabel(ylabel, fontsize="small")
    ax.tick_params(labelsize="small")
    ax.grid(alpha=0.3)
