"""``build_report(DIR)``: read a comparison directory, compute everything, write ``report.md``,
``report.html`` and the PNGs into it.

Only what is on disk is used, so ``tunebench report DIR`` rebuilds the same report at any
time, including for a comparison still running or cut short: cells that failed, could not
run, or are not finished yet are listed with their reason instead of failing the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from tunebench.report import html, markdown, sections
from tunebench.report.analysis import WorkloadView, baselines, pairwise, series_rows, workload_view
from tunebench.report.cells import Matrix, load_matrix
from tunebench.report.document import Document, Section
from tunebench.report.environment import machine
from tunebench.report.figures import panel_figure
from tunebench.report.runs import CellRun, load_runs, series_order
from tunebench.store.files import atomic_write_bytes

PNGS = {"time": "anytime_time.png", "calls": "anytime_calls.png", "regret": "regret.png", "rank": "rank.png"}


@dataclass(frozen=True)
class ReportPaths:
    """What :func:`build_report` wrote."""

    markdown: Path
    html: Path
    figures: tuple[Path, ...]

    @property
    def all(self) -> tuple[Path, ...]:
        return (self.markdown, self.html, *self.figures)

    def __iter__(self) -> Iterator[Path]:
        return iter(self.all)


def views_of(runs: Sequence[CellRun], matrix: Matrix, order: Sequence[str]) -> list[WorkloadView]:
    """One view per workload with a finished cell, in matrix order."""
    names = list(dict.fromkeys([*matrix.workloads, *(r.cell.workload for r in runs)]))
    return [workload_view(w, [r for r in runs if r.cell.workload == w], order) for w in names
            if any(r.cell.workload == w for r in runs)]


def draw(root: Path, views: Sequence[WorkloadView], order: list[str]) -> tuple[Path, ...]:
    """The four figures: anytime curves against time and calls, regret and rank."""
    best = {v.workload: f"best {v.metric} so far ({'higher' if v.mode == 'max' else 'lower'} is better)" for v in views}
    n = max(len(order), 1)
    return (
        panel_figure(root / PNGS["time"], {v.workload: v.by_time for v in views}, series=order,
                     xlabel="wall time (s)", ylabel=best, title="Best validation score against wall time"),
        panel_figure(root / PNGS["calls"], {v.workload: v.by_calls for v in views}, series=order,
                     xlabel="partial_fit calls", ylabel=best, title="Best validation score against calls"),
        panel_figure(root / PNGS["regret"], {v.workload: v.regret for v in views}, series=order,
                     xlabel="wall time (s)", ylabel="normalized regret", title="Normalized regret", ylim=(-0.02, 1.02)),
        panel_figure(root / PNGS["rank"], {v.workload: v.rank for v in views}, series=order,
                     xlabel="wall time (s)", ylabel="average rank (1 is best)", title="Average rank",
                     ylim=(n + 0.2, 0.8)),
    )


def document(matrix: Matrix, runs: Sequence[CellRun], missing: Sequence, views: Sequence[WorkloadView],
             order: list[str]) -> Document:
    base = baselines(runs, matrix)
    finals = [sections.final_table(v, series_rows(v, matrix.target_score, base), matrix.target_score) for v in views]
    no_base = "" if base else " No random-search contender ran, so there is no speedup over it."
    anytime, regret = sections.figures(PNGS["time"], PNGS["calls"], PNGS["regret"], PNGS["rank"])
    parts: list[Section] = [
        sections.compared(matrix, runs, order) if runs else Section(sections.TITLES["compared"], ("No cell finished.",)),
        anytime, regret,
        Section(sections.TITLES["final"], ("One table per workload." + no_base,)), *finals,
        sections.pairwise_table(order, pairwise(views, order)),
        sections.missing_table(missing),
    ]
    if runs:
        parts.append(sections.environment(matrix, runs, order, machine()))
    return Document(f"Comparison: {matrix.root.name}", tuple(parts))


def build_report(root: str | Path) -> ReportPaths:
    """Read ``root/matrix.json`` and every finished cell; write the report into ``root``."""
    root = Path(root)
    matrix = load_matrix(root)
    runs, missing = load_runs(matrix)
    order = series_order(matrix, runs)
    views = views_of(runs, matrix, order)
    pngs = draw(root, views, order)
    doc = document(matrix, runs, missing, views, order)
    md, page = root / "report.md", root / "report.html"
    atomic_write_bytes(md, markdown.render(doc).encode("utf-8"))
    atomic_write_bytes(page, html.render(doc, root).encode("utf-8"))
    return ReportPaths(md, page, pngs)
