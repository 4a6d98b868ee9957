"""Hyperband's bracket order, measured on synthetic learning curves through the real loop.

For each ``bracket_order`` it reports (a) the virtual time the whole plan takes on ``W``
workers, against the ideal ``steps / W``, and (b) under a ``total_steps`` budget, each
bracket's share of the steps trained and the regret of the incumbent (the trial with the
best last score, as the loop picks it): ``1 - quality``, where a trial's quality is the height
of its curve. Curves cross early on (noise shrinking with steps), so a first rung misranks.
Writes ``results/bracket_order.md``.

    python scripts/bench_bracket_order.py [--seeds 10] [--out results/bracket_order.md]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from schedulers.hyperband import Hyperband
from tunebench.space import Space
from tunebench.synthetic import play
from tunebench.trial import Job

SPACE = Space.from_spec({"x": {"uniform": [0, 1]}})
ORDERS = ("longest_first", "aggressive_first", "balanced")


def quality(job: Job) -> float:
    return (job.seed % 10007) / 10007


def crossing(job: Job) -> float:
    """A saturating curve of height ``quality``, plus noise that shrinks as the trial trains."""
    noise = random.Random(job.seed * 1000 + job.stop_step).gauss(0.0, 0.3 / (1 + job.stop_step) ** 0.5)
    return quality(job) * job.stop_step / (job.stop_step + 5.0) + noise


def regret(hb: Hyperband) -> float:
    scored = [t for t in hb.trials.values() if t.last_score is not None]
    best = max(scored, key=lambda t: (t.last_score, -t.trial_id))
    return 1.0 - (best.seed % 10007) / 10007


def makespans(max_iter: int, workers: int) -> dict[str, float]:
    out = {}
    for order in ORDERS:
        trace = play(Hyperband(SPACE, max_iter=max_iter, bracket_order=order), crossing, workers)
        out[order] = trace.results[-1].elapsed_s / (trace.steps / workers)
    return out


def budgeted(max_iter: int, workers: int, total: int, seeds: int) -> dict[str, tuple[list[float], float, float]]:
    out = {}
    for order in ORDERS:
        shares, regrets = [], []
        for seed in range(seeds):
            hb = Hyperband(SPACE, seed=seed, max_iter=max_iter, bracket_order=order)
            hb.set_budget(total)
            trace = play(hb, crossing, workers, total_steps=total)
            steps = {b.index: 0 for b in hb.brackets}
            for r in trace.results:
                steps[hb.trials[r.trial_id].tags["bracket"]] += r.n_steps
            shares.append([steps[b.index] / trace.steps for b in hb.brackets])
            regrets.append(regret(hb))
        out[order] = (list(np.mean(shares, axis=0)), float(np.median(regrets)), float(np.mean(regrets)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("results/bracket_order.md"))
    args = parser.parse_args()
    lines = ["# Hyperband bracket order (R=81, eta=3; synthetic crossing curves)", "",
             "## Whole plan (1,581 steps): virtual makespan / ideal (steps / workers)", "",
             "| workers | " + " | ".join(ORDERS) + " |", "|---|" + "---|" * len(ORDERS)]
    for workers in (1, 4, 16):
        m = makespans(81, workers)
        lines.append(f"| {workers} | " + " | ".join(f"{m[o]:.3f}" for o in ORDERS) + " |")
    plan = [b.plan()["partial_fit_calls"] / 1581 for b in Hyperband(SPACE, max_iter=81).brackets]
    lines += ["", f"Planned share per bracket s=4..0: {', '.join(f'{p:.2f}' for p in plan)}", ""]
    for total in (100, 300, 600):
        lines += [f"## total_steps={total}, 4 workers, {args.seeds} seeds", "",
                  "| order | share per bracket s=4..0 | median regret | mean regret |", "|---|---|---|---|"]
        for order, (shares, med, mean) in budgeted(81, 4, total, args.seeds).items():
            lines.append(f"| {order} | {', '.join(f'{s:.2f}' for s in shares)} | {med:.3f} | {mean:.3f} |")
        lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
