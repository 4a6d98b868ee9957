"""The near name a user probably meant, for error messages on unknown keys and names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def near(name: object, allowed: Iterable[object]) -> str | None:
    """The one allowed name closest to ``name`` (difflib ratio >= 0.6), or None.

    >>> near("etta", ["eta", "max_iter", "min_iter"])
    'eta'
    >>> near("zzz", ["eta"]) is None
    True
    """
    choices = [str(a) for a in allowed]
    found = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: object, allowed: Iterable[object]) -> str:
    """``" (did you mean 'eta'?)"`` when one allowed name is close to ``name``, else ``""``.

    >>> did_you_mean("etta", ["eta", "min_iter"])
    " (did you mean 'eta'?)"
    >>> did_you_mean("xyz", ["eta"])
    ''
    """
    found = near(name, allowed)
    return f" (did you mean {found!r}?)" if found else ""


def each(names: Iterable[object], allowed: Iterable[object], prefix: str = "", *, quote: bool = False) -> str:
    """Unknown ``names`` joined by ``", "``, each after ``prefix`` (quoted if ``quote``) with its hint.

    >>> each(["etta", "zzz"], ["eta"], "scheduler.")
    "scheduler.etta (did you mean 'eta'?), scheduler.zzz"
    >>> each(["alpah"], ["alpha"], quote=True)
    "'alpah' (did you mean 'alpha'?)"
    """
    choices = [str(a) for a in allowed]
    return ", ".join(f"{prefix}{repr(n) if quote else n}{did_you_mean(n, choices)}" for n in names)
