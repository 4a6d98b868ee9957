"""A peer's console output sent to its cell's log file instead of the terminal.

Ray Tune prints banner boxes and TensorBoard hints with temporary paths, Spark and Dask log
through their own handlers, worker processes write to the file descriptors they inherit. While
:func:`captured` is open, everything of that kind goes to one file (``<cell>/peer.log``):

- file descriptors 1 and 2 point at the file (``os.dup2``), so C code, the JVM and every
  process started inside (Optuna's pool, a local Ray or Dask cluster, Spark) write there;
- ``sys.stdout`` and ``sys.stderr`` are the file, so ``print`` and ``warnings`` go there too;
- every logging handler that writes to a stream (not a file) is pointed at the file: those
  of the libraries' own loggers (``ray``, ``optuna``, ``distributed``, ...) whatever stream
  they were given, and the root logger's ones that write to the console.

An exception leaving the block is written to the file with its traceback before it goes on,
so a one-line failure message can point there for the rest. Everything is put back on exit.
Compare's own progress, drawn from a thread while a cell runs, writes to :func:`terminal`, a
copy of the terminal's descriptor that the redirection leaves alone.

>>> import tempfile, pathlib
>>> log = pathlib.Path(tempfile.mkdtemp()) / PEER_LOG
>>> with captured(log):
...     print("a banner")
>>> log.read_text()
'a banner\\n'
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

PEER_LOG = "peer.log"
FDS = (1, 2)


def console_stream(stream: Any) -> bool:
    """Whether ``stream`` is the terminal's: a ``sys`` stream or one on file descriptor 1 or 2."""
    if stream is None:
        return False
    if any(stream is s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)):
        return True
    try:
        return stream.fileno() in FDS
    except (AttributeError, OSError, ValueError):
        return False


def stream_handlers() -> list[logging.StreamHandler[Any]]:
    """The handlers to point at the log: every library logger's stream handlers (whatever
    stream they hold), and the root logger's that write to the console."""
    root = logging.getLogger()
    loggers = [lg for lg in list(logging.Logger.manager.loggerDict.values()) if isinstance(lg, logging.Logger)]
    found: list[logging.StreamHandler[Any]] = []
    for logger in [root, *loggers]:
        for handler in logger.handlers:
            if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler) or handler in found:
                continue
            if logger is not root or console_stream(handler.stream):
                found.append(handler)
    return found


def redirect_fds(target: int) -> dict[int, int]:
    """Point file descriptors 1 and 2 at ``target``; copies of the old ones, to put back."""
    saved: dict[int, int] = {}
    for fd in FDS:
        try:
            saved[fd] = os.dup(fd)
        except OSError:  # no such descriptor (a GUI interpreter): nothing to redirect
            continue
        os.dup2(target, fd)
    return saved


def restore_fds(saved: dict[int, int]) -> None:
    for fd, copy in saved.items():
        os.dup2(copy, fd)
        os.close(copy)


def flush(*streams: Any) -> None:
    for stream in streams:
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def point(handler: logging.StreamHandler[Any], stream: Any) -> Any:
    """Point ``handler`` at ``stream``; the stream it had (flushed, if it still can be)."""
    handler.acquire()
    try:
        old, handler.stream = handler.stream, stream
    finally:
        handler.release()
    flush(old)
    return old


TERMINALS: dict[int, TextIO] = {}


def terminal(stream: TextIO) -> TextIO:
    """``stream`` on a copy of its file descriptor (made once per open file, closed at exit), so
    what is written there reaches the terminal even while :func:`captured` redirects fds 1 and 2;
    a stream with no descriptor is returned as it is."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream
    known = TERMINALS.get(fd)
    if known is None or not os.path.samestat(os.fstat(fd), os.fstat(known.fileno())):
        flush(stream)
        copy = open(os.dup(fd), "w", buffering=1, encoding=getattr(stream, "encoding", None) or "utf-8", errors="replace")
        atexit.register(copy.close)
        TERMINALS[fd] = copy
    return TERMINALS[fd]


@contextmanager
def captured(path: str | Path) -> Iterator[TextIO]:
    """Send this process's console output, and its children's, to ``path`` (appended) while open."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", buffering=1, encoding="utf-8", errors="replace") as log:
        streams = sys.stdout, sys.stderr
        flush(*streams)
        handlers = {h: point(h, log) for h in stream_handlers()}
        saved = redirect_fds(log.fileno())
        sys.stdout = sys.stderr = log
        try:
            yield log
        except BaseException:
            traceback.print_exc(file=log)
            raise
        finally:
            flush(log)
            sys.stdout, sys.stderr = streams
            restore_fds(saved)
            for h, stream in handlers.items():
                point(h, stream)
