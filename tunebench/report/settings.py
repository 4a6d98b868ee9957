"""The report's settings table, among its details: every contender's algorithm settings as its
own system received them, side by side, differences within a family marked, and the budget
each actually used.

``compare`` records each contender's family, effective shared settings, the names its own
library gives them and any ``differs`` reason in ``matrix.json``
(:mod:`tunebench.compare.fairness`); the calls, seconds and trials used come from the finished
cells' summaries (medians over seeds), and the evaluations made too when the matrix's budget is
in evaluations (``budget.evaluations``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tunebench.report.document import Items, Section, Table, fmt
from tunebench.report.runs import CellRun
from tunebench.report.stats import median_or_none
from tunebench.store.comparison import Contender, Matrix

TITLE = "Settings: what each contender ran"
MARK = " ≠"


def value_text(value: Any) -> str:
    """A setting's value for the table.

    >>> value_text(True), value_text(0.25), value_text(None), value_text("stopping")
    ('true', '0.25', 'none', 'stopping')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return value if isinstance(value, str) else json.dumps(value)


def different(contenders: Sequence[Contender]) -> set[tuple[str, str]]:
    """``(label, setting)`` of every value not shared by every contender of its family that has
    the setting.

    >>> a = Contender("a", "scheduler", "pbt", {"perturbation_interval": 9})
    >>> b = Contender("b", "peer", "pbt", {"perturbation_interval": 3})
    >>> c = Contender("c", "peer", "hyperband", {"eta": 3})
    >>> sorted(different([a, b, c]))
    [('a', 'perturbation_interval'), ('b', 'perturbation_interval')]
    """
    out: set[tuple[str, str]] = set()
    for family in {c.algorithm for c in contenders if c.algorithm}:
        mine = [c for c in contenders if c.algorithm == family]
        for name in {k for c in mine for k in c.settings}:
            values = {json.dumps(c.settings[name], sort_keys=True) for c in mine if name in c.settings}
            if len(values) > 1:
                out.update((c.label, name) for c in mine if name in c.settings)
    return out


def cell_text(c: Contender, name: str, marked: set[tuple[str, str]]) -> str:
    """One setting of one contender: its value and, in brackets, the name its own system gives
    it, ``fixed`` (the system cannot change it) or ``derived`` (it follows from the others)."""
    if name not in c.settings:
        return ""
    own = c.received.get(name, "derived")
    where = "" if own == name else f" ({own})"
    return value_text(c.settings[name]) + where + (MARK if (c.label, name) in marked else "")


USED = ("partial_fit_calls", "wall_time_s", "n_trials")


def used(runs: Sequence[CellRun], label: str, keys: Sequence[str] = USED) -> tuple[str, ...]:
    """Median calls, wall seconds and trials (or other summary ``keys``) over a contender's finished cells."""
    mine = [r for r in runs if r.cell.label == label]
    return tuple(fmt(median_or_none([r.get(k) for r in mine])) for k in keys)


def settings_table(matrix: Matrix, runs: Sequence[CellRun]) -> Section:
    """Rows: contenders, grouped by family; columns: every shared setting any of them has, then
    the budget used."""
    families = {c.algorithm for c in matrix.contenders}
    contenders = sorted(matrix.contenders, key=lambda c: (not c.algorithm, c.algorithm))
    names = list(dict.fromkeys(k for c in contenders for k in c.settings))
    if not names:
        return Section(TITLE, ("The comparison recorded no algorithm settings (a matrix from before shared settings).",))
    marked = different(contenders)
    most = matrix.budget.get("evaluations")
    keys = (*USED, "evaluations") if most is not None else USED
    rows = tuple(
        (c.label, c.algorithm or "-", *(cell_text(c, n, marked) for n in names), *used(runs, c.label, keys)) for c in contenders
    )
    headers = (
        "contender",
        "family",
        *names,
        "calls",
        "wall time (s)",
        "trials",
        *([f"evaluations (of {most})"] if most is not None else []),
    )
    caption = (
        f"Each value as its own system received it (its name there in brackets; derived: follows from the others; fixed: "
        f"the system cannot change it); {MARK.strip()}: differs within its family. Calls, wall time and trials"
        f"{', and evaluations made within budget.evaluations,' if most is not None else ''}: "
        f"medians over the finished seeds. {len(families - {''})} families."
    )
    reasons = [f"{c.label}: {name} differs because {why}" for c in contenders for name, why in c.differs.items()]
    blocks: list[Any] = [Table(headers, rows, caption)]
    if reasons:
        blocks += ["Differences the matrix states on purpose:", Items(tuple(reasons))]
    elif marked:
        blocks.append("Settings marked differ with no reason recorded: this comparison was not checked for fairness.")
    else:
        blocks.append("Every contender of a family ran the same settings.")
    return Section(TITLE, tuple(blocks))
