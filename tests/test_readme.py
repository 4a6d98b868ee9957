"""The README's Python examples run as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import python_blocks


def test_readme_has_the_integration_examples() -> None:
    assert set(python_blocks()) >= {"From scikit-learn: `TuneSearchCV`", "From Ray Tune: our schedulers in a `Tuner`"}


def test_tune_search_cv_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(python_blocks()["From scikit-learn: `TuneSearchCV`"], "README.md", "exec"), namespace)
    search = namespace["search"]
    assert set(search.best_params_) == {"alpha", "penalty"}
    assert 0.5 < search.best_score_ <= 1.0
    assert search.metadata_["partial_fit_calls"] == search.metadata["partial_fit_calls"]


def test_ray_tune_example_runs(
    no_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no Ray running here, since the example starts and stops its own."""
    import ray

    monkeypatch.chdir(tmp_path)
    try:
        exec(
            compile(python_blocks()["From Ray Tune: our schedulers in a `Tuner`"], "README.md", "exec"), {"__name__": "__main__"}
        )
    finally:
        stopped = not ray.is_initialized()
        ray.shutdown()
    assert stopped, "the example left its Ray running"
    best = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.5 < best < 1.0
