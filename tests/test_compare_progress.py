"""What ``tunebench compare`` shows: a line per cell when stderr is not a terminal, a tqdm bar
on stderr when it is, and at the end the report's verdict lines, then the report and its main
figure."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import record_report_builds
from tunebench.cli import main
from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare

MATRIX: dict[str, Any] = {
    "name": "tiny-simulated",
    "seeds": [0, 1],
    "workers": 4,
    "max_iter": 9,
    "target_score": 0.9,
    "shared": {"eta": 3, "random": {"n_trials": 4}},
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 10000}],
    "executors": [{"name": "simulated", "curves": "sgd-circles"}],
    "schedulers": [{"label": "random", "name": "random"}, {"label": "hyperband", "name": "hyperband"}],
}


def test_off_a_terminal_each_cell_is_a_line_and_the_end_is_the_verdict_and_two_paths(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(MATRIX))
    out = tmp_path / "c"
    builds = record_report_builds(monkeypatch)
    assert main(["compare", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    err = printed.err.splitlines()
    assert err[0] == "tiny-simulated: 4 cells, 0 finished already, 4 to run"
    assert err[1:3] == ["running sgd/random@simulated/seed0", err[2]] and err[2].startswith(
        "[1/4] sgd/random@simulated/seed0: done in "
    )
    assert sum(x.startswith("running ") for x in err) == 4 and "\r" not in printed.err
    assert err[-2].startswith("[4/4] sgd/hyperband@simulated/seed1: done in ") and "(best 0." in err[-2]
    assert err[-1].startswith("tiny-simulated: 4 cells in ") and err[-1].endswith(" cells/s")
    said = printed.out.splitlines()
    (report,) = builds
    verdict = report.verdict
    assert said == [*verdict, f"report: {out / 'report.html'}", f"figure: {out / 'anytime_time.png'}"]
    assert len(verdict) == 2 and verdict[0].startswith("sgd, final validation accuracy: ") and " leads " in verdict[0]


def test_on_a_terminal_a_bar_goes_to_stderr_and_a_failed_cell_keeps_its_line(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunebench.compare import runner

    def flaky(cell: Any, data: Any, path: Path, clusters: Any = None) -> Any:
        if cell.cell_id == "sgd/hyperband@simulated/seed0":
            raise RuntimeError("worker lost")
        return ours(cell, data, path, clusters)

    ours = runner.run_ours
    monkeypatch.setattr(runner, "run_ours", flaky)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    compare(load_matrix(raw=MATRIX), tmp_path / "c")
    printed = capsys.readouterr()
    assert printed.out == ""
    err = printed.err
    assert err.startswith("tiny-simulated: 4 cells, 0 finished already, 4 to run\n")
    assert "\rtiny-simulated:   0%|" in err and "| 4/4 cells [" in err and " elapsed, " in err and " left]" in err
    assert "running " not in err and ": done in " not in err, "a finished cell moves the bar, it prints no line"
    failed = [x for x in err.replace("\r", "\n").splitlines() if x.startswith("[")]
    assert len(failed) == 1 and failed[0].startswith("[1/4] sgd/hyperband@simulated/seed0: failed in ")
    assert failed[0].endswith("(RuntimeError: worker lost)") and "1 failed" in err


def test_a_second_run_with_nothing_to_do_shows_no_bar(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    compare(load_matrix(raw=MATRIX), tmp_path / "c", say=lambda line: None)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    compare(load_matrix(raw=MATRIX), tmp_path / "c")
    assert capsys.readouterr().err == "tiny-simulated: 4 cells, 4 finished already, 0 to run\n"
