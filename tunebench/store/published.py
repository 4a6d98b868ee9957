"""A number someone else published for a system on one of a matrix's workloads, as ``matrix.json``
records it (``published``), so the report prints it beside what the matrix measured.

The entry is validated where the matrix is read (:mod:`tunebench.compare.published`); here it
is only a record and its JSON form. ``mean`` and ``std`` are as published (computed from
``values``, ddof 1, when the source gave per-seed numbers); :attr:`Published.means` and
:attr:`Published.stds` are in the workload's units (times ``mean_scale`` plus ``offset``, and
times ``std_scale``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INCUMBENTS = {
    "any": "best score seen at any fidelity",
    "top": "best score seen at the top fidelity (max_iter)",
}


@dataclass(frozen=True)
class Source:
    """Where the number was published: a repository and a file in it, at a version or commit."""

    repository: str
    file: str
    version: str | None = None
    commit: str | None = None

    def __str__(self) -> str:
        """
        >>> str(Source("automl/DEHB", "results.md", "0.1.2")), str(Source("a/b", "c.md", commit="abc123"))
        ('automl/DEHB/results.md @ 0.1.2', 'a/b/c.md (commit abc123)')
        """
        at = f" @ {self.version}" if self.version else ""
        commit = f" (commit {self.commit})" if self.commit else ""
        return f"{self.repository}/{self.file}{at}{commit}"

    def as_json(self) -> dict[str, Any]:
        return {"repository": self.repository, "file": self.file, "version": self.version, "commit": self.commit}


@dataclass(frozen=True)
class Published:
    """One published entry: a system's statistic at evaluation counts ``at`` on one workload."""

    workload: str
    system: str
    source: Source
    statistic: str
    incumbent: str  # a key of INCUMBENTS
    at: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...] | None = None
    n: int | None = None  # seeds behind the number
    values: tuple[tuple[float, ...], ...] | None = None  # per seed, one tuple per `at`, as published
    contender: str | None = None  # the label of the matrix's contender that runs the system
    mean_scale: float = 1.0
    std_scale: float = 1.0
    note: str = ""
    offset: float = 0.0

    @property
    def means(self) -> tuple[float, ...]:
        """The published means in the workload's units.

        >>> Published("w", "s", Source("r", "f"), "", "any", (1,), (0.5,), mean_scale=100).means
        (50.0,)
        >>> Published("w", "s", Source("r", "f"), "", "top", (1,), (0.25,), mean_scale=-1, offset=1).means
        (0.75,)
        """
        return tuple(m * self.mean_scale + self.offset for m in self.mean)

    @property
    def stds(self) -> tuple[float, ...] | None:
        """The published standard deviations in the workload's units; ``None`` when none were published."""
        return None if self.std is None else tuple(s * self.std_scale for s in self.std)

    def as_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "system": self.system,
            "contender": self.contender,
            "source": self.source.as_json(),
            "statistic": self.statistic,
            "incumbent": self.incumbent,
            "at": list(self.at),
            "mean": list(self.mean),
            "std": None if self.std is None else list(self.std),
            "n": self.n,
            "values": None if self.values is None else [list(v) for v in self.values],
            "mean_scale": self.mean_scale,
            "std_scale": self.std_scale,
            "offset": self.offset,
            "note": self.note,
        }


def _need(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw or raw[key] is None:
        raise ValueError(f"{where}: missing key {key!r}")
    return raw[key]


def _floats(raw: Any) -> tuple[float, ...] | None:
    return None if raw is None else tuple(float(v) for v in raw)


def parse_published(raw: Mapping[str, Any], where: str) -> Published:
    """An entry from its JSON form (:meth:`Published.as_json`); a missing key is a ``ValueError`` naming it."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object, got {raw!r}")
    src = _need(raw, "source", where)
    if not isinstance(src, Mapping):
        raise ValueError(f"{where}: source must be an object, got {src!r}")
    incumbent = str(raw.get("incumbent") or "any")
    if incumbent not in INCUMBENTS:
        raise ValueError(f"{where}: incumbent {incumbent!r} is not one of {', '.join(INCUMBENTS)}")
    version, commit = src.get("version"), src.get("commit")
    values = raw.get("values")
    return Published(
        workload=str(_need(raw, "workload", where)),
        system=str(_need(raw, "system", where)),
        source=Source(
            str(_need(src, "repository", f"{where}.source")),
            str(_need(src, "file", f"{where}.source")),
            None if version is None else str(version),
            None if commit is None else str(commit),
        ),
        statistic=str(raw.get("statistic") or ""),
        incumbent=incumbent,
        at=tuple(int(k) for k in _need(raw, "at", where)),
        mean=tuple(float(m) for m in _need(raw, "mean", where)),
        std=_floats(raw.get("std")),
        n=None if raw.get("n") is None else int(raw["n"]),
        values=None if values is None else tuple(tuple(float(x) for x in v) for v in values),
        contender=None if raw.get("contender") is None else str(raw["contender"]),
        mean_scale=float(raw.get("mean_scale", 1.0)),
        std_scale=float(raw.get("std_scale", 1.0)),
        note=str(raw.get("note") or ""),
        offset=float(raw.get("offset", 0.0)),
    )
