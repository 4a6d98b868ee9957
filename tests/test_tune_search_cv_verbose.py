"""TuneSearchCV's verbose, as scikit-learn's: 0 writes nothing, 1 a progress bar of finished
trials on stderr, 2 also a line per finished trial."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

from tunebench.integrations.sklearn import TuneSearchCV

SPACE = {"alpha": [1e-4, 1e-3, 1e-2]}


def fit(verbose: int, scheduler: str = "hyperband") -> TuneSearchCV:
    X, y = make_classification(120, 4, n_informative=3, n_redundant=0, random_state=0)
    return TuneSearchCV(SGDClassifier(), SPACE, scheduler=scheduler, max_iter=9, random_state=0, verbose=verbose).fit(X, y)


def test_verbose_0_writes_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    fit(0)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_verbose_1_is_a_progress_bar_on_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    search = fit(1)
    out, err = capfd.readouterr()
    n = len(search.cv_results_["params"])
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    assert out == ""
    assert f"{n}/{n}" in final and "trial" in final
    assert f"best={search.best_score_:.4g}" in final
    assert re.search(r"\[\d\d:\d\d<", final), final
    assert "END" not in err


@pytest.mark.parametrize("scheduler", ["hyperband", "asha"])
def test_verbose_2_adds_a_line_per_finished_trial(scheduler: str, capfd: pytest.CaptureFixture[str]) -> None:
    search = fit(2, scheduler)
    out, err = capfd.readouterr()
    lines = [line for line in err.replace("\r", "\n").splitlines() if "] END " in line]
    res = search.cv_results_
    assert out == ""
    assert len(lines) == len(res["params"])
    assert sorted(int(line.split("model_id=")[1].split(",")[0]) for line in lines) == sorted(res["model_id"])
    best = next(line for line in lines if f"model_id={res['model_id'][search.best_index_]}," in line)
    assert f"steps={res['partial_fit_calls'][search.best_index_]}," in best
    assert f"score={search.best_score_:.3f}" in best


def test_verbose_must_be_a_non_negative_integer() -> None:
    with pytest.raises(ValueError, match=r"verbose must be an integer >= 0 .*got -1"):
        TuneSearchCV(SGDClassifier(), SPACE, verbose=-1).fit(np.zeros((10, 2)), np.arange(10) % 2)
