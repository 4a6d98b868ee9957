"""When the report may call a contender best: the paired tests, Holm, Friedman and the Nemenyi
CD against hand computations; censored times to target; the seeds a close call needs; the
performance profile; and, on small hand-made comparisons, that a scheduler under two labels
is tied and never starred while a clear winner on 10 seeds is."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from tunebench.report import build_report
from tunebench.report.analysis import profile_why_not
from tunebench.report.significance import (
    critical_difference,
    differences,
    holm,
    normalized_scores,
    paired_test,
    performance_profile,
    ranking,
    seeds_needed,
    t_test_seeds,
    verdict,
)
from tunebench.store import Journal, RunDir, counts

NAN = float("nan")


def by_seed(values) -> dict[int, float]:
    return {i: float(v) for i, v in enumerate(values)}


def test_paired_test_agrees_with_the_sign_patterns_counted_by_hand() -> None:
    zero = by_seed([0, 0, 0, 0])
    # d = 1, 2, 3, 4: signed ranks sum to 10; of the 16 sign patterns only all-positive reaches 10 -> 2 * 1/16
    assert paired_test(by_seed([1, 2, 3, 4]), zero, "max").p == pytest.approx(2 / 16)
    # d = 1, -2, 3, 4: T = 6, i.e. positive ranks sum to 8; {1,3,4}, {2,3,4}, {1,2,3,4} reach it -> 2 * 3/16
    t = paired_test(by_seed([1, -2, 3, 4]), zero, "max")
    assert (t.statistic, t.p, t.method) == (6.0, pytest.approx(6 / 16), "exact permutation")
    assert paired_test(by_seed([-1, 2, -3, -4]), zero, "min").p == pytest.approx(6 / 16), "min mirrors max"
    # 14 positive differences: past the exact limit, scipy's Wilcoxon; only 1 of 2**14 patterns is as extreme
    w = paired_test(by_seed(range(1, 15)), by_seed([0] * 14), "max")
    assert w.method == "Wilcoxon signed-rank" and w.p == pytest.approx(2 / 2**14)


def test_a_score_that_is_not_a_number_loses_its_pair_by_the_largest_rank() -> None:
    a, b = by_seed([0.9, 0.9, 0.9, NAN]), by_seed([0.8, 0.8, 0.8, 0.85])
    assert differences(a, b, "max").round(9).tolist() == [0.1, 0.1, 0.1, -math.inf]
    # |d| ranks: the three 0.1s share 2, the NaN seed ranks 4 -> T = 2 + 2 + 2 - 4
    assert paired_test(a, b, "max").statistic == 2.0
    assert paired_test(by_seed([NAN, 0.5]), by_seed([NAN, 0.5]), "max").p == 1.0, "both NaN is a tie"


def test_holm_on_a_hand_case() -> None:
    # sorted: 0.005 * 4 = 0.02, 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> kept monotone at 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == [0.03, 0.06, 0.06, 0.02]
    assert holm([0.5, 0.9]) == [1.0, 1.0], "0.5 * 2 = 1.0, and 0.9 may not fall below it"


def test_friedman_and_nemenyi_on_a_three_by_four_table() -> None:
    # ranks (1 best) per workload: w1 a1 b2 c3; w2 a1 c2 b3; w3 b1 a2 c3; w4 a1 b2 c3
    blocks = {
        "w1": {"a": 0.9, "b": 0.8, "c": 0.7},
        "w2": {"a": 0.9, "b": 0.7, "c": 0.8},
        "w3": {"a": 0.8, "b": 0.9, "c": 0.7},
        "w4": {"a": 0.9, "b": 0.8, "c": 0.7},
    }
    r = ranking(blocks)
    assert r.names == ("a", "b", "c") and r.average_rank == (5 / 4, 8 / 4, 11 / 4)
    # chi2_F = 12 N / (k (k+1)) * (sum R^2 - k (k+1)^2 / 4) = 48/12 * (13.125 - 12) = 4.5; chi2 with 2 df: p = exp(-4.5/2)
    assert r.statistic == pytest.approx(4.5) and r.p == pytest.approx(math.exp(-2.25))
    # q_0.05 for k = 3 is 3.314 / sqrt(2) = 2.343 (Demšar's table 5a); CD = 2.343 * sqrt(3 * 4 / (6 * 4))
    q = st.studentized_range.ppf(0.95, 3, np.inf) / math.sqrt(2)
    assert q == pytest.approx(2.343, abs=1e-3)
    assert r.cd == pytest.approx(q * math.sqrt(0.5)) == pytest.approx(1.657, abs=1e-3)
    assert r.groups == (("a", "b", "c"),), "1.5 apart at most: one group"
    assert critical_difference(3, 4) == r.cd


def test_friedman_separates_a_contender_always_best() -> None:
    blocks = {f"w{i}": {"a": 3.0, "b": 2.0, "c": 1.0} for i in range(10)}
    r = ranking(blocks)
    # ranks 1, 2, 3 in every block: chi2_F = 120/12 * (14 - 12) = 20; CD = 2.343 * sqrt(12/60) = 1.048
    assert r.statistic == pytest.approx(20.0) and r.p == pytest.approx(math.exp(-10))
    assert r.cd == pytest.approx(1.048, abs=1e-3) and r.groups == (("a", "b"), ("b", "c"))


def test_ranking_says_why_there_is_no_friedman_test() -> None:
    assert ranking({"w": {"a": 1.0, "b": 2.0, "c": 3.0}}).why_not == "one workload: no ranking across workloads"
    two = ranking({"w1": {"a": 1.0, "b": 2.0}, "w2": {"a": 1.0, "b": 2.0, "c": 0.0}})
    assert "needs at least 3" in two.why_not and two.left_out == ("c",) and two.names == ("b", "a")
    assert ranking({f"w{i}": {"a": 0.5, "b": 0.5, "c": 0.5} for i in range(3)}).p == 1.0, "all tied"


def test_censored_time_to_target_ranks_below_every_reached_time() -> None:
    # a reaches the target at 10 s on every seed; b at 5 s on seeds 0-2 and never on 3-6; neither on seed 7
    a = {s: 10.0 for s in range(7)} | {7: NAN}
    b = {0: 5.0, 1: 5.0, 2: 5.0} | {s: NAN for s in range(3, 8)}
    d = differences(a, b, "min")
    assert d.tolist() == [-5.0, -5.0, -5.0, math.inf, math.inf, math.inf, math.inf, 0.0], "never is worse than any time"
    v = verdict({"a": a, "b": b}, "min", "time to target")
    assert v.best == "a", "b's IQM over seeds is dragged to -inf by 4 of 8 seeds that never reached"
    # nonzero |d| ranks: three 5 s share 2, four censored share 5.5; T = 4 * 5.5 - 3 * 2 = 16, positive ranks 22;
    # subsets of the 7 ranks reaching 22: all four 5.5s with any 2s (8), three 5.5s with all three 2s (4): 12 of 128
    assert v.comparisons[0].test.statistic == 16.0 and v.comparisons[0].p_holm == pytest.approx(2 * 12 / 128)
    assert v.winner is None and v.tied == ("b",)


def test_seeds_needed_on_a_hand_case() -> None:
    # Cohen's table for a two-sided paired t test at alpha 0.05, power 0.8: d_z = 1 needs 10, d_z = 0.5 needs 34
    assert (t_test_seeds(1.0), t_test_seeds(0.5)) == (10, 34)
    n = seeds_needed("a", "b", [0.0, 1.0, 2.0])  # mean 1, sd 1: d_z = 1 -> 10 / (3/pi) = 10.47 -> 11
    assert (n.mean, n.sd, n.n_pairs, n.seeds) == (1.0, 1.0, 3, 11)
    # equal differences: the fewest seeds at which the exact test can reach 0.05 at all, 2**(1-6) = 1/32
    assert seeds_needed("a", "b", [0.3, 0.3, 0.3]).seeds == 6
    assert seeds_needed("a", "b", [0.2, -0.2, 0.0]).seeds is None
    assert seeds_needed("a", "b", [0.2, math.inf]) is None, "one finite difference has no sd"


def test_performance_profile_weighs_workloads_alike_and_its_band_is_seeded() -> None:
    assert normalized_scores([0.1, 0.3, NAN], best=0.1, worst=0.5, mode="min").round(9).tolist() == [1.0, 0.5, 0.0]
    runs = {"w1": [1.0, 0.5], "w2": [0.2, 0.2, 0.9, 0.9]}
    p = performance_profile(runs, seed=3, n_resamples=500)
    # at tau 0.5: w1 2/2, w2 2/4 -> 0.75 (pooling the 6 runs would say 4/6); at tau 0.95: w1 1/2, w2 0/4 -> 0.25
    assert p.fraction[50] == 0.75 and p.fraction[95] == 0.25 and p.fraction[0] == 1.0 and p.n_runs == 6
    assert np.all(p.low <= p.fraction + 1e-12) and np.all(p.fraction <= p.high + 1e-12) and p.high[95] > p.low[95]
    again = performance_profile(runs, seed=3, n_resamples=500)
    assert np.array_equal(p.low, again.low) and np.array_equal(p.high, again.high)
    assert "fewer than 2 seeds" in profile_why_not({"a": {"w": 1}, "b": {"w": 1}})


# ---- whole reports on hand-made comparisons ----


def write_run(path: Path, label: str, workload: str, seed: int, scores: list[float], mode: str = "max") -> None:
    """A finished run that scores ``scores`` one trial after another, one second apart."""
    run = RunDir.create(path)
    with Journal(run.journal_path) as j:
        j.log("start", mode=mode, config={}, scheduler=label, executor="local", workload=workload, seed=seed)
        for tid, score in enumerate(scores):
            j.log("trial", trial_id=tid, config={"alpha": 0.1 * (tid + 1)}, seed=seed, parent=None, tags={})
            j.log("job", trial_id=tid, start_step=0, stop_step=1)
            j.log(
                "result",
                trial_id=tid,
                step=1,
                score=score,
                n_steps=1,
                decision="continue",
                elapsed_s=float(tid + 1),
                compute_s=0.1,
                score_s=0.01,
                worker=0,
            )
        j.log("end", status="completed", wall_time_s=float(len(scores)))
    tables = run.tables()
    summary = {
        "status": "completed",
        "scheduler": label,
        "executor": "local",
        "workload": workload,
        "metric": "accuracy",
        "mode": mode,
        "seed": seed,
        **counts(tables),
        "test_score": counts(tables)["best_score"],
        "wall_time_s": float(len(scores)),
        "config": {},
    }
    run.write(tables, summary)


def comparison(root: Path, plans: dict[str, dict[str, list[list[float]]]], target: float | None = None) -> Path:
    """``plans``: workload -> label -> per seed, the scores of its trials."""
    cells, labels = [], list(dict.fromkeys(label for per in plans.values() for label in per))
    for workload, per in plans.items():
        for label, seeds in per.items():
            for seed, scores in enumerate(seeds):
                cid = f"{label}-local-{workload}-{seed}"
                write_run(root / cid, label, workload, seed, scores)
                cells.append(
                    {
                        "cell_id": cid,
                        "label": label,
                        "executor": "local",
                        "workload": workload,
                        "seed": seed,
                        "dir": cid,
                        "status": "done",
                    }
                )
    matrix = {
        "contenders": [{"label": x, "kind": "scheduler"} for x in labels],
        "executors": ["local"],
        "workloads": list(plans),
        "seeds": sorted({c["seed"] for c in cells}),
        "budget": {},
        "target_score": target,
        "cells": cells,
    }
    (root / "matrix.json").write_text(json.dumps(matrix))
    return root


def block_of(md: str, workload: str) -> str:
    return md.split(f"### {workload}")[1].split("\n## ")[0]


def table_rows(block: str) -> dict[str, str]:
    rows = [line for line in block.split("\n\n")[1].splitlines()[2:]]
    return {r.strip("|").split("|")[0].strip().strip("*").replace(" ★", ""): r for r in rows}


def test_one_scheduler_under_two_labels_is_tied_and_never_starred(tmp_path) -> None:
    seeds = [[0.5, 0.7 + 0.01 * s, 0.8 + 0.005 * s] for s in range(10)]
    paths = build_report(comparison(tmp_path, {"sgd": {"hyperband": seeds, "hyperband-again": [list(x) for x in seeds]}}, 0.8))
    md = paths.markdown.read_text()
    sgd = block_of(md, "sgd")
    assert "★" not in sgd.split("\n\n")[1] and "**" not in sgd.split("\n\n")[1], "neither row is marked"
    score, time = paths.verdict
    assert score.startswith(
        "sgd, final validation accuracy: hyperband leads with IQM 0.8225, level with hyperband-again. "
        "Not significant: tied with hyperband-again (Holm-corrected paired tests over 10 seeds"
    )
    assert "by final validation score, hyperband against each: no paired seed of 10 differs: p=1 against hyperband-again" in sgd
    assert "level with hyperband-again. Not significant: tied with hyperband-again" in time, "the same verdict on time to target"
    assert "average zero" in score and "more seeds would not separate them" in score
    assert "Seeds needed" not in sgd, "no seed count to explain"
    assert "One workload: no ranking across workloads." in md
    assert 'class="winner"' not in paths.html.read_text()


def test_a_clear_winner_on_ten_seeds_is_starred(tmp_path) -> None:
    good = [[0.6, 0.85 + 0.003 * s] for s in range(10)]
    bad = [[0.6, 0.80 + 0.004 * s] for s in range(10)]
    paths = build_report(comparison(tmp_path, {"sgd": {"asha": good, "random": bad}}))
    sgd = block_of(paths.markdown.read_text(), "sgd")
    rows = table_rows(sgd)
    assert rows["asha"].startswith("| **asha ★** |") and "★" not in rows["random"] and "**" not in rows["random"]
    # every one of the 10 seeds favours asha: 1 of 2**10 sign patterns as extreme, two-sided 2/1024
    assert paths.verdict == (
        "sgd, final validation accuracy: asha leads with IQM 0.8635, ahead of random (0.818) by 0.046. "
        "Significant against every other contender (Holm-corrected paired tests over 10 seeds, "
        "largest p=0.002).",
    )
    assert "by final validation score, asha against each: exact permutation over 10 paired seeds: p=0.002 against random." in sgd
    assert "seeds for" not in sgd, "no seeds-needed sentence once the top two are separated"
    assert 'class="winner"' in paths.html.read_text()


def test_across_workloads_draws_the_critical_difference_diagram(tmp_path) -> None:
    def plan(level: float) -> list[list[float]]:
        return [[0.5, level + 0.002 * s] for s in range(4)]

    plans = {
        w: {"asha": plan(0.9 - d), "hyperband": plan(0.85 - d), "random": plan(0.8 - d)} for w, d in (("w1", 0.0), ("w2", 0.1))
    }
    paths = build_report(comparison(tmp_path, plans))
    md = paths.markdown.read_text()
    across = md.split("## Across workloads")[1].split("\n## ")[0]
    assert "| asha | 1 |" in across and "| hyperband | 2 |" in across and "| random | 3 |" in across
    # ranks 1, 2, 3 on both workloads: chi2_F = 24/12 * (14 - 12) = 4, p = exp(-2); CD = 2.343 * sqrt(12/12)
    assert f"Friedman chi-square 4 (2 df), p={math.exp(-2):.2g}: does not reject" in across and "CD=2.34" in across
    assert "](critical_difference.png)" in across and (tmp_path / "critical_difference.png").read_bytes()[:4] == b"\x89PNG"
    assert "](performance_profile.png)" in md
    assert all("★" not in row for w in plans for row in table_rows(block_of(md, w)).values()), (
        "four seeds cannot separate anyone: the smallest two-sided p is 2/16"
    )
    assert {p.name for p in paths.figures} >= {"critical_difference.png", "performance_profile.png"}


def test_one_seed_gives_no_profile_and_no_verdict(tmp_path) -> None:
    paths = build_report(comparison(tmp_path, {"sgd": {"asha": [[0.9]], "random": [[0.8]]}}))
    md = paths.markdown.read_text()
    assert "No performance profile: fewer than 2 seeds per contender and workload" in md
    assert "performance_profile.png" not in md and not (tmp_path / "performance_profile.png").exists()
    assert "exact permutation over 1 paired seed: p=1 against random." in md
    assert "asha leads with IQM 0.9, ahead of random (0.8) by 0.1. Not significant: tied with random" in paths.verdict[0]
    assert all("★" not in row for row in table_rows(block_of(md, "sgd")).values())
