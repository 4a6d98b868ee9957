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
import re
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from tunebench.names import did_you_mean, each
from tunebench.version import __version__

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
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


class Parser(argparse.ArgumentParser):
    """argparse with a hint for a misspelt command or option: ``invalid choice: 'rnu' (did you mean 'run'?)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def add_subparsers(self, **kwargs: Any) -> Any:
        action = super().add_subparsers(**kwargs)
        self.commands = action.choices
        return action

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self.commands.get(str(getattr(parsed, "command", "")), self)
            options = [s for action in command._actions for s in action.option_strings]
            command.error(f"unrecognized arguments: {each(extras, options)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        bad = re.search(r"invalid choice: '([^']*)'", message)
        if bad is not None and self.commands:
            message = message.replace(bad.group(0), bad.group(0) + did_you_mean(bad.group(1), self.commands), 1)
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tunebench", description="Compare hyperparameter-tuning schedulers.")
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
    except BrokenPipeError:  # the reader of stdout left (`| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
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
