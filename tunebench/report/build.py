"""``build_report(DIR)``: read a comparison directory, compute everything, write ``report.md``,
``report.html`` and the PNGs into it. The report opens with the verdict and the final tables,
then the figures, then the details (what was compared, settings, cells left out, versions).

Only what is on disk is used, so ``tunebench report DIR`` rebuilds the same report at any
time, including for a comparison still running or cut short: cells that failed, could not
run, or are not finished yet are listed with their reason instead of failing the report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunebench.report import cd_diagram, html, markdown, sections
from tunebench.report.analysis import (
    Judgement,
    Profiles,
    WorkloadView,
    baselines,
    judge,
    pairwise,
    profiles_of,
    ranking_of,
    series_rows,
    workload_view,
)
from tunebench.report.anytime import Anytime, anytime_of
from tunebench.report.claims_view import Claimed, claims_view
from tunebench.report.document import Document, Section, fmt
from tunebench.report.environment import machine
from tunebench.report.figures import REFERENCE_NOTE, XAxis, panel_figure
from tunebench.report.heatmap import heatmap_figure, regret_table, why_not
from tunebench.report.panels import families_of, groups, report_styles
from tunebench.report.published import Against, published_view
from tunebench.report.runs import CellRun, load_runs, series_order
from tunebench.report.settings import settings_table
from tunebench.report.significance import Ranking
from tunebench.report.studies import study_views
from tunebench.report.verdict import verdict_lines
from tunebench.store.comparison import Matrix, read_matrix
from tunebench.store.files import atomic_write_bytes

PNGS = {
    "time": "anytime_time.png",
    "calls": "anytime_calls.png",
    "regret": "regret.png",
    "rank": "rank.png",
    "heatmap": "regret_heatmap.png",
    "evaluations": "anytime_evaluations.png",
    "optimum_evaluations": "regret_optimum_evaluations.png",
    "optimum_time": "regret_optimum_time.png",
}


@dataclass(frozen=True)
class ReportPaths:
    """What :func:`build_report` wrote, and the verdict lines the report opens with."""

    markdown: Path
    html: Path
    figures: tuple[Path, ...]
    verdict: tuple[str, ...] = ()

    @property
    def figure(self) -> Path | None:
        """The main figure: best validation score against wall time."""
        return next((p for p in self.figures if p.name == PNGS["time"]), None)

    @property
    def all(self) -> tuple[Path, ...]:
        return (self.markdown, self.html, *self.figures)

    @property
    def ending(self) -> list[str]:
        """What ``compare`` and ``report`` end with: the verdict lines, the report and its main figure."""
        figure = [f"figure: {self.figure}"] if self.figure is not None else []
        return [*self.verdict, f"report: {self.html}", *figure]

    def __iter__(self) -> Iterator[Path]:
        return iter(self.all)


def views_of(runs: Sequence[CellRun], matrix: Matrix, order: Sequence[str]) -> list[WorkloadView]:
    """One view per workload with a finished cell, in matrix order."""
    names = list(dict.fromkeys([*matrix.workloads, *(r.cell.workload for r in runs)]))
    return [
        workload_view(w, [r for r in runs if r.cell.workload == w], order)
        for w in names
        if any(r.cell.workload == w for r in runs)
    ]


def draw(
    root: Path, views: Sequence[WorkloadView], order: list[str], matrix: Matrix, anytime: Anytime | None = None
) -> tuple[Path, ...]:
    """Anytime curves against time, calls and evaluations, regret and rank over time, in panels by
    algorithm family with our random search as the grey reference in each and one look per series
    in every figure; with several workloads, the heatmap of final regret; with a known optimum,
    the regret against it on a log axis over evaluations and over time."""
    anytime = anytime_of(views, matrix) if anytime is None else anytime
    runs = [r for v in views for r in v.runs]
    reference = sorted(set(baselines(runs, matrix).values()), key=order.index)
    family = families_of(runs, matrix.contenders)
    look: dict[str, Any] = {"groups": groups(order, family, reference), "styles": report_styles(order, family, reference)}
    ref = f"; {REFERENCE_NOTE}" if reference else ""
    median, mean = f"line: median over seeds, band: 25th to 75th percentile{ref}", f"line: mean over seeds{ref}"
    best = {v.workload: f"best {v.metric} so far ({'higher' if v.mode == 'max' else 'lower'} is better)" for v in views}
    time, n = {w: XAxis(clock, "s") for w, clock in anytime.clocks.items()}, max(len(order), 1)
    pngs = (
        panel_figure(
            root / PNGS["time"],
            {v.workload: v.by_time for v in views},
            x=time,
            ylabel=best,
            title=f"Best validation score against {anytime.clock}",
            how=median,
            **look,
        ),
        panel_figure(
            root / PNGS["calls"],
            {v.workload: v.by_calls for v in views},
            x=XAxis("partial_fit calls"),
            ylabel=best,
            title="Best validation score against partial_fit calls",
            how=median,
            **look,
        ),
        panel_figure(
            root / PNGS["regret"],
            {v.workload: v.regret for v in views},
            x=time,
            ylabel="normalized regret (0 is best)",
            title="Normalized regret (0: the best score seen, 1: the worst)",
            how=median,
            ylim=(-0.03, 1.03),
            **look,
        ),
        panel_figure(
            root / PNGS["rank"],
            {v.workload: v.rank for v in views},
            x=time,
            ylabel=f"average rank of {n} (1 is best)",
            title="Average rank",
            how=mean,
            ylim=(n + 0.4, 0.6),
            **look,
        ),
        *anytime_figures(root, anytime, best, median, look),
    )
    return pngs if why_not(len(views)) else (*pngs, heatmap_figure(root / PNGS["heatmap"], regret_table(views, order)))


def anytime_figures(root: Path, anytime: Anytime, best: dict[str, str], how: str, look: dict[str, Any]) -> tuple[Path, ...]:
    """The best score against evaluations (when some contender records them) and the regret
    against the known optimum over evaluations and over time (when a workload has one)."""
    left = f"; left out (no evaluations): {', '.join(anytime.without)}" if anytime.without else ""
    out = []
    if anytime.by_evaluations:
        out.append(
            panel_figure(
                root / PNGS["evaluations"],
                anytime.by_evaluations,
                x=XAxis("evaluations"),
                ylabel=best,
                title="Best validation score against evaluations",
                how=how + left,
                **look,
            )
        )
    if anytime.optima:
        regret = {w: f"regret to optimum {fmt(o)} (log scale)" for w, o in anytime.optima.items()}
        if any(anytime.regret_by_evaluations.values()):
            out.append(
                panel_figure(
                    root / PNGS["optimum_evaluations"],
                    {w: b for w, b in anytime.regret_by_evaluations.items() if b},
                    x=XAxis("evaluations"),
                    ylabel=regret,
                    title="Regret against the known optimum over evaluations",
                    how=how + left,
                    log_y=True,
                    **look,
                )
            )
        out.append(
            panel_figure(
                root / PNGS["optimum_time"],
                anytime.regret_by_time,
                x={w: XAxis(anytime.clocks[w], "s") for w in anytime.regret_by_time},
                ylabel=regret,
                title=f"Regret against the known optimum over {anytime.clock}",
                how=how,
                log_y=True,
                **look,
            )
        )
    return tuple(out)


def judgements(views: Sequence[WorkloadView], target: float | None) -> dict[str, Judgement]:
    """Workload -> its verdicts."""
    return {v.workload: judge(v, target) for v in views}


def document(
    matrix: Matrix,
    runs: Sequence[CellRun],
    missing: Sequence,
    views: Sequence[WorkloadView],
    order: list[str],
    ranked: Ranking | None = None,
    profiles: Profiles | None = None,
    judged: dict[str, Judgement] | None = None,
    studied: Sequence[Section] = (),
    anytime: Anytime | None = None,
    against: Against | None = None,
    claimed: Claimed | None = None,
) -> Document:
    """Verdict and final tables first (with the published numbers beside the measured ones,
    ``against``), then the figures and analyses (with the views of what the matrix studies,
    ``studied``), then the details."""
    anytime = anytime_of(views, matrix) if anytime is None else anytime
    against = published_view(matrix, views) if against is None else against
    claimed = claims_view(matrix, views) if claimed is None else claimed
    base, target = baselines(runs, matrix), matrix.target_score
    judged = judgements(views, target) if judged is None else judged
    finals = [sections.final_table(v, series_rows(v, target, base), target, judged[v.workload]) for v in views]
    ranked = ranking_of(views) if ranked is None else ranked
    profiles = profiles_of(views, order) if profiles is None else profiles
    no_base = "" if base else " No random-search contender ran, so there is no speedup over it."
    by_time, regret = sections.figures(
        PNGS["time"],
        PNGS["calls"],
        PNGS["regret"],
        PNGS["rank"],
        PNGS["heatmap"],
        len(views),
        clock=anytime.clock,
        evaluations_png=PNGS["evaluations"] if anytime.by_evaluations else None,
        without_evaluations=anytime.without,
        optimum_pngs=(
            (PNGS["optimum_evaluations"] if any(anytime.regret_by_evaluations.values()) else None, PNGS["optimum_time"])
            if anytime.optima
            else None
        ),
        optima=anytime.optima,
    )
    parts: list[Section] = [
        sections.verdict((*verdict_lines(views, judged, target), *against.lines, *claimed.lines)),
        Section(sections.TITLES["final"], ("One table per workload." + no_base,)),
        *finals,
        *against.sections,
        *claimed.sections,
        by_time,
        regret,
        sections.across_workloads(ranked, cd_diagram.CD_PNG),
        sections.performance_profile(profiles, cd_diagram.PROFILE_PNG),
        sections.pairwise_table(order, pairwise(views, order)),
        *studied,
        sections.compared(matrix, runs, order) if runs else Section(sections.TITLES["compared"], ("No cell finished.",)),
        settings_table(matrix, runs),
        sections.missing_table(missing),
    ]
    if runs:
        parts.append(sections.environment(matrix, runs, order, machine()))
    return Document(f"Comparison: {matrix.root.name}", tuple(parts))


def build_report(root: str | Path) -> ReportPaths:
    """Read ``root/matrix.json`` and every finished cell; write the report into ``root``."""
    root = Path(root)
    matrix = read_matrix(root)
    runs, missing = load_runs(matrix)
    order = series_order(matrix, runs)
    views = views_of(runs, matrix, order)
    ranked, profiles = ranking_of(views), profiles_of(views, order)
    reference = sorted(set(baselines(runs, matrix).values()), key=order.index)
    studied = study_views(root, views, order, matrix.target_score, baselines(runs, matrix))
    anytime, against = anytime_of(views, matrix), published_view(matrix, views)
    claimed = claims_view(matrix, views)
    pngs = (
        *draw(root, views, order, matrix, anytime),
        *cd_diagram.write(root, ranked, profiles, order, reference),
        *studied.figures,
    )
    judged = judgements(views, matrix.target_score)
    doc = document(matrix, runs, missing, views, order, ranked, profiles, judged, studied.sections, anytime, against, claimed)
    md, page = root / "report.md", root / "report.html"
    atomic_write_bytes(md, markdown.render(doc).encode("utf-8"))
    atomic_write_bytes(page, html.render(doc, root).encode("utf-8"))
    verdict = (*verdict_lines(views, judged, matrix.target_score), *against.lines, *claimed.lines)
    return ReportPaths(md, page, pngs, verdict)
