"""Where a run lives on disk: the journal (the one write path), tables derived from it, the
run directory.

``journal.jsonl`` is the source of truth. ``results.parquet``, ``trials.parquet``, scheduler
tables and the counts in ``summary.json`` are derived from it by :func:`derive`, which replay,
resume, compare and the report use too. Peers write a journal of the same events, so one
reader serves ours and theirs.
"""

from tunebench.store.files import atomic_write_bytes, atomic_write_json, atomic_write_parquet, jsonable
from tunebench.store.journal import JOURNAL, Journal, read_journal
from tunebench.store.rundir import RunDir, StoreError, read_run
from tunebench.store.tables import RESULT_COLUMNS, TRIAL_COLUMNS, Tables, best_trial, counts, derive, results_frame, trials_frame

__all__ = [
    "JOURNAL", "Journal", "RESULT_COLUMNS", "RunDir", "StoreError", "TRIAL_COLUMNS", "Tables", "atomic_write_bytes",
    "atomic_write_json", "atomic_write_parquet", "best_trial", "counts", "derive", "jsonable", "read_journal", "read_run", "results_frame",
    "trials_frame",
]
