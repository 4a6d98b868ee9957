"""``report.md``: the report's sections as Markdown, figures linked as PNGs beside it."""

from __future__ import annotations

from tunebench.report.document import Block, Document, Image, Items, Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(t: Table) -> str:
    """A pipe table; marked rows in bold."""
    lines = ["| " + " | ".join(_cell(h) for h in t.headers) + " |", "|" + "---|" * len(t.headers)]
    for i, row in enumerate(t.rows):
        cells = [f"**{_cell(c)}**" if i in t.marked and c else _cell(c) for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    if t.caption:
        lines += ["", t.caption]
    return "\n".join(lines)


def block(b: Block) -> str:
    if isinstance(b, Table):
        return table(b)
    if isinstance(b, Image):
        return f"![{b.caption}]({b.path})"
    if isinstance(b, Items):
        return "\n".join(f"- {item}" for item in b.items)
    return str(b)


def render(doc: Document) -> str:
    """The whole document as Markdown."""
    parts = [f"# {doc.title}"]
    for s in doc.sections:
        parts.append(f"{'#' * s.level} {s.title}")
        parts += [block(b) for b in s.blocks]
    return "\n\n".join(parts) + "\n"
