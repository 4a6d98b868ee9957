"""Where the steps of a bracketed scheduler went: for each series whose trials carry a
``bracket`` (Hyperband, ASHA with several brackets), each bracket's share of the steps trained
and how often the run's best trial came from it.

Which bracket a scheduler serves first, its patience or its budget changes that share, and with
it how soon good configurations show up (the anytime curves) and how long the whole plan takes.
The report shows this view when the matrix crosses a setting of such a scheduler
(:mod:`tunebench.report.axes`), for example ``bracket_order``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tunebench.report.analysis import WorkloadView
from tunebench.report.axes import Axis
from tunebench.report.document import Block, Section, Table
from tunebench.report.runs import CellRun

TITLE = "Steps per bracket"


def bracket_steps(results: pd.DataFrame, trials: pd.DataFrame) -> dict[int, int]:
    """Steps trained per bracket (trials without a bracket left out).

    >>> r = pd.DataFrame({"trial_id": [0, 0, 1], "n_steps": [1, 2, 9]})
    >>> bracket_steps(r, pd.DataFrame({"trial_id": [0, 1], "bracket": [2, 0]}))
    {0: 9, 2: 3}
    """
    if "bracket" not in trials or results.empty:
        return {}
    of = dict(zip(trials["trial_id"].astype(int), trials["bracket"]))
    steps = results.assign(bracket=results["trial_id"].astype(int).map(of)).dropna(subset=["bracket"])
    return {int(b): int(n) for b, n in steps.groupby("bracket")["n_steps"].sum().sort_index().items()}


def best_bracket(run: CellRun) -> int | None:
    """The bracket of the run's best trial."""
    best, trials = run.summary.get("best_trial"), run.trials
    if best is None or "bracket" not in trials:
        return None
    hit = trials.loc[trials["trial_id"].astype(int) == int(best), "bracket"]
    return None if hit.empty or pd.isna(hit.iloc[0]) else int(hit.iloc[0])


def bracketed(run: CellRun) -> bool:
    """Whether the run's trials fall in more than one bracket."""
    return "bracket" in run.trials and run.trials["bracket"].dropna().nunique() > 1


def share_text(runs: Sequence[CellRun], bracket: int) -> str:
    """A bracket's share of the steps (mean over seeds) and the seeds whose best trial came from it."""
    shares = []
    for r in runs:
        steps = bracket_steps(r.results, r.trials)
        total = sum(steps.values())
        shares.append(steps.get(bracket, 0) / total if total else 0.0)
    wins = sum(best_bracket(r) == bracket for r in runs)
    return f"{sum(shares) / len(shares):.0%} ({wins})"


def section(views: Sequence[WorkloadView], axes: Sequence[Axis]) -> Section | None:
    """The view, or ``None`` when no setting of a bracketed scheduler varies."""
    crossed = [s for a in axes if not a.placed for row in a.rows for s in row.series.values()]
    blocks: list[Block] = []
    for v in views:
        series = [s for s in v.series if s in crossed and any(bracketed(r) for r in v.of(s))]
        if not series:
            continue
        brackets = sorted({b for s in series for r in v.of(s) for b in bracket_steps(r.results, r.trials)}, reverse=True)
        rows = tuple((s, str(len(v.of(s))), *(share_text(v.of(s), b) for b in brackets)) for s in series)
        caption = (
            "Per bracket (most aggressive first): its share of the steps trained, mean over seeds, and in brackets the "
            "seeds whose best trial came from it."
        )
        if len(views) > 1:
            blocks.append(f"Workload {v.workload}:")
        blocks.append(Table(("series", "seeds", *(f"bracket {b}" for b in brackets)), rows, caption))
    return Section(TITLE, tuple(blocks)) if blocks else None
