"""Whether the simulator tells the truth: the same matrix run for real and replayed on the real
run's recording (``tunebench record MATRIX --matrix``, :mod:`tunebench.compare.sampled`).

Shown for every workload whose cells of ours ran on a real executor and on the ``simulated`` one.
Two questions, each answered by a pure function:

- **Do the rankings agree?** The contenders ranked by the interquartile mean over seeds of their
  final validation score (as the final tables rank them), real against simulated: Kendall's tau-b
  with its two-sided p-value (:func:`agreement`, ``scipy.stats.kendalltau``; a tie in either
  ranking counts as tau-b counts it).
- **Are the decisions equal?** Per contender and seed, each trial's config, the steps it reached
  and its final status, real against simulated (:func:`decisions`, :func:`n_differing`). A
  synchronous scheduler (:data:`SYNCHRONOUS`: a rung closes when all its trials are in) decides
  from scores alone, so with the same seed and the exact curves every trial must agree. An
  asynchronous one (ASHA, PBT) decides on whatever has arrived, so its decisions follow the
  order results come back in, which real and virtual time need not share: its differences are
  counted, not expected to be zero.

>>> a = agreement({"hb": 0.9, "sh": 0.8, "rs": 0.7}, {"hb": 0.91, "sh": 0.79, "rs": 0.75})
>>> a.tau, round(a.p_value, 3), a.n
(1.0, 0.333, 3)
>>> real = pd.DataFrame({"trial_id": [0, 1], "config": ['{"x": 1}', '{"x": 2}'], "steps": [9, 3], "status": ["completed", "stopped"]})
>>> sim = real.assign(steps=[9, 9], status=["completed", "completed"])
>>> n_differing(decisions(real), decisions(real)), n_differing(decisions(real), decisions(sim))
(0, 1)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import scipy.stats as st

from tunebench.report.analysis import WorkloadView
from tunebench.report.document import Block, Section, Table, fmt
from tunebench.report.runs import CellRun
from tunebench.report.significance import iqm_key

TITLE = "Does the simulator tell the truth?"
SIMULATED = "simulated"
SYNCHRONOUS = frozenset({"random", "successive_halving", "hyperband"})
RANK_HEADERS = ("workload", "real", "simulated", "contenders", "Kendall tau", "p-value", "real order", "simulated order")
TRIAL_HEADERS = (
    "workload",
    "contender",
    "decides",
    "seed",
    "trials real",
    "trials simulated",
    "differing",
    "equal",
    "replayed nearest",
)
TRIAL_CAPTION = (
    "Per-trial decisions (config, steps reached, final status), real against simulated; replayed nearest: the simulated "
    "run's trials whose config was not in the recording (0: every curve replayed exactly)."
)

Decision = tuple[str, int, str]


@dataclass(frozen=True)
class Agreement:
    """Kendall's tau-b between two rankings of ``n`` contenders and its two-sided p-value (NaN
    for fewer than two contenders, or a ranking that is all ties)."""

    tau: float
    p_value: float
    n: int


def agreement(real: Mapping[str, float], simulated: Mapping[str, float]) -> Agreement:
    """Kendall's tau-b between the scores (larger is better) of the contenders both have."""
    names = [n for n in real if n in simulated]
    if len(names) < 2:
        return Agreement(math.nan, math.nan, len(names))
    res = st.kendalltau([real[n] for n in names], [simulated[n] for n in names])
    return Agreement(float(res.statistic), float(res.pvalue), len(names))


def order_of(scores: Mapping[str, float]) -> str:
    """Contenders best first, ``=`` between ties (kept in the order given).

    >>> order_of({"a": 0.5, "b": 0.9, "c": 0.5})
    'b > a = c'
    """
    names = sorted(scores, key=lambda n: -scores[n])
    return "".join(("" if i == 0 else " = " if scores[n] == scores[names[i - 1]] else " > ") + n for i, n in enumerate(names))


def decisions(trials: pd.DataFrame) -> dict[int, Decision]:
    """Trial id -> (config as canonical JSON, steps reached, final status)."""
    out = {}
    for tid, config, steps, status in zip(trials["trial_id"], trials["config"], trials["steps"], trials["status"]):
        parsed = json.loads(config) if isinstance(config, str) else dict(config)
        out[int(tid)] = (json.dumps(parsed, sort_keys=True), int(steps), str(status))
    return out


def n_differing(real: Mapping[int, Decision], simulated: Mapping[int, Decision]) -> int:
    """Trials whose config, steps or status differ, a trial on one side only counting once."""
    return sum(real.get(t) != simulated.get(t) for t in set(real) | set(simulated))


def is_simulated(run: CellRun) -> bool:
    """Whether the run replayed curves: its summary names the executor that ran it."""
    return str(run.summary.get("executor")) == SIMULATED


