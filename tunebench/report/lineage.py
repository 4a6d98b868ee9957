"""Figures of a run whose scheduler logged a lineage (PBT): hyperparameter schedules across
the population, and a family tree.

Both read only what :func:`tunebench.store.read_run` gives of the run directory
(``results.parquet``, ``trials.parquet``, ``pbt_log.parquet``), never the scheduler. A PBT
trial has one config; a population *slot* is the line of trials that replaced each other in
one place of the population, so a slot's hyperparameters change over steps wherever a clone
took it over.

Usage: ``plot_run("runs/sgd-pbt", "results/sgd-pbt")`` returns the paths of the PNGs it wrote
(none for a run with no lineage log).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402

from tunebench.store import ancestry  # noqa: E402
from tunebench.store import read_run as read_tables  # noqa: E402


@dataclass(frozen=True)
class PBTRun:
    """A finished PBT run's summary and tables; ``pbt_log`` is ``None`` for another scheduler's run."""

    summary: dict[str, Any]
    results: pd.DataFrame
    trials: pd.DataFrame
    pbt_log: pd.DataFrame | None


def read_run(run_dir: str | Path) -> PBTRun:
    """A run's summary and tables as the store reads them, with its lineage log if it has one."""
    summary, results, trials, extra = read_tables(run_dir)
    return PBTRun(summary, results, trials, extra.get("pbt_log"))


def timeline(run_dir: str | Path) -> pd.DataFrame:
    """One row per result: ``trial_id``, ``slot``, ``step``, ``score`` and the trial's config values."""
    tables = read_run(run_dir)
    if tables.pbt_log is None:
        raise FileNotFoundError(f"{str(run_dir)!r} has no pbt_log.parquet: not a PBT run")
    log = tables.pbt_log
    slots = dict(zip(log["trial"].astype(int), log["slot"].astype(int)))
    configs = {int(t): json.loads(c) for t, c in zip(log["trial"], log["new_config"])}
    rows = []
    for r in tables.results.itertuples():
        tid = int(r.trial_id)
        rows.append({"trial_id": tid, "slot": slots[tid], "step": int(r.step), "score": float(r.score), **configs[tid]})
    return pd.DataFrame(rows).sort_values(["slot", "step"], kind="stable").reset_index(drop=True)


def varying_parameters(frame: pd.DataFrame) -> list[str]:
    """Config columns that are numeric and take more than one value in the run."""
    fixed = {"trial_id", "slot", "step", "score"}
    out = []
    for col in frame.columns:
        if col in fixed:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.notna().all() and values.nunique() > 1:
            out.append(col)
    return out


def log_scaled(values: pd.Series) -> bool:
    """Plot on a log axis when all values are positive and span more than a decade."""
    v = pd.to_numeric(values)
    return bool((v > 0).all() and v.max() / v.min() > 10)


def plot_hyperparameters(
    run_dir: str | Path, out: str | Path, params: Sequence[str] | None = None, title: str | None = None
) -> Path:
    """Each hyperparameter over steps: one line per slot, points coloured by the score they got."""
    frame = timeline(run_dir)
    params = list(params) if params is not None else varying_parameters(frame)
    n = max(1, len(params))
    fig, axes = plt.subplots(n, 1, figsize=(8, 2.6 * n + 0.6), sharex=True, squeeze=False)
    norm = Normalize(frame["score"].quantile(0.1), frame["score"].max())
    for ax, name in zip(axes[:, 0], params or [None]):
        if name is None:
            ax.text(0.5, 0.5, "no hyperparameter varies in this run", ha="center", transform=ax.transAxes)
            continue
        for _, lane in frame.groupby("slot"):
            ax.step(lane["step"], pd.to_numeric(lane[name]), where="pre", color="0.75", lw=0.8, zorder=1)
        points = ax.scatter(
            frame["step"], pd.to_numeric(frame[name]), c=frame["score"], cmap="viridis", norm=norm, s=14, zorder=2
        )
        if log_scaled(frame[name]):
            ax.set_yscale("log")
        ax.set_ylabel(name)
    axes[-1, 0].set_xlabel("step")
    if params:
        fig.colorbar(points, ax=axes[:, 0].tolist(), label="validation score", shrink=0.8)
    fig.suptitle(title or f"PBT schedules: {Path(run_dir).name}")
    return save(fig, out)


