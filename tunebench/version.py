"""The tunebench version: the one place it is written (``pyproject.toml`` reads it from here).

A module of its own, importing nothing, so any layer may name the version without importing
the package root, which sits above every layer.

>>> __version__.count(".") >= 1
True
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