def ours(runs: Sequence[CellRun]) -> list[CellRun]:
    return [r for r in runs if r.cell.kind == "scheduler"]


def executor_pairs(runs: Sequence[CellRun]) -> list[tuple[str, str]]:
    """(real executor, simulated executor) labels that both ran our cells, in the order seen."""
    real = list(dict.fromkeys(r.cell.executor for r in ours(runs) if not is_simulated(r)))
    sim = list(dict.fromkeys(r.cell.executor for r in ours(runs) if is_simulated(r)))
    return [(a, b) for a in real for b in sim]


def final_keys(runs: Sequence[CellRun], executor: str, mode: str) -> dict[str, float]:
    """Contender -> IQM over seeds of its final validation score's rank key (larger is better)."""
    labels = list(dict.fromkeys(r.cell.label for r in ours(runs) if r.cell.executor == executor))
    return {
        label: iqm_key([r.get("best_score") for r in runs if r.cell.label == label and r.cell.executor == executor], mode)
        for label in labels
    }


def rank_row(view: WorkloadView, real: str, sim: str) -> tuple[str, ...]:
    a, b = final_keys(view.runs, real, view.mode), final_keys(view.runs, sim, view.mode)
    got = agreement(a, b)
    both = [n for n in a if n in b]
    return (
        view.workload,
        real,
        sim,
        str(got.n),
        fmt(got.tau, 3) if got.n < 2 or got.tau == got.tau else "- (all tied)",
        fmt(got.p_value, 3),
        order_of({n: a[n] for n in both}),
        order_of({n: b[n] for n in both}),
    )


def trial_rows(view: WorkloadView, real: str, sim: str) -> list[tuple[str, ...]]:
    """One row per contender and seed that ran on both executors."""
    cells = {(r.cell.label, r.seed, r.cell.executor): r for r in ours(view.runs)}
    rows: list[tuple[str, ...]] = []
    for (label, seed, executor), a in cells.items():
        b = cells.get((label, seed, sim))
        if executor != real or b is None:
            continue
        sync = str(a.summary.get("scheduler")) in SYNCHRONOUS
        differ = n_differing(decisions(a.trials), decisions(b.trials))
        equal = ("yes" if differ == 0 else "NO") if sync else ("yes" if differ == 0 else "no (not expected)")
        rows.append(
            (
                view.workload,
                label,
                "synchronous" if sync else "asynchronous",
                str(seed),
                str(len(a.trials)),
                str(len(b.trials)),
                str(differ),
                equal,
                str((b.summary.get("executor_stats") or {}).get("lookups_nearest", "-")),
            )
        )
    return rows


def intro() -> str:
    return (
        "The same contenders and seeds run on a real executor and replayed on the simulated one from the real run's "
        "recording: every config the real cells sampled, with its trial seed, trained to max_iter "
        "(`tunebench record MATRIX --matrix`). Kendall's tau compares the contenders' rankings by the IQM over seeds "
        "of the final validation score (1: the same order; p-value: two-sided, scipy.stats.kendalltau). Per contender "
        "and seed, a trial differs when its config, the steps it reached or its final status differ. Synchronous "
        "schedulers (random search, successive halving, Hyperband) decide from scores alone and must agree trial for "
        "trial; asynchronous ones (ASHA, PBT) decide on whatever results have arrived, so their decisions follow the "
        "order of arrival, which real and virtual time need not share: their differences are shown, not expected to be zero."
    )


def summary_line(rows: Sequence[tuple[str, ...]]) -> str:
    """How many synchronous (contender, seed) pairs decided alike."""
    sync = [r for r in rows if r[2] == "synchronous"]
    equal = sum(r[7] == "yes" for r in sync)
    return f"Synchronous schedulers: {equal} of {len(sync)} (contender, seed) pairs made the same decision for every trial."


def section(views: Sequence[WorkloadView]) -> Section | None:
    """The section, or ``None`` when no workload ran our cells on both a real and the simulated executor."""
    ranks: list[tuple[str, ...]] = []
    trials: list[tuple[str, ...]] = []
    for v in views:
        for real, sim in executor_pairs(v.runs):
            ranks.append(rank_row(v, real, sim))
            trials += trial_rows(v, real, sim)
    if not ranks:
        return None
    blocks: list[Block] = [
        intro(),
        Table(
            RANK_HEADERS, tuple(ranks), "Rankings by the IQM over seeds of the final validation score, real against simulated."
        ),
        Table(TRIAL_HEADERS, tuple(trials), TRIAL_CAPTION),
        summary_line(trials),
    ]
    return Section(TITLE, tuple(blocks))


__all__ = ["Agreement", "SYNCHRONOUS", "agreement", "decisions", "n_differing", "order_of", "section"]
