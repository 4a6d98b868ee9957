"""``tunebench compare MATRIX.yaml [--set KEY=VALUE ...] [--out DIR] [--jobs N]``: run every cell
of a comparison matrix not finished yet, then write the report and end with its verdict, the
path of ``report.html`` and of the main figure."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("compare", help="run a comparison matrix (ours and peers) and write its report")
    p.add_argument("matrix", help="YAML matrix file (configs/bench-*.yaml)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help='override a matrix key, e.g. "seeds=[0,1]"')
    p.add_argument("--out", help="comparison directory (default runs/<matrix name>); finished cells in it are kept")
    p.add_argument("--jobs", type=int, default=1, help="cells run at once, each in its own process (default 1)")
    p.add_argument("--no-report", action="store_true", help="run the cells only")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from tunebench.checks import check_int
    from tunebench.compare.matrix import load_matrix
    from tunebench.compare.runner import compare

    check_int("--jobs", args.jobs, 1)
    matrix = load_matrix(args.matrix, args.set or [])
    out = compare(matrix, Path(args.out) if args.out else Path("runs") / matrix.name, jobs=args.jobs)
    if args.no_report:
        print(f"comparison: {out}")
        return 0
    from tunebench.report import build_report

    print("\n".join(build_report(out).ending))
    return 0
