"""Import what an entry point names, and say in one line what was found when it is not there.

Entry points name a module by its import path (``schedulers.asha:ASHA``), so a user's own
package of the same top-level name earlier on ``sys.path`` shadows the plugin's: Python imports
theirs, and the module or class is missing, or their module raises. :func:`load_entry_point`
turns each of those into one :class:`PluginMismatch` naming the entry point, the module it found
and where, and what it expected. An ``ImportError`` of anything outside the plugin's own
package (a dependency not installed) passes through unchanged.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib.metadata import EntryPoint
from typing import Any


class PluginMismatch(Exception):
    """The module or attribute an entry point names is not what the import system found."""


def load_entry_point(ep: EntryPoint) -> Any:
    """The object ``ep`` names; a :class:`PluginMismatch` if what is on the path is not it."""
    module_name, attr = ep.module, ep.attr
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if not within(exc.name, top_level(module_name)):
            raise
        raise PluginMismatch(not_found(ep, exc)) from None
    except Exception as exc:
        raise PluginMismatch(
            f"entry point {ep.value}: importing {module_name} from {origin(module_name)} raised "
            f"{type(exc).__name__}: {exc}{hint(module_name)}"
        ) from None
    obj: Any = module
    for part in attr.split(".") if attr else ():
        if not hasattr(obj, part):
            raise PluginMismatch(
                f"entry point {ep.value} found module {module_name} at {location(module)}, which has no {attr}{hint(module_name)}"
            )
        obj = getattr(obj, part)
    return obj


def top_level(module_name: str) -> str:
    return module_name.partition(".")[0]


def within(name: str | None, package: str) -> bool:
    """True if module ``name`` is ``package`` or inside it."""
    return name is not None and (name == package or name.startswith(package + "."))


def not_found(ep: EntryPoint, exc: ImportError) -> str:
    """The module the import found on the way to ``exc.name`` (a module of the plugin's own
    package), and the part it lacked."""
    name = exc.name or ep.module
    if name in sys.modules:  # the module is there but lacks a name imported from it
        return f"entry point {ep.value}: {exc}{hint(ep.module)}"
    parts = name.split(".")
    parent = next((p for p in (".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)) if p in sys.modules), None)
    if parent is None:
        return f"entry point {ep.value}: {exc}; is the package that registers it installed?"
    missing = parts[len(parent.split("."))]
    return f"entry point {ep.value} found module {parent} at {location(sys.modules[parent])}, which has no {missing}{hint(ep.module)}"


def location(module: Any) -> str:
    """Where a module was loaded from: its file, or a namespace package's directories."""
    file = getattr(module, "__file__", None)
    if file:
        return str(file)
    return ", ".join(str(p) for p in getattr(module, "__path__", [])) or "(no file)"


def origin(module_name: str) -> str:
    """Where a module that failed to import lives, if the import system can still say."""
    try:
        spec = importlib.util.find_spec(module_name)
    except Exception:  # a parent that fails to import
        spec = None
    return str(spec.origin) if spec is not None and spec.origin else "(unknown location)"


def hint(module_name: str) -> str:
    return f"; is another package named {top_level(module_name)!r} earlier on the path?"


__all__ = ["PluginMismatch", "load_entry_point"]
