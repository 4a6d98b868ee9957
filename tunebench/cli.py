"""``tunebench``: run an experiment, list what is registered.

Every user error (a bad config, an unknown name, an unreachable cluster, an unusable output
directory) ends as one line on stderr and exit status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from tunebench import __version__, registry

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _user_errors() -> tuple[type[BaseException], ...]:
    from tunebench.config import ConfigError
    from tunebench.executors.base import ExecutorError
    from tunebench.registry import RegistryError
    from tunebench.space import SpaceError
    from tunebench.store import StoreError

    return (ConfigError, ExecutorError, RegistryError, SpaceError, StoreError)


def cmd_run(args: argparse.Namespace) -> int:
    from tunebench.config import load_experiment
    from tunebench.report import summary_table
    from tunebench.runner import run

    exp = load_experiment(args.config, args.set or [])
    result = run(exp, args.out, progress=not args.quiet)
    print(summary_table(result.summary, result.trials))
    print(f"outputs: {result.out_dir}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for kind, title in (("scheduler", "schedulers"), ("executor", "executors"), ("workload", "workloads")):
        print(f"{title}:")
        for name in registry.names(kind):
            for line in registry.describe(kind, name).splitlines():
                print(f"  {line}")
        print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunebench", description="Compare hyperparameter-tuning schedulers.")
    parser.add_argument("--version", action="version", version=f"tunebench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_run = sub.add_parser("run", help="run one experiment from a YAML config")
    p_run.add_argument("config", help="YAML experiment file")
    p_run.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. scheduler.eta=4")
    p_run.add_argument("--out", help="output directory (new or empty); default runs/<name>-<scheduler>-<executor>-seed<seed>-<time>")
    p_run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_run.set_defaults(func=cmd_run)
    p_list = sub.add_parser("list", help="list registered schedulers, executors and workloads")
    p_list.set_defaults(func=cmd_list)
    try:
        from tunebench.replay import add_replay_parser
    except ModuleNotFoundError as exc:
        if exc.name != "tunebench.replay":
            raise
    else:
        add_replay_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("tunebench: interrupted; results so far are in the run's journal.jsonl", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _user_errors() as exc:
        print(f"tunebench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
