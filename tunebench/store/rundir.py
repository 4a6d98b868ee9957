"""A run's directory: created fresh (never over another run), written atomically, read back.

``--out DIR`` must be new, empty, or hold no run yet. Tables and ``summary.json`` are written
at the end, each atomically, ``summary.json`` last: its presence means the rest is there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from tunebench.store.files import atomic_write_json, atomic_write_parquet
from tunebench.store.journal import JOURNAL, Journal, read_journal
from tunebench.store.tables import Tables, derive

SUMMARY = "summary.json"


class StoreError(RuntimeError):
    """The output directory cannot be used; the message says why and what to do."""


class RunDir:
    """One run's directory; :meth:`create` refuses a directory that already holds a run."""

    def __init__(self, path: str | Path) -> None:
        self.dir = Path(path)

    @classmethod
    def create(cls, path: str | Path) -> RunDir:
        run = cls(path)
        d = run.dir
        if d.exists() and not d.is_dir():
            raise StoreError(f"--out {str(d)!r} is a file, not a directory")
        if (d / JOURNAL).exists() or (d / SUMMARY).exists():
            raise StoreError(f"--out {str(d)!r} already holds a run; choose a new directory (nothing was changed)")
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"--out {str(d)!r} cannot be written: {exc.strerror}") from None
        return run

    @property
    def journal_path(self) -> Path:
        return self.dir / JOURNAL

    def journal(self) -> Journal:
        """The journal, opened for appending."""
        try:
            return Journal(self.journal_path)
        except OSError as exc:
            raise StoreError(f"--out {str(self.dir)!r} cannot be written: {exc.strerror}") from None

    @property
    def finished(self) -> bool:
        return (self.dir / SUMMARY).is_file()

    def tables(self) -> Tables:
        """The journal's tables (see :func:`tunebench.store.tables.derive`)."""
        if not self.journal_path.is_file():
            raise StoreError(f"{str(self.dir)!r} is not a run directory: no {JOURNAL}")
        return derive(read_journal(self.journal_path))

    def write(self, tables: Tables, summary: dict[str, Any]) -> None:
        """Write the tables, then ``summary.json`` last."""
        atomic_write_parquet(self.dir / "results.parquet", tables.results)
        atomic_write_parquet(self.dir / "trials.parquet", tables.trials)
        for name, frame in tables.extra.items():
            atomic_write_parquet(self.dir / f"{name}.parquet", frame)
        atomic_write_json(self.dir / SUMMARY, summary)


def read_run(path: str | Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """``summary.json``, ``results.parquet``, ``trials.parquet`` and any other tables of a finished run."""
    d = Path(path)
    for name in (SUMMARY, "results.parquet", "trials.parquet"):
        if not (d / name).is_file():
            raise FileNotFoundError(f"{str(d)!r} is not a finished run: no {name}")
    extra = {p.stem: pd.read_parquet(p) for p in sorted(d.glob("*.parquet")) if p.stem not in ("results", "trials")}
    summary = json.loads((d / SUMMARY).read_text())
    return summary, pd.read_parquet(d / "results.parquet"), pd.read_parquet(d / "trials.parquet"), extra
