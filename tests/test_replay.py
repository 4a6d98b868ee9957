"""Replaying a trial retrains it from scratch through its lineage and reproduces its scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.helpers import tiny_config
from tunebench.cli import main
from tunebench.config import load_experiment
from tunebench.replay import replay, schedule
from tunebench.report.lineage import ancestry_table, plot_run, read_run, timeline
from tunebench.run import run
from tunebench.store import ancestry

SPACE = {"alpha": {"loguniform": [1.0e-5, 1.0e-1]}, "eta0": {"loguniform": [1.0e-3, 1.0]}, "learning_rate": "constant"}


def pbt_run(out: Path, **params: Any) -> Path:
    scheduler = {"name": "pbt", "n_trials": 4, "max_iter": 10, "perturbation_interval": 2, "quantile_fraction": 0.5, **params}
    raw = tiny_config(scheduler, space=SPACE)
    raw["workload"]["chunk_size"] = 60
    run(load_experiment(raw=raw), out, progress=False)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    return {
        "synch": pbt_run(base / "synch", synch=True),
        "async": pbt_run(base / "async", synch=False, exploit="tournament", boundary="reflect"),
    }


@pytest.mark.parametrize("kind", ["synch", "async"])
def test_replay_reproduces_every_final_trial_step_for_step(runs: dict[str, Path], kind: str) -> None:
    tables = read_run(runs[kind])
    final = tables.trials[tables.trials["status"] == "completed"]["trial_id"].tolist()
    cloned = [t for t in final if len(ancestry(tables.trials, t)) > 1]
    assert cloned, "the run should have final trials that descend from clones"
    for trial in final:
        curve = replay(runs[kind], trial)
        assert curve["step"].tolist() == list(range(2, 11, 2))
        assert curve["match"].all(), curve
        assert curve["trial_id"].iloc[-1] == trial
        assert curve["trial_id"].drop_duplicates().tolist() == ancestry(tables.trials, trial)


def test_schedule_follows_the_clone_chain(runs: dict[str, Path]) -> None:
    tables = read_run(runs["synch"])
    log = tables.pbt_log.dropna(subset=["donor"])
    child = int(log["trial"].iloc[-1])
    jobs = schedule(runs["synch"], child)
    chain = ancestry(tables.trials, child)
    assert [j.start_step for j in jobs] == list(range(0, 10, 2))
    clones = [j for j in jobs if j.clone_from is not None]
    assert [j.trial_id for j in clones] == chain[1:]
    for job in clones:
        row = log[log["trial"] == job.trial_id].iloc[0]
        assert job.clone_from == (int(row["donor"]), int(row["step"]))
        assert job.seed == int(row["seed"])


def test_replay_of_a_non_pbt_run_is_its_own_curve(tmp_path: Path) -> None:
    out = tmp_path / "rs"
    run(
        load_experiment(raw=tiny_config({"name": "random", "n_trials": 2, "max_iter": 4, "report_every": 2})), out, progress=False
    )
    curve = replay(out, 1)
    assert curve["step"].tolist() == [2, 4] and curve["match"].all()


def test_lineage_figures_for_a_pbt_run_and_none_for_another(runs: dict[str, Path], tmp_path: Path) -> None:
    paths = plot_run(runs["async"], tmp_path / "figs")
    assert set(paths) == {"hyperparameters", "family_tree"} and all(p.is_file() for p in paths.values())
    out = tmp_path / "rs"
    run(
        load_experiment(raw=tiny_config({"name": "random", "n_trials": 2, "max_iter": 4, "report_every": 2})), out, progress=False
    )
    assert plot_run(out, tmp_path / "none") == {} and not (tmp_path / "none").exists()


def test_cli_replay_prints_and_writes_the_curve(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "curve.csv"
    assert main(["replay", str(runs["synch"]), "--out", str(target)]) == 0
    text = capsys.readouterr().out
    assert "steps match the recorded scores" in text and "recorded_score" in text
    curve = pd.read_csv(target)
    assert curve["match"].all() and len(curve) == 5
    assert main(["replay", str(runs["synch"]), "--trial", "999"]) == 2
    assert "no trial 999" in capsys.readouterr().err


def test_lineage_plots_write_pngs_and_the_ancestry_table(runs: dict[str, Path], tmp_path: Path) -> None:
    frame = timeline(runs["synch"])
    assert len(frame) == len(read_run(runs["synch"]).results)
    assert set(frame["slot"]) == {0, 1, 2, 3}
    paths = plot_run(runs["synch"], tmp_path / "plots")
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tables = read_run(runs["synch"])
    best = int(tables.summary["best_trial"])
    table = ancestry_table(runs["synch"])
    assert table["trial_id"].tolist() == ancestry(tables.trials, best)
    assert table["from_step"].is_monotonic_increasing
