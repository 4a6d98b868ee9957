"""Human-readable views: one run's summary table, and the report of a comparison.

:func:`summary_table` is what ``tunebench run`` prints at the end. :func:`build_report` turns a
comparison directory (``matrix.json`` plus one run directory per cell) into ``report.md``,
a self-contained ``report.html`` and PNG figures, with the statistics of
:mod:`tunebench.report.stats`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunebench.report.run_summary import summary_table

if TYPE_CHECKING:
    from tunebench.report.build import ReportPaths

__all__ = ["build_report", "summary_table"]


def build_report(root: Any) -> ReportPaths:
    """See :func:`tunebench.report.build.build_report` (imported on use: matplotlib and scipy
    load only when a report is built, not on every ``tunebench run``)."""
    from tunebench.report.build import build_report as build

    return build(root)
