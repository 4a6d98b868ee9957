"""The field's claims as a matrix's ``claims:``: each kind's verdict on hand-made per-block values
with a known answer, Holm's correction across the claims of one matrix, the arithmetic that turns
runs into blocks, one clear error per bad entry, and the "Claims" section of a suite comparison."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tunebench.compare.claims import check_claims
from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.config import ConfigError
from tunebench.report import build_report
from tunebench.report.claims import Claim, Measured, judge
from tunebench.report.claims_view import Claimed, Ran, claims_view, differences, growth, line, speedups
from tunebench.report.curves import Curve
from tunebench.store.comparison import Matrix, read_matrix

UP = tuple(0.05 + 0.01 * i for i in range(10))  # every block in a's favour
MIXED = (0.03, -0.02, 0.01, -0.04, 0.02, 0.005, -0.01, 0.015, -0.005, 0.01)


def verdict(claim: Claim, d: tuple[float, ...], seeds: int = 10, groups: int = 1) -> str:
    """The claim's verdict alone in its matrix."""
    return judge([claim], [Measured(d, seeds, groups)])[0].verdict


def better(**extra: Any) -> Claim:
    return Claim("better", "a", "b", extra.pop("measure", "anytime"), "a paper", **extra)


def test_a_difference_claim_is_supported_refuted_or_not_separable() -> None:
    assert verdict(better(), UP) == "supported"
    assert verdict(better(), tuple(-x for x in UP)) == "refuted"
    assert verdict(better(), MIXED) == "not separable at 10 seeds"
    (o,) = judge([better()], [Measured(MIXED, 10, 1)])
    assert o.seeds_needed is not None and o.seeds_needed > 10, "a small, noisy difference needs more seeds than it had"
    grouped = judge([better()], [Measured(MIXED * 4, 10, 4)])[0]
    assert grouped.seeds_needed is not None and grouped.seeds_needed < o.seeds_needed, "four blocks per seed need fewer seeds"


def test_not_better_is_supported_when_a_is_worse_and_refuted_when_it_is_better() -> None:
    claim = Claim("not_better", "a", "b", "anytime", "a paper")
    assert verdict(claim, tuple(-x for x in UP)) == "supported"
    assert verdict(claim, UP) == "refuted"
    within = Claim("not_better", "a", "b", "anytime", "a paper", margin=0.2)
    assert verdict(within, UP) == "supported", "a better by less than the margin"


def test_a_ratio_claim_tests_the_log_time_ratio_against_the_log_of_by() -> None:
    claim = better(measure="time_to_target", by=3.0)
    twice, five = tuple(math.log(2) + 0.01 * i for i in range(10)), tuple(math.log(5) + 0.01 * i for i in range(10))
    assert verdict(claim, five) == "supported"
    assert verdict(claim, twice) == "refuted", "2x faster, every block: significantly short of 3x"
    assert verdict(better(measure="time_to_target"), twice) == "supported", "without by: faster at all"
    said = line(judge([claim], [Measured(twice, 10, 1)])[0])
    assert "2.0" in said and "claimed: 3x or more" in said and "Source: a paper." in said


def test_alike_is_an_equivalence_test_against_the_margin() -> None:
    claim = Claim("alike", "a", "b", "final", "Syne Tune", margin=0.05)
    small = tuple(0.01 * ((-1) ** i) * (i % 3) for i in range(12))
    assert verdict(claim, small, seeds=12) == "supported"
    assert verdict(claim, tuple(0.2 + 0.01 * i for i in range(12)), seeds=12) == "refuted", "beyond the margin, every block"
    assert verdict(claim, (0.04, 0.06, 0.03, 0.07), seeds=4) == "not separable at 4 seeds"
    (o,) = judge([claim], [Measured(small, 12, 1)])
    assert len(o.p) == 2 and o.p[0] < 0.05 < o.p[1], "TOST p, then the p of a difference beyond the margin"


def test_saturation_is_a_speedup_significantly_below_the_ideal() -> None:
    claim = Claim("saturates", "asha", None, "time_to_target", "Li et al.", workers=(16, 24))
    flat = tuple(math.log(1.0 + 0.01 * i) for i in range(10))
    assert verdict(claim, flat) == "supported"
    assert verdict(claim, tuple(math.log(1.5) + 0.02 * ((-1) ** i) for i in range(10))) == "not separable at 10 seeds"
    tight = Claim("saturates", "asha", None, "time_to_target", "Li et al.", workers=(16, 24), at_most=1.05)
    assert verdict(tight, flat) == "not separable at 10 seeds", "speedups from 1.0 to 1.09 against at most 1.05"
    assert verdict(tight, tuple(math.log(1.3 + 0.01 * i) for i in range(10))) == "refuted"


