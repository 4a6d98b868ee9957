"""Human-readable views of a run: the summary table printed at the end of ``tunebench run``."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def summary_table(summary: dict[str, Any], trials: pd.DataFrame, top: int = 5) -> str:
    """The run's headline numbers, then its ``top`` trials by last score."""
    lines = [
        f"{summary['scheduler']} on {summary['executor']} / {summary['workload']} (seed {summary['seed']}): {summary['status']}"
        + (f" [{summary['stop_reason']}]" if summary.get("stop_reason") else ""),
    ]
    rows = [
        ("trials", summary["n_trials"]),
        ("partial_fit calls", summary["partial_fit_calls"]),
        (f"best {summary['metric']} (validation)", summary["best_score"]),
        *(
            [(f"regret vs optimum {_fmt(summary['optimum'])}", summary.get("regret"))]
            if summary.get("optimum") is not None
            else []
        ),
        (f"{summary['metric']} of best trial (test)", summary["test_score"]),
        *([("regret of best trial (test)", summary.get("test_regret"))] if summary.get("optimum") is not None else []),
        ("best trial", summary["best_trial"]),
        ("wall time (s)", summary["wall_time_s"]),
        ("utilization", summary["utilization"]),
    ]
    width = max(len(k) for k, _ in rows)
    lines += [f"  {k:<{width}}  {_fmt(v)}" for k, v in rows]
    if summary.get("best_config"):
        lines.append(f"  {'best config':<{width}}  {json.dumps(summary['best_config'], sort_keys=True)}")
    if not trials.empty and trials["last_score"].notna().any():
        ascending = summary.get("mode") == "min"
        best = trials.dropna(subset=["last_score"]).sort_values(["last_score", "trial_id"], ascending=[ascending, True]).head(top)
        lines.append("")
        lines.append(f"  top {len(best)} trials by last score:")
        lines.append(f"  {'trial':>6} {'steps':>6} {'status':<10} {'score':>9}  config")
        for _, r in best.iterrows():
            cfg = json.loads(r["config"])
            short = ", ".join(f"{k}={_fmt(v)}" for k, v in cfg.items())
            lines.append(f"  {int(r['trial_id']):>6} {int(r['steps']):>6} {r['status']:<10} {r['last_score']:>9.4f}  {short}")
    return "\n".join(lines)
