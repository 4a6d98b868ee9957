"""Where a run lives on disk: the journal (the one write path), tables derived from it, the
run directory.

``journal.jsonl`` is the source of truth. ``results.parquet``, ``trials.parquet``, scheduler
tables and the counts in ``summary.json`` are derived from it by :func:`derive`, which replay,
resume, compare and the report use too. Peers write a journal of the same events, so one
reader serves ours and theirs. A comparison's cells are stacked into one set of tables by
:mod:`tunebench.store.combined`, and :func:`load` reads a comparison's or a run's tables back.
"""

from tunebench.store.combined import ID_COLUMNS, ComparisonTables, ResultTables
from tunebench.store.files import atomic_write_bytes, atomic_write_json, atomic_write_parquet, jsonable
from tunebench.store.journal import JOURNAL, Journal, read_journal
from tunebench.store.loader import NotResultsError, load
from tunebench.store.rundir import RunDir, StoreError, read_run
from tunebench.store.tables import (
    RESULT_COLUMNS,
    TRIAL_COLUMNS,
    Tables,
    ancestry,
    best_trial,
    counts,
    derive,
    results_frame,
    trials_frame,
)

__all__ = [
    "ComparisonTables",
    "ID_COLUMNS",
    "JOURNAL",
    "Journal",
    "NotResultsError",
    "RESULT_COLUMNS",
    "ResultTables",
    "RunDir",
    "StoreError",
    "TRIAL_COLUMNS",
    "Tables",
    "ancestry",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_parquet",
    "best_trial",
    "counts",
    "derive",
    "jsonable",
    "load",
    "read_journal",
    "read_run",
    "results_frame",
    "trials_frame",
]
