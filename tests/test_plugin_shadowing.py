"""A user's own ``schedulers`` package earlier on the path: one line naming what was found, exit 2.

The plugins' entry points name modules of the ``schedulers`` package (``schedulers.asha:ASHA``);
another package of that name first on ``sys.path`` is what Python imports. ``tunebench run``
then says which module it found where and what it expected, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUNEBENCH = Path(sys.executable).with_name("tunebench")

FAKES = {
    "no ASHA": ("class MyScheduler:\n    pass\n", "found module schedulers.asha at {asha}, which has no ASHA"),
    "raises": (
        "raise RuntimeError('not configured')\n",
        "importing schedulers.asha from {asha} raised RuntimeError: not configured",
    ),
    "imports what it lacks": ("from schedulers.rungs import Rung\n", "cannot import name 'Rung'"),
}


@pytest.mark.parametrize("fake", list(FAKES))
def test_a_shadowing_schedulers_package_is_one_line_and_exit_2(tmp_path: Path, fake: str) -> None:
    source, expected = FAKES[fake]
    package = tmp_path / "schedulers"
    package.mkdir()
    (package / "__init__.py").write_text('"""Someone else\'s schedulers."""\n')
    (package / "asha.py").write_text(source)
    (package / "rungs.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "RAY_AUTH_MODE": "disabled"}
    out = subprocess.run(
        [str(TUNEBENCH), "run", "configs/sgd-asha.yaml", "--set", "executor.name=local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("tunebench: error: scheduler 'asha': entry point schedulers.asha:ASHA")
    assert expected.format(asha=package / "asha.py") in lines[0]
    assert lines[0].endswith("is another package named 'schedulers' earlier on the path?")
