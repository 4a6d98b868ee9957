"""The parameter checks every plugin uses: one message shape, one statement of what is allowed.

A plugin (scheduler, searcher, executor, workload, peer) declares the checks of its config keys
once, as a class attribute ``params`` mapping a keyword of ``__init__`` to a :class:`Check`.
``__init__`` validates each value through :func:`check`, and ``tunebench list`` prints the same
check's :meth:`Check.allowed`, so the range a user reads is the range that is enforced. A class
inherits its bases' ``params`` (:func:`specs` merges them along the MRO, the subclass winning).

Every failure is a :class:`ParamError` (a ``ValueError``) worded
``<key> must be <what is allowed>, got <value>``:

>>> class Sched:
...     params = {"eta": Int(low=2, note="the cut rate"), "variant": OneOf(("promotion", "stopping"))}
>>> check(Sched, "eta", 3)
3
>>> check(Sched, "eta", 1)
Traceback (most recent call last):
...
tunebench.checks.ParamError: eta must be an integer >= 2 (the cut rate), got 1
>>> check(Sched, "variant", "fast")
Traceback (most recent call last):
...
tunebench.checks.ParamError: variant must be one of promotion, stopping, got 'fast'

A check that depends on another value is built where that value is known:

>>> Int(low=1, high=81, note="at most max_iter").check("grace", 100)
Traceback (most recent call last):
...
tunebench.checks.ParamError: grace must be an integer in [1, 81] (at most max_iter), got 100
"""

from __future__ import annotations

import abc
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tunebench.names import did_you_mean

__all__ = [
    "Bool",
    "Check",
    "Each",
    "Float",
    "Int",
    "OneOf",
    "ParamError",
    "Text",
    "check",
    "check_bool",
    "check_choice",
    "check_float",
    "check_int",
    "fail",
    "specs",
]


class ParamError(ValueError):
    """A plugin parameter outside what is allowed; the message names the key, the value and the range."""


def fail(key: str, value: Any, allowed: str) -> ParamError:
    """The one error shape: ``<key> must be <allowed>, got <value>`` (raise it)."""
    return ParamError(f"{key} must be {allowed}, got {value!r}")


def interval(low: float | None, high: float | None, low_open: bool = False, high_open: bool = False) -> str:
    """A range in words: ``>= 1``, ``> 0``, ``<= 5``, ``in (0, 0.5]``; empty if unbounded.

    >>> interval(1, None), interval(0, None, low_open=True), interval(0, 0.5, low_open=True), interval(None, None)
    ('>= 1', '> 0', 'in (0, 0.5]', '')
    """
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


