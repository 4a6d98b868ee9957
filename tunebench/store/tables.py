"""Tables derived from a journal: one row per result, one row per trial, scheduler tables.

:func:`derive` folds the events of :mod:`tunebench.store.journal` into :class:`Tables`; the
run writes exactly these, and replay, resume, compare and the report read them back the same
way. A trial's status follows its last event: ``running`` after a Job, then the decision of
its last result (``continue`` and ``pause`` leave it ``paused``), a ``status`` event, or a
final ``failure`` event (``failed``, with the error). A failed trial is never the best one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tunebench.scores import best_of, rank_key
from tunebench.store.files import jsonable

RESULT_COLUMNS = [
    "trial_id",
    "step",
    "score",
    "n_steps",
    "decision",
    "worker",
    "queue_s",
    "compute_s",
    "score_s",
    "elapsed_s",
    "test_score",
]
TRIAL_COLUMNS = ["trial_id", "parent", "status", "steps", "last_score", "best_score", "seed", "error", "config"]
STATUS_AFTER = {"continue": "paused", "pause": "paused", "stop": "stopped", "complete": "completed"}


@dataclass
class TrialRow:
    """What the journal says of one trial so far."""

    trial_id: int
    config: dict[str, Any]
    seed: int | None
    parent: int | None
    tags: dict[str, Any]
    status: str = "pending"
    steps: int = 0
    scores: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass
class Tables:
    """A journal folded into tables, plus its ``start`` and ``end`` events (``None`` if absent)."""

    results: pd.DataFrame
    trials: pd.DataFrame
    extra: dict[str, pd.DataFrame]
    start: dict[str, Any] | None
    end: dict[str, Any] | None
    mode: str
    failures: list[dict[str, Any]] = field(default_factory=list)

    def best(self) -> pd.Series | None:
        """The best trial's row: best last score (non-finite ranks worst), ties to the lower id."""
        return best_trial(self.trials, self.mode)


def score_of(value: Any) -> float:
    """A journaled score as a float: NaN and +-inf come back as they were journaled
    (:mod:`tunebench.store.journal`); ``None``, a score no result had or an older journal's
    non-finite one, reads back as NaN."""
    return math.nan if value is None else float(value)


def fold_trials(events: Iterable[dict[str, Any]]) -> dict[int, TrialRow]:
    """Each trial's row after every event."""
    trials: dict[int, TrialRow] = {}
    for e in events:
        kind = e["kind"]
        if kind == "trial":
            tid = int(e["trial_id"])
            trials[tid] = TrialRow(tid, dict(e.get("config") or {}), e.get("seed"), e.get("parent"), dict(e.get("tags") or {}))
        elif kind == "job":
            trials[int(e["trial_id"])].status = "running"
        elif kind == "result":
            row = trials[int(e["trial_id"])]
            row.steps = int(e["step"])
            row.scores.append(score_of(e.get("score")))
            row.status = STATUS_AFTER.get(str(e.get("decision")), row.status)
        elif kind == "status":
            row = trials[int(e["trial_id"])]
            row.status = str(e["status"])
            row.error = e.get("error", row.error)
        elif kind == "failure" and e.get("final"):
            row = trials[int(e["trial_id"])]
            row.status, row.error = "failed", e.get("error")
    return trials


def trials_frame(rows: Iterable[TrialRow], mode: str) -> pd.DataFrame:
    """One row per trial; its config as ``config.<key>`` columns (plus the whole as JSON) and
    its tags as columns of their own."""
    out = []
    for t in rows:
        row: dict[str, Any] = {
            "trial_id": t.trial_id,
            "parent": t.parent,
            "status": t.status,
            "steps": t.steps,
            "last_score": t.scores[-1] if t.scores else None,
            "best_score": best_of(t.scores, mode),
            "seed": t.seed,
            "error": t.error,
            "config": json.dumps(jsonable(t.config), sort_keys=True),
        }
        row.update({k: jsonable(v) for k, v in t.tags.items() if k not in row})
        row.update({f"config.{k}": jsonable(v) for k, v in t.config.items()})
        out.append(row)
    frame = pd.DataFrame(out)
    if frame.empty:
        return pd.DataFrame(columns=TRIAL_COLUMNS)
    frame["parent"] = frame["parent"].astype("Int64")
    for col in ("last_score", "best_score"):
        frame[col] = frame[col].astype("float64")
    for col in [c for c in frame.columns if c.startswith("config.") and frame[c].dtype == object]:
        frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))
    return frame


