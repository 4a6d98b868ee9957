"""``tunebench report DIR``: rebuild a comparison's report (``report.md``, ``report.html`` and
the PNGs) from what is on disk in ``DIR``, and end as ``compare`` does: the verdict, the report
and its main figure."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="build the report of a comparison directory from what is on disk")
    p.add_argument("comparison_dir", metavar="DIR", help="a comparison directory (holding matrix.json)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from tunebench.config import ConfigError
    from tunebench.report import build_report

    try:
        paths = build_report(args.comparison_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    print("\n".join(paths.ending))
    return 0
