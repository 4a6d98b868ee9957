"""Recorded learning curves: the recording format, its reader and writer, and nearest-config lookup.

A recording is one Parquet table with one row per (config, step): ``config_id``, one
``config.<name>`` column per hyperparameter, ``step`` (1 to ``max_iter``, every step),
``score`` (validation), ``test_score``, ``step_s`` (seconds of that step's ``partial_fit``) and
``score_s`` (seconds to score). The table's metadata (``DataFrame.attrs``, stored by pandas in the
Parquet schema) holds the workload name, metric, mode, the space in YAML form, ``max_iter`` and
a description. The simulated executor replays it; ``tunebench record`` makes one; a finished run
whose trials all trained to the end with a score at every step converts to one.

A config not in the recording takes its nearest recorded neighbour in the space's normalised
coordinates, as Syne Tune's surrogate blackboxes do: continuous and integer domains mapped to
[0, 1] (in log space for log domains), each mismatched choice adding 1 to the squared distance.

>>> import numpy as np
>>> frame = frame_from_rows([
...     {"config_id": i, "config.x": x, "step": s, "score": x * s, "test_score": x * s, "step_s": 1.0, "score_s": 0.5}
...     for i, x in enumerate([0.1, 0.9]) for s in (1, 2)])
>>> curves = Curves.from_frame(frame, {"workload": "demo", "space": {"x": {"uniform": [0, 1]}}})
>>> curves.lookup({"x": 0.9}), curves.lookup({"x": 0.3})
((1, True), (0, False))
>>> float(curves.score[1, 2]), curves.max_iter
(1.8, 2)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tunebench.names import did_you_mean
from tunebench.space import Choice, Constant, IntUniform, Space, Uniform, to_python
from tunebench.store import atomic_write_parquet

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"
META_KEY = "tunebench.curves"
COLUMNS = ["config_id", "step", "score", "test_score", "step_s", "score_s"]
FORMAT = 1


class CurvesError(ValueError):
    """A recording that cannot be read or replayed; the message says what is wrong."""


@dataclass(frozen=True)
class Pending:
    """The path of a recording a later step of a study makes (``tunebench record MATRIX --matrix``)
    and that does not exist yet: a matrix naming it still loads, a run replaying it refuses to start."""

    path: str

    def __str__(self) -> str:
        return self.path


def config_key(config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A hashable form of a config, the same for a config and its Parquet round trip."""
    return tuple(sorted((str(k), to_python(v)) for k, v in config.items()))


