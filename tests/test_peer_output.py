"""A peer's console output (banners, library logging, worker processes) goes to its cell's
``peer.log``; the terminal sees compare's own lines only, and a failure's line points at the log.
Ray Tune's banner and temporary paths: in the end-to-end study of tests/test_compare.py."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import InProcessPool
from tunebench.compare.capture import PEER_LOG, captured, terminal
from tunebench.compare.peers import optuna as optuna_peer

MATRIX: dict[str, Any] = {
    "name": "quiet",
    "seeds": [0],
    "workers": 2,
    "max_iter": 3,
    "workloads": [{"label": "sgd", "name": "sgd", "dataset": "circles", "n_samples": 300}],
    "executors": [{"name": "local"}],
    "schedulers": [],
}


def run_peer_cell(tmp_path: Path, peer: dict[str, Any]) -> tuple[list[str], Path]:
    """Compare one peer cell, printing compare's own lines to stderr as the CLI does; those lines
    and the cell's log."""
    from tunebench.compare.matrix import load_matrix
    from tunebench.compare.runner import compare

    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        print(line, file=sys.stderr, flush=True)

    matrix = load_matrix(raw={**MATRIX, "peers": [peer]})
    out = compare(matrix, tmp_path / "c", say=say)
    return said, out / matrix.cells[0].dir / PEER_LOG


def only_compare_lines(capfd: pytest.CaptureFixture[str], said: list[str]) -> None:
    captured_out, captured_err = capfd.readouterr()
    assert captured_out == ""
    assert captured_err.splitlines() == said


def cell_line(said: list[str]) -> str:
    """The line compare says when the one cell ends (the study's own closing line follows it)."""
    ends = [line for line in said if ": done in " in line or ": failed in " in line]
    assert len(ends) == 1, said
    return ends[0]


def noisy_init_worker(*args: Any) -> None:
    """Optuna's pool initializer, writing to the process's stdout and stderr first."""
    print("worker says hello", flush=True)
    os.write(2, b"worker fd 2\n")
    optuna_peer.init_worker(*args)


def test_optuna_logging_and_worker_processes_reach_the_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import optuna

    before, set_verbosity = optuna.logging.get_verbosity(), optuna.logging.set_verbosity
    monkeypatch.setattr(
        optuna.logging, "set_verbosity", lambda level: set_verbosity(optuna.logging.INFO)
    )  # Optuna at its chattiest
    monkeypatch.setattr(optuna_peer, "init_worker", noisy_init_worker)
    peer = {"label": "optuna-hyperband", "name": "optuna-hyperband", "sampler": "random"}
    try:  # two cells: the second's workers come from the fork server the first one started
        for cell in ("first", "second"):
            said, log = run_peer_cell(tmp_path / cell, peer)
            only_compare_lines(capfd, said)
            assert ": done in " in cell_line(said)
            text = log.read_text()
            assert text.count("worker says hello") == 2 and text.count("worker fd 2") == 2
            assert "A new study created in memory" in text
    finally:
        set_verbosity(before)


def test_a_failing_peer_says_what_failed_in_one_line_and_points_at_its_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_pruner(self: Any, task: Any) -> Any:
        print("library chatter before the crash")
        logging.getLogger("optuna").warning("a library warning")
        raise RuntimeError("the pruner broke\nsecond line of detail")

    monkeypatch.setattr(optuna_peer.OptunaHyperband, "make_pruner", broken_pruner)
    monkeypatch.setattr(optuna_peer, "ProcessPoolExecutor", InProcessPool)
    monkeypatch.setattr(optuna_peer, "_WORKER", {})
    said, log = run_peer_cell(tmp_path, {"label": "optuna-hyperband", "name": "optuna-hyperband"})
    only_compare_lines(capfd, said)
    line = cell_line(said)
    assert ": failed in " in line and "RuntimeError: the pruner broke" in line and "second line" not in line
    assert f"its output is in {log})" in line
    text = log.read_text()
    assert "library chatter before the crash" in text and "a library warning" in text
    assert "Traceback" in text and "second line of detail" in text


def test_everything_is_put_back_after_the_block(tmp_path: Path) -> None:
    handler = logging.StreamHandler(sys.stderr)
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    streams = sys.stdout, sys.stderr
    try:
        with pytest.raises(ValueError), captured(tmp_path / PEER_LOG):
            library.warning("from a library")
            os.write(1, b"raw fd 1\n")
            raise ValueError("boom")
        assert (sys.stdout, sys.stderr) == streams and handler.stream is streams[1]
    finally:
        library.removeHandler(handler)
    text = (tmp_path / PEER_LOG).read_text()
    assert "from a library" in text and "raw fd 1" in text and "ValueError: boom" in text


def test_compare_progress_drawn_while_a_cell_runs_stays_on_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    shown = terminal(sys.stderr)
    with captured(tmp_path / PEER_LOG):
        print("peer chatter", file=sys.stderr)
        shown.write("a progress bar frame\n")
    assert capfd.readouterr().err == "a progress bar frame\n"
    assert (tmp_path / PEER_LOG).read_text() == "peer chatter\n"
