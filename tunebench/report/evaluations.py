"""What an evaluation is in a cell, and the best score among a cell's first evaluations.

In our contenders' cells every row of ``results.parquet`` is one evaluation (a Job the loop ran,
then scored), in the order its score was observed (``elapsed_s``, journal order on ties). The
multi-fidelity peers (DEHB, HpBandSter, SMAC) record each evaluation their library asked for as
a row of ``evaluations.parquet`` (their results have a row per step instead): those rows are the
evaluations, less the ones the budget cut before they ran. Other peers record none, and are
not given a count.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tunebench.report.curves import Curve, running_best
from tunebench.report.runs import CellRun

TABLE = "evaluations"  # a multi-fidelity peer's table of evaluations (tunebench.compare.peers.evaluations)


def ordered(frame: pd.DataFrame, step: str = "step") -> pd.DataFrame:
    """Evaluations in the order they were observed (``elapsed_s``, stable), as columns ``step`` and ``score``.

    >>> ordered(pd.DataFrame({"step": [3, 1, 9], "score": [0.5, 0.2, 0.7], "elapsed_s": [2.0, 1.0, 2.0]})).to_dict("list")
    {'step': [1, 3, 9], 'score': [0.2, 0.5, 0.7]}
    """
    if frame.empty:
        return pd.DataFrame({"step": pd.Series(dtype=int), "score": pd.Series(dtype=float)})
    by_time = frame.sort_values("elapsed_s", kind="stable") if "elapsed_s" in frame else frame
    return pd.DataFrame(
        {
            "step": by_time[step].astype(int).to_numpy(),
            "score": pd.to_numeric(by_time["score"], errors="coerce").to_numpy(dtype=float),
        }
    )


def peer_evaluations(table: pd.DataFrame) -> pd.DataFrame:
    """A multi-fidelity peer's ``evaluations.parquet`` as evaluations: the rows that ran (not ``cut``)."""
    ran = table[table["status"] != "cut"] if "status" in table else table
    return ordered(ran, "steps")


def evaluations_of(run: CellRun) -> pd.DataFrame | None:
    """A cell's evaluations in order (``step``, ``score``); ``None`` for a peer that records none."""
    if run.cell.kind != "peer":
        return ordered(run.results)
    table = run.extra.get(TABLE)
    return None if table is None else peer_evaluations(table)


def evaluations_curve(evaluations: pd.DataFrame, mode: str) -> Curve:
    """Best score so far against evaluations made (1, 2, ...).

    >>> c = evaluations_curve(pd.DataFrame({"step": [1, 1, 3], "score": [0.4, 0.2, 0.3]}), "min")
    >>> c.x.tolist(), c.y.tolist()
    ([1.0, 2.0, 3.0], [0.4, 0.2, 0.2])
    """
    return Curve(np.arange(1, len(evaluations) + 1, dtype=float), running_best(evaluations["score"], mode))


def best_among_first(evaluations: pd.DataFrame, at: Sequence[int], mode: str, top: int | None = None) -> np.ndarray:
    """For each ``k`` in ``at``, the best score among the first ``k`` evaluations (all of them when
    fewer ran); with ``top``, only evaluations at step ``top`` count. NaN where none counts yet.

    >>> e = pd.DataFrame({"step": [1, 9, 1, 9], "score": [0.1, 0.5, 0.9, 0.6]})
    >>> best_among_first(e, [1, 2, 3, 10], "max").tolist(), best_among_first(e, [1, 2, 3, 10], "max", top=9).tolist()
    ([0.1, 0.5, 0.9, 0.9], [nan, 0.5, 0.5, 0.6])
    """
    scores = evaluations["score"].to_numpy(dtype=float)
    if top is not None:
        scores = np.where(evaluations["step"].to_numpy() == top, scores, np.nan)
    best = running_best(scores, mode)
    return np.array([best[min(k, len(best)) - 1] if len(best) else np.nan for k in at], dtype=float)
