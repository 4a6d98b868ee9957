"""The journal: one JSON line per event, appended and flushed as it happens.

It is the one write path of a run. Events (``kind`` and its fields):

- ``start``: ``config`` (the resolved experiment), ``version``, ``time``;
- ``trial``: a trial's first appearance: ``trial_id``, ``config``, ``seed``, ``parent``, ``tags``;
- ``job``: ``trial_id``, ``start_step``, ``stop_step``, ``clone_from``, ``config``;
- ``result``: the :class:`~tunebench.trial.Result` fields plus the scheduler's ``decision``;
- ``status``: ``trial_id``, ``status``: a change no result carries (a paused trial stopped
  when its rung closed);
- ``failure``: a Job that raised or ran out of time: ``trial_id``, ``start_step``,
  ``stop_step``, ``clone_from``, ``error`` (``"Type: message"``), ``attempt`` (the trial's
  how-manyth failure), ``final`` (false: the Job was sent again; true: the trial is
  ``failed``) and the scheduler's ``decision`` when final;
- ``table``: ``name``, ``row``: a row of a scheduler's own table (PBT's lineage);
- ``end``: ``status``, ``error``, ``wall_time_s``, and whatever the run adds.

A run that dies keeps every line it flushed; a torn last line (the kill landed mid-write) is
skipped by :func:`read_journal`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from tunebench.store.files import jsonable

JOURNAL = "journal.jsonl"


class Journal:
    """An append-only ``journal.jsonl``; ``sync`` forces lines to disk at :meth:`close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = open(self.path, "a", encoding="utf-8")
        self._dumps = json.JSONEncoder(allow_nan=False).encode

    def log(self, kind: str, **fields: Any) -> None:
        """Append one event and flush it."""
        self._fh.write(self._dumps(jsonable({"kind": kind, **fields})) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_journal(path: str | Path) -> Iterator[dict[str, Any]]:
    """The journal's events in order (``path`` is the file or its run directory); a torn or
    garbled line is skipped."""
    p = Path(path)
    with open(p / JOURNAL if p.is_dir() else p, encoding="utf-8") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and "kind" in event:
                yield event
