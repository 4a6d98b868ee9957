"""The report says where the last ``compare`` ran the cells and whether timed cells ran alone."""

from __future__ import annotations

from pathlib import Path

from tunebench.compare.matrix import load_matrix
from tunebench.compare.runner import compare
from tunebench.report import build_report

MATRIX = {
    "name": "placed",
    "seeds": [0],
    "workers": 1,
    "max_iter": 9,
    "budget": {"total_steps": 40},
    "workloads": [{"label": "mfh3", "name": "mfh3"}],
    "executors": [{"name": "simulated"}],
    "schedulers": [{"label": "hyperband", "name": "hyperband"}],
}


def test_the_report_names_the_placement_of_the_last_compare(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    compare(load_matrix(raw=MATRIX), out, jobs=2, say=lambda line: None)
    text = build_report(out).markdown.read_text()
    assert "Cells ran 2 at a time in local processes; timed cells may have shared the machine" in text
