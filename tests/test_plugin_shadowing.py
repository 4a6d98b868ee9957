"""A user's own ``schedulers`` package earlier on the path: one line naming what was found, exit 2.

The plugins' entry points name modules of the ``schedulers`` package (``schedulers.asha:ASHA``);
another package of that name first on ``sys.path`` is what Python imports. ``tunebench run``
then says which module it found where and what it expected, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tunebench.cli import main

ROOT = Path(__file__).resolve().parents[1]

FAKES = {
    "no ASHA": ("class MyScheduler:\n    pass\n", "found module schedulers.asha at {asha}, which has no ASHA"),
    "raises": (
        "raise RuntimeError('not configured')\n",
        "importing schedulers.asha from {asha} raised RuntimeError: not configured",
    ),
    "imports what it lacks": ("from schedulers.rungs import Rung\n", "cannot import name 'Rung'"),
}


def schedulers_modules() -> list[str]:
    """The modules of a ``schedulers`` package imported in this process."""
    return [name for name in sys.modules if name.partition(".")[0] == "schedulers"]


@pytest.fixture
def first_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` first on ``sys.path`` and no ``schedulers`` module imported, as in a
    ``tunebench`` started with ``PYTHONPATH=tmp_path`` from the repository; afterwards the
    plugins' own modules are back."""
    for name in schedulers_modules():
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(ROOT)
    yield tmp_path
    for name in schedulers_modules():
        del sys.modules[name]


@pytest.mark.parametrize("fake", list(FAKES))
def test_a_shadowing_schedulers_package_is_one_line_and_exit_2(
    first_on_path: Path, fake: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source, expected = FAKES[fake]
    package = first_on_path / "schedulers"
    package.mkdir()
    (package / "__init__.py").write_text('"""Someone else\'s schedulers."""\n')
    (package / "asha.py").write_text(source)
    (package / "rungs.py").write_text("")
    status = main(["run", "configs/sgd-asha.yaml", "--set", "executor.name=local"])
    stderr = capsys.readouterr().err
    lines = stderr.strip().splitlines()
    assert status == 2, stderr
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("tunebench: error: scheduler 'asha': entry point schedulers.asha:ASHA")
    assert expected.format(asha=package / "asha.py") in lines[0]
    assert lines[0].endswith("is another package named 'schedulers' earlier on the path?")
