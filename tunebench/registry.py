"""Find schedulers, executors and workloads by name through entry points.

Built-ins register themselves in ``pyproject.toml``; a third party's plugin registers in the
same groups (``tunebench.schedulers``, ``tunebench.executors``, ``tunebench.workloads``) and is
found the same way.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from tunebench.checks import specs
from tunebench.names import did_you_mean
from tunebench.plugin_import import PluginMismatch, load_entry_point

KINDS = {
    "scheduler": "tunebench.schedulers",
    "executor": "tunebench.executors",
    "workload": "tunebench.workloads",
    "peer": "tunebench.peers",
    "searcher": "tunebench.searchers",
}
RESERVED = {
    "scheduler": ("space", "seed", "mode", "searcher"),
    "executor": (),
    "workload": ("seed",),
    "peer": (),
    "searcher": ("space", "seed", "mode"),
}


class RegistryError(LookupError):
    """An unknown plugin name, or a plugin that fails to load."""


@cache
def _entry_points(kind: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=KINDS[kind])}


def names(kind: str) -> list[str]:
    """Registered names of one kind, sorted."""
    return sorted(_entry_points(kind))


def load(kind: str, name: str) -> type:
    """The class registered as ``name``; a :class:`RegistryError` naming what is allowed if none."""
    eps = _entry_points(kind)
    if name not in eps:
        allowed = ", ".join(sorted(eps)) or "(none registered: is tunebench installed?)"
        raise RegistryError(f"{kind}.name: unknown {kind} {name!r}{did_you_mean(name, eps)}; registered: {allowed}")
    try:
        return load_entry_point(eps[name])
    except PluginMismatch as exc:
        raise RegistryError(f"{kind} {name!r}: {exc}") from None
    except ImportError as exc:
        raise RegistryError(
            f"{kind} {name!r} cannot be loaded ({exc}); install its extra, e.g. pip install 'tunebench[all]'"
        ) from None


@dataclass(frozen=True)
class Param:
    """One config key: its default, and what it allows (the plugin's declared check, if any)."""

    name: str
    default: Any
    required: bool
    allowed: str = ""


def params(kind: str, cls: type[Any]) -> dict[str, Param]:
    """The config keys a plugin takes: its ``__init__`` keyword arguments, with defaults, and
    the allowed values from the checks it declares (:func:`tunebench.checks.specs`)."""
    declared = specs(cls)
    out: dict[str, Param] = {}
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in RESERVED[kind]:
            continue
        required = p.default is inspect.Parameter.empty
        allowed = declared[p.name].allowed() if p.name in declared else ""
        out[p.name] = Param(p.name, None if required else p.default, required, allowed)
    return out


def describe(kind: str, name: str) -> str:
    """What ``tunebench list`` prints of a plugin: its name and summary, then a line per key
    with its default and what it allows."""
    try:
        cls = load(kind, name)
    except RegistryError as exc:
        return f"{name}  (unavailable: {exc})"
    doc = (inspect.getdoc(cls) or "").splitlines()
    lines = [f"{name:<20} {doc[0] if doc else ''}"]
    for p in params(kind, cls).values():
        key = p.name if p.required else f"{p.name}={p.default!r}"
        allowed = p.allowed or ("(required)" if p.required else "")
        lines.append(f"    {key:<28} {allowed}".rstrip())
    return "\n".join(lines)
