"""``build_report`` on a hand-made comparison directory: two contenders x two seeds on a
maximised and a minimised workload, plus a failed and an unsupported cell; every section is
there, the best is named right in both directions but two seeds star no one, and the HTML page
references nothing outside."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import record_report_builds
from tunebench.report import build_report, summary_table
from tunebench.report.build import PNGS, ReportPaths
from tunebench.report.sections import TITLES
from tunebench.store import Journal, RunDir, counts
from tunebench.store.comparison import read_matrix

# (trial, step, n_steps, score, elapsed_s): hyperband scores at rungs and finds its best early,
# random scores each trial once at the end and is slower to the same score.
PLANS = {
    "hyperband": [(0, 1, 1, 0.50, 1.0), (1, 1, 1, 0.70, 1.5), (1, 3, 2, 0.85, 3.0), (1, 9, 6, 0.90, 7.0)],
    "random": [(0, 9, 9, 0.60, 6.0), (1, 9, 9, 0.80, 12.0), (2, 9, 9, 0.86, 18.0)],
}
WORKLOADS = {"sgd": ("accuracy", "max"), "ae": ("neg_mse", "min")}
SPACE = {"alpha": {"loguniform": [1e-6, 0.1]}}


def score_for(score: float, mode: str, seed: int) -> float:
    """The plan's score, shifted per seed; for a minimised metric, a loss that falls alike."""
    s = score - 0.01 * seed
    return round(1.0 - s, 6) if mode == "min" else round(s, 6)


def fake_run(path: Path, label: str, workload: str, seed: int) -> None:
    metric, mode = WORKLOADS[workload]
    run = RunDir.create(path)
    with Journal(run.journal_path) as j:
        j.log("start", mode=mode, config={}, scheduler=label, executor="local", workload=workload, seed=seed)
        seen: set[int] = set()
        for tid, step, n, score, t in PLANS[label]:
            if tid not in seen:
                seen.add(tid)
                j.log("trial", trial_id=tid, config={"alpha": 10.0 ** -(tid + 2)}, seed=seed, parent=None, tags={})
            j.log("job", trial_id=tid, start_step=step - n, stop_step=step)
            j.log(
                "result",
                trial_id=tid,
                step=step,
                score=score_for(score, mode, seed),
                n_steps=n,
                decision="continue",
                elapsed_s=t + 0.5 * seed,
                compute_s=0.1 * n,
                score_s=0.01,
                worker=0,
            )
        wall = PLANS[label][-1][4] + 0.5 * seed + 0.2
        j.log("end", status="completed", wall_time_s=wall)
    tables = run.tables()
    summary = {
        "status": "completed",
        "scheduler": label,
        "executor": "local",
        "workload": workload,
        "metric": metric,
        "mode": mode,
        "seed": seed,
        **counts(tables),
        "test_score": counts(tables)["best_score"],
        "wall_time_s": wall,
        "utilization": 0.75,
        "tunebench_version": "0.0-test",
        "config": {"space": SPACE, "budget": {"total_steps": 30, "wall_time_s": None}},
    }
    run.write(tables, summary)


def make_comparison(root: Path) -> Path:
    cells = []
    for workload in WORKLOADS:
        for label in ("random", "hyperband"):
            for seed in (0, 1):
                cid = f"{label}-local-{workload}-{seed}"
                fake_run(root / cid, label, workload, seed)
                cells.append(
                    {
                        "cell_id": cid,
                        "label": label,
                        "executor": "local",
                        "workload": workload,
                        "seed": seed,
                        "dir": cid,
                        "status": "done",
                        "error": None,
                        "reason": None,
                    }
                )
    cells.append(
        {
            "cell_id": "dask-ml-local-sgd-0",
            "label": "dask-ml",
            "executor": "local",
            "workload": "sgd",
            "seed": 0,
            "dir": "dask-ml-local-sgd-0",
            "status": "unsupported",
            "reason": "dask-ml needs a Dask cluster",
        }
    )
    cells.append(
        {
            "cell_id": "dask-ml-local-ae-0",
            "label": "dask-ml",
            "executor": "local",
            "workload": "ae",
            "seed": 0,
            "dir": "dask-ml-local-ae-0",
            "status": "failed",
            "error": "RuntimeError: worker died",
        }
    )
    matrix = {
        "contenders": [
            {"label": "random", "kind": "scheduler"},
            {"label": "hyperband", "kind": "scheduler"},
            {"label": "dask-ml", "kind": "peer"},
        ],
        "executors": ["local"],
        "workloads": list(WORKLOADS),
        "seeds": [0, 1],
        "budget": {"total_steps": 30, "wall_time_s": None},
        "target_score": 0.8,
        "cells": cells,
    }
    (root / "matrix.json").write_text(json.dumps(matrix))
    return root


