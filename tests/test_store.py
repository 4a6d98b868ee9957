"""The run directory: an append-only journal, tables derived from it, atomic outputs, refusal
to overwrite."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from tunebench.store import Journal, RunDir, StoreError, atomic_write_json, counts, derive, jsonable, read_journal, read_run
from tunebench.trial import TrialStatus


def write_events(path, events) -> None:
    with Journal(path) as journal:
        for kind, fields in events:
            journal.log(kind, **fields)


def result(tid: int, step: int, score: float, decision: str, n: int = 1) -> tuple[str, dict]:
    return "result", {"trial_id": tid, "step": step, "score": score, "n_steps": n, "decision": decision}


EVENTS = [
    ("start", {"mode": "max", "config": {}}),
    ("trial", {"trial_id": 0, "config": {"alpha": 0.1, "opt": "SGD"}, "seed": 1, "parent": None, "tags": {"bracket": 2}}),
    ("job", {"trial_id": 0, "start_step": 0, "stop_step": 1}),
    ("trial", {"trial_id": 1, "config": {"alpha": 0.2, "opt": "Adam"}, "seed": 2, "parent": 0, "tags": {"bracket": 2}}),
    ("job", {"trial_id": 1, "start_step": 0, "stop_step": 1}),
    result(0, 1, float("nan"), "pause"),
    result(1, 1, 0.4, "pause"),
    ("status", {"trial_id": 1, "status": "stopped"}),
    ("job", {"trial_id": 0, "start_step": 1, "stop_step": 3}),
    result(0, 3, 0.7, "complete", 2),
    ("end", {"status": "completed", "wall_time_s": 1.5}),
]


def test_journal_survives_a_torn_last_line(tmp_path) -> None:
    write_events(tmp_path / "journal.jsonl", [result(0, 1, 0.5, "continue"), result(0, 2, 0.6, "complete")])
    with open(tmp_path / "journal.jsonl", "a") as fh:
        fh.write('{"kind": "result", "trial_id": 0, "st')
    events = list(read_journal(tmp_path))
    assert [e["step"] for e in events] == [1, 2]
    assert events[1]["decision"] == "complete"


def test_tables_follow_the_events(tmp_path) -> None:
    write_events(tmp_path / "journal.jsonl", EVENTS)
    tables = derive(read_journal(tmp_path))
    t = tables.trials.set_index("trial_id")
    assert t.loc[0, "status"] == "completed" and t.loc[0, "steps"] == 3 and t.loc[0, "last_score"] == 0.7
    assert t.loc[0, "best_score"] == 0.7, "a NaN first score must not stay the best"
    assert t.loc[1, "status"] == "stopped" and t.loc[1, "parent"] == 0 and t.loc[1, "bracket"] == 2
    assert json.loads(t.loc[1, "config"]) == {"alpha": 0.2, "opt": "Adam"} and t.loc[1, "config.opt"] == "Adam"
    assert math.isnan(tables.results["score"].iloc[0])
    summary = counts(tables)
    assert summary["best_trial"] == 0 and summary["partial_fit_calls"] == 4 and summary["n_results"] == 3
    assert tables.end["wall_time_s"] == 1.5


def test_run_directory_writes_tables_that_read_back(tmp_path) -> None:
    run = RunDir.create(tmp_path / "run")
    write_events(run.journal_path, EVENTS)
    tables = run.tables()
    run.write(tables, {"best_trial": 0})
    summary, results, trials, extra = read_run(run.dir)
    assert summary == {"best_trial": 0} and extra == {}
    pd.testing.assert_frame_equal(results, tables.results)
    assert trials["trial_id"].tolist() == [0, 1]


def test_existing_run_is_refused(tmp_path) -> None:
    run = RunDir.create(tmp_path / "run")
    run.journal().close()
    with pytest.raises(StoreError, match="already holds a run"):
        RunDir.create(tmp_path / "run")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        RunDir.create(tmp_path / "file")


def test_atomic_json_leaves_no_temporary_files(tmp_path) -> None:
    atomic_write_json(tmp_path / "s.json", {"a": float("nan"), "b": [1, 2]})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": None, "b": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    assert jsonable(TrialStatus.PAUSED) == "paused"
