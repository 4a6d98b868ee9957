"""What a searcher's proposals cost: seconds per proposal of TPE, BOHB and random under
Hyperband (max_iter 81) and ASHA (promotion, max_iter 81, a budget of 1,581 steps) on 8 workers
of :func:`tunebench.synthetic.play`, and TPE's share spent in Optuna's ``Study.ask``.

The variants run interleaved, ``--repeat`` times (default 3); medians, and each variant's ratio
to TPE. Writes ``results/searcher_cost.md`` and ``.json``::

    python scripts/bench_searcher_cost.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

from tunebench.registry import load
from tunebench.space import Space
from tunebench.synthetic import play
from tunebench.trial import Job

RESULTS = Path(__file__).resolve().parent.parent / "results"
SPACE = Space.from_spec({"alpha": {"loguniform": [1e-6, 0.1]}, "l1_ratio": {"uniform": [0.0, 1.0]}})
CASES = {"hyperband": ({"max_iter": 81}, None), "asha": ({"max_iter": 81, "variant": "promotion"}, 1581)}


def objective(job: Job) -> float:
    c = job.config
    return -((math.log10(c["alpha"]) + 4) ** 2) / 10 - (c["l1_ratio"] - 0.3) ** 2 + 0.001 * job.stop_step


def one(case: str, variant: str, seed: int) -> tuple[float, float]:
    """Seconds per proposal of one run, and the share of the run inside ``Study.ask``."""
    import optuna

    params, budget = CASES[case]
    sch = load("scheduler", case)(SPACE, seed=seed, searcher=load("searcher", variant)(SPACE, seed=seed), **params)
    asked = [0.0]
    real_ask = optuna.study.Study.ask

    def timed_ask(self: Any, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return real_ask(self, *a, **kw)
        finally:
            asked[0] += time.perf_counter() - t

    optuna.study.Study.ask = timed_ask  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        play(sch, objective, concurrency=8, total_steps=budget)
        total = time.perf_counter() - t0
    finally:
        optuna.study.Study.ask = real_ask  # type: ignore[method-assign]
    return total / max(1, len(sch.trials)), asked[0] / total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    variants = ("random", "tpe", "bohb")
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in range(args.repeat):
        for case in CASES:
            for v in variants:
                times.setdefault((case, v), []).append(one(case, v, r))
    lines = [
        f"# Searcher cost per proposal (8 workers, medians of {args.repeat} interleaved runs)",
        "",
        "| scheduler | searcher | ms per proposal | ratio to tpe | share in Study.ask |",
        "|---|---|---|---|---|",
    ]
    rows = []
    for case in CASES:
        ref = statistics.median(t for t, _ in times[(case, "tpe")])
        for v in variants:
            m = statistics.median(t for t, _ in times[(case, v)])
            share = statistics.median(a for _, a in times[(case, v)])
            rows.append(
                {
                    "scheduler": case,
                    "searcher": v,
                    "s_per_proposal": m,
                    "all": times[(case, v)],
                    "ratio": m / ref,
                    "ask_share": share,
                }
            )
            lines.append(f"| {case} | {v} | {1000 * m:.2f} | {m / ref:.2f}x | {share:.0%} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "searcher_cost.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "searcher_cost.json").write_text(json.dumps(rows, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