def within(v: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    """Whether ``v`` lies in the range :func:`interval` describes."""
    above = low is None or (v > low if low_open else v >= low)
    below = high is None or (v < high if high_open else v <= high)
    return above and below


@dataclass(frozen=True, kw_only=True)
class Check(abc.ABC):
    """What one key allows. ``optional``: ``None`` is allowed too (its meaning goes in ``note``)."""

    optional: bool = False
    note: str = ""

    @abc.abstractmethod
    def kind(self) -> str:
        """The allowed values, without ``or null`` and the note (subclasses say)."""
        raise NotImplementedError

    @abc.abstractmethod
    def accepts(self, value: Any) -> bool:
        """Whether a value other than ``None`` is allowed (subclasses say)."""
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """An accepted value in its plain Python form."""
        return value

    def allowed(self) -> str:
        """What is allowed, in words: the text of the error and of ``tunebench list``."""
        text = self.kind() + (" or null" if self.optional else "")
        return f"{text} ({self.note})" if self.note else text

    def check(self, key: str, value: Any) -> Any:
        """``value`` in plain form if allowed, else raise the :class:`ParamError` for ``key``."""
        if value is None and self.optional:
            return None
        if value is None or not self.accepts(value):
            raise fail(key, value, self.allowed())
        return self.convert(value)


def is_int(value: Any) -> bool:
    """An integer (Python's or numpy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite real number (Python's or numpy's), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Int(Check):
    """An integer in ``[low, high]`` (either end may be open-ended: ``None``)."""

    low: int | None = None
    high: int | None = None

    def kind(self) -> str:
        return f"an integer {interval(self.low, self.high)}".rstrip()

    def accepts(self, value: Any) -> bool:
        return is_int(value) and within(value, self.low, self.high, False, False)

    def convert(self, value: Any) -> int:
        return int(value)


@dataclass(frozen=True)
class Float(Check):
    """A finite number between ``low`` and ``high``, each end closed unless ``*_open``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def kind(self) -> str:
        return f"a number {interval(self.low, self.high, self.low_open, self.high_open)}".rstrip()

    def accepts(self, value: Any) -> bool:
        return is_number(value) and within(float(value), self.low, self.high, self.low_open, self.high_open)

    def convert(self, value: Any) -> float:
        return float(value)


@dataclass(frozen=True)
class Bool(Check):
    """``true`` or ``false`` (no ``0``, ``1`` or ``"yes"``)."""

    def kind(self) -> str:
        return "true or false"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def convert(self, value: Any) -> bool:
        return bool(value)


@dataclass(frozen=True)
class OneOf(Check):
    """One of ``choices`` (a bool never passes for ``1`` or ``0``)."""

    choices: tuple[Any, ...] = ()

    def kind(self) -> str:
        return f"one of {', '.join(str(c) for c in self.choices)}"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) and not any(isinstance(c, bool) for c in self.choices):
            return False
        try:
            return value in self.choices
        except TypeError:
            return False

    def check(self, key: str, value: Any) -> Any:
        """As :meth:`Check.check`; a misspelt name gets a hint: ``got 'stoping' (did you mean 'stopping'?)``."""
        try:
            return super().check(key, value)
        except ParamError as exc:
            names = [c for c in self.choices if isinstance(c, str)]
            hint = did_you_mean(value, names) if isinstance(value, str) else ""
            if not hint:
                raise
            raise ParamError(f"{exc}{hint}") from None


@dataclass(frozen=True)
class Text(Check):
    """A non-empty string (surrounding white space dropped); ``what`` says which (``a folder path``)."""

    what: str = "a non-empty string"

    def kind(self) -> str:
        return self.what

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def convert(self, value: Any) -> str:
        return value.strip()


@dataclass(frozen=True)
class Each(Check):
    """A non-empty list whose every item passes ``item`` (PBT's perturbation factors)."""

    item: Check = Float()

    def kind(self) -> str:
        return f"a non-empty list, each {self.item.kind()}"

    def accepts(self, value: Any) -> bool:
        ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
        return ok and all(v is not None and self.item.accepts(v) for v in value)

    def convert(self, value: Any) -> tuple[Any, ...]:
        return tuple(self.item.convert(v) for v in value)


def specs(owner: Any) -> dict[str, Check]:
    """The checks of a plugin class (or instance): its ``params`` merged with its bases'."""
    cls = owner if isinstance(owner, type) else type(owner)
    merged: dict[str, Check] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get("params") or {})
    return merged


def check(owner: Any, key: str, value: Any) -> Any:
    """Validate ``value`` of ``key`` by the check ``owner`` declares for it (see :func:`specs`)."""
    declared = specs(owner)
    if key not in declared:
        name = owner.__name__ if isinstance(owner, type) else type(owner).__name__
        raise LookupError(f"{name}.params declares no check for {key!r} (it declares: {', '.join(declared) or 'none'})")
    return declared[key].check(key, value)


def check_int(
    key: str, value: Any, low: int | None = None, high: int | None = None, *, optional: bool = False, note: str = ""
) -> int | None:
    """One integer outside any plugin's ``params`` (a command-line option, a matrix key)."""
    return Int(optional=optional, note=note, low=low, high=high).check(key, value)


def check_float(
    key: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
    note: str = "",
) -> float | None:
    """One finite number outside any plugin's ``params``."""
    return Float(optional=optional, note=note, low=low, high=high, low_open=low_open, high_open=high_open).check(key, value)


def check_bool(key: str, value: Any, *, optional: bool = False, note: str = "") -> bool | None:
    """One ``true`` / ``false`` outside any plugin's ``params``."""
    return Bool(optional=optional, note=note).check(key, value)


def check_choice(key: str, value: Any, choices: Sequence[Any], *, optional: bool = False, note: str = "") -> Any:
    """One of ``choices``, outside any plugin's ``params``."""
    return OneOf(optional=optional, note=note, choices=tuple(choices)).check(key, value)
