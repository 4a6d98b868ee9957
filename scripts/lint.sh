#!/usr/bin/env bash
# Lint and type-check (config in pyproject.toml): ruff check, ruff format --check,
# lint-imports and mypy. Each one runs even if an earlier one failed; exits 1 if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
. .venv/bin/activate
failed=()
run() {
    echo "lint: $*" >&2
    "$@" || failed+=("$1${2:+ $2}")
}
run ruff check .
run ruff format --check .
run lint-imports
run mypy
if [ ${#failed[@]} -gt 0 ]; then
    echo "lint: failed: $(IFS=,; echo "${failed[*]}")" >&2
    exit 1
fi
echo "lint: ok" >&2
