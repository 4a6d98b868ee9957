"""Where a run lives on disk: an append-only journal, and the tables derived from it.

``journal.jsonl`` gets one line per event as it happens (the run's config, each trial's first
appearance, each Job, each result with the scheduler's decision), flushed at once, so a run
that dies loses nothing it had finished. ``summary.json``, ``results.parquet``,
``trials.parquet`` and any scheduler tables are written at the end, each atomically (a
temporary file renamed into place): a reader never sees half a file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd

from tunebench.trial import Decision, Job, Result, Trial

JOURNAL = "journal.jsonl"
RESULT_COLUMNS = [
    "trial_id", "step", "score", "n_steps", "decision", "worker", "queue_s", "compute_s", "score_s", "elapsed_s",
]


class StoreError(RuntimeError):
    """The output directory cannot be used; the message says why and what to do."""


def jsonable(value: Any) -> Any:
    """Plain JSON types; non-finite floats become None, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):
        return value.value
    return str(value)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(jsonable(obj), indent=2, sort_keys=False) + "\n").encode())


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Store:
    """One run's directory. Refuses a directory that already holds a run."""

    def __init__(self, out_dir: str | Path) -> None:
        self.dir = Path(out_dir)
        if self.dir.exists() and not self.dir.is_dir():
            raise StoreError(f"--out {str(self.dir)!r} is a file, not a directory")
        if (self.dir / JOURNAL).exists() or (self.dir / "summary.json").exists():
            raise StoreError(f"--out {str(self.dir)!r} already holds a run; choose a new directory (nothing was changed)")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._journal = open(self.dir / JOURNAL, "a", encoding="utf-8")
        except OSError as exc:
            raise StoreError(f"--out {str(self.dir)!r} cannot be written: {exc.strerror}") from None

    def log(self, kind: str, **fields: Any) -> None:
        """Append one event to the journal and flush it."""
        self._journal.write(json.dumps(jsonable({"kind": kind, **fields})) + "\n")
        self._journal.flush()

    def log_trial(self, trial: Trial) -> None:
        self.log("trial", trial_id=trial.trial_id, config=trial.config, seed=trial.seed, parent=trial.parent, bracket=trial.bracket)

    def log_job(self, job: Job) -> None:
        self.log("job", trial_id=job.trial_id, start_step=job.start_step, stop_step=job.stop_step,
                 clone_from=job.clone_from, config=dict(job.config))

    def log_result(self, result: Result, decision: Decision) -> None:
        self.log("result", decision=decision.value, **asdict(result))

    def close(self) -> None:
        if not self._journal.closed:
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._journal.close()

    def write_outputs(
        self, summary: dict[str, Any], results: pd.DataFrame, trials: pd.DataFrame, extra: dict[str, pd.DataFrame] | None = None
    ) -> None:
        """Write the tables, then ``summary.json`` last (its presence means the rest is there)."""
        atomic_write_parquet(self.dir / "results.parquet", results)
        atomic_write_parquet(self.dir / "trials.parquet", trials)
        for name, frame in (extra or {}).items():
            atomic_write_parquet(self.dir / f"{name}.parquet", frame)
        atomic_write_json(self.dir / "summary.json", summary)


def read_journal(path: str | Path) -> Iterator[dict[str, Any]]:
    """The journal's events in order; a torn last line (a crash mid-write) is skipped."""
    with open(Path(path) / JOURNAL if Path(path).is_dir() else path, encoding="utf-8") as fh:
        for line in fh:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def results_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=RESULT_COLUMNS)
    return frame.astype({"trial_id": "int64", "step": "int64", "n_steps": "int64", "score": "float64"})


def trials_frame(trials: Iterable[Trial]) -> pd.DataFrame:
    """One row per trial; its config as ``config.<key>`` columns plus the whole as JSON."""
    rows = []
    for t in trials:
        row: dict[str, Any] = {
            "trial_id": t.trial_id, "parent": t.parent, "status": t.status.value, "steps": t.steps,
            "last_score": t.last_score, "best_score": t.best_score, "bracket": t.bracket, "seed": t.seed,
            "config": json.dumps(jsonable(t.config), sort_keys=True),
        }
        row.update({f"config.{k}": jsonable(v) for k, v in t.config.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["trial_id", "parent", "status", "steps", "last_score", "best_score", "bracket", "seed", "config"])
    for col in ("parent", "bracket"):
        frame[col] = frame[col].astype("Int64")
    for col in [c for c in frame.columns if c.startswith("config.") and frame[c].dtype == object]:
        frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))
    return frame
