"""The operator called by import path from a config: through ``tunebench run``, as a one-line
error when it cannot be imported, and head to head with the built-in operators through
``compare``, with each run's lineage figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tunebench import Space, compare, load_matrix
from tunebench.cli import main

HERE = Path(__file__).resolve().parents[1]
CONFIG = HERE / "sgd-pbt-cauchy.yaml"
MATRIX = HERE / "compare-operators.yaml"
LABEL = "call(tunebench_pbt_explore.cauchy:cauchy)"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working directory of ``tunebench``, run in this process: it does not
    hold the package, which is found installed."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tunebench_run_explores_with_the_operator(elsewhere: Path) -> None:
    assert main(["run", str(CONFIG), "--out", str(elsewhere / "run"), "-q"]) == 0
    summary = json.loads((elsewhere / "run" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["scheduler"] == "pbt"
    log = pd.read_parquet(elsewhere / "run" / "pbt_log.parquet")
    clones = log[log["strategy"] != "init"]
    assert len(clones) == 2  # one member replaced at step 3 and at step 6
    assert all(LABEL in json.loads(e)["eta0"] for e in clones["explored"])
    space = Space.from_spec(
        {"alpha": {"loguniform": [1e-6, 1e-1]}, "eta0": {"loguniform": [1e-4, 1.0]}, "learning_rate": "constant"}
    )
    assert all(space.contains(json.loads(c)) for c in log["new_config"])


def test_an_operator_that_cannot_be_imported_is_a_one_line_error(elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = 'scheduler.explore.eta0=[{call: "tunebench_pbt_explore.cauchy:nope"}]'
    status = main(["run", str(CONFIG), "--out", str(elsewhere / "run"), "-q", "--set", bad])
    assert status == 2 and not (elsewhere / "run").exists()
    assert capsys.readouterr().err.strip() == (
        "tunebench: error: scheduler 'pbt': explore.eta0[0].call: call 'tunebench_pbt_explore.cauchy:nope' "
        "cannot be imported: module 'tunebench_pbt_explore.cauchy' has no attribute 'nope'"
    )


def test_compare_puts_the_operators_head_to_head_with_lineage_figures(tmp_path: Path) -> None:
    from tunebench.report.lineage import plot_run

    matrix = load_matrix(MATRIX, ["seeds=[0]", "max_iter=6", "shared.pbt.population=4"])
    out = compare(matrix, tmp_path / "ops", say=lambda line: None)
    cells = json.loads((out / "matrix.json").read_text())["cells"]
    assert {c["label"]: c["status"] for c in cells} == {k: "done" for k in ("none", "resample+perturb", "gaussian", "cauchy")}
    for cell in cells:  # the loop docs/plugins.md shows
        figures = plot_run(out / cell["dir"], out / "lineage" / cell["label"])
        assert sorted(figures) == ["family_tree", "hyperparameters"] and all(p.is_file() for p in figures.values())
    explored = pd.read_parquet(out / "sgd/cauchy@local/seed0/pbt_log.parquet")["explored"].map(json.loads)
    assert any(LABEL in e.get("alpha", []) for e in explored)
    control = pd.read_parquet(out / "sgd/none@local/seed0/pbt_log.parquet")
    clones = control[control["strategy"] != "init"]
    assert (
        len(clones) > 0 and (clones["old_config"] == clones["new_config"]).all()
    )  # the control's clones keep the donor's config
