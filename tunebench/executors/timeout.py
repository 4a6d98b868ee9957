"""A time limit on one Job, enforced where the Job runs.

On a process's main thread (the local executor, a Ray actor) a ``SIGALRM`` timer interrupts
the Job, even inside ``time.sleep`` or a blocking call that returns to Python on a signal. On
any other thread (a Dask worker's task thread) a watchdog raises the interrupt in that thread
asynchronously; it lands at the next Python bytecode, so a step that spends its time in C code
is interrupted when it returns. Either way the Job ends with a ``TimeoutError`` naming the
limit, and a Job that finished its work but took longer than its limit (an interrupt that
could not land in time) fails the same way: the rule is the elapsed time, not the mechanism.

The interrupt derives from ``BaseException`` so that a workload's ``except Exception`` cannot
swallow it.

>>> import time
>>> try:
...     with time_limit(0.05, "Job for trial 0"):
...         time.sleep(1.0)
... except TimeoutError as exc:
...     print(exc)
Job for trial 0 exceeded timeout_s=0.05
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Expired(BaseException):
    """Raised inside a Job whose time is up; :func:`time_limit` turns it into a TimeoutError."""


def _raise_in(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(Expired))


def _clear_in(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def expire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _raise_in(target)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
        timer.cancel()
        if state["fired"]:
            _clear_in(target)  # not yet delivered: it must not land after the Job


@contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Run the body within ``seconds`` (``None``: no limit), else raise ``TimeoutError``."""
    if seconds is None:
        yield
        return
    on_main = threading.current_thread() is threading.main_thread()
    guard = _alarm if on_main and hasattr(signal, "setitimer") else _watchdog
    t0 = time.monotonic()
    try:
        with guard(seconds):
            yield
    except Expired:
        raise TimeoutError(f"{what} exceeded timeout_s={seconds:g}") from None
    if time.monotonic() - t0 > seconds:
        raise TimeoutError(f"{what} exceeded timeout_s={seconds:g}")
