"""``tunebench``: one module per command, each registering itself the same way.

Every user error (a bad config, an unknown name, an unreachable cluster, an unusable output
directory, bad data) ends as one line on stderr and exit status 2, with no traceback. A run in
which every trial failed ends as one line on stderr and exit status 1, its journal and tables
written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import Sequence

from tunebench import __version__

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
COMMANDS = ("run", "resume", "list", "replay", "compare", "report", "record")


def _user_errors() -> tuple[type[BaseException], ...]:
    from tunebench.checks import ParamError
    from tunebench.config import ConfigError
    from tunebench.executors.base import ExecutorError
    from tunebench.registry import RegistryError
    from tunebench.space import SpaceError
    from tunebench.store import StoreError

    return (ConfigError, ExecutorError, ParamError, RegistryError, SpaceError, StoreError)


def _run_failures() -> tuple[type[BaseException], ...]:
    from tunebench.run import TrialsFailed

    return (TrialsFailed,)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunebench", description="Compare hyperparameter-tuning schedulers.")
    parser.add_argument("--version", action="version", version=f"tunebench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"tunebench.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:
        where = getattr(exc, "out_dir", None)
        again = f"; continue with: tunebench resume {where}" if where is not None else ""
        print(f"tunebench: interrupted; the tables so far are written{again}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _user_errors() as exc:
        print(f"tunebench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _run_failures() as exc:
        print(f"tunebench: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops a run as Ctrl-C does: cleanly, tables written, resumable."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
