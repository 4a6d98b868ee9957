"""What a comparison ran on: package versions (as the runs recorded them and as installed
where the report is built) and the machine."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

PACKAGES = (
    "tunebench",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "ray",
    "dask",
    "distributed",
    "dask-ml",
    "optuna",
    "hyperopt",
    "pyspark",
    "torch",
    "skorch",
    "matplotlib",
)


def installed(packages: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Each package's installed version here, ``None`` if it is not installed."""
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def recorded(summaries: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Versions the runs wrote into their summaries (peers' ``versions``, our
    ``tunebench_version``), each package with every distinct version seen.

    >>> recorded([{"tunebench_version": "0.3"}, {"versions": {"optuna": "4.1"}, "tunebench_version": "0.3"}])
    {'tunebench': ['0.3'], 'optuna': ['4.1']}
    """
    out: dict[str, list[str]] = {}
    for s in summaries:
        pairs = dict(s.get("versions") or {})
        if s.get("tunebench_version"):
            pairs = {"tunebench": s["tunebench_version"], **pairs}
        for name, version in pairs.items():
            seen = out.setdefault(str(name), [])
            if str(version) not in seen:
                seen.append(str(version))
    return out


def version_rows(summaries: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(package, recorded by the runs, installed here) for every package either knows; for
    ``python`` (not a distribution) "installed" is this interpreter's version.

    >>> row = next(r for r in version_rows([{"versions": {"python": "3.0.1"}}]) if r[0] == "python")
    >>> row[:2], row[2] == platform.python_version()
    (('python', '3.0.1'), True)
    """
    rec, here = recorded(summaries), installed()
    names = list(dict.fromkeys([*PACKAGES, *rec]))
    rows = []
    for name in names:
        have = here.get(name) if name in here else _one(name)
        if name in rec or have is not None:
            rows.append((name, ", ".join(rec.get(name, [])) or "-", have or "not installed"))
    return rows


def _one(name: str) -> str | None:
    if name == "python":
        return platform.python_version()
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """This machine: platform, Python, CPU count and memory (through psutil)."""
    import psutil

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
    }
