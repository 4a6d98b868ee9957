"""How ``compare`` shows its cells going by: a tqdm bar on a terminal (cells done of all,
elapsed, time left from the finished cells' pace), plain lines anywhere else (a log, a pipe,
a test), one as each cell starts and one as it ends. Both keep a :class:`Tally` of the cells
done, running, failed and left, and an ETA from the finished cells' times; with cells side by
side (``--jobs``, ``--cluster``) that is the study's state at a glance."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

TICK_S = 1.0  # how often the bar redraws while a cell runs, so elapsed time keeps moving
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} cells [{elapsed} elapsed, {remaining} left]{postfix}"


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour.

    >>> clock(75.4), clock(3725)
    ('1:15', '1:02:05')
    """
    s = round(seconds)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


@dataclass
class Tally:
    """Cells done (finished before or now), failed (or unsupported), running and left; ``slots``
    is the most that ran at once, ``times`` the seconds of the cells finished this time."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    slots: int = 1
    times: list[float] = field(default_factory=list)
    began: float | None = None  # time.monotonic() when the first cell of this invocation started

    @property
    def left(self) -> int:
        return max(0, self.total - self.done - self.failed - self.running)

    def started(self) -> None:
        self.began = time.monotonic() if self.began is None else self.began
        self.running += 1
        self.slots = max(self.slots, self.running)

    def ended(self, ok: bool, seconds: float | None) -> None:
        self.running = max(0, self.running - 1)
        self.done, self.failed = self.done + ok, self.failed + (not ok)
        if seconds is not None:
            self.times.append(float(seconds))

    def eta_s(self, now: float | None = None) -> float | None:
        """The cells not finished times the time each took: the finished cells' mean time over
        the cells at once, or, when larger, the wall time per cell finished so far (which counts
        what happens between cells too).

        >>> t = Tally(total=6, done=2, running=2, slots=2, times=[10.0, 20.0], began=0.0)
        >>> t.left, t.eta_s(now=10.0), t.eta_s(now=40.0)
        (2, 30.0, 80.0)
        """
        if not self.times:
            return None
        per_cell = statistics.fmean(self.times) / max(1, self.slots)
        if self.began is not None:
            per_cell = max(per_cell, ((time.monotonic() if now is None else now) - self.began) / len(self.times))
        return per_cell * (self.left + self.running)

    def counts(self) -> str:
        """``2 running, 1 failed, 3 left, ETA 1:05`` (the ETA once a cell has finished)."""
        eta = self.eta_s()
        parts = [f"{self.running} running", f"{self.failed} failed", f"{self.left} left"]
        return ", ".join(parts + ([f"ETA {clock(eta)}"] if eta is not None else []))


class CellProgress(Protocol):
    tally: Tally

    def start(self, cell_id: str) -> None: ...

    def finish(self, cell_id: str, line: str, ok: bool, seconds: float | None = None) -> None: ...

    def close(self) -> None: ...


class Lines:
    """``running CELL`` as a cell starts, ``[k/n] CELL: done in X s (best Y) | 1 running, 0
    failed, 2 left, ETA 0:12`` as it ends."""

    def __init__(self, say: Callable[[str], None], tally: Tally | None = None) -> None:
        self.say = say
        self.tally = tally or Tally(0)

    def start(self, cell_id: str) -> None:
        self.tally.started()
        self.say(f"running {cell_id}")

    def finish(self, cell_id: str, line: str, ok: bool, seconds: float | None = None) -> None:
        self.tally.ended(ok, seconds)
        self.say(f"{line} | {self.tally.counts()}" if self.tally.total else line)

    def close(self) -> None:
        pass


class Bar:
    """A tqdm bar over the cells, counting those already finished; a cell that fails or cannot
    run is also said on its own line above the bar."""

    def __init__(self, total: int, done: int, stream: TextIO, desc: str = "cells") -> None:
        from tqdm import tqdm

        self.stream = stream
        self.bar: Any = tqdm(
            total=total, initial=done, desc=desc, unit="cell", file=stream, smoothing=0, dynamic_ncols=True, bar_format=BAR_FORMAT
        )
        self.tally = Tally(total, done)
        self.last = ""
        self.stop = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)
        self.ticker.start()

    def _tick(self) -> None:
        while not self.stop.wait(TICK_S):
            self.bar.refresh()

    def start(self, cell_id: str) -> None:
        self.tally.started()
        self.last = cell_id
        self.bar.set_postfix_str(self._postfix())

    def finish(self, cell_id: str, line: str, ok: bool, seconds: float | None = None) -> None:
        self.tally.ended(ok, seconds)
        if not ok:
            self.bar.write(line, file=self.stream)
        self.bar.set_postfix_str(self._postfix(), refresh=False)
        self.bar.update(1)

    def _postfix(self) -> str:
        """The cell running when one is, else how many are; cells not started; failed ones."""
        t = self.tally
        running = self.last if t.running == 1 else f"{t.running} running" if t.running else ""
        left = f"{t.left} left" if t.left and t.running else ""
        failed = f"{t.failed} failed" if t.failed else ""
        return ", ".join(x for x in (running, left, failed) if x)

    def close(self) -> None:
        self.stop.set()
        self.ticker.join()
        self.bar.close()


def progress_for(stream: TextIO, say: Callable[[str], None], total: int, done: int, desc: str = "cells") -> CellProgress:
    """A bar when ``stream`` is a terminal, else plain lines through ``say``."""
    isatty = getattr(stream, "isatty", None)
    return Bar(total, done, stream, desc) if callable(isatty) and isatty() else Lines(say, Tally(total, done))
