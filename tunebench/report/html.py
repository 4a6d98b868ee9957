"""``report.html``: one self-contained page. Figures are embedded as base64 ``data:`` URIs and
the style is inline, so it opens without the PNGs beside it and without a network."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from tunebench.report.document import Block, Document, Image, Items, Table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1, h2, h3 { font-weight: 600; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr.winner td { font-weight: 600; background: #fff8dc; }
caption { caption-side: bottom; text-align: left; color: #555; padding-top: .4em; font-size: 90%; }
figure { margin: 1em 0; } img { max-width: 100%; } figcaption { color: #555; font-size: 90%; }
"""


def data_uri(png: Path) -> str:
    """A PNG file as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def table(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.headers)
    rows = []
    for i, row in enumerate(t.rows):
        cls = ' class="winner"' if i in t.marked else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    caption = f"<caption>{escape(t.caption)}</caption>" if t.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def block(b: Block, root: Path) -> str:
    if isinstance(b, Table):
        return table(b)
    if isinstance(b, Image):
        alt = escape(b.caption, quote=True)
        return f'<figure><img alt="{alt}" src="{data_uri(root / b.path)}"><figcaption>{escape(b.caption)}</figcaption></figure>'
    if isinstance(b, Items):
        return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in b.items) + "</ul>"
    return f"<p>{escape(str(b))}</p>"


def render(doc: Document, root: Path) -> str:
    """The whole document as one HTML page; ``root`` is where its PNGs are."""
    body = [f"<h1>{escape(doc.title)}</h1>"]
    for s in doc.sections:
        body.append(f"<h{s.level}>{escape(s.title)}</h{s.level}>")
        body += [block(b, root) for b in s.blocks]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
