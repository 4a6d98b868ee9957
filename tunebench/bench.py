"""What the measurement scripts in ``scripts/`` share: one argument parser, repeats interleaved
across cases and reduced to medians, and results written as ``<name>.json`` and ``<name>.md``.

A shared machine slows down in spells; running every case once per round spreads a slow spell
over all cases instead of charging it to one, and the median ignores the worst rounds. Tables
are the report's Markdown tables, numbers formatted as the report formats them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tunebench.report.document import Table, fmt
from tunebench.report.markdown import table as markdown_table
from tunebench.report.stats import median_or_none
from tunebench.store.files import atomic_write_bytes, atomic_write_json

T = TypeVar("T")


def parser(doc: str, *, repeat: int | None = None) -> argparse.ArgumentParser:
    """A parser described by ``doc``'s first line, with ``--out`` (a directory, default
    ``results``) and, given its default, ``--repeat``.

    >>> parser("Time things.\\nMore.", repeat=3).parse_args([])
    Namespace(out=PosixPath('results'), repeat=3)
    """
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("results"), help="directory to write the results to (default results/)")
    if repeat is not None:
        p.add_argument("--repeat", type=int, default=repeat, help=f"rounds, each running every case once (default {repeat})")
    return p


def interleaved(cases: Mapping[str, Callable[[int], T]], repeat: int) -> dict[str, list[T]]:
    """Each case called once per round (with the round's number), ``repeat`` rounds.

    >>> order = []
    >>> interleaved({"a": lambda k: order.append("a") or k, "b": lambda k: order.append("b") or 10 * k}, 2)
    {'a': [0, 1], 'b': [0, 10]}
    >>> order
    ['a', 'b', 'a', 'b']
    """
    runs: dict[str, list[T]] = {name: [] for name in cases}
    for k in range(repeat):
        for name, case in cases.items():
            runs[name].append(case(k))
    return runs


def medians(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per key of the first run, the median over ``runs`` of the numbers (``None`` where no run
    has one); a value every run shares, or one that is not a number, is the first run's.

    >>> medians([{"case": "a", "n": 4, "s": 3.0, "loop": None}, {"case": "a", "n": 4, "s": 1, "loop": None}, {"case": "a", "n": 4, "s": 2.0, "loop": None}])
    {'case': 'a', 'n': 4, 's': 2.0, 'loop': None}
    """
    return {k: _median([r[k] for r in runs]) for k in runs[0]}


def _median(values: list[Any]) -> Any:
    numbers = all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values)
    same = all(v == values[0] for v in values)
    return median_or_none(values) if numbers and not same else values[0]


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown pipe table; numbers get four significant digits, ``None`` a dash.

    >>> print(table(["case", "s"], [["a", 0.123456], ["b", None]]))
    | case | s |
    |---|---|
    | a | 0.1235 |
    | b | - |
    """
    cells = tuple(tuple(c if isinstance(c, str) else fmt(c) for c in row) for row in rows)
    return markdown_table(Table(tuple(headers), cells))


def write(out: Path, name: str, data: Any, text: str) -> None:
    """``out/<name>.json`` (``data``) and ``out/<name>.md`` (``text``), each written whole or
    not at all; then ``text`` and where it went are printed."""
    atomic_write_json(out / f"{name}.json", data)
    atomic_write_bytes(out / f"{name}.md", text.encode())
    print(text)
    print(f"wrote {out / name}.md and .json")
