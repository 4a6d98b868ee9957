"""``tunebench resume DIR [-q]``: continue an interrupted run from its journal."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("resume", help="continue an interrupted run from its journal")
    p.add_argument("run_dir", metavar="DIR", help="the run's output directory")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from tunebench.report.run_summary import summary_table
    from tunebench.resume import resume

    result = resume(args.run_dir, progress=not args.quiet)
    print(summary_table(result.summary, result.trials))
    print(f"outputs: {result.out_dir}")
    return 0