def frame_from_rows(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A recording table from row dicts, in the column order of the format."""
    frame = pd.DataFrame(list(rows))
    configs = [c for c in frame.columns if c.startswith("config.")]
    return frame[["config_id", *configs, *COLUMNS[1:]]]


@dataclass(eq=False)
class Curves:
    """A recording in arrays: ``score[i, s]`` is config ``i``'s validation score after ``s``
    steps (column 0 unused), ``test_score`` likewise; ``step_s`` and ``score_s`` the medians."""

    meta: dict[str, Any]
    configs: list[dict[str, Any]]
    score: np.ndarray
    test_score: np.ndarray
    step_s: float
    score_s: float
    frame: pd.DataFrame = field(repr=False)
    _exact: dict[tuple[tuple[str, Any], ...], int] = field(default_factory=dict, repr=False)
    _coder: _Coder | None = field(default=None, repr=False)

    @property
    def max_iter(self) -> int:
        return int(self.score.shape[1] - 1)

    @property
    def n_configs(self) -> int:
        return len(self.configs)

    @property
    def workload(self) -> str:
        return str(self.meta.get("workload", ""))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, meta: Mapping[str, Any]) -> Curves:
        """Validate a recording table and build its arrays (see the module docstring)."""
        meta = {"format": FORMAT, "metric": "score", "mode": "max", **dict(meta)}
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise CurvesError(
                f"recording lacks column(s) {', '.join(missing)}; a recording has {', '.join(COLUMNS)} and config.<name> columns"
            )
        names = [c[len("config.") :] for c in frame.columns if c.startswith("config.")]
        frame = frame.sort_values(["config_id", "step"], kind="stable").reset_index(drop=True)
        ids = frame["config_id"].to_numpy()
        uniq, first, count = np.unique(ids, return_index=True, return_counts=True)
        if len(uniq) == 0:
            raise CurvesError("recording has no rows")
        max_iter = int(frame["step"].max())
        expected = np.tile(np.arange(1, max_iter + 1), len(uniq))
        if not (count == max_iter).all() or not np.array_equal(frame["step"].to_numpy(), expected):
            bad = (
                int(uniq[np.argmax(count != max_iter)])
                if not (count == max_iter).all()
                else int(ids[np.argmax(frame["step"].to_numpy() != expected)])
            )
            have = sorted(frame.loc[frame["config_id"] == bad, "step"].tolist())
            raise CurvesError(
                f"config {bad} has scores at steps {have[:5]}...{have[-3:]}; every config needs every step 1..{max_iter}"
            )
        n = len(uniq)
        shape = (n, max_iter + 1)
        score, test = np.full(shape, np.nan), np.full(shape, np.nan)
        score[:, 1:] = frame["score"].to_numpy(float).reshape(n, max_iter)
        test[:, 1:] = pd.to_numeric(frame["test_score"], errors="coerce").to_numpy(float).reshape(n, max_iter)
        configs = [{name: to_python(frame[f"config.{name}"].iat[i]) for name in names} for i in first]
        configs = [{k: v for k, v in c.items() if not (isinstance(v, float) and math.isnan(v))} for c in configs]
        meta.setdefault("max_iter", max_iter)
        if int(meta["max_iter"]) != max_iter:
            raise CurvesError(f"recording metadata says max_iter {meta['max_iter']}, its steps go to {max_iter}")
        meta["n_configs"] = n
        curves = cls(meta, configs, score, test, median(frame["step_s"]), median(frame["score_s"]), frame)
        curves._exact = {config_key(c): i for i, c in enumerate(configs)}
        curves._coder = _Coder(meta.get("space"), configs)
        return curves

    def lookup(self, config: Mapping[str, Any]) -> tuple[int, bool]:
        """``(index, exact)``: the recorded config equal to ``config``, else the nearest one."""
        i = self._exact.get(config_key(config))
        if i is not None:
            return i, True
        assert self._coder is not None
        return self._coder.nearest(config), False

    def write(self, path: str | Path) -> Path:
        """Write this recording atomically."""
        return write_curves(self.frame, self.meta, path)


def median(column: pd.Series) -> float:
    values = pd.to_numeric(column, errors="coerce").to_numpy(float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else 0.0


class _Coder:
    """Configs to normalised coordinates: numbers in [0, 1], choices as codes."""

    def __init__(self, spec: Mapping[str, Any] | None, configs: list[dict[str, Any]]) -> None:
        space = Space.from_spec(spec) if spec else Space({})
        names = sorted({k for c in configs for k in c})
        self.numeric: list[tuple[str, Any]] = []
        self.categorical: list[str] = []
        for name in names:
            dom = space.domains.get(name)
            values = [c.get(name) for c in configs]
            if isinstance(dom, Constant):
                continue
            if isinstance(dom, (Uniform, IntUniform)):
                self.numeric.append((name, _unit(dom.low, dom.high, dom.log)))
            elif not isinstance(dom, Choice) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                self.numeric.append((name, _unit(min(values), max(values), False)))
            else:
                self.categorical.append(name)
        self.names = names
        self.coords = np.array([[f(c.get(n)) for n, f in self.numeric] for c in configs], dtype=float).reshape(len(configs), -1)
        self.codes = [[c.get(n) for n in self.categorical] for c in configs]

    def nearest(self, config: Mapping[str, Any]) -> int:
        try:
            x = np.array([f(config[n]) for n, f in self.numeric], dtype=float)
            want = [config[n] for n in self.categorical]
        except KeyError as exc:
            raise CurvesError(f"config {dict(config)} lacks {exc.args[0]!r}, which the recording's configs have") from None
        dist = ((self.coords - x) ** 2).sum(axis=1)
        if want:
            dist = dist + np.array([sum(a != b for a, b in zip(row, want)) for row in self.codes], dtype=float)
        return int(np.argmin(dist))


def _unit(low: float, high: float, log: bool) -> Any:
    """A function mapping ``[low, high]`` to ``[0, 1]`` (in log space if ``log``)."""
    if log:
        low, high = math.log(low), math.log(high)
    span = (high - low) or 1.0

    def f(v: Any) -> float:
        v = float(v)
        return ((math.log(v) if log and v > 0 else v) - low) / span

    return f


def write_curves(frame: pd.DataFrame, meta: Mapping[str, Any], path: str | Path) -> Path:
    """Validate and write a recording (atomically); returns the path."""
    curves = Curves.from_frame(frame, meta)
    out = curves.frame.copy()
    out.attrs = {META_KEY: json.loads(json.dumps(curves.meta, default=str))}
    p = Path(path)
    atomic_write_parquet(p, out)
    umask = os.umask(0)
    os.umask(umask)
    p.chmod(0o666 & ~umask)  # a shipped file readable by all, as an ordinary write would leave it
    return p


def read_curves(source: str | Path | Curves) -> Curves:
    """A recording from a Parquet file, a shipped recording's name, or a finished run directory."""
    if isinstance(source, Curves):
        return source
    p = Path(str(source))
    if p.is_dir():
        return curves_from_run(p)
    if p.is_file():
        return _read_file(str(p.resolve()), p.stat().st_mtime_ns)
    shipped_path = RECORDINGS / f"{source}.parquet"
    if shipped_path.is_file():
        return _read_file(str(shipped_path), shipped_path.stat().st_mtime_ns)
    known = [n for n, _ in shipped()]
    names = ", ".join(known) or "(none shipped)"
    raise CurvesError(
        f"curves {str(source)!r}{did_you_mean(source, known)}: not a recording file, a shipped recording or a run directory; "
        f"give a .parquet recording, a finished run directory, or one of: {names}"
    )


@lru_cache(maxsize=16)
def _read_file(path: str, mtime_ns: int) -> Curves:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise CurvesError(f"curves {path!r}: not a readable Parquet recording ({type(exc).__name__}: {exc})") from None
    meta = frame.attrs.get(META_KEY)
    if not isinstance(meta, dict):
        raise CurvesError(
            f"curves {path!r}: a Parquet file without recording metadata ({META_KEY!r}); make one with tunebench record"
        )
    frame.attrs = {}
    return Curves.from_frame(frame, meta)


def curves_from_run(run_dir: str | Path) -> Curves:
    """The recording a finished run makes: every trial must have trained to the same last step
    with a score at every step (a random-search run with ``report_every: 1``)."""
    from tunebench.store import RunDir, StoreError

    try:
        tables = RunDir(run_dir).tables()
    except StoreError as exc:
        raise CurvesError(f"curves {str(run_dir)!r}: {exc}") from None
    start = tables.start or {}
    trials, results = tables.trials, tables.results
    if len(trials) == 0 or len(results) == 0:
        raise CurvesError(f"curves {str(run_dir)!r}: the run has no results")
    cloned = trials[trials["parent"].notna()]
    if len(cloned):
        raise CurvesError(
            f"curves {str(run_dir)!r}: trial {int(cloned['trial_id'].iat[0])} is a clone; a recording needs trials trained from scratch"
        )
    configs = {int(t): json.loads(c) for t, c in zip(trials["trial_id"], trials["config"])}
    n_steps = results["n_steps"].clip(lower=1).to_numpy(float)
    frame = pd.DataFrame({"config_id": results["trial_id"].astype("int64"), "step": results["step"].astype("int64")})
    for name in sorted({k for c in configs.values() for k in c}):
        frame[f"config.{name}"] = [configs[t].get(name) for t in frame["config_id"]]
    frame["score"] = results["score"].to_numpy(float)
    frame["test_score"] = pd.to_numeric(results["test_score"], errors="coerce").to_numpy(float)
    frame["step_s"] = pd.to_numeric(results["compute_s"], errors="coerce").to_numpy(float) / n_steps
    frame["score_s"] = pd.to_numeric(results["score_s"], errors="coerce").to_numpy(float)
    frame = frame.drop_duplicates(["config_id", "step"], keep="last")
    meta = {
        "workload": start.get("workload"),
        "metric": start.get("metric", "score"),
        "mode": start.get("mode", "max"),
        "space": run_space(start),
        "description": f"from run {Path(run_dir).name}",
    }
    try:
        return Curves.from_frame(frame_from_rows(frame.to_dict("records")), meta)
    except CurvesError as exc:
        raise CurvesError(
            f"curves {str(run_dir)!r}: {exc}; a run to replay needs every trial trained to the end with a score at "
            "every step (e.g. scheduler random with report_every 1)"
        ) from None


def run_space(start: Mapping[str, Any]) -> dict[str, Any] | None:
    """The YAML form of a run's space, from its ``start`` line: the space the run journaled
    (its workload's default when the config gave none), else its config's ``space``.

    >>> run_space({"space": {"x": {"uniform": [0, 1]}}, "config": {"space": None}})
    {'x': {'uniform': [0, 1]}}
    """
    space = start.get("space") or (start.get("config") or {}).get("space")
    return dict(space) if space else None


def read_meta(path: str | Path) -> dict[str, Any]:
    """A recording file's metadata, read from its Parquet schema alone (the rows stay on disk)."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(b"PANDAS_ATTRS", b"{}")
    return dict(json.loads(raw).get(META_KEY, {}))


def shipped() -> list[tuple[str, str]]:
    """``(name, description)`` of each recording shipped with tunebench, for ``tunebench list``."""
    out = []
    for p in sorted(RECORDINGS.glob("*.parquet")):
        meta = read_meta(p)
        desc = f"{meta.get('workload', '?')}: {meta.get('n_configs', '?')} configs x {meta.get('max_iter', '?')} steps"
        if meta.get("description"):
            desc += f"; {meta['description']}"
        out.append((p.stem, desc))
    return out


__all__ = [
    "Curves",
    "CurvesError",
    "Pending",
    "RECORDINGS",
    "config_key",
    "curves_from_run",
    "frame_from_rows",
    "read_curves",
    "read_meta",
    "shipped",
    "write_curves",
]
