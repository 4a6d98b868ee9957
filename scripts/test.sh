#!/usr/bin/env bash
# Set up (scripts/setup.sh), then lint, format, import-layer and type checks (config in
# pyproject.toml), then the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export RAY_AUTH_MODE=disabled
# Python's default, which some environments turn off: each process (two pytest workers, Ray's and
# Dask's workers, every `tunebench` subprocess) then loads our compiled modules and pytest's
# rewritten tests from __pycache__ instead of compiling them again.
unset PYTHONDONTWRITEBYTECODE
ruff check .
ruff format --check .
lint-imports
mypy
exec python -m pytest -q "$@"
