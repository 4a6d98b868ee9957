"""Published against measured: a matrix's ``published`` numbers beside the same statistic
computed from its cells, and whether the contender that runs the published system reproduces them.

The statistic, per seed: the best score among the cell's first ``k`` evaluations
(:mod:`tunebench.report.evaluations`), at any fidelity (incumbent ``any``) or only at ``max_iter``
(``top``); then the mean and standard deviation over seeds (``np.std``, ddof 0, as DEHB's
benchmarking script computes them). The verdict is Welch's t-test from the summary statistics
at the entry's last count (the measured standard deviation with ddof 1, as the test takes it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from tunebench.report.analysis import WorkloadView
from tunebench.report.document import Block, Items, Section, Table, fmt
from tunebench.report.evaluations import best_among_first, evaluations_of
from tunebench.report.runs import CellRun
from tunebench.report.significance import ALPHA
from tunebench.store.comparison import Matrix
from tunebench.store.published import INCUMBENTS, Published

TITLE = "Published against measured"
NO_EVALUATIONS = "no evaluations"


@dataclass(frozen=True)
class Against:
    """The section on published numbers and its verdict lines (for the report's verdict)."""

    sections: tuple[Section, ...] = ()
    lines: tuple[str, ...] = ()


def per_seed(frames: Sequence[pd.DataFrame], at: Sequence[int], mode: str, tops: Sequence[int | None]) -> np.ndarray:
    """Seeds x ``at``: each seed's best score among its first ``k`` evaluations (only at step
    ``tops[i]`` where that is not ``None``).

    >>> e = pd.DataFrame({"step": [1, 3], "score": [0.2, 0.1]})
    >>> per_seed([e, e], [1, 2], "min", [None, 3]).tolist()
    [[0.2, 0.1], [nan, 0.1]]
    """
    rows = [best_among_first(f, at, mode, top) for f, top in zip(frames, tops)]
    return np.vstack(rows) if rows else np.full((0, len(at)), np.nan)


def summarise(values: Sequence[float] | np.ndarray) -> tuple[float, float, int]:
    """Mean, standard deviation (ddof 0) and count of the finite values; NaN without any.

    >>> summarise([1.0, 3.0, float("nan")])
    (2.0, 1.0, 2)
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return math.nan, math.nan, 0
    return float(np.mean(x)), float(np.std(x)), len(x)


def shown(mean: float, std: float | None, n: int | None = None) -> str:
    """``mean ± std (n=k)``, each part only when known.

    >>> shown(-3.7412, 0.0985, 10), shown(-2.5, None)
    ('-3.741 ± 0.0985 (n=10)', '-2.5')
    """
    spread = f" ± {fmt(std)}" if std is not None and math.isfinite(std) else ""
    return f"{fmt(mean)}{spread}" + (f" (n={n})" if n else "")


def welch_p(mean_a: float, std_a: float, n_a: int, mean_b: float, std_b: float, n_b: int) -> float:
    """Two-sided p of Welch's t-test from summary statistics (standard deviations with ddof 1).

    >>> round(welch_p(-3.70, 0.09, 10, -3.741, 0.098, 10), 3), welch_p(-3.0, 0.01, 5, -3.741, 0.01, 10) < 1e-6
    (0.343, True)
    """
    return float(stats.ttest_ind_from_stats(mean_a, std_a, n_a, mean_b, std_b, n_b, equal_var=False).pvalue)


def verdict_text(
    measured: Sequence[float] | np.ndarray, mean: float, std: float | None, n: int | None, alpha: float = ALPHA
) -> str:
    """Whether the measured per-seed values reproduce a published mean (± std over ``n`` seeds).

    >>> verdict_text([-3.70, -3.75, -3.72], -3.741, 0.098, 10)
    'reproduced (p = 0.62)'
    >>> verdict_text([-3.0, -3.02, -3.01], -3.741, 0.098, 10)
    'not reproduced: measured -3.01 ± 0.008165 (n=3) against published -3.741 ± 0.098 (n=10) (p = 9.7e-10)'
    >>> verdict_text([-3.0, -3.02], -3.741, None, None)
    'no spread published; measured -3.01 ± 0.01 (n=2) against -3.741'
    """
    m, sd, k = summarise(measured)
    theirs = shown(mean, std, n)
    if k == 0:
        return f"no verdict: no measured score by then, against published {theirs}"
    mine = shown(m, sd, k)
    if std is None:
        return f"no spread published; measured {mine} against {theirs}"
    if k < 2 or n is None or n < 2:
        return f"no test (Welch's t-test needs 2 seeds a side): measured {mine} against published {theirs}"
    x = np.asarray(measured, dtype=float)
    p = welch_p(m, float(np.std(x[np.isfinite(x)], ddof=1)), k, mean, std, n)
    if not math.isfinite(p):
        same = m == mean
        return (
            f"{'reproduced' if same else 'not reproduced'}: no spread on either side; measured {mine} against published {theirs}"
        )
    if p >= alpha:
        return f"reproduced (p = {fmt(p, 2)})"
    return f"not reproduced: measured {mine} against published {theirs} (p = {fmt(p, 2)})"


def top_of(run: CellRun, max_iter: int | None) -> int:
    """The top fidelity of a cell: the matrix's ``max_iter``, else its scheduler's, else its largest step."""
    if max_iter is not None:
        return int(max_iter)
    config = run.summary.get("config")
    scheduler = config.get("scheduler") if isinstance(config, Mapping) else None
    if isinstance(scheduler, Mapping) and scheduler.get("max_iter") is not None:
        return int(scheduler["max_iter"])
    return int(run.results["step"].max()) if len(run.results) else 0


@dataclass(frozen=True)
class Measured:
    """One series on a workload: per seed (rows) the statistic at each count; ``None`` when it
    has no evaluations; ``ran``: each seed's evaluations."""

    series: str
    label: str
    values: np.ndarray | None
    ran: tuple[int, ...] = ()


def measure(view: WorkloadView, at: Sequence[int], incumbent: str, max_iter: int | None) -> list[Measured]:
    """Each series of the workload at the counts ``at``."""
    out = []
    for s in view.series:
        runs = view.of(s)
        frames = [evaluations_of(r) for r in runs]
        label = runs[0].cell.label if runs else s
        if not runs or any(f is None for f in frames):
            out.append(Measured(s, label, None))
            continue
        kept = [f for f in frames if f is not None]
        tops = [top_of(r, max_iter) if incumbent == "top" else None for r in runs]
        out.append(Measured(s, label, per_seed(kept, at, view.mode, tops), tuple(len(f) for f in kept)))
    return out


def measured_cell(m: Measured, i: int, k: int) -> str:
    """The statistic at the ``i``-th count ``k``: mean ± std, the seeds with a score if not all,
    ``*`` when some seed ran fewer than ``k`` evaluations."""
    if m.values is None:
        return NO_EVALUATIONS
    mean, sd, n = summarise(m.values[:, i])
    if n == 0:
        return "-"
    total = m.values.shape[0]
    return shown(mean, sd) + (f" ({n}/{total})" if n < total else "") + ("*" if any(r < k for r in m.ran) else "")


def published_cell(p: Published, k: int) -> str:
    if k not in p.at:
        return ""
    i = p.at.index(k)
    stds = p.stds
    return shown(p.means[i], None if stds is None else stds[i])


def entry_verdict(p: Published, m: Measured, at: Sequence[int]) -> str:
    """The verdict of one entry on one measured series (its statistic at the counts ``at``), at
    the entry's last count."""
    if m.values is None:
        return f"no verdict: {m.series} has no evaluations"
    stds, k = p.stds, p.at[-1]
    text = verdict_text(m.values[:, list(at).index(k)], p.means[-1], None if stds is None else stds[-1], p.n)
    short = sum(r < k for r in m.ran)
    return text + (f"; {short} of {len(m.ran)} seeds ran fewer than {k} evaluations" if short else "")


def table_of(
    view: WorkloadView, entries: Sequence[Published], incumbent: str, max_iter: int | None
) -> tuple[list[Block], list[str]]:
    """One workload's table for the entries sharing an incumbent, and its verdict lines."""
    at = sorted({k for p in entries for k in p.at})
    rows: list[tuple[str, ...]] = []
    lines: list[str] = []
    for p in entries:
        rows.append((f"{p.system} (published)", *(published_cell(p, k) for k in at), str(p.n) if p.n else "-", ""))
    measured = measure(view, at, incumbent, max_iter)
    for m in measured:
        said = []
        for p in entries:
            if p.contender is not None and p.contender == m.label:
                text = entry_verdict(p, m, at)
                said.append(f"against {p.system}: {text}" if len(entries) > 1 else text)
                lines.append(verdict_line(view.workload, m.series, p, text))
        n = str(len(m.ran)) if m.values is not None else str(len(view.of(m.series)))
        rows.append((m.series, *(measured_cell(m, i, k) for i, k in enumerate(at)), n, "; ".join(said)))
    ran = {m.label for m in measured}
    lines += [unmeasured(view.workload, p) for p in entries if p.contender is not None and p.contender not in ran]
    caption = (
        f"Best {view.metric} ({'higher' if view.mode == 'max' else 'lower'} is better) among each seed's first k evaluations "
        f"(columns: k), the incumbent being the {INCUMBENTS[incumbent]}; measured rows: mean ± std over seeds (np.std, "
        "ddof 0, as DEHB's benchmarking script computes it), (j/n): seeds with a score by then, *: some seeds ran fewer "
        "than k evaluations (their best over all they ran); an evaluation is a results row of our schedulers (in order "
        "of elapsed_s) or a row of a multi-fidelity peer's evaluations.parquet; other peers: no evaluations. Verdict: "
        f"Welch's t-test at the entry's last k (measured std with ddof 1), reproduced when p >= {fmt(ALPHA)}."
    )
    table = Table(("", *(str(k) for k in at), "seeds", "verdict"), tuple(rows), caption)
    return [table, Items(tuple(source_line(p) for p in entries))], lines


def verdict_line(workload: str, series: str, p: Published, text: str) -> str:
    """A verdict as the report's verdict section says it."""
    return f"{workload}, {series} against {p.system} (published) at {p.at[-1]} evaluations, incumbent {p.incumbent}: {text}."


def unmeasured(workload: str, p: Published) -> str:
    """The verdict line of an entry whose contender has no finished cell on the workload."""
    return verdict_line(workload, str(p.contender), p, f"no verdict: {p.contender} has no finished cell on {workload}")


def source_line(p: Published) -> str:
    """Where a published row comes from, what it is, and how it was scaled."""
    scaled = [f"means x {fmt(p.mean_scale)}"] if p.mean_scale != 1.0 else []
    scaled += [f"means {'+' if p.offset > 0 else '-'} {fmt(abs(p.offset))}"] if p.offset != 0.0 else []
    scaled += [f"std x {fmt(p.std_scale)}"] if p.std_scale != 1.0 and p.std is not None else []
    parts = [f"{p.system}: source: {p.source}", p.statistic]
    if p.values is not None:
        parts.append(f"mean and std (ddof 1) of the {p.n} per-seed values published")
    if scaled:
        parts.append(f"scaled to the workload's units: {', '.join(scaled)}")
    if p.note:
        parts.append(p.note)
    return "; ".join(x for x in parts if x)


def published_view(matrix: Matrix, views: Sequence[WorkloadView]) -> Against:
    """The section on the matrix's published entries, per workload; nothing without any."""
    if not matrix.published:
        return Against()
    given = matrix.raw.get("max_iter")
    max_iter = None if given is None else int(given)
    by_workload = {v.workload: v for v in views}
    parts: list[Section] = [
        Section(
            TITLE,
            (
                "Numbers others published for a system on a workload of this matrix, beside the same statistic computed "
                "from this matrix's cells, one row per contender.",
            ),
        )
    ]
    lines: list[str] = []
    for w in dict.fromkeys(p.workload for p in matrix.published):
        entries = [p for p in matrix.published if p.workload == w]
        view = by_workload.get(w)
        if view is None:
            parts.append(Section(f"{w}: published against measured", ("No cell of this workload finished.",), level=3))
            lines += [unmeasured(w, p) for p in entries if p.contender is not None]
            continue
        blocks: list[Block] = []
        for incumbent in dict.fromkeys(p.incumbent for p in entries):
            shown_blocks, said = table_of(view, [p for p in entries if p.incumbent == incumbent], incumbent, max_iter)
            blocks += shown_blocks
            lines += said
        parts.append(Section(f"{w}: published against measured", tuple(blocks), level=3))
    return Against(tuple(parts), tuple(lines))
