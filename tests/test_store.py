"""The run directory: atomic outputs, an append-only journal, refusal to overwrite."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tunebench.store import Store, StoreError, atomic_write_json, jsonable, read_journal, results_frame, trials_frame
from tunebench.trial import Decision, Result, Trial, TrialStatus


def test_journal_survives_a_torn_last_line(tmp_path) -> None:
    store = Store(tmp_path / "run")
    store.log_result(Result(trial_id=0, step=1, score=0.5, n_steps=1), Decision.CONTINUE)
    store.log_result(Result(trial_id=0, step=2, score=0.6, n_steps=1), Decision.COMPLETE)
    store.close()
    with open(tmp_path / "run" / "journal.jsonl", "a") as fh:
        fh.write('{"kind": "result", "trial_id": 0, "st')
    events = list(read_journal(tmp_path / "run"))
    assert [e["step"] for e in events] == [1, 2]
    assert events[1]["decision"] == "complete"


def test_existing_run_is_refused(tmp_path) -> None:
    Store(tmp_path / "run").close()
    with pytest.raises(StoreError, match="already holds a run"):
        Store(tmp_path / "run")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        Store(tmp_path / "file")


def test_atomic_json_leaves_no_temporary_files(tmp_path) -> None:
    atomic_write_json(tmp_path / "s.json", {"a": float("nan"), "b": [1, 2]})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": None, "b": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_tables_round_trip_through_parquet(tmp_path) -> None:
    trials = [
        Trial(0, {"alpha": 0.1, "opt": "SGD", "wd": 0}, seed=1, status=TrialStatus.COMPLETED, steps=3, last_score=0.9, best_score=0.9),
        Trial(1, {"alpha": 0.2, "opt": "Adam", "wd": 1e-4}, seed=2, parent=0, status=TrialStatus.STOPPED, steps=1),
    ]
    frame = trials_frame(trials)
    frame.to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert list(back["parent"].astype("Int64")) == [pd.NA, 0] or back["parent"].isna().iloc[0]
    assert json.loads(back["config"].iloc[1]) == {"alpha": 0.2, "opt": "Adam", "wd": 1e-4}
    results = results_frame([{"trial_id": 0, "step": 1, "score": 0.5, "n_steps": 1, "decision": "continue"}])
    results.to_parquet(tmp_path / "r.parquet")
    assert pd.read_parquet(tmp_path / "r.parquet")["score"].tolist() == [0.5]
    assert jsonable(TrialStatus.PAUSED) == "paused"
