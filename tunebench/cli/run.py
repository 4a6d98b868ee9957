"""``tunebench run CONFIG [--set KEY=VALUE ...] [--out DIR] [-q]``: one experiment."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run one experiment from a YAML config")
    p.add_argument("config", help="YAML experiment file")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. scheduler.eta=4")
    p.add_argument("--out", help="output directory (new or empty); default runs/<name>-<scheduler>-<executor>-seed<seed>-<time>")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from tunebench.config import load_experiment
    from tunebench.report.run_summary import summary_table
    from tunebench.run import run

    exp = load_experiment(args.config, args.set or [])
    result = run(exp, args.out, progress=not args.quiet)
    print(summary_table(result.summary, result.trials))
    print(f"outputs: {result.out_dir}")
    return 0
