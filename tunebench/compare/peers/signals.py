"""The process's signal handlers kept across a peer's run.

Ray Tune's ``Tuner.fit`` sets its own SIGINT (and SIGUSR1) handler and leaves it in place when
the run ends, so a later Ctrl-C would only ask a finished Ray Tune run to stop. A peer's run
sits inside :func:`handlers_kept`, which puts back whatever handlers were set before.

>>> import signal
>>> before = signal.getsignal(signal.SIGINT)
>>> with handlers_kept():
...     _ = signal.signal(signal.SIGINT, signal.SIG_IGN)
>>> signal.getsignal(signal.SIGINT) is before
True
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

KEPT = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGUSR1") if hasattr(signal, name))


@contextmanager
def handlers_kept() -> Iterator[None]:
    """Restore the handlers of SIGINT, SIGTERM and SIGUSR1 on exit (only the main thread can set them)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in KEPT}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)