@dataclass(frozen=True)
class Reported:
    """A report built by ``tunebench report DIR``: what the build returned, the command's exit
    status and the lines it printed."""

    root: Path
    paths: ReportPaths
    status: int
    printed: list[str]


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> Reported:
    from tunebench.cli.report import register

    root = make_comparison(tmp_path_factory.mktemp("comparison"))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["report", str(root)])
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(io.StringIO()) as out:
        builds = record_report_builds(mp)
        status = args.func(args)
    (paths,) = builds
    return Reported(root, paths, status, out.getvalue().splitlines())


@pytest.fixture(scope="module")
def built(reported: Reported) -> tuple[Path, ReportPaths]:
    return reported.root, reported.paths


def test_matrix_json_reads_into_cells(built) -> None:
    root, _ = built
    cells = read_matrix(root).cells
    assert len(cells) == 10 and cells[0].cell_id == "random-local-sgd-0" and cells[0].done
    assert cells[-1].status == "failed" and cells[-1].why == "RuntimeError: worker died"
    assert read_matrix(root).kind_of("dask-ml") == "peer" and read_matrix(root).target_score == 0.8


def test_bad_matrix_names_the_key(tmp_path) -> None:
    (tmp_path / "matrix.json").write_text(json.dumps({"cells": [{"cell_id": "x", "label": "a"}]}))
    with pytest.raises(ValueError, match="missing key 'executor'"):
        read_matrix(tmp_path)
    cell = {"cell_id": "x", "label": "a", "executor": "e", "workload": "w", "seed": 0, "dir": "x", "status": "odd"}
    (tmp_path / "matrix.json").write_text(json.dumps({"cells": [cell]}))
    with pytest.raises(ValueError, match="status 'odd' is not one of done, failed, unsupported"):
        read_matrix(tmp_path)


def test_matrix_keys_may_sit_in_the_matrix_as_given_and_cells_may_be_pending(tmp_path) -> None:
    cells = [
        {"cell_id": "a", "label": "hb", "executor": "dask", "workload": "sgd", "seed": 0, "dir": "a", "status": "pending"},
        {"cell_id": "b", "label": "hb", "executor": "ray", "workload": "sgd", "seed": 0, "dir": "b", "status": "pending"},
        {
            "cell_id": "c",
            "label": "ray-asha",
            "executor": "ray-tune-asha",
            "workload": "sgd",
            "seed": 0,
            "dir": "c",
            "status": "pending",
        },
    ]
    raw = {
        "matrix": {
            "seeds": [0],
            "target_score": 0.9,
            "workloads": [{"label": "sgd", "name": "sgd"}],
            "executors": [{"name": "dask"}],
        },
        "contenders": [{"label": "hb", "kind": "scheduler"}, {"label": "ray-asha", "kind": "peer"}],
        "cells": cells,
    }
    (tmp_path / "matrix.json").write_text(json.dumps(raw))
    m = read_matrix(tmp_path)
    assert m.seeds == (0,) and m.target_score == 0.9 and m.workloads == ("sgd",) and m.executors == ("dask",)
    from tunebench.report.runs import series_name

    assert [series_name(c, m) for c in m.cells] == ["hb@dask", "hb@ray", "ray-asha"], "a peer's engine is not an executor"
    assert "not run yet" in build_report(tmp_path).markdown.read_text()


def test_report_has_every_section_and_the_figures(built) -> None:
    root, paths = built
    md = paths.markdown.read_text()
    for title in TITLES.values():
        assert f"## {title}" in md, title
    assert "### sgd" in md and "### ae" in md
    for png in paths.figures:
        assert png.parent == root and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png.name})" in md, "the Markdown links each PNG beside it"
    names = {png.name for png in paths.figures}
    no_optimum = {PNGS["optimum_evaluations"], PNGS["optimum_time"]}
    assert names == {*PNGS.values(), "performance_profile.png"} - no_optimum, "no CD diagram: two contenders cannot run Friedman"
    assert "dask-ml needs a Dask cluster" in md and "RuntimeError: worker died" in md
    assert "scores only at the end of each trial" in md and "scores at rungs or intervals" in md
    assert "0.0-test" in md and "loguniform" in md and "cpu_count" in md


