"""``tunebench compare MATRIX.yaml [--set KEY=VALUE ...] [--out DIR] [--jobs N | --cluster ADDRESS]
[--exclusive]``: run every cell of a comparison matrix not finished yet (here, in local
processes, or on a Ray or Dask cluster), then write the report and end with its verdict, the
path of ``report.html`` and of the main figure. Ctrl-C stops the study (exit 130); the same
command continues it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("compare", help="run a comparison matrix (ours and peers) and write its report")
    p.add_argument("matrix", help="YAML matrix file (configs/bench-*.yaml)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help='override a matrix key, e.g. "seeds=[0,1]"')
    p.add_argument("--out", help="comparison directory (default runs/<matrix name>); finished cells in it are kept")
    p.add_argument("--jobs", type=int, default=1, help="cells run at once, each in its own process (default 1)")
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the cells on a Ray cluster (ray://HOST:PORT or HOST:PORT) or a Dask scheduler (tcp://HOST:PORT)",
    )
    p.add_argument(
        "--exclusive",
        action="store_true",
        help="cells that measure real time (ours on a real executor, peers) run alone, one at a time, after the others",
    )
    p.add_argument("--retries", type=int, default=3, help="sends of a cell again after its worker died (default 3)")
    p.add_argument("--no-report", action="store_true", help="run the cells only")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from tunebench.checks import check_int
    from tunebench.cli import EXIT_INTERRUPTED
    from tunebench.compare.matrix import load_matrix
    from tunebench.compare.runner import StudyInterrupted, compare

    check_int("--jobs", args.jobs, 1)
    check_int("--retries", args.retries, 0)
    matrix = load_matrix(args.matrix, args.set or [])
    out = Path(args.out) if args.out else Path("runs") / matrix.name
    try:
        compare(matrix, out, jobs=args.jobs, cluster=args.cluster, exclusive=args.exclusive, retries=args.retries)
    except StudyInterrupted:
        print(f"tunebench: interrupted; {out / 'matrix.json'} is up to date; continue with the same command", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.no_report:
        print(f"comparison: {out}")
        return 0
    from tunebench.report import build_report

    print("\n".join(build_report(out).ending))
    return 0
