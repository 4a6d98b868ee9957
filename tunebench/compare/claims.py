"""A matrix's ``claims``, validated: the field's claims, each stated on the matrix's contenders by
their labels and judged by the report's "Claims" section (:mod:`tunebench.report.claims`).

Shape of the entries::

    claims:
      - {better: asha, than: hyperband, measure: anytime, source: "Li et al., MLSys 2020"}
      - {better: asha, than: hyperband, measure: anytime, grows_with: workers, source: "Li et al., MLSys 2020"}
      - {alike: [asha, asha-stopping], measure: final, margin: 0.02, source: "Syne Tune"}
      - {not_better: asha-3brackets, than: asha, measure: anytime, source: "..."}
      - {better: hyperband, than: random, measure: time_to_target, by: 3, source: "Sievert et al., SciPy 2019"}
      - {saturates: asha, between: [16, 24], source: "..."}

Each entry has one of ``better``, ``not_better``, ``alike`` or ``saturates``, a ``source`` (free
text, printed) and optionally ``claim`` (the claim in its source's words, printed). A label is a
contender's as the matrix gives it (with ``searchers``, ``<label>+<searcher>``; without the
``/<k>w`` a workers axis adds). ``measure``: ``final``, ``anytime`` or ``time_to_target``
(:data:`tunebench.report.claims.MEASURES`; ``saturates`` takes only ``time_to_target``, its
default). ``by`` (``better`` on ``time_to_target``): the ratio claimed, > 1. ``margin``
(``alike``: required; ``not_better``: optional): in normalized regret for ``final`` and
``anytime`` (in (0, 1)), a time ratio > 1 for ``time_to_target``. ``grows_with: workers``
(``better``): the difference grows from the fewest to the most workers. ``workers``: the worker
counts the blocks are taken at (default: every count). ``between`` (``saturates``): two worker
counts, increasing; ``at_most``: the speedup below which it counts as saturated (default: the
ideal, their ratio). Every problem is one :class:`~tunebench.config.ConfigError` naming the key,
the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tunebench.checks import is_int, is_number
from tunebench.config import ConfigError, keyed
from tunebench.names import did_you_mean
from tunebench.report.claims import GROWS_WITH, KINDS, MEASURES, Claim

KEY = "claims"
COMMON = ("measure", "source", "claim")
KEYS: dict[str, tuple[str, ...]] = {
    "better": ("than", "by", "grows_with", "workers"),
    "not_better": ("than", "margin", "workers"),
    "alike": ("margin", "workers"),
    "saturates": ("between", "at_most"),
}
ALL_KEYS = tuple(dict.fromkeys([*KINDS, *(k for keys in KEYS.values() for k in keys), *COMMON]))


def check_claims(data: dict[str, Any], labels: Sequence[str], counts: Sequence[int]) -> None:
    """Validate ``data["claims"]`` against the matrix's contender labels and worker counts and put
    each entry in its full form (every default filled in); a matrix without claims is left as it is."""
    if KEY in data:
        data[KEY] = [c.as_json() for c in claims_of(data[KEY], list(dict.fromkeys(labels)), counts)]


def claims_of(given: Any, labels: Sequence[str], counts: Sequence[int]) -> list[Claim]:
    """The matrix's ``claims`` list, each entry a :class:`Claim`."""
    if not isinstance(given, list) or not given:
        raise ConfigError(f"claims must be a non-empty list of claims (mappings with one of {', '.join(KINDS)}), got {given!r}")
    return [claim_of(e, f"claims[{i}]", labels, counts) for i, e in enumerate(given)]


def claim_of(raw: Any, where: str, labels: Sequence[str], counts: Sequence[int]) -> Claim:
    """One entry of ``claims``."""
    raw = keyed(raw, where, ALL_KEYS, f"one of {', '.join(KINDS)} and a source")
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        raise ConfigError(f"{where} needs exactly one of {', '.join(KINDS)} (what it claims), got {', '.join(kinds) or 'none'}")
    kind = kinds[0]
    allowed = (kind, *KEYS[kind], *COMMON)
    extra = [k for k in raw if k not in allowed]
    if extra:
        raise ConfigError(f"{where}: {extra[0]} is not a key of a {kind} claim; a {kind} claim takes: {', '.join(allowed)}")
    a, b = contenders(raw, kind, where, labels)
    measure = measure_of(raw, kind, where)
    workers = between(raw.get("between"), f"{where}.between", counts) if kind == "saturates" else subset(raw, where, counts)
    growing = grows(raw, where, workers or counts)
    if raw.get("by") is not None and measure != "time_to_target":
        raise ConfigError(f"{where}.by is a time ratio: it takes measure: time_to_target, got measure: {measure}")
    return Claim(
        kind,
        a,
        b,
        measure,
        text(raw, "source", where),
        text(raw, "claim", where, required=False),
        ratio(raw, "by", where, "the ratio claimed (a time ratio)"),
        margin(raw, kind, measure, where),
        growing,
        workers or (tuple(counts) if growing else ()),
        ratio(raw, "at_most", where, "the speedup below which it counts as saturated", low=1.0),
    )


