"""Bad data files: one line naming the file, the column and what is allowed; exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tunebench.cli import main
from tunebench.workloads.sgd import SGDWorkload


def good_frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "target": np.arange(n) % 2})


def with_missing(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[3, "x2"] = np.nan
    return frame


def with_inf(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[5, "x1"] = np.inf
    return frame


def with_text(frame: pd.DataFrame) -> pd.DataFrame:
    frame["colour"] = ["red", "blue"] * (len(frame) // 2)
    return frame


def with_missing_label(frame: pd.DataFrame) -> pd.DataFrame:
    frame["target"] = frame["target"].astype(float)
    frame.loc[7, "target"] = np.nan
    return frame


CASES = {
    "missing feature": (with_missing, ["'x2'", "1 missing value", "data row 4", "finite numbers"]),
    "infinite feature": (with_inf, ["'x1'", "infinite", "finite numbers"]),
    "non-numeric column": (with_text, ["'colour'", "not numeric", "'red'", "numbers or booleans"]),
    "too few rows": (lambda f: f.head(6), ["6 rows", "at least 10"]),
    "single class": (lambda f: f.assign(target=1), ["'target'", "single class", "at least 2 classes"]),
    "missing label": (with_missing_label, ["'target'", "missing label", "class label"]),
    "continuous target": (lambda f: f.assign(target=np.linspace(0, 1, len(f))), ["'target'", "non-integer", "class labels"]),
    "no target column": (lambda f: f.rename(columns={"target": "y"}), ["no 'target' column", "x1, x2, y", "workload.target"]),
    "no feature columns": (lambda f: f[["target"]], ["no feature columns", "numeric column"]),
}


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_load_names_the_file_the_column_and_what_is_allowed(tmp_path: Path, case: str, suffix: str) -> None:
    make, words = CASES[case]
    path = write(make(good_frame()), tmp_path / f"data{suffix}")
    with pytest.raises(ValueError) as info:
        SGDWorkload(dataset="file", path=str(path)).load(0)
    message = str(info.value)
    assert "\n" not in message and f"'data{suffix}'" in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    ("content", "words"),
    [("", ["is empty", "header row"]), ('a,b,target\n1,2,"0\n', ["cannot read", "as CSV"])],
)
def test_empty_or_unreadable_csv(tmp_path: Path, content: str, words: list[str]) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(content)
    with pytest.raises(ValueError) as info:
        SGDWorkload(dataset="file", path=str(path)).load(0)
    assert "\n" not in str(info.value) and "'broken.csv'" in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_a_good_file_loads(tmp_path: Path) -> None:
    data = SGDWorkload(dataset="file", path=str(write(good_frame(), tmp_path / "ok.csv"))).load(0)
    assert np.isfinite(data.X_train).all() and len(data.classes) == 2


@pytest.mark.parametrize("case", ["missing feature", "non-numeric column", "single class"])
def test_the_cli_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, capsys, case: str) -> None:
    make, words = CASES[case]
    data = write(make(good_frame()), tmp_path / "data.csv")
    config = {
        "seed": 0,
        "workload": {"name": "sgd", "dataset": "file", "path": str(data)},
        "scheduler": {"name": "random", "n_trials": 2, "max_iter": 3},
        "executor": {"name": "local"},
    }
    cfg = tmp_path / "exp.yaml"
    cfg.write_text(yaml.safe_dump(config))
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "data.csv" in err and words[0] in err
    assert not out.exists()
