"""What ``import tunebench`` costs with the public API imported lazily, against resolving every
public name (what eager imports in ``tunebench/__init__.py`` would cost).

Each case is a fresh interpreter under ``python -X importtime``; the cumulative microseconds
of the top-level ``tunebench`` import (lazy) or of everything imported after the interpreter's
own start-up (eager) are read from its report. Cases are interleaved, ``--repeat`` times
(default 7), and the medians written to ``results/import_time.json`` and ``.md``::

    python scripts/measure_import_time.py [--repeat 7]
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from tunebench import bench

CASES = {
    "lazy": "import tunebench",
    "eager": "import tunebench\nfor name in tunebench.__all__: getattr(tunebench, name)",
}


def top_level_us(lines: list[str]) -> int:
    """Sum of the cumulative times of the top-level imports in ``-X importtime`` lines (a nested
    import's name is indented further)."""
    total = 0
    for line in lines:
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and not name[1:].startswith(" "):
            total += int(cumulative)
    return total


def once(code: str) -> int:
    """Microseconds of the imports ``code`` makes after the interpreter's start-up (``site``)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    lines = [line for line in out.stderr.splitlines() if line.startswith("import time:") and line.count("|") == 2]
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("| site")) + 1
    return top_level_us(lines[start:])


def main() -> None:
    args = bench.parser(__doc__, repeat=7).parse_args()
    times = bench.interleaved({name: lambda k, code=code: once(code) for name, code in CASES.items()}, args.repeat)
    medians = {name: statistics.median(v) for name, v in times.items()}
    out = {
        "python": sys.version.split()[0],
        "repeat": args.repeat,
        "median_us": medians,
        "runs_us": times,
        "eager_over_lazy": medians["eager"] / medians["lazy"],
    }
    text = (
        f"import tunebench: lazy {medians['lazy'] / 1000:.1f} ms, every public name {medians['eager'] / 1000:.1f} ms "
        f"(x{out['eager_over_lazy']:.0f}); medians of {args.repeat} interleaved runs, python {out['python']}\n"
    )
    bench.write(args.out, "import_time", out, text)


if __name__ == "__main__":
    main()
