"""The report as plain records, rendered alike to Markdown and HTML, so both carry the same
sections, tables and figures."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """Rows of text under ``headers``; rows listed in ``marked`` are the winners (bold)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    marked: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Image:
    """A PNG written beside the report (``path`` relative to the report)."""

    path: str
    caption: str


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: tuple[str, ...]


Block = str | Table | Image | Items


@dataclass(frozen=True)
class Section:
    """A titled part of the report; a ``str`` block is a paragraph."""

    title: str
    blocks: tuple[Block, ...]
    level: int = 2


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]

    @property
    def images(self) -> list[Image]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Image)]


def fmt(value: float | None, digits: int = 4) -> str:
    """A number for a table: ``-`` for none, four significant digits.

    >>> fmt(None), fmt(0.912345), fmt(1234.5), fmt(3)
    ('-', '0.9123', '1234', '3')
    """
    if value is None or value != value:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}" if abs(value) < 10**digits else f"{value:.0f}"