def results_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per result, in journal order."""
    frame = pd.DataFrame([{c: r.get(c) for c in RESULT_COLUMNS} for r in rows], columns=RESULT_COLUMNS)
    frame["score"] = frame["score"].map(score_of)
    frame["test_score"] = pd.to_numeric(frame["test_score"], errors="coerce")
    return frame.astype({"trial_id": "int64", "step": "int64", "n_steps": "int64", "score": "float64"})


def best_trial(trials: pd.DataFrame, mode: str) -> pd.Series | None:
    """The trial with the best last score; a non-finite score ranks worst; ties to the lower id;
    a failed trial is not a candidate."""
    scored = trials[trials["last_score"].notna() & (trials["status"] != "failed")] if len(trials) else trials
    if scored.empty:
        return None
    keys = [(rank_key(s, mode), -int(t)) for s, t in zip(scored["last_score"], scored["trial_id"])]
    return scored.iloc[max(range(len(keys)), key=keys.__getitem__)]


def ancestry(trials: pd.DataFrame, trial_id: int) -> list[int]:
    """``trial_id`` and its parents, oldest first (an initial trial has no parent).

    >>> ancestry(pd.DataFrame({"trial_id": [0, 1, 2], "parent": [None, 0, 1]}), 2)
    [0, 1, 2]
    """
    parent = {int(r.trial_id): (None if pd.isna(r.parent) else int(r.parent)) for r in trials.itertuples()}
    if trial_id not in parent:
        raise KeyError(f"no trial {trial_id} in this run (trials 0..{max(parent, default=-1)})")
    chain = [trial_id]
    while parent[chain[-1]] is not None:
        chain.append(parent[chain[-1]])  # type: ignore[arg-type]
        if len(chain) > len(parent):
            raise ValueError(f"trial {trial_id}: the parent links form a cycle")
    return chain[::-1]


def derive(events: Iterable[dict[str, Any]]) -> Tables:
    """Fold a journal's events into its tables."""
    events = list(events)
    start = next((e for e in events if e["kind"] == "start"), None)
    end = next((e for e in reversed(events) if e["kind"] == "end"), None)
    mode = str((start or {}).get("mode") or "max")
    results = results_frame(e for e in events if e["kind"] == "result")
    trials = trials_frame(fold_trials(events).values(), mode)
    extra: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e["kind"] == "table":
            extra.setdefault(str(e["name"]), []).append(e["row"])
    failures = [e for e in events if e["kind"] == "failure"]
    return Tables(results, trials, {k: pd.DataFrame(v) for k, v in extra.items()}, start, end, mode, failures)


def counts(tables: Tables) -> dict[str, Any]:
    """The summary's numbers that follow from the journal alone: ``failures`` counts failed
    trials, ``failed_jobs`` every failed attempt, ``retries`` the attempts sent again."""
    best = tables.best()
    res, trials, failures = tables.results, tables.trials, tables.failures
    return {
        "n_trials": int(len(trials)),
        "n_results": int(len(res)),
        "partial_fit_calls": int(res["n_steps"].sum()) if len(res) else 0,
        "best_trial": None if best is None else int(best["trial_id"]),
        "best_score": None if best is None else float(best["last_score"]),
        "best_config": None if best is None else json.loads(best["config"]),
        "failures": int((trials["status"] == "failed").sum()) if len(trials) else 0,
        "failed_jobs": sum(1 for _ in failures),
        "retries": sum(1 for e in failures if not e.get("final")),
    }
