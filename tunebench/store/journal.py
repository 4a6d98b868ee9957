"""The journal: one JSON line per event, appended and flushed as it happens.

It is the one write path of a run. Events (``kind`` and its fields):

- ``start``: ``config`` (the resolved experiment), ``version``, ``time``, ``space`` (the space
  the run used, in YAML form);
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

Numbers that are not finite are written as JSON's non-standard tokens ``NaN``, ``Infinity``
and ``-Infinity`` (as Python's :mod:`json` writes them), which :func:`read_journal` reads back
as exactly those floats: a trial that reported an infinite loss is journaled as ``Infinity``,
so resume rebuilds it to the same score and the tables keep it. The journal is read with
Python's :mod:`json` (or any reader that accepts these tokens); journals written before
non-finite numbers were kept hold ``null`` there, which a score reads back as NaN.

A run that dies keeps every line it flushed; a torn last line (the kill landed mid-write) is
skipped by :func:`read_journal`. :meth:`Journal.log` flushes at once; the loop's events go
through :meth:`Journal.write`, which holds lines until the next :meth:`Journal.flush`, and the
loop flushes each time it is about to wait for results (``Sink.on_wait``): every decision is on
disk before the run waits again, and a journal cut anywhere is still a prefix of whole events,
which is what resume replays.
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tunebench.store.files import jsonable

JOURNAL = "journal.jsonl"


SCALARS = (str, int, bool, float, type(None))


def plain(value: Any) -> Any:
    """:func:`~tunebench.store.files.jsonable` with the plain types of a journal row handled
    inline (a journal row is a flat dict of numbers and strings, a config or two inside);
    unlike it, a float that is not finite stays as it is (and a numpy float becomes a float).

    >>> plain({"a": [1, 2.5, float("nan")], "b": None, 3: (True, "x"), "c": float("-inf")})
    {'a': [1, 2.5, nan], 'b': None, '3': [True, 'x'], 'c': -inf}
    """
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                key = str(key)
            if type(item) in SCALARS:
                out[key] = item
            else:
                out[key] = plain(item)
        return out
    if kind in SCALARS:
        return value
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return float(value)
    return jsonable(value)


class Journal:
    """An append-only ``journal.jsonl``; :meth:`close` forces the lines to disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = open(self.path, "a", encoding="utf-8")
        self._dumps = json.JSONEncoder(allow_nan=True).encode
        self._lines: list[str] = []

    def log(self, kind: str, **fields: Any) -> None:
        """Append one event and flush it (with any lines :meth:`write` holds, in order)."""
        self.write(kind, fields)
        self.flush()

    def write(self, kind: str, fields: dict[str, Any]) -> None:
        """Append one event; it reaches the file at the next :meth:`flush`."""
        self._lines.append(self._dumps(plain({"kind": kind, **fields})) + "\n")

    def flush(self) -> None:
        """Write the lines held, whole, and flush them to the operating system."""
        if self._lines:
            self._fh.write("".join(self._lines))
            self._lines.clear()
            self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self.flush()
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
