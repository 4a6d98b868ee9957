"""The recording of a comparison's real run: every config its cells sampled, trained to the end.

A matrix with a real executor (``dask``, ``ray``, ``local``, ...) and a ``simulated`` one on the
same workloads asks whether the simulator tells the truth. For that the simulated cells must
replay the very curves the real cells saw, so the recording holds exactly the trials the real
cells ran: :func:`record_matrix` runs the matrix's cells on its real executors (an ordinary
:func:`~tunebench.compare.runner.compare`, finished cells kept), then, per workload and seed,
trains every distinct ``(config, trial seed)`` the cells sampled to ``max_iter`` on the same
executor and data, scoring every step (:func:`record_given`, a random-search run whose trials
take the given configs and seeds), and writes one recording per workload where the simulated
executors' ``curves`` say (``{workload}`` in the path stands for the workload's label).

Exactness. A trial's model after ``k`` steps depends only on its config, its trial seed
(:func:`tunebench.scheduler.trial_seed`, from the run's seed and the trial id: SGD's shuffling),
the data (split by the run's seed) and ``k``, not on how its steps were cut into Jobs (a model
continues from its checkpoint): so each recorded curve is, step for step, the one the real
trial followed, and a simulated cell with the run's seed and ``configs: nearest`` draws the same
configs and looks every one up exactly. Two things cannot be recorded exactly, and are refused:
a config sampled with two trial seeds, or under two run seeds (one config, one curve), and a PBT
clone (its model starts from its donor's checkpoint).

>>> pairs = sampled_pairs(pd.DataFrame({"config": ['{"x": 0.5}', '{"x": 0.25}'], "seed": [7, 9], "parent": [None, None]}))
>>> pairs
[({'x': 0.5}, 7), ({'x': 0.25}, 9)]
>>> by_seed = {}
>>> merge_pairs(by_seed, 0, pairs)
>>> merge_pairs(by_seed, 0, [({"x": 0.5}, 8)])
Traceback (most recent call last):
...
tunebench.config.ConfigError: config {'x': 0.5} was sampled with trial seed 7 under seed 0 and with trial seed 8 under \
seed 0; a recording holds one curve per config, so it cannot replay both exactly
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tunebench.compare.matrix import TOP_KEYS, experiment_raw, load_matrix, safe
from tunebench.compare.runner import cell_state, compare
from tunebench.config import ConfigError, apply_overrides, load_experiment, load_yaml
from tunebench.store import read_run
from tunebench.store.comparison import Cell, Matrix
from tunebench.workloads.curves import Curves, config_key, curves_from_run, frame_from_rows, write_curves

SIMULATED = "simulated"
PLACEHOLDER = "{workload}"
Pair = tuple[dict[str, Any], int]


def executor_name(entry: Any) -> str:
    """The plugin name of a matrix's executor entry (a name or a section)."""
    return str(entry.get("name") if isinstance(entry, Mapping) else entry)


