"""The import contracts of ``pyproject.toml`` hold, and each catches an import that points up.

``lint-imports`` (import-linter) checks every module of ``tunebench`` and of the plugin package
``schedulers`` (``pbt/`` and ``searchers/`` included): the core's layers, the package root on
top of them, the core never importing the plugins, the plugins knowing nothing of files,
clocks, executors or the loop, and the plugins' own layers. A broken contract is shown on a
copy of the sources with one import added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
CONTRACTS = ("core-layers", "root-on-top", "core-without-plugins", "plugins-know-no-machinery", "plugin-layers")


def lint(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the packages under ``root`` (first on the path), with its config."""
    args = [str(LINT), "--no-cache", "--no-logo", str(root / "pyproject.toml")]
    for contract in contracts:
        args += ["--contract", contract]
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "240"}
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_every_contract_is_kept() -> None:
    out = lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in out.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of both packages' sources and ``pyproject.toml``, to break."""
    skip = shutil.ignore_patterns("__pycache__", "recordings")
    for package in ("tunebench", "schedulers"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


UPWARD = [
    ("tunebench/executors/rebuild.py", "from tunebench.loop import Loop", "core-layers"),
    ("tunebench/trial.py", "import tunebench.store", "core-layers"),
    ("tunebench/workloads/curves.py", "from tunebench import registry", "core-layers"),
    ("tunebench/workloads/curves.py", "from tunebench.convert import to_spec", "core-layers"),
    ("tunebench/convert.py", "from tunebench.integrations.sklearn_space import to_space", "core-layers"),
    ("tunebench/run.py", "from tunebench import __version__", "root-on-top"),
    ("tunebench/loop.py", "import schedulers.asha", "core-without-plugins"),
    ("schedulers/pbt/scheduler.py", "from tunebench.store import read_run", "plugins-know-no-machinery"),
    ("schedulers/searchers/tpe.py", "from schedulers.hyperband import Hyperband", "plugin-layers"),
]


@pytest.mark.parametrize(("path", "line", "contract"), UPWARD, ids=[f"{c}:{p}" for p, _, c in UPWARD])
def test_an_upward_import_breaks_its_contract(tree: Path, path: str, line: str, contract: str) -> None:
    source = tree / path
    source.write_text(f"{source.read_text()}\n{line}\n")
    out = lint(tree, contract)
    assert out.returncode == 1 and "1 broken" in out.stdout, out.stdout + out.stderr
    assert path.removesuffix(".py").replace("/", ".") in out.stdout


@pytest.mark.parametrize("path", ["tunebench/stray.py", "schedulers/stray.py"])
def test_a_module_in_no_layer_breaks_the_layers(tree: Path, path: str) -> None:
    (tree / path).write_text('"""A module no layer lists."""\n')
    contract = "core-layers" if path.startswith("tunebench") else "plugin-layers"
    out = lint(tree, contract)
    assert out.returncode == 1 and "stray" in out.stdout, out.stdout + out.stderr
