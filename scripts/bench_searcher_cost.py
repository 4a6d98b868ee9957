"""What a searcher's proposals cost: seconds per proposal of TPE, BOHB and random under
Hyperband (max_iter 81) and ASHA (promotion, max_iter 81, a budget of 1,581 steps) on 8 workers
of :func:`tunebench.synthetic.play`, and TPE's share spent in Optuna's ``Study.ask``.

The variants run interleaved, ``--repeat`` times (default 3); medians, and each variant's ratio
to TPE. Writes ``results/searcher_cost.md`` and ``.json``::

    python scripts/bench_searcher_cost.py [--repeat 3]
"""

from __future__ import annotations

import math
import time
from typing import Any

from tunebench import bench
from tunebench.registry import load
from tunebench.space import Space
from tunebench.synthetic import play
from tunebench.trial import Job

SPACE = Space.from_spec({"alpha": {"loguniform": [1e-6, 0.1]}, "l1_ratio": {"uniform": [0.0, 1.0]}})
CASES = {"hyperband": ({"max_iter": 81}, None), "asha": ({"max_iter": 81, "variant": "promotion"}, 1581)}
VARIANTS = ("random", "tpe", "bohb")


def objective(job: Job) -> float:
    c = job.config
    return -((math.log10(c["alpha"]) + 4) ** 2) / 10 - (c["l1_ratio"] - 0.3) ** 2 + 0.001 * job.stop_step


def one(case: str, variant: str, seed: int) -> dict[str, float]:
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
    return {"s_per_proposal": total / max(1, len(sch.trials)), "ask_share": asked[0] / total}


def main() -> None:
    args = bench.parser(__doc__, repeat=3).parse_args()
    cases = {f"{case}/{v}": lambda k, case=case, v=v: one(case, v, k) for case in CASES for v in VARIANTS}
    runs = bench.interleaved(cases, args.repeat)
    rows = []
    for key, rs in runs.items():
        case, v = key.split("/")
        m, tpe = bench.medians(rs), bench.medians(runs[f"{case}/tpe"])
        rows.append({"scheduler": case, "searcher": v, **m, "ratio": m["s_per_proposal"] / tpe["s_per_proposal"], "all": rs})
    table = bench.table(
        ["scheduler", "searcher", "ms per proposal", "ratio to tpe", "share in Study.ask"],
        [
            [r["scheduler"], r["searcher"], f"{1000 * r['s_per_proposal']:.2f}", f"{r['ratio']:.2f}x", f"{r['ask_share']:.0%}"]
            for r in rows
        ],
    )
    title = f"# Searcher cost per proposal (8 workers, medians of {args.repeat} interleaved runs)"
    bench.write(args.out, "searcher_cost", rows, f"{title}\n\n{table}\n")


if __name__ == "__main__":
    main()