def split_executors(raw: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    """A matrix's real executor entries, and the ``curves`` paths of its simulated ones.

    >>> split_executors({"executors": [{"name": "dask"}, {"name": "simulated", "curves": "r/{workload}.parquet"}]})
    ([{'name': 'dask'}], ['r/{workload}.parquet'])
    """
    entries = list(raw.get("executors") or [])
    real = [e for e in entries if executor_name(e) != SIMULATED]
    paths = [str(e["curves"]) for e in entries if executor_name(e) == SIMULATED and isinstance(e, Mapping) and e.get("curves")]
    return real, list(dict.fromkeys(paths))


def sampled_pairs(trials: pd.DataFrame) -> list[Pair]:
    """Each trial's ``(config, trial seed)`` of one finished run, in trial order; a clone is refused."""
    cloned = trials[trials["parent"].notna()] if "parent" in trials else trials.iloc[:0]
    if len(cloned):
        raise ConfigError("a PBT clone starts from its donor's checkpoint, so its curve cannot be recorded from scratch")
    return [(json.loads(c) if isinstance(c, str) else dict(c), int(s)) for c, s in zip(trials["config"], trials["seed"])]


def merge_pairs(by_seed: dict[int, dict[Any, Pair]], seed: int, pairs: Sequence[Pair]) -> None:
    """Add one run's pairs (under run seed ``seed``) to ``by_seed``, refusing a config that would need two curves."""
    for config, tseed in pairs:
        key = config_key(config)
        for other, seen in by_seed.items():
            have = seen.get(key)
            if have is not None and (other != seed or have[1] != tseed):
                raise ConfigError(
                    f"config {config} was sampled with trial seed {have[1]} under seed {other} and with trial seed {tseed} "
                    f"under seed {seed}; a recording holds one curve per config, so it cannot replay both exactly"
                )
        by_seed.setdefault(seed, {})[key] = (dict(config), tseed)


def given_scheduler(base: type, given: Sequence[Pair]) -> type:
    """``base`` (a random-search scheduler class) whose trial ``i`` takes ``given[i]``'s config and trial seed."""

    class Given(base):
        def sample_config(self, trial_id: int) -> dict[str, Any]:
            return dict(given[trial_id][0])

        def new_trial(self, config: Any = None, *, parent: int | None = None, tags: dict[str, Any] | None = None) -> Any:
            trial = super().new_trial(config, parent=parent, tags=tags)
            trial.seed = given[trial.trial_id][1]
            return trial

    Given.__name__ = f"Given{base.__name__}"
    return Given


def record_given(
    raw: Mapping[str, Any], given: Sequence[Pair], max_iter: int, run_dir: Path, scheduler: type, progress: bool = False
) -> Curves:
    """The recording of ``given`` trained to ``max_iter`` in the experiment ``raw`` (its seed, data,
    space and executor); a finished recording run in ``run_dir`` is kept, an unfinished one redone."""
    from tunebench.run import run

    if cell_state(run_dir) != "finished":
        if run_dir.exists():
            shutil.rmtree(run_dir)
        exp_raw = {k: v for k, v in raw.items() if k != "searcher"}
        exp_raw.update(scheduler={"name": "random", "n_trials": len(given), "max_iter": max_iter, "report_every": 1}, budget={})
        exp = load_experiment(raw=exp_raw)
        built = exp.build()
        made = given_scheduler(scheduler, given)(built.space, seed=exp.seed, mode=built.workload.mode, **exp.scheduler_params)
        run(exp, run_dir, progress=progress, workload=built.workload, scheduler=made, executor=built.executor)
    return curves_from_run(run_dir)


def real_cells(matrix: Matrix, root: Path, workload: str) -> list[Cell]:
    """The cells of our schedulers on ``workload`` on a real executor, finished in ``root``."""
    return [
        c
        for c in matrix.cells
        if c.workload == workload
        and c.kind == "scheduler"
        and executor_name(c.executor_section or {}) != SIMULATED
        and cell_state(root / c.dir) == "finished"
    ]


def record_workload(matrix: Matrix, root: Path, workload: str, scheduler: type, progress: bool = False) -> Curves:
    """One recording of every ``(config, trial seed)`` the real cells of ``workload`` (a loaded
    matrix, its cells run in ``root``) sampled; the recording runs go under ``root/recordings``."""
    cells = real_cells(matrix, root, workload)
    if not cells:
        raise ConfigError(f"workload {workload!r} has no finished cell of ours on a real executor in {str(root)!r} to record")
    where = root / "recordings" / safe(workload)
    by_seed: dict[int, dict[Any, Pair]] = {}
    for cell in cells:
        try:
            merge_pairs(by_seed, cell.seed, sampled_pairs(read_run(root / cell.dir)[2]))
        except ConfigError as exc:
            raise ConfigError(f"cell {cell.cell_id}: {exc}") from None
    frames: list[pd.DataFrame] = []
    metas: list[dict[str, Any]] = []
    for seed, seen in sorted(by_seed.items()):
        cell = next(c for c in cells if c.seed == seed)
        raw = experiment_raw(cell, matrix.raw)
        curves = record_given(raw, list(seen.values()), int(matrix.raw["max_iter"]), where / f"seed{seed}", scheduler, progress)
        frame = curves.frame.copy()
        frame["config_id"] = frame["config_id"] + sum(f["config_id"].nunique() for f in frames)
        frames.append(frame)
        metas.append(curves.meta)
    rows = pd.concat(frames, ignore_index=True).to_dict("records")
    n = sum(len(s) for s in by_seed.values())
    meta = {
        **metas[0],
        "description": f"the {n} configs the real cells of {workload} in {root.name} sampled, "
        f"each with its trial seed, trained to step {matrix.raw['max_iter']} (seeds {', '.join(map(str, sorted(by_seed)))})",
        "runs": [str(where / f"seed{s}") for s in sorted(by_seed)],
        "workload_config": cells[0].workload_section,
    }
    return Curves.from_frame(frame_from_rows(rows), meta)


def record_matrix(
    path: str | Path,
    overrides: Sequence[str],
    scheduler: type,
    out_dir: str | Path | None = None,
    out: str | None = None,
    progress: bool = True,
) -> list[Path]:
    """Run the matrix at ``path`` on its real executors (into ``out_dir``, default ``runs/<name>``),
    then write each workload's recording to ``out`` (default: the simulated executors' ``curves``),
    ``{workload}`` standing for its label; returns the recordings written."""
    raw = load_yaml(path)
    apply_overrides(raw, list(overrides), TOP_KEYS)
    real, paths = split_executors(raw)
    targets = [out] if out else paths
    if not real:
        raise ConfigError("executors: record needs a real executor (dask, ray, local, ...) whose cells it records")
    if not targets or any(PLACEHOLDER not in t for t in targets):
        raise ConfigError(
            f"give the simulated executor curves: a path with {PLACEHOLDER} (or --out), one recording per workload, got {targets}"
        )
    matrix = load_matrix(raw={**raw, "executors": real})
    root = Path(out_dir) if out_dir is not None else Path("runs") / matrix.name
    compare(matrix, root)
    written = []
    for workload in matrix.workloads:
        curves = record_workload(matrix, root, workload, scheduler, progress)
        written += [write_curves(curves.frame, curves.meta, t.replace(PLACEHOLDER, workload)) for t in targets]
    return written


__all__ = [
    "PLACEHOLDER",
    "SIMULATED",
    "given_scheduler",
    "merge_pairs",
    "record_given",
    "record_matrix",
    "record_workload",
    "sampled_pairs",
    "split_executors",
]