def rows_of(md: str, workload: str) -> dict[str, list[str]]:
    block = md.split(f"### {workload}")[1].split("\n\n")[1]
    rows = [line.strip("|").split("|") for line in block.splitlines()[2:]]
    return {r[0].strip().strip("*").replace(" ★", ""): [c.strip().strip("*") for c in r] for r in rows}


def verdict_of(md: str, workload: str) -> str:
    """The verdict lines on ``workload`` the report opens with."""
    block = md.split("## Verdict\n\n")[1].split("\n\n")[0]
    return "\n".join(line for line in block.splitlines() if line.startswith(f"- {workload}, "))


def test_two_seeds_name_the_best_but_star_no_one_and_time_to_target_and_speedup(built) -> None:
    _, paths = built
    md = paths.markdown.read_text()
    sgd = rows_of(md, "sgd")
    assert "★" not in sgd["hyperband"][0] and "★" not in sgd["random"][0], "with 2 seeds the smallest paired p is 0.5"
    said = verdict_of(md, "sgd")
    assert (
        "sgd, final validation accuracy: hyperband leads with IQM 0.895, ahead of random (0.855) by 0.04. "
        "Not significant: tied with random (Holm-corrected paired tests over 2 seeds, alpha 0.05)."
    ) in said
    assert (
        "sgd, time to accuracy 0.8: hyperband leads with IQM 3.25 s, ahead of random (15.25 s) by 12 s. "
        "Not significant: tied with random"
    ) in said
    assert "would need about 6 seeds" in said, "equal differences: the fewest seeds at which the exact test reaches 0.05"
    assert "p=0.5 against random" in md.split("### sgd")[1].split("\n#")[0], "the p-values stay under the table"
    assert sgd["hyperband"][6] == "3.25" and sgd["random"][6] == "15.25", "median over seeds of time to 0.8"
    assert sgd["hyperband"][7] == "4" and sgd["random"][7] == "22.5", "calls to 0.8: 4 and 4; 18 and 27"
    assert sgd["random"][8] == "1.00x" and float(sgd["hyperband"][8].rstrip("x")) > 1.0


def test_minimised_workload_names_the_lowest_loss_best(built) -> None:
    _, paths = built
    md = paths.markdown.read_text()
    ae = rows_of(md, "ae")
    assert "ae, final validation neg_mse: hyperband leads with IQM 0.105, ahead of random (0.145) by 0.04" in verdict_of(
        md, "ae"
    ), "the lower loss is the candidate best when the metric is minimised"
    assert "★" not in ae["hyperband"][0]
    assert ae["hyperband"][2].startswith("0.105"), ae["hyperband"][2]


def test_pairwise_table(built) -> None:
    _, paths = built
    md = paths.markdown.read_text()
    block = md.split(f"## {TITLES['pairwise']}")[1]
    assert "| random |  | 0-4 |" in block and "| hyperband | 4-0 |  |" in block


def test_html_is_self_contained(built) -> None:
    _, paths = built
    page = paths.html.read_text()
    for pattern in (r"http://", r"https://", r'src="//', r"<link", r"<script src", r"url\("):
        assert not re.search(pattern, page, re.IGNORECASE), pattern
    assert page.count('src="data:image/png;base64,') == len(paths.figures)
    assert 'class="winner"' not in page and TITLES["final"] in page


def test_report_without_finished_cells_still_builds(tmp_path) -> None:
    cell = {"cell_id": "a", "label": "a", "executor": "e", "workload": "w", "seed": 0, "dir": "a", "status": "done"}
    (tmp_path / "matrix.json").write_text(json.dumps({"cells": [cell]}))
    paths = build_report(tmp_path)
    assert "marked done but unreadable" in paths.markdown.read_text()


def test_cli_command_rebuilds_the_report(reported: Reported) -> None:
    root, lines = reported.root, reported.printed
    assert reported.status == 0
    assert lines[-2:] == [f"report: {root / 'report.html'}", f"figure: {root / 'anytime_time.png'}"]
    assert any("final validation" in line for line in lines[:-2])  # the verdict comes first, as compare's


def test_summary_table_still_imports_from_the_package() -> None:
    assert callable(summary_table)
