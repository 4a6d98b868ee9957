"""How ``compare`` shows its cells going by: a tqdm bar on a terminal (cells done of all,
elapsed, time left from the finished cells' pace), plain lines anywhere else (a log, a pipe,
a test), one as each cell starts and one as it ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, TextIO

TICK_S = 1.0  # how often the bar redraws while a cell runs, so elapsed time keeps moving
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} cells [{elapsed} elapsed, {remaining} left]{postfix}"


class CellProgress(Protocol):
    def start(self, cell_id: str) -> None: ...

    def finish(self, cell_id: str, line: str, ok: bool) -> None: ...

    def close(self) -> None: ...


class Lines:
    """``running CELL`` as a cell starts, ``[k/n] CELL: done in X s (best Y)`` as it ends."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def start(self, cell_id: str) -> None:
        self.say(f"running {cell_id}")

    def finish(self, cell_id: str, line: str, ok: bool) -> None:
        self.say(line)

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
        self.failed = 0
        self.stop = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)
        self.ticker.start()

    def _tick(self) -> None:
        while not self.stop.wait(TICK_S):
            self.bar.refresh()

    def start(self, cell_id: str) -> None:
        self.bar.set_postfix_str(self._postfix(cell_id))

    def finish(self, cell_id: str, line: str, ok: bool) -> None:
        if not ok:
            self.failed += 1
            self.bar.write(line, file=self.stream)
        self.bar.set_postfix_str(self._postfix(""), refresh=False)
        self.bar.update(1)

    def _postfix(self, cell_id: str) -> str:
        failed = f"{self.failed} failed" if self.failed else ""
        return ", ".join(x for x in (cell_id, failed) if x)

    def close(self) -> None:
        self.stop.set()
        self.ticker.join()
        self.bar.close()


def progress_for(stream: TextIO, say: Callable[[str], None], total: int, done: int, desc: str = "cells") -> CellProgress:
    """A bar when ``stream`` is a terminal, else plain lines through ``say``."""
    isatty = getattr(stream, "isatty", None)
    return Bar(total, done, stream, desc) if callable(isatty) and isatty() else Lines(say)