def test_holm_runs_over_every_claim_of_the_matrix() -> None:
    six = tuple(0.1 * (i + 1) for i in range(6))  # exact p = 2 / 2**6 = 0.03125
    assert verdict(better(), six, seeds=6) == "supported"
    both = judge([better(), better(measure="final")], [Measured(six, 6, 1), Measured(six, 6, 1)])
    assert [o.verdict for o in both] == ["not separable at 6 seeds"] * 2
    assert [o.p_holm for o in both] == [(0.0625,), (0.0625,)]


def test_a_claim_without_blocks_has_no_verdict() -> None:
    (o,) = judge([better()], [Measured((), 0, 0, why="no block where a and b finished")])
    assert o.verdict == "no verdict: no block where a and b finished" and "no verdict" in line(o)


def test_a_matrix_without_claims_has_no_claims_section() -> None:
    assert claims_view(Matrix("m", {"workers": 2}), []) == Claimed()


def ran(times: list[float], scores: list[float], final: float) -> Ran:
    return Ran(Curve(np.array(times), np.array(scores)), final, (1.0, 0.0), "max")


def test_growth_pairs_the_most_workers_with_the_fewest_and_speedups_the_two_counts() -> None:
    early, late = ran([1.0], [1.0], 1.0), ran([4.0], [1.0], 1.0)
    runs = {
        "a": {("w", "sim", 4, 0): early, ("w", "sim", 64, 0): early},
        "b": {("w", "sim", 4, 0): early, ("w", "sim", 64, 0): late},
    }
    claim = Claim("better", "a", "b", "time_to_target", "S", grows_with="workers", workers=(4, 64))
    assert growth(claim, runs, (4, 64)) == {("w", "sim", 64, 0): pytest.approx(math.log(4))}
    sat = Claim("saturates", "b", None, "time_to_target", "S", workers=(4, 64))
    assert speedups(sat, runs) == {("w", "sim", 64, 0): pytest.approx(math.log(0.25))}


def test_a_peer_pairs_with_our_runs_on_each_executor_at_the_same_workers_and_seed() -> None:
    up, down = ran([1.0], [0.9], 0.9), ran([1.0], [0.7], 0.7)
    runs = {
        "pbt": {("w", "dask", 2, 0): up, ("w", "ray", 2, 0): up, ("w", "dask", 2, 1): up, ("w", "dask", 4, 0): up},
        "ray-tune-pbt": {("w", "ray-tune-pbt", 2, 0): down, ("w", "ray-tune-pbt", 2, 1): down},
    }
    claim = Claim("not_better", "ray-tune-pbt", "pbt", "final", "S")
    d = differences(claim, runs, (2, 4))
    peer = "ray-tune-pbt vs "
    keys = [("w", peer + "dask", 2, 0), ("w", peer + "dask", 2, 1), ("w", peer + "ray", 2, 0)]
    assert d == {key: pytest.approx(-0.2) for key in keys}
    swapped = differences(Claim("better", "pbt", "ray-tune-pbt", "final", "S"), runs, (2, 4))
    assert sorted(swapped.values()) == [pytest.approx(0.2)] * 3


CLAIMS: list[dict[str, Any]] = [
    {"better": "asha", "than": "hyperband", "measure": "anytime", "source": "Li et al., MLSys 2020", "claim": "ASHA wins"},
    {"better": "asha", "than": "hyperband", "measure": "anytime", "grows_with": "workers", "source": "Li et al., MLSys 2020"},
    {"alike": ["asha", "asha-stopping"], "measure": "final", "margin": 0.05, "source": "Syne Tune"},
    {"not_better": "asha-stopping", "than": "asha", "measure": "final", "source": "S"},
    {"better": "hyperband", "than": "asha", "measure": "time_to_target", "by": 2, "source": "S"},
    {"saturates": "asha", "between": [2, 8], "source": "S"},
]
MATRIX: dict[str, Any] = {
    "name": "claims",
    "seeds": [0, 1],
    "workers": [2, 8],
    "max_iter": 27,
    "budget": {"total_steps": 120},
    "suite": ["sgd-wine", "mlp-wine"],
    "shared": {"eta": 3, "min_iter": 1, "asha": {"n_trials": 40}},
    "schedulers": [
        {"label": "hyperband", "name": "hyperband"},
        {"label": "asha", "name": "asha"},
        {"label": "asha-stopping", "name": "asha", "variant": "stopping", "differs": {"variant": "the claim compares them"}},
    ],
    "claims": CLAIMS,
}


