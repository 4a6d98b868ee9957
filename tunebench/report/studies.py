"""The report's views of what a matrix studies, each shown only when the matrix calls for it:
how the results change along every axis it varies (:mod:`tunebench.report.against`, with a
figure along workers), where a bracketed scheduler's steps went when one of its settings is
crossed (:mod:`tunebench.report.brackets`), the lineage of every PBT contender
(:mod:`tunebench.report.pbt`), and, where cells replayed a recording, how often a scheduler
stopped a trial that would have ended well (:mod:`tunebench.report.wrongly_stopped`), and, where
cells ran for real and replayed that run's recording, whether the simulator tells the truth
(:mod:`tunebench.report.simulator_truth`). A study is
a matrix config; these views are its tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tunebench.report import brackets, pbt, simulator_truth, wrongly_stopped
from tunebench.report.against import WORKERS_PNG, section, steps_of
from tunebench.report.analysis import WorkloadView
from tunebench.report.axes import matrix_axes
from tunebench.report.document import Section
from tunebench.report.workers_figure import workers_figure


@dataclass(frozen=True)
class Studied:
    """The sections the views add to the report, and the figures they wrote."""

    sections: tuple[Section, ...] = ()
    figures: tuple[Path, ...] = ()


def study_views(
    root: Path, views: Sequence[WorkloadView], order: Sequence[str], target: float | None, base: Mapping[str, str] | None = None
) -> Studied:
    """Compute and draw every view the comparison in ``root`` calls for; ``base``: the random-search
    baselines of the final tables, whose speedups the wrongly-stopped view repeats."""
    axes = matrix_axes([r for v in views for r in v.runs], order)
    parts: list[Section] = []
    figures: list[Path] = []
    for axis in axes:
        steps = {v.workload: steps_of(v, axis, target) for v in views}
        if not any(steps.values()):
            continue
        png = None
        if axis.name == "workers":
            timed = "seconds to target" if target is not None else "wall time (s)"
            figures.append(workers_figure(root / WORKERS_PNG, steps, timed=timed, metric={v.workload: v.metric for v in views}))
            png = WORKERS_PNG
        parts.append(section(axis, steps, views, target, png))
    bracket = brackets.section(views, axes)
    lineage = pbt.section(views)
    figures += pbt.draw(root, views)
    wrong = wrongly_stopped.section(views, target, base)
    truth = simulator_truth.section(views)
    return Studied(tuple(parts) + tuple(s for s in (bracket, lineage, wrong, truth) if s is not None), tuple(figures))
