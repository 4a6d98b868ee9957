#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run one experiment: scripts/run.sh [CONFIG] [tunebench run options].
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export RAY_AUTH_MODE=disabled
config="${1:-configs/sgd-hyperband.yaml}"
shift || true
exec tunebench run "$config" "$@"
