"""A matrix's ``published`` entries, validated: numbers others published for a system on one of the
matrix's workloads, which the report prints beside what the matrix measured.

Shape of one entry::

    workload: mfh3                  # a workload label of this matrix
    system: DEHB 0.1.2              # what published it, as printed
    contender: dehb                 # optional: the label of this matrix's contender that runs that system
    source: {repository: automl/DEHB, file: benchmarking/results/benchmark_results.md, version: 0.1.2, commit: null}
    statistic: mean ± std over 10 seeds    # free text, printed
    incumbent: any                  # any: best score seen at any fidelity; top: best score at max_iter
    at: [60, 120, 180]              # evaluation counts, increasing (or a single int)
    mean: [-2.861, -3.506, -3.722]  # one per `at`
    std: [0.069, 0.076, 0.087]      # optional, one per `at`; needs `n`
    n: 10                           # the seeds behind the number: required with `std`, else optional
    values: [[...], [...], [...]]   # instead of mean/std: per-seed numbers, one list per `at` (mean, std ddof 1, n from them)
    mean_scale: 1                   # optional: published means times this are in the workload's units
    offset: 0                       # optional: added after mean_scale (a cost 1 - accuracy: mean_scale -1, offset 1)
    std_scale: 1                    # optional: published std times this are in the workload's units
    note: free text                 # optional, printed under the table

Every problem is one :class:`~tunebench.config.ConfigError` naming the key, the value and what
is allowed.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from tunebench.checks import is_int, is_number
from tunebench.config import ConfigError, keyed
from tunebench.names import did_you_mean, each
from tunebench.store.published import INCUMBENTS, Published, Source

ENTRY_KEYS = (
    "workload",
    "system",
    "contender",
    "source",
    "statistic",
    "incumbent",
    "at",
    "mean",
    "std",
    "n",
    "values",
    "mean_scale",
    "offset",
    "std_scale",
    "note",
)
SOURCE_KEYS = ("repository", "file", "version", "commit")


def published_entries(given: Any, workloads: Sequence[str], contenders: Sequence[str]) -> list[Published]:
    """The matrix's ``published`` list, each entry checked against the matrix's workload and contender labels."""
    if given is None:
        return []
    if not isinstance(given, list):
        raise ConfigError(f"published must be a list of entries (mappings with workload, system, source, ...), got {given!r}")
    return [entry(e, f"published[{i}]", workloads, contenders) for i, e in enumerate(given)]


def entry(raw: Any, where: str, workloads: Sequence[str], contenders: Sequence[str]) -> Published:
    """One entry of ``published``."""
    raw = keyed(raw, where, ENTRY_KEYS, f"keys {', '.join(ENTRY_KEYS)}")
    workload = label(raw, "workload", where, workloads, "a workload label of this matrix")
    contender = (
        None if raw.get("contender") is None else label(raw, "contender", where, contenders, "a contender label of this matrix")
    )
    at = counts(raw.get("at"), f"{where}.at")
    mean, std, n, values = numbers_of(raw, where, len(at))
    incumbent = raw.get("incumbent")
    if incumbent not in INCUMBENTS:
        allowed = "; ".join(f"{k} ({v})" for k, v in INCUMBENTS.items())
        raise ConfigError(f"{where}.incumbent must be one of {allowed}, got {incumbent!r}{did_you_mean(incumbent, INCUMBENTS)}")
    return Published(
        workload=workload,
        system=text(raw, "system", where),
        source=source(raw.get("source"), f"{where}.source"),
        statistic=text(raw, "statistic", where),
        incumbent=str(incumbent),
        at=at,
        mean=mean,
        std=std,
        n=n,
        values=values,
        contender=contender,
        mean_scale=scale(raw, "mean_scale", where, nonzero=True),
        std_scale=scale(raw, "std_scale", where, nonzero=False),
        note=text(raw, "note", where, required=False),
        offset=offset(raw, where),
    )


def label(raw: Mapping[str, Any], key: str, where: str, allowed: Sequence[str], what: str) -> str:
    """A label that must be one of ``allowed``."""
    value = raw.get(key)
    if value is None:
        raise ConfigError(f"{where}.{key} is required: {what} ({', '.join(allowed)})")
    if str(value) not in allowed:
        raise ConfigError(f"{where}.{key} {value!r} is not {what}{did_you_mean(value, allowed)}; allowed: {', '.join(allowed)}")
    return str(value)


def text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    """A free-text field, printed as given."""
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
        raise ConfigError(f"{where}.{key} must be a non-empty text, got {value!r}")
    return str(value)


def source(raw: Any, where: str) -> Source:
    """``{repository, file, version?, commit?}``."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping with repository and file (version and commit optional), got {raw!r}")
    unknown = sorted((k for k in raw if k not in SOURCE_KEYS), key=str)
    if unknown:
        raise ConfigError(f"unknown key(s) {each(unknown, SOURCE_KEYS, f'{where}.')}; allowed: {', '.join(SOURCE_KEYS)}")
    for key in ("repository", "file"):
        if raw.get(key) is None:
            raise ConfigError(f"{where}.{key} is required (a non-empty text), got {raw!r}")
    repository, file = (text(raw, k, where) for k in ("repository", "file"))
    version, commit = (text(raw, k, where, required=False) or None for k in ("version", "commit"))
    return Source(repository, file, version, commit)


