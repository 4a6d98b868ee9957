"""Find schedulers, executors and workloads by name through entry points.

Built-ins register themselves in ``pyproject.toml``; a third party's plugin registers in the
same groups (``tunebench.schedulers``, ``tunebench.executors``, ``tunebench.workloads``) and is
found the same way.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

KINDS = {
    "scheduler": "tunebench.schedulers",
    "executor": "tunebench.executors",
    "workload": "tunebench.workloads",
    "peer": "tunebench.peers",
    "searcher": "tunebench.searchers",
}
RESERVED = {"scheduler": ("space", "seed", "mode", "searcher"), "executor": (), "workload": (), "peer": (), "searcher": ("space", "seed", "mode")}


class RegistryError(LookupError):
    """An unknown plugin name, or a plugin that fails to load."""


@lru_cache(maxsize=None)
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
        raise RegistryError(f"{kind}.name: unknown {kind} {name!r}; registered: {allowed}")
    try:
        return eps[name].load()
    except ImportError as exc:
        raise RegistryError(f"{kind} {name!r} cannot be loaded ({exc}); install its extra, e.g. pip install 'tunebench[all]'") from None


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    required: bool


def params(kind: str, cls: type) -> dict[str, Param]:
    """The config keys a plugin takes: its ``__init__`` keyword arguments, with defaults."""
    out: dict[str, Param] = {}
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in RESERVED[kind]:
            continue
        required = p.default is inspect.Parameter.empty
        out[p.name] = Param(p.name, None if required else p.default, required)
    return out


def describe(kind: str, name: str) -> str:
    """One line for ``tunebench list``: the name, its keys and defaults, and its summary."""
    try:
        cls = load(kind, name)
    except RegistryError as exc:
        return f"{name}  (unavailable: {exc})"
    keys = ", ".join(f"{p.name}={p.default!r}" if not p.required else p.name for p in params(kind, cls).values())
    doc = (inspect.getdoc(cls) or "").splitlines()
    return f"{name:<20} {doc[0] if doc else ''}\n{'':<20} keys: {keys or '-'}"
