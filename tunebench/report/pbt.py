"""The PBT view: for every series whose runs logged a lineage (``pbt_log``), the hyperparameter
schedules and the family tree of its first seed's run (:mod:`tunebench.report.lineage`), and
over every seed how many exploits it made and how many generations its best trial's weights
went through. A matrix without such a series has no PBT view."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tunebench.report.analysis import WorkloadView
from tunebench.report.document import Block, Image, Section, Table, fmt
from tunebench.report.lineage import plot_run
from tunebench.report.runs import CellRun
from tunebench.report.stats import median_or_none
from tunebench.store import ancestry

TITLE = "PBT lineage"
LINEAGE_DIR = "lineage"
PNGS = (
    ("hyperparameters", "hyperparameter schedules across the population"),
    ("family_tree", "family tree of the best trial (bold: the weights it inherited)"),
)


def logged(run: CellRun) -> bool:
    return isinstance(run.extra.get("pbt_log"), pd.DataFrame)


def lineage_series(view: WorkloadView) -> list[str]:
    """The series of a workload whose first seed's run logged a lineage."""
    return [s for s in view.series if view.of(s) and logged(view.of(s)[0])]


def folder(workload: str, series: str) -> str:
    """Where a series' lineage figures go, relative to the report.

    >>> folder("sgd", "resample+perturb/8w")
    'lineage/sgd/resample+perturb-8w'
    """
    return "/".join((LINEAGE_DIR, *(re.sub(r"[^A-Za-z0-9_.@+-]+", "-", p).strip("-") or "x" for p in (workload, series))))


def exploits(run: CellRun) -> int:
    """Exploits in a run: rows of its lineage log with a donor."""
    log = run.extra.get("pbt_log")
    return int(log["donor"].notna().sum()) if isinstance(log, pd.DataFrame) and "donor" in log else 0


def generations(run: CellRun) -> int | None:
    """How many trials the best trial's weights went through, itself included."""
    best = run.summary.get("best_trial")
    if best is None or run.trials.empty:
        return None
    try:
        return len(ancestry(run.trials, int(best)))
    except (KeyError, ValueError):
        return None


def draw(root: Path, views: Sequence[WorkloadView]) -> tuple[Path, ...]:
    """Both lineage figures of each lineage series' first seed (its run directory under the
    comparison directory ``root``), written under ``root/lineage/``."""
    out: list[Path] = []
    for v in views:
        for s in lineage_series(v):
            first = v.of(s)[0]
            out += plot_run(root / first.cell.dir, root / folder(v.workload, s)).values()
    return tuple(out)


def section(views: Sequence[WorkloadView]) -> Section | None:
    """The table over seeds and each lineage series' figures, or ``None`` without one."""
    blocks: list[Block] = []
    for v in views:
        series = lineage_series(v)
        if not series:
            continue
        rows = tuple(
            (
                s,
                str(len(v.of(s))),
                fmt(median_or_none([exploits(r) for r in v.of(s)])),
                fmt(median_or_none([generations(r) for r in v.of(s)])),
            )
            for s in series
        )
        blocks.append(
            Table(
                ("series", "seeds", "exploits (median)", "generations of the best trial (median)"),
                rows,
                f"Workload {v.workload}: exploits are clones of a better trial's checkpoint; generations count "
                "the trials the best trial's weights were trained in, itself included. Figures: the first seed's run.",
            )
        )
        for s in series:
            blocks += [
                Image(f"{folder(v.workload, s)}/{name}.png", f"{s} on {v.workload}, seed {v.of(s)[0].seed}: {what}")
                for name, what in PNGS
            ]
    return Section(TITLE, tuple(blocks)) if blocks else None
