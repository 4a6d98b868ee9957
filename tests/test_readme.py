"""The README's Python examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> dict[str, str]:
    """Each ```python block of the README under the heading it follows."""
    blocks: dict[str, str] = {}
    heading = ""
    for part in re.split(r"(^#+ [^\n]*$|```python\n.*?```)", README.read_text(), flags=re.M | re.S):
        if part.startswith("#"):
            heading = part.lstrip("# ").strip()
        elif part.startswith("```python"):
            blocks[heading] = part[len("```python\n"):-3]
    return blocks


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


def test_ray_tune_example_runs(tmp_path: Path) -> None:
    """In a process of its own, since the example starts and stops its own Ray."""
    script = tmp_path / "example.py"
    script.write_text(python_blocks()["From Ray Tune: our schedulers in a `Tuner`"])
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONPATH": str(README.parent)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    best = float(done.stdout.strip().splitlines()[-1])
    assert 0.5 < best < 1.0
