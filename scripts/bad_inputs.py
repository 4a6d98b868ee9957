"""Run each bad input through ``tunebench run`` in a temporary directory; tabulate what happens.

For every case: the input, the one-line message on stderr, the exit status, and whether
anything was written (no output directory for a new ``--out``; an ``--out`` that already
holds a run is left byte for byte as it was). Writes ``results/bad_inputs.md``.

    python scripts/bad_inputs.py [--out results/bad_inputs.md]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from tunebench.cli import main as cli

Case = Callable[[Path], tuple[str, list[str]]]  # temp dir -> (what was tried, CLI args before --out)


def config(tmp: Path, **parts: Any) -> Path:
    """A tiny, valid experiment with ``parts`` replacing its sections; returns its path."""
    exp: dict[str, Any] = {
        "seed": 0,
        "workload": {"name": "sgd", "dataset": "circles", "n_samples": 200},
        "scheduler": {"name": "random", "n_trials": 2, "max_iter": 3},
        "executor": {"name": "local"},
    }
    exp.update(parts)
    path = tmp / "exp.yaml"
    path.write_text(yaml.safe_dump(exp))
    return path


def data_file(tmp: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=40), "x2": rng.normal(size=40), "target": np.arange(40) % 2})
    path = tmp / "data.csv"
    change(frame).to_csv(path, index=False)
    return path


def nan_at(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[3, "x2"] = np.nan
    return frame


def file_workload(tmp: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> list[str]:
    return [str(config(tmp, workload={"name": "sgd", "dataset": "file", "path": str(data_file(tmp, change))}))]


CASES: dict[str, Case] = {
    "malformed YAML": lambda t: ("`scheduler: {name: random` (unclosed)", [str(_text(t, "scheduler: {name: random\n"))]),
    "unknown scheduler name": lambda t: ("`scheduler.name: hyperbnd`", [str(config(t, scheduler={"name": "hyperbnd"}))]),
    "unknown key": lambda t: ("`scheduler.etaa: 3`", [str(config(t, scheduler={"name": "hyperband", "etaa": 3}))]),
    "out-of-range eta": lambda t: (
        "`--set scheduler.eta=1` (Hyperband)",
        [str(config(t, scheduler={"name": "hyperband"})), "--set", "scheduler.eta=1"],
    ),
    "bad space": lambda t: ("`space.alpha: {loguniform: [0, 1]}`", [str(config(t, space={"alpha": {"loguniform": [0, 1]}}))]),
    "unknown space key": lambda t: (
        "`space.alpha: {uniform: [0, 1], log: true}`",
        [str(config(t, space={"alpha": {"uniform": [0, 1], "log": True}}))],
    ),
    "missing data file": lambda t: (
        "`workload.path: nowhere.csv`",
        [str(config(t, workload={"name": "sgd", "dataset": "file", "path": str(t / "nowhere.csv")}))],
    ),
    "NaN features": lambda t: ("a CSV with a missing value in `x2`", file_workload(t, nan_at)),
    "non-numeric feature": lambda t: ("a CSV with a text column `colour`", file_workload(t, lambda f: f.assign(colour="red"))),
    "single class": lambda t: ("a CSV whose `target` is all 1", file_workload(t, lambda f: f.assign(target=1))),
    "too few rows": lambda t: ("a CSV with 6 rows", file_workload(t, lambda f: f.head(6))),
    "no target column": lambda t: ("a CSV without `target`", file_workload(t, lambda f: f.rename(columns={"target": "label"}))),
    "bad failures setting": lambda t: ("`failures: {max_failures: -1}`", [str(config(t, failures={"max_failures": -1}))]),
    "bad Job time limit": lambda t: ("`failures: {timeout_s: 0}`", [str(config(t, failures={"timeout_s": 0}))]),
    "unreachable Dask": lambda t: (
        "`executor: {name: dask, address: tcp://127.0.0.1:1}`",
        [str(config(t, executor={"name": "dask", "address": "tcp://127.0.0.1:1"}))],
    ),
}


def _text(tmp: Path, text: str) -> Path:
    path = tmp / "exp.yaml"
    path.write_text(text)
    return path


def run_cli(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli(args)
        except SystemExit as exc:  # argparse
            status = int(exc.code or 0)
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    return status, lines[-1] if lines else ""


def digest(directory: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(directory)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def one(name: str, case: Case) -> tuple[str, str, str, int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        tried, args = case(t)
        out = t / "run"
        status, message = run_cli(["run", *args, "--out", str(out), "-q"])
        return name, tried, message, status, "nothing" if not out.exists() else "an output directory"


def out_holds_a_run() -> tuple[str, str, str, int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        cfg = str(config(t))
        out = t / "run"
        first, _ = run_cli(["run", cfg, "--out", str(out), "-q"])
        assert first == 0, "the first run of the --out case must succeed"
        before = digest(out)
        status, message = run_cli(["run", cfg, "--out", str(out), "-q"])
        same = "nothing (the run already there unchanged)" if digest(out) == before else "CHANGED the run already there"
        return "--out that already holds a run", "`--out DIR` where DIR holds a finished run", message, status, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bad_inputs.md"))
    args = parser.parse_args()
    rows = [one(name, case) for name, case in CASES.items()]
    rows.append(out_holds_a_run())
    lines = [
        "# Bad inputs to `tunebench run`",
        "",
        "| case | input | message (stderr) | exit | written |",
        "|---|---|---|---|---|",
    ]
    for name, tried, message, status, written in rows:
        lines.append(f"| {name} | {tried} | {message.replace('|', '/')} | {status} | {written} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
