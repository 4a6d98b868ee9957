"""Is the simulator telling the truth? Hyperband on Dask and on the simulated executor replaying
the Dask run's own recording decide alike, trial for trial; the report's section says so."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import scipy.stats as st
import yaml

from tests.helpers import TINY_SGD, new_processes, process_tree, wait_gone
from tunebench.cli.record import recording_scheduler
from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.compare.sampled import record_matrix
from tunebench.report import build_report
from tunebench.report.simulator_truth import TITLE, agreement, decisions, n_differing, order_of
from tunebench.store import read_run
from tunebench.workloads.curves import read_curves


def matrix_of(root: Path, address: str) -> dict[str, Any]:
    return {
        "name": "truth",
        "seeds": [0],
        "workers": 2,
        "max_iter": 9,
        "shared": {"eta": 3},
        "workloads": [{"label": "tiny", **TINY_SGD}],
        "executors": [
            {"name": "dask", "address": address},
            {"label": "simulated", "name": "simulated", "curves": str(root / "rec-{workload}.parquet"), "configs": "nearest"},
        ],
        "schedulers": [{"label": "hyperband", "name": "hyperband"}],
    }


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory, dask_address: str) -> Iterator[Path]:
    """Hyperband on Dask (2 workers, 600 circles rows, max_iter 9), its recording, and its replay."""
    before = process_tree()
    root = tmp_path_factory.mktemp("truth")
    path = root / "matrix.yaml"
    path.write_text(yaml.safe_dump(matrix_of(root, dask_address)))
    out = root / "study"
    written = record_matrix(path, [], recording_scheduler(), out, progress=False)
    assert written == [root / "rec-tiny.parquet"]
    compare(load_matrix(path), out, say=lambda line: None)
    assert not wait_gone(new_processes(before))
    yield out


def test_hyperband_on_dask_decides_as_its_simulated_replay(replayed: Path) -> None:
    real_summary, _, real, _ = read_run(replayed / "tiny/hyperband@dask/seed0")
    sim_summary, _, sim, _ = read_run(replayed / "tiny/hyperband@simulated/seed0")
    assert (real_summary["executor"], sim_summary["executor"]) == ("dask", "simulated")
    assert sim_summary["executor_stats"]["lookups_nearest"] == 0
    assert len(real) == real_summary["metadata"]["n_models"] and real["status"].eq("stopped").any()
    assert n_differing(decisions(real), decisions(sim)) == 0
    assert real_summary["best_score"] == sim_summary["best_score"]
    curves = read_curves(replayed.parent / "rec-tiny.parquet")
    assert curves.n_configs == len(real) and curves.max_iter == 9


def test_section_in_an_end_to_end_report(replayed: Path) -> None:
    text = build_report(replayed).markdown.read_text()
    part = text[text.index(TITLE) :]
    assert "| tiny | hyperband | synchronous | 0 | 17 | 17 | 0 | yes | 0 |" in part
    assert "1 of 1 (contender, seed) pairs made the same decision for every trial" in part


def test_kendall_tau_and_agreement_on_hand_made_values() -> None:
    real = {"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.6}
    same = agreement(real, {"a": 0.95, "b": 0.85, "c": 0.75, "d": 0.65})
    assert (same.tau, same.n) == (1.0, 4) and same.p_value == pytest.approx(st.kendalltau([4, 3, 2, 1], [4, 3, 2, 1]).pvalue)
    swapped = agreement(real, {"a": 0.9, "b": 0.7, "c": 0.8, "d": 0.6})
    assert swapped.tau == pytest.approx(4 / 6)
    assert agreement(real, {k: -v for k, v in real.items()}).tau == pytest.approx(-1.0)
    assert agreement(real, {"a": 0.5, "e": 0.1}).n == 1 and math.isnan(agreement(real, {"a": 0.5}).tau)
    tied = agreement({"a": 1.0, "b": 1.0, "c": 0.5}, {"a": 1.0, "b": 0.9, "c": 0.5})
    assert tied.tau == pytest.approx(st.kendalltau([1.0, 1.0, 0.5], [1.0, 0.9, 0.5]).statistic)
    assert order_of({"a": 0.5, "b": 0.9, "c": 0.5}) == "b > a = c"


def test_per_trial_decisions_on_hand_made_tables() -> None:
    real = pd.DataFrame(
        {
            "trial_id": [0, 1, 2],
            "config": ['{"x": 1, "y": 2}', '{"x": 2}', '{"x": 3}'],
            "steps": [9, 3, 1],
            "status": ["completed", "stopped", "stopped"],
        }
    )
    reordered_keys = real.assign(config=['{"y": 2, "x": 1}', '{"x": 2}', '{"x": 3}'])
    assert n_differing(decisions(real), decisions(reordered_keys)) == 0
    other = real.assign(
        steps=[9, 9, 1], status=["completed", "completed", "stopped"], config=['{"x": 1, "y": 2}', '{"x": 2}', '{"x": 4}']
    )
    assert n_differing(decisions(real), decisions(other)) == 2
    assert n_differing(decisions(real), decisions(real.iloc[:2])) == 1
