"""Shared fixtures: small configs written to temporary files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

TINY_SGD = {"name": "sgd", "dataset": "circles", "n_samples": 600}


def tiny_config(scheduler: dict[str, Any], executor: str = "local", **extra: Any) -> dict[str, Any]:
    """A seconds-long experiment on 600 circles rows."""
    return {"seed": 0, "workload": dict(TINY_SGD), "scheduler": dict(scheduler), "executor": {"name": executor}, **extra}


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[dict[str, Any] | str, str], Path]:
    """Write a config (a dict, or raw YAML text) to a temporary file and return its path."""

    def write(config: dict[str, Any] | str, name: str = "exp.yaml") -> Path:
        path = tmp_path / name
        path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
        return path

    return write
