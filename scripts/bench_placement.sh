#!/usr/bin/env bash
# Cells per second of configs/bench-placement.yaml (the recorded suite on the simulated executor)
# run serially, with --jobs 2, on a local two-node Ray cluster and on a local Dask scheduler with
# two workers (one CPU each), interleaved over ROUNDS rounds (default 3); each run's rate is
# compare's own (placement.cells_per_s in matrix.json). Medians go to results/bench_placement.csv:
#   bash scripts/bench_placement.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
rounds=${1:-3} scratch=$(mktemp -d) ray_port=6390 dask_port=8790
export RAY_AUTH_MODE=disabled RAY_USAGE_STATS_ENABLED=0 DASK_DISTRIBUTED__WORKER__DAEMON=False
cleanup() { ray stop --force >/dev/null 2>&1 || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"; }
trap cleanup EXIT
ray start --head --port $ray_port --num-cpus 1 --include-dashboard false --temp-dir "$scratch/ray" >/dev/null
ray start --address 127.0.0.1:$ray_port --num-cpus 1 >/dev/null
dask scheduler --port $dask_port --dashboard-address :0 >"$scratch/dask.log" 2>&1 &
dask worker tcp://127.0.0.1:$dask_port --nworkers 2 --nthreads 1 --resources CPU=1 --no-dashboard >>"$scratch/dask.log" 2>&1 &
sleep 5
for round in $(seq "$rounds"); do
  for where in serial jobs-2 ray dask; do
    case $where in
      serial) args=() ;;
      jobs-2) args=(--jobs 2) ;;
      ray) args=(--cluster "127.0.0.1:$ray_port") ;;
      dask) args=(--cluster "tcp://127.0.0.1:$dask_port") ;;
    esac
    tunebench compare configs/bench-placement.yaml --out "$scratch/$where-$round" --no-report "${args[@]}" 2>&1 | tail -n 2 | head -n 1
  done
done
mkdir -p results
python - "$scratch" >results/bench_placement.csv <<'PY'
import json, pathlib, statistics, sys
runs = {}
for m in sorted(pathlib.Path(sys.argv[1]).glob("*/matrix.json")):
    runs.setdefault(m.parent.name.rsplit("-", 1)[0], []).append(json.loads(m.read_text())["placement"])
serial = statistics.median(p["cells_per_s"] for p in runs["serial"])
print("placement,rounds,cells,median_wall_s,median_cells_per_s,ratio_to_serial")
for where, ps in runs.items():
    rate = statistics.median(p["cells_per_s"] for p in ps)
    print(f"{where},{len(ps)},{ps[0]['cells_run']},{statistics.median(p['wall_s'] for p in ps):.1f},{rate:.2f},{rate / serial:.2f}")
PY
cat results/bench_placement.csv
