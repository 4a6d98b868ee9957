"""``budget.evaluations``: a count of Jobs submitted (a retry is the same evaluation), never
exceeded, restored on resume; kept exactly by the multi-fidelity and Hyperopt peers, refused
for the peers whose evaluations are not ours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.helpers import InProcessPool
from tunebench import registry
from tunebench.compare.matrix import load_matrix
from tunebench.compare.peers import multifidelity
from tunebench.compare.peers import optuna as optuna_peer
from tunebench.compare.runner import compare
from tunebench.config import ConfigError, load_experiment
from tunebench.loop import Budget, Failures, Loop
from tunebench.report.analysis import series_rows
from tunebench.report.build import views_of
from tunebench.report.document import Table
from tunebench.report.runs import load_runs
from tunebench.report.settings import settings_table
from tunebench.resume import resume
from tunebench.run import run
from tunebench.sinks import Trace
from tunebench.space import Space
from tunebench.store import read_journal, read_run
from tunebench.store.comparison import read_matrix
from tunebench.synthetic import ScoreFnExecutor, seeded_curve
from tunebench.trial import Job

SPACE = Space.from_spec({"x": {"uniform": [0, 1]}})
SCHEDULERS = [
    ("hyperband", {"max_iter": 27}),
    ("asha", {"max_iter": 27}),
    ("random", {"max_iter": 9, "n_trials": 50, "report_every": 3}),
    ("pbt", {"max_iter": 27}),
]
MATRIX: dict[str, Any] = {
    "name": "evals",
    "seeds": [0],
    "workers": 1,
    "max_iter": 27,
    "budget": {"evaluations": 30},
    "workloads": [{"label": "mfh3", "name": "mfh3"}],
    "executors": [{"name": "simulated"}],
    "shared": {"eta": 3, "min_iter": 1},
}


class Counting(ScoreFnExecutor):
    """Counts every submission, a Job sent again included."""

    submitted = 0

    def submit(self, job: Job) -> None:
        self.submitted += 1
        super().submit(job)


def loop(name: str, params: dict[str, Any], evaluations: int, **kw: Any) -> tuple[Loop, Trace, Counting, str]:
    scheduler = registry.load("scheduler", name)(SPACE, **params)
    executor = Counting(kw.pop("score_fn", seeded_curve), 4)
    trace = Trace()
    lp = Loop(scheduler, executor, executor.clock, [trace], Budget(evaluations=evaluations), **kw)
    return lp, trace, executor, lp.run().stop_reason


@pytest.mark.parametrize("name, params", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_no_more_jobs_go_out_than_the_budget(name: str, params: dict[str, Any]) -> None:
    lp, trace, executor, reason = loop(name, params, 13)
    assert reason == "evaluations" and lp.evaluations == len(trace.jobs) == executor.submitted == 13
    assert len(trace.results) == 13  # the Jobs out when the budget was reached ran to their end


def test_a_scheduler_that_ends_first_is_not_stopped_by_the_budget() -> None:
    lp, trace, _, reason = loop("random", {"max_iter": 9, "n_trials": 2, "report_every": 3}, 100)
    assert reason == "scheduler_finished" and lp.evaluations == len(trace.jobs) == 6


def test_a_job_sent_again_after_a_failure_is_one_evaluation() -> None:
    tried: set[tuple[int, int]] = set()

    def flaky(job: Job) -> float:  # every Job of an even trial fails once, then scores
        if job.trial_id % 2 == 0 and (job.trial_id, job.stop_step) not in tried:
            tried.add((job.trial_id, job.stop_step))
            raise RuntimeError("once")
        return seeded_curve(job)

    lp, trace, executor, reason = loop("hyperband", {"max_iter": 27}, 20, score_fn=flaky, failures=Failures(max_failures=1))
    retries = len(trace.failures)
    assert reason == "evaluations" and retries > 0 and not lp.failed
    assert lp.evaluations == len(trace.jobs) == len(trace.results) == 20 and executor.submitted == 20 + retries


@pytest.mark.parametrize("value", [0, -1, "x"])
def test_a_bad_budget_is_refused_by_name(value: Any) -> None:
    raw = {"workload": {"name": "mfh3"}, "scheduler": {"name": "asha", "max_iter": 9}, "executor": {"name": "simulated"}}
    with pytest.raises(ConfigError, match=rf"budget\.evaluations must be an integer >= 1 or null, got {value!r}"):
        load_experiment(raw={**raw, "budget": {"evaluations": value}})
    with pytest.raises(ConfigError, match=rf"budget\.evaluations must be an integer >= 1 or null, got {value!r}"):
        load_matrix(raw={**MATRIX, "budget": {"evaluations": value}, "peers": [{"label": "dehb", "name": "dehb"}]})
    with pytest.raises(ConfigError, match="budget.total_steps, budget.wall_time_s or budget.evaluations"):
        load_experiment(raw=raw)  # ASHA never ends by itself
    assert load_experiment(raw={**raw, "budget": {"evaluations": 5}}).budget.evaluations == 5


def test_a_killed_run_resumes_to_the_same_evaluations(tmp_path: Path) -> None:
    raw = {
        "seed": 0,
        "workload": {"name": "mfh3"},
        "scheduler": {"name": "hyperband", "max_iter": 27},
        "executor": {"name": "simulated", "n_workers": 4},
        "budget": {"evaluations": 25},
    }
    full = run(load_experiment(raw=raw), tmp_path / "full", progress=False)
    assert full.summary["stop_reason"] == "evaluations" and full.summary["evaluations"] == 25
    lines = (full.out_dir / "journal.jsonl").read_text().splitlines(keepends=True)
    kinds = [json.loads(line)["kind"] for line in lines]
    at = [i for i, k in enumerate(kinds) if k == "result"][10]  # killed before its 11th result was journaled
    assert kinds[:at].count("job") > kinds[:at].count("result")  # with Jobs out, sent again on resume
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "journal.jsonl").write_text("".join(lines[:at]))
    out = resume(tmp_path / "cut", progress=False)
    assert out.summary["stop_reason"] == "evaluations" and out.summary["evaluations"] == 25
    jobs = {(e["trial_id"], e["start_step"], e["stop_step"]) for e in read_journal(tmp_path / "cut") if e["kind"] == "job"}
    assert len(jobs) == 25
    columns = ["trial_id", "step", "n_steps", "score"]
    pd.testing.assert_frame_equal(
        full.results[columns].sort_values(columns[:2]).reset_index(drop=True),
        out.results[columns].sort_values(columns[:2]).reset_index(drop=True),
    )


@pytest.mark.parametrize(
    "peer",
    [
        {"label": "dehb", "name": "dehb"},
        {"label": "bohb", "name": "hpbandster-bohb"},
        {"label": "smac-hb", "name": "smac-hyperband", "facade": "hyperband"},
        {"label": "tpe", "name": "hyperopt-tpe"},
    ],
    ids=lambda p: p["name"],
)
def test_a_peer_that_counts_evaluations_makes_exactly_the_budget(
    tmp_path: Path, peer: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multifidelity, "ProcessPoolExecutor", InProcessPool)
    monkeypatch.setattr(optuna_peer, "_WORKER", {})
    compare(load_matrix(raw={**MATRIX, "peers": [peer]}), tmp_path, say=lambda _: None)
    summary, _, trials, extra = read_run(tmp_path / "mfh3" / f"{peer['label']}@{peer['name']}" / "seed0")
    assert summary["status"] == "completed" and summary["evaluations"] == 30
    assert summary["config"]["budget"]["evaluations"] == 30
    assert summary["optimum"] == pytest.approx(-3.86278) and summary["regret"] == pytest.approx(summary["best_score"] + 3.86278)
    if peer["name"] == "hyperopt-tpe":
        assert len(trials) == summary["max_evals"] == 30
    else:
        assert len(extra["evaluations"]) == 30 and set(extra["evaluations"]["status"]) <= {"trained", "reused"}


def test_our_cell_stops_at_the_budget_and_the_settings_table_shows_it(tmp_path: Path) -> None:
    raw = {**MATRIX, "schedulers": [{"label": "asha", "name": "asha"}], "peers": [{"label": "tpe", "name": "hyperopt-tpe"}]}
    compare(load_matrix(raw=raw), tmp_path, say=lambda _: None)
    summary = read_run(tmp_path / "mfh3" / "asha@simulated" / "seed0")[0]
    assert summary["stop_reason"] == "evaluations" and summary["evaluations"] == 30
    matrix = read_matrix(tmp_path)
    runs = load_runs(matrix)[0]
    table = next(b for b in settings_table(matrix, runs).blocks if isinstance(b, Table))
    assert table.headers[-1] == "evaluations (of 30)" and [row[-1] for row in table.rows] == ["30", "30"]
    (view,) = views_of(runs, matrix, ["asha", "tpe"])
    rows = {r.series: r for r in series_rows(view, None, {})}
    for label in ("asha", "tpe"):  # the peer's regret too, against the optimum our runs and the peer's give
        (best,) = [r.get("best_score") for r in view.of(label)]
        assert rows[label].regret is not None and rows[label].regret.iqm == pytest.approx(best + 3.86278)


@pytest.mark.parametrize("name", ["optuna-hyperband", "ray-tune-asha", "dask-ml-hyperband", "sklearn-random"])
def test_a_peer_whose_evaluations_are_not_ours_is_refused_before_anything_runs(name: str) -> None:
    peers = [{"label": "dehb", "name": "dehb"}, {"label": "theirs", "name": name}]
    with pytest.raises(ConfigError) as err:
        load_matrix(raw={**MATRIX, "peers": peers})
    message = str(err.value)
    assert f"theirs ({name})" in message and "budget.evaluations=30" in message and "dehb (dehb)" not in message
    assert "peers that accept budget.evaluations: dehb, hpbandster-bohb, hyperopt-tpe" in message
    assert "smac-hyperband, smac-successive-halving" in message and "optuna" not in message.split("accept")[1]
    assert load_matrix(raw={**MATRIX, "budget": {}, "peers": peers}).cells  # without the budget it is accepted