def with_claim(**changes: Any) -> dict[str, Any]:
    """The matrix with its first claim changed (a value of ``None`` drops the key)."""
    raw = copy.deepcopy(MATRIX)
    entry = {**CLAIMS[0], **changes}
    raw["claims"] = [{k: v for k, v in entry.items() if v is not None}]
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"better": "ashaa"},
            r"claims\[0\]\.better 'ashaa' is not a contender label .*did you mean 'asha'.*allowed: hyperband, asha",
        ),
        ({"than": "hyperbnd"}, r"claims\[0\]\.than 'hyperbnd' .*did you mean 'hyperband'"),
        ({"measure": "anytim"}, r"claims\[0\]\.measure must be one of final .*anytime .*time_to_target .*did you mean 'anytime'"),
        ({"source": None}, r"claims\[0\]\.source must be a non-empty text"),
        ({"better": None}, r"claims\[0\] needs exactly one of better, not_better, alike, saturates"),
        ({"alike": ["asha", "hyperband"]}, r"claims\[0\] needs exactly one of .*got better, alike"),
        ({"sorce": "x"}, r"unknown key\(s\) claims\[0\]\.sorce \(did you mean 'source'\?\)"),
        ({"between": [2, 8]}, r"claims\[0\]: between is not a key of a better claim; a better claim takes: better, than"),
        ({"by": 3}, r"claims\[0\]\.by is a time ratio: it takes measure: time_to_target"),
        ({"than": "asha"}, r"compares 'asha' with itself"),
        ({"workers": [2, 16]}, r"claims\[0\]\.workers must be one of the matrix's worker counts \(2, 8\)"),
        ({"grows_with": "seeds"}, r"claims\[0\]\.grows_with must be one of workers"),
    ],
)
def test_a_bad_claim_is_one_error_naming_key_value_and_what_is_allowed(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_matrix(raw=with_claim(**changes))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"alike": ["asha", "hyperband"], "measure": "final", "source": "S"},
            r"claims\[0\]\.margin is required.*in normalized regret",
        ),
        ({"alike": ["asha"], "measure": "final", "margin": 0.1, "source": "S"}, r"claims\[0\]\.alike must be a list of two"),
        (
            {"alike": ["asha", "hyperband"], "measure": "final", "margin": 2, "source": "S"},
            r"margin must be a number in \(0, 1\)",
        ),
        (
            {"saturates": "asha", "between": [8, 2], "source": "S"},
            r"claims\[0\]\.between must be two of the matrix's worker counts",
        ),
        ({"saturates": "asha", "between": [2, 8], "measure": "final", "source": "S"}, r"measure must be one of time_to_target"),
    ],
)
def test_each_kind_checks_its_own_keys(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_matrix(raw={**MATRIX, "claims": [entry]})


def test_claims_need_a_list_and_grows_with_needs_two_worker_counts() -> None:
    with pytest.raises(ConfigError, match=r"claims must be a non-empty list of claims"):
        load_matrix(raw={**MATRIX, "claims": {"better": "asha"}})
    with pytest.raises(ConfigError, match=r"grows_with: workers needs two worker counts or more"):
        load_matrix(raw={**MATRIX, "workers": 4, "claims": [CLAIMS[1]]})


def test_the_full_form_is_kept_and_validates_again() -> None:
    matrix = load_matrix(raw=MATRIX)
    given = matrix.raw["claims"]
    assert given[1]["workers"] == [2, 8] and given[5]["measure"] == "time_to_target", "defaults filled in"
    again = {"claims": copy.deepcopy(given)}
    check_claims(again, ["hyperband", "asha", "asha-stopping"], (2, 8))
    assert again["claims"] == given
    assert [Claim.from_json(c).as_json() for c in given] == given


def test_a_suite_comparison_reports_its_claims(tmp_path: Path) -> None:
    out = tmp_path / "claims"
    compare(load_matrix(raw={**MATRIX, "suite": ["mlp-wine"]}), out, say=lambda line: None)
    assert len(read_matrix(out).raw["claims"]) == len(CLAIMS)
    paths = build_report(out)
    md = paths.markdown.read_text()
    section = md.split("## Claims")[1].split("\n## ")[0]
    items = [s for s in section.splitlines() if s.startswith("- ")]
    assert len(items) == len(CLAIMS)
    verdicts = ("supported", "refuted", "not separable at 2 seeds")
    assert all(any(f"]: {v}" in s for v in verdicts) for s in items), items
    assert items[0].startswith("- ASHA wins [better: asha, than: hyperband, measure: anytime]: ")
    assert "(task, workers, seed) blocks over 2 seeds" in items[0] and "Source: Li et al., MLSys 2020." in items[0]
    assert "(task, seed) blocks" in items[1] and "TOST p=" in items[2] and "speedup from 2 to 8 workers" in items[5]
    assert "Holm" in section and "p=" in items[3]
    verdict = md.split("## Verdict")[1].split("\n## ")[0]
    assert "Claim: ASHA wins (Li et al., MLSys 2020): " in verdict
    assert sum(v.startswith("Claim: ") for v in paths.verdict) == len(CLAIMS), "compare ends with them too"