def plot_family_tree(run_dir: str | Path, out: str | Path, trial_id: int | None = None, title: str | None = None) -> Path:
    """Every trial as a segment in its slot's lane, clones as arrows; ``trial_id``'s ancestry bold.

    ``trial_id`` defaults to the run's best trial.
    """
    tables = read_run(run_dir)
    frame = timeline(run_dir)
    trial_id = int(tables.summary["best_trial"]) if trial_id is None else int(trial_id)
    chain = ancestry(tables.trials, trial_id)
    line = set(chain)
    log = tables.pbt_log
    assert log is not None
    start = {int(r.trial): int(r.step) for r in log.itertuples()}
    slot = {int(r.trial): int(r.slot) for r in log.itertuples()}
    norm = Normalize(frame["score"].quantile(0.1), frame["score"].max())
    cmap = plt.get_cmap("viridis")
    fig, ax = plt.subplots(figsize=(9, 0.5 * log["slot"].nunique() + 2))
    until = {t: start[child] for t, child in zip(chain, chain[1:])}
    for tid, rows in frame.groupby("trial_id"):
        steps = [start[tid], *rows["step"].tolist()]
        ax.plot(steps, [slot[tid]] * len(steps), color="0.7", lw=1, zorder=1)
        ax.scatter(rows["step"], [slot[tid]] * len(rows), c=rows["score"], cmap=cmap, norm=norm, s=10, zorder=4)
        if tid in line:
            end = until.get(tid, steps[-1])
            ax.plot([start[tid], end], [slot[tid]] * 2, color="C3", lw=3, zorder=3)
            ax.annotate(str(tid), (start[tid], slot[tid]), textcoords="offset points", xytext=(2, 5), fontsize=8, color="C3")
    for r in log.dropna(subset=["donor"]).itertuples():
        mine = int(r.trial) in line and int(r.trial) != chain[0]
        ax.annotate(
            "",
            xy=(r.step, r.slot),
            xytext=(r.step, slot[int(r.donor)]),
            arrowprops={"arrowstyle": "->", "color": "C3" if mine else "0.8", "lw": 1.5 if mine else 0.6},
            zorder=2,
        )
    ax.set_xlabel("step")
    ax.set_ylabel("population slot")
    ax.set_yticks(sorted(set(slot.values())))
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="validation score")
    ax.set_title(title or f"family tree of trial {trial_id} (bold: the weights it inherited): {len(chain)} generations")
    return save(fig, out)


def ancestry_table(run_dir: str | Path, trial_id: int | None = None) -> pd.DataFrame:
    """The configs a trial's weights were trained under: one row per ancestor, oldest first."""
    tables = read_run(run_dir)
    trial_id = int(tables.summary["best_trial"]) if trial_id is None else int(trial_id)
    assert tables.pbt_log is not None
    log = tables.pbt_log.set_index("trial")
    rows = []
    for tid in ancestry(tables.trials, trial_id):
        r = log.loc[tid]
        rows.append(
            {
                "trial_id": tid,
                "from_step": int(r["step"]),
                "donor": None if pd.isna(r["donor"]) else int(r["donor"]),
                "explored": r["explored"],
                **json.loads(r["new_config"]),
            }
        )
    return pd.DataFrame(rows)


def plot_run(run_dir: str | Path, out_dir: str | Path, params: Sequence[str] | None = None) -> dict[str, Path]:
    """Both plots of one run, as PNGs under ``out_dir``; none for a run with no lineage log."""
    if read_run(run_dir).pbt_log is None:
        return {}
    out = Path(out_dir)
    return {
        "hyperparameters": plot_hyperparameters(run_dir, out / "hyperparameters.png", params),
        "family_tree": plot_family_tree(run_dir, out / "family_tree.png"),
    }


def save(fig: plt.Figure, out: str | Path) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


__all__ = ["PBTRun", "read_run", "timeline", "plot_hyperparameters", "plot_family_tree", "ancestry_table", "plot_run"]
