"""What a scheduler may do beyond the base contract; the loop checks for it with isinstance.

:class:`~tunebench.scheduler.Scheduler` holds what every scheduler needs. A scheduler that asks
the executor to hold snapshots of checkpoints for later clones (asynchronous PBT's donors)
implements :class:`KeepsSnapshots`; one that logs rows of a table of its own (PBT's lineage,
journaled as ``table`` events and written as ``<table>.parquet``) implements :class:`EmitsRows`.
Both are structural: a plugin defines the methods, it need not import this module. The loop,
resume and the Ray Tune bridge ask only a scheduler that has them.

>>> class Plain:
...     pass
>>> class Logs:
...     def pop_rows(self):
...         return [("log", {"step": 0})]
>>> isinstance(Plain(), EmitsRows), isinstance(Logs(), EmitsRows), pop_rows(Plain()), pop_rows(Logs())
(False, True, [], [('log', {'step': 0})])
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class KeepsSnapshots(Protocol):
    """A scheduler that asks for snapshots of checkpoints (``clone_from`` a step its donor has
    since trained past). The loop calls :meth:`enable_keeping` before the first ``suggest`` when
    its executor ``keeps``; until then the scheduler must not ask. After every call into the
    scheduler the loop passes :meth:`pop_kept` to ``executor.keep`` (before any other Job goes
    out) and :meth:`pop_unkept` to ``executor.drop_kept``."""

    def enable_keeping(self) -> None: ...

    def pop_kept(self) -> list[tuple[int, int]]: ...

    def pop_unkept(self) -> list[tuple[int, int]]: ...


@runtime_checkable
class EmitsRows(Protocol):
    """A scheduler with tables of its own: :meth:`pop_rows` gives the ``(table, row)`` pairs
    logged since the last call, which the loop hands to its sinks (the journal)."""

    def pop_rows(self) -> list[tuple[str, dict[str, Any]]]: ...


def pop_rows(scheduler: object) -> list[tuple[str, dict[str, Any]]]:
    """The rows ``scheduler`` logged since the last call; none from one without tables."""
    return scheduler.pop_rows() if isinstance(scheduler, EmitsRows) else []


def keeper(scheduler: object) -> KeepsSnapshots | None:
    """``scheduler`` if it asks for snapshots, else ``None``."""
    return scheduler if isinstance(scheduler, KeepsSnapshots) else None


__all__ = ["EmitsRows", "KeepsSnapshots", "keeper", "pop_rows"]
