#!/usr/bin/env bash
# Set up (scripts/setup.sh), then the quickstart head-to-head (configs/quickstart.yaml) and its verdict;
# scripts/run.sh CONFIG [tunebench run options] runs one experiment instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export RAY_AUTH_MODE=disabled
if [ "$#" -eq 0 ]; then
  exec tunebench compare configs/quickstart.yaml --out runs/quickstart
fi
config="$1"
shift
exec tunebench run "$config" "$@"