def counts(raw: Any, where: str) -> tuple[int, ...]:
    """``at``: an evaluation count >= 1, or an increasing list of them."""
    given = [raw] if is_int(raw) else raw
    if not isinstance(given, list) or not given or not all(is_int(k) and k >= 1 for k in given):
        raise ConfigError(f"{where} must be an integer >= 1 or a non-empty list of them (evaluation counts), got {raw!r}")
    if any(b <= a for a, b in zip(given, given[1:])):
        raise ConfigError(f"{where} must be strictly increasing, got {raw!r}")
    return tuple(int(k) for k in given)


def per_at(raw: Any, where: str, n_at: int, *, low: float | None = None) -> tuple[float, ...]:
    """One finite number per ``at`` (a single number when ``at`` is one), each >= ``low`` if given."""
    given = [raw] if is_number(raw) else raw
    ok = isinstance(given, list) and all(is_number(v) and (low is None or v >= low) for v in given)
    bound = f" >= {low:g}" if low is not None else ""
    if not ok:
        raise ConfigError(f"{where} must be a list of finite numbers{bound}, one per `at`, got {raw!r}")
    if len(given) != n_at:
        raise ConfigError(f"{where} has {len(given)} value(s) but `at` has {n_at}: give one per `at`, got {raw!r}")
    return tuple(float(v) for v in given)


def numbers_of(
    raw: Mapping[str, Any], where: str, n_at: int
) -> tuple[tuple[float, ...], tuple[float, ...] | None, int | None, tuple[tuple[float, ...], ...] | None]:
    """``mean``, ``std``, ``n`` and ``values``: either mean (with std and n optional) or per-seed values."""
    n = raw.get("n")
    if n is not None and (not is_int(n) or n < 1):
        raise ConfigError(f"{where}.n must be an integer >= 1 (the seeds behind the published number), got {n!r}")
    if raw.get("values") is not None:
        for key in ("mean", "std"):
            if raw.get(key) is not None:
                raise ConfigError(f"{where}: give either values or mean (and std), not both; got {key}={raw[key]!r}")
        values = seeds_of(raw["values"], f"{where}.values", n_at)
        if n is not None and n != len(values[0]):
            raise ConfigError(f"{where}.n is {n!r} but values has {len(values[0])} per `at`: drop n or make them agree")
        return tuple(statistics.fmean(v) for v in values), tuple(statistics.stdev(v) for v in values), len(values[0]), values
    if raw.get("mean") is None:
        raise ConfigError(f"{where} needs mean (one number per `at`) or values (per-seed numbers, one list per `at`)")
    mean = per_at(raw["mean"], f"{where}.mean", n_at)
    std = None if raw.get("std") is None else per_at(raw["std"], f"{where}.std", n_at, low=0.0)
    if std is not None and n is None:
        raise ConfigError(f"{where}.n is required with std: the seeds behind the published mean and std (an integer >= 1)")
    return mean, std, n, None


def seeds_of(raw: Any, where: str, n_at: int) -> tuple[tuple[float, ...], ...]:
    """``values``: one list of per-seed numbers per ``at``, each of the same length >= 2."""
    if not isinstance(raw, list) or not all(isinstance(v, list) and all(is_number(x) for x in v) for v in raw):
        raise ConfigError(f"{where} must be a list of lists of finite numbers (per seed), one list per `at`, got {raw!r}")
    if len(raw) != n_at:
        raise ConfigError(f"{where} has {len(raw)} list(s) but `at` has {n_at}: give one per `at`")
    sizes = {len(v) for v in raw}
    if len(sizes) != 1 or min(sizes) < 2:
        raise ConfigError(
            f"{where} lists must each hold the same number (>= 2) of per-seed values, got lengths {[len(v) for v in raw]}"
        )
    return tuple(tuple(float(x) for x in v) for v in raw)


def scale(raw: Mapping[str, Any], key: str, where: str, *, nonzero: bool) -> float:
    """``mean_scale`` (a finite non-zero number) or ``std_scale`` (a finite number > 0); 1 if not given."""
    value = raw.get(key, 1)
    if not is_number(value) or value == 0 or (not nonzero and value < 0):
        allowed = "a finite non-zero number" if nonzero else "a finite number > 0"
        raise ConfigError(
            f"{where}.{key} must be {allowed} (the published numbers times it are in the workload's units), got {value!r}"
        )
    return float(value)


def offset(raw: Mapping[str, Any], where: str) -> float:
    """``offset``: a finite number added to the scaled means; 0 if not given."""
    value = raw.get("offset", 0)
    if not is_number(value):
        raise ConfigError(
            f"{where}.offset must be a finite number (added to the published means times mean_scale), got {value!r}"
        )
    return float(value)