def label(value: Any, where: str, labels: Sequence[str]) -> str:
    """A contender label of the matrix."""
    if str(value) not in labels or not isinstance(value, str):
        raise ConfigError(
            f"{where} {value!r} is not a contender label of this matrix{did_you_mean(value, labels)}; allowed: {', '.join(labels)}"
        )
    return value


def contenders(raw: Mapping[str, Any], kind: str, where: str, labels: Sequence[str]) -> tuple[str, str | None]:
    """The claim's contenders: ``better``/``not_better`` and ``than``, the two of ``alike``, or
    the one of ``saturates``; two distinct labels."""
    if kind == "alike":
        pair = raw["alike"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ConfigError(f"{where}.alike must be a list of two contender labels ({', '.join(labels)}), got {pair!r}")
        a, b = (label(v, f"{where}.alike[{i}]", labels) for i, v in enumerate(pair))
    elif kind == "saturates":
        return label(raw[kind], f"{where}.{kind}", labels), None
    else:
        if raw.get("than") is None:
            raise ConfigError(f"{where}.than is required: the contender {kind} compares with ({', '.join(labels)})")
        a, b = label(raw[kind], f"{where}.{kind}", labels), label(raw["than"], f"{where}.than", labels)
    if a == b:
        raise ConfigError(f"{where} compares {a!r} with itself: name two different contenders")
    return a, b


def measure_of(raw: Mapping[str, Any], kind: str, where: str) -> str:
    """``measure``: one of :data:`MEASURES` (``saturates``: time_to_target, the default)."""
    given = raw.get("measure", "time_to_target" if kind == "saturates" else None)
    allowed = ["time_to_target"] if kind == "saturates" else list(MEASURES)
    if given not in allowed:
        said = "; ".join(f"{k} ({MEASURES[k]})" for k in allowed)
        hint = did_you_mean(given, allowed) if given is not None else ""
        raise ConfigError(
            f"{where}.measure must be one of {said}{' for a saturates claim' * (kind == 'saturates')}, got {given!r}{hint}"
        )
    return str(given)


def text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    """A free-text field, printed as given."""
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        what = "where the claim was made (paper, year)" if key == "source" else "the claim in its source's words"
        raise ConfigError(f"{where}.{key} must be a non-empty text ({what}), got {value!r}")
    return value


def ratio(raw: Mapping[str, Any], key: str, where: str, what: str, low: float = 1.0) -> float | None:
    """An optional number > ``low``."""
    value = raw.get(key)
    if value is None:
        return None
    if not is_number(value) or value <= low:
        raise ConfigError(f"{where}.{key} must be a number > {low:g} ({what}), got {value!r}")
    return float(value)


def margin(raw: Mapping[str, Any], kind: str, measure: str, where: str) -> float | None:
    """``margin``: required for ``alike``; in normalized regret in (0, 1), or a time ratio > 1."""
    value = raw.get("margin")
    if value is None:
        if kind == "alike":
            raise ConfigError(f"{where}.margin is required: how far apart two alike contenders may be ({unit(measure)})")
        return None
    ok = is_number(value) and (value > 1 if measure == "time_to_target" else 0 < value < 1)
    if not ok:
        raise ConfigError(f"{where}.margin must be {unit(measure)}, got {value!r}")
    return float(value)


def unit(measure: str) -> str:
    """What a margin on ``measure`` is.

    >>> unit("final"), unit("time_to_target")
    ('a number in (0, 1), in normalized regret', 'a time ratio > 1')
    """
    return "a time ratio > 1" if measure == "time_to_target" else "a number in (0, 1), in normalized regret"


def grows(raw: Mapping[str, Any], where: str, counts: Sequence[int]) -> str | None:
    """``grows_with``: ``workers``, on a matrix (or claim) with two worker counts or more."""
    value = raw.get("grows_with")
    if value is None:
        return None
    if value not in GROWS_WITH:
        raise ConfigError(
            f"{where}.grows_with must be one of {', '.join(GROWS_WITH)}, got {value!r}{did_you_mean(value, GROWS_WITH)}"
        )
    if len(counts) < 2:
        raise ConfigError(
            f"{where}.grows_with: workers needs two worker counts or more (workers: [4, 16, 64]), got {list(counts)}"
        )
    return str(value)


def subset(raw: Mapping[str, Any], where: str, counts: Sequence[int]) -> tuple[int, ...]:
    """``workers``: a count of the matrix or a list of distinct ones; empty when not given."""
    value = raw.get("workers")
    if value is None:
        return ()
    given = [value] if is_int(value) else value
    if not isinstance(given, list) or not given or len(set(map(str, given))) < len(given) or any(k not in counts for k in given):
        raise ConfigError(
            f"{where}.workers must be one of the matrix's worker counts ({', '.join(map(str, counts))}) or a list of them, got {value!r}"
        )
    return tuple(int(k) for k in given)


def between(value: Any, where: str, counts: Sequence[int]) -> tuple[int, int]:
    """``between``: two worker counts of the matrix, increasing."""
    ok = isinstance(value, list) and len(value) == 2 and all(is_int(k) and k in counts for k in value) and value[0] < value[1]
    if not ok:
        raise ConfigError(
            f"{where} must be two of the matrix's worker counts ({', '.join(map(str, counts))}), increasing, e.g. [16, 24]; got {value!r}"
        )
    return int(value[0]), int(value[1])


__all__ = ["KEY", "check_claims", "claims_of"]
