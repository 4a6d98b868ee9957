"""Clocks the loop reads time from: the wall clock, or a virtual one an executor advances.

The loop never calls ``time.time()`` itself. A real executor hands it a :class:`WallClock`; the
simulated executor hands it the :class:`VirtualClock` it moves forward to each Job's virtual
finish time, so budgets in seconds, elapsed times and time-to-target mean virtual seconds
there, and the same loop runs real and simulated runs alike.

>>> clock = VirtualClock()
>>> clock.advance_to(2.5)
>>> clock.now()
2.5
>>> clock.advance_to(1.0)
Traceback (most recent call last):
...
ValueError: a virtual clock cannot go back from 2.5 to 1.0
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Seconds since the run started."""

    virtual: bool

    def now(self) -> float: ...


class WallClock:
    """Monotonic wall-clock seconds since :meth:`reset` (or creation)."""

    virtual = False

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def reset(self) -> None:
        """Start counting from zero now."""
        self._t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._t0


class VirtualClock:
    """Virtual seconds, moved only forward by whoever owns the simulation."""

    virtual = True

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)

    def reset(self) -> None:
        self._t = 0.0

    def now(self) -> float:
        return self._t

    def advance_to(self, t: float) -> None:
        """Move to time ``t``; refuse to go back."""
        if t < self._t:
            raise ValueError(f"a virtual clock cannot go back from {self._t} to {t}")
        self._t = float(t)
