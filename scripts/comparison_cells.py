"""The finished cells of a ``tunebench compare`` directory as one table, for the study scripts.

One row per ``done`` cell of ``DIR/matrix.json``: its label, the scheduler entry it came from,
searcher, workers, executor, workload and seed, and from its run directory the best validation
score (at any step, and among results at ``max_iter``), its test score, trials, calls, (virtual)
wall time, the time and calls until a score at or past ``target`` was first observed (``inf``:
never) and the time until the cell's own best was.
The scripts run their matrix through :func:`tunebench.compare.runner.compare` and then read it
back with :func:`cell_table`, so every number comes from ordinary run directories.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.scores import rank_key
from tunebench.store import read_run


def run_matrix(path: str | Path, out: str | Path, overrides: Sequence[str] = (), jobs: int = 1) -> Path:
    """Validate and run every unfinished cell of the matrix at ``path`` into ``out``."""
    return compare(load_matrix(path, list(overrides)), out, jobs=jobs)


def first_reach(results: pd.DataFrame, target: float | None, mode: str, column: str) -> float:
    """``column`` (``elapsed_s`` or cumulative calls) at the first result at or past ``target``.

    >>> r = pd.DataFrame({"score": [0.5, 0.9, 0.95], "elapsed_s": [1.0, 2.0, 3.0]})
    >>> first_reach(r, 0.9, "max", "elapsed_s"), first_reach(r, 0.99, "max", "elapsed_s")
    (2.0, inf)
    """
    if target is None or results.empty:
        return math.inf
    hit = np.array([rank_key(s, mode) >= rank_key(target, mode) for s in results["score"]])
    return float(results[column][hit].min()) if hit.any() else math.inf


def base_label(label: str, searcher: str | None, workers: int, axis: bool) -> str:
    """The scheduler entry's own label inside a cell label ``<entry>[+<searcher>][/<k>w]``.

    >>> base_label("asha+tpe/8w", "tpe", 8, True), base_label("hyperband", None, 2, False)
    ('asha', 'hyperband')
    """
    if axis and label.endswith(f"/{workers}w"):
        label = label[: -len(f"/{workers}w")]
    if searcher and label.endswith(f"+{searcher}"):
        label = label[: -len(f"+{searcher}")]
    return label


def cell_row(root: Path, cell: dict[str, Any], target: float | None, max_iter: int | None, axis: bool) -> dict[str, Any]:
    summary, results, trials, _ = read_run(root / cell["dir"])
    mode = str(summary.get("mode") or "max")
    results = results.sort_values("elapsed_s", kind="stable").assign(calls=lambda r: r["n_steps"].cumsum())
    final = results[results["step"] == max_iter] if max_iter is not None else results.iloc[0:0]
    keys = [rank_key(s, mode) for s in final["score"]]
    searcher = cell.get("searcher")
    return {
        "label": cell["label"], "contender": base_label(cell["label"], searcher, int(cell.get("workers") or 0), axis),
        "searcher": searcher or "random", "workers": cell.get("workers"), "executor": cell["executor"],
        "workload": cell["workload"], "seed": cell["seed"], "best": summary.get("best_score"),
        "best_final": float(final["score"].iloc[int(np.argmax(keys))]) if keys else math.nan,
        "trials": summary.get("n_trials"), "calls": summary.get("partial_fit_calls"), "wall_s": summary.get("wall_time_s"),
        "to_target_s": first_reach(results, target, mode, "elapsed_s"), "to_target_calls": first_reach(results, target, mode, "calls"),
        "to_best_s": first_reach(results, summary.get("best_score"), mode, "elapsed_s"), "test": summary.get("test_score"),
        "mode": mode, "dir": str(root / cell["dir"]),
    }


def cell_table(out: str | Path, target: float | None = None) -> pd.DataFrame:
    """Every ``done`` cell of the comparison in ``out`` (target: the matrix's ``target_score``
    unless given)."""
    root = Path(out)
    state = json.loads((root / "matrix.json").read_text())
    raw = state.get("matrix") or {}
    target = raw.get("target_score") if target is None else target
    axis = isinstance(raw.get("workers"), list) and len(raw["workers"]) > 1
    rows = [cell_row(root, c, target, raw.get("max_iter"), axis) for c in state["cells"] if c["status"] == "done"]
    return pd.DataFrame(rows)


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """Median, 25% and 75% quantiles; a value of ``inf`` (never reached) counts as the largest.

    >>> quartiles([1.0, 2.0, 3.0]), quartiles([1.0, float("inf"), float("inf")])[0]
    ((2.0, 1.5, 2.5), inf)
    """
    a = np.asarray(values, dtype=float)
    method = "linear" if np.isfinite(a).all() else "lower"
    return tuple(float(np.percentile(a, q, method=method)) for q in (50, 25, 75))  # type: ignore[return-value]


def fmt_seconds(m: tuple[float, float, float]) -> str:
    """``median [q25, q75]`` of seconds to three significant digits, or ``not reached``.

    >>> fmt_seconds((1234.5, 0.01234, float("inf"))), fmt_seconds((float("inf"),) * 3)
    ('1.23e+03 [0.0123, never]', 'not reached')
    """
    if not math.isfinite(m[0]):
        return "not reached"
    return f"{m[0]:.3g} [" + ", ".join(f"{v:.3g}" if math.isfinite(v) else "never" for v in m[1:]) + "]"
