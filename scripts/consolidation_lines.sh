#!/usr/bin/env bash
# Lines added and removed by the given commits, file by file and in total, split into the
# plugin and core files they edit and the files they create; written to
# results/consolidation-lines.txt.
#
#     bash scripts/consolidation_lines.sh COMMIT...
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p results
out=results/consolidation-lines.txt
{
    for c in "$@"; do
        git log -1 --format="## %h %s" "$c" | cut -c1-120
        git show --numstat --format= "$c"
    done
} > "$out.tmp"
{
    cat "$out.tmp"
    echo
    for c in "$@"; do
        git show --numstat --format= "$c" | while read -r add del path; do
            if git cat-file -e "$c~1:$path" 2>/dev/null; then kind=edited; else kind=created; fi
            echo "$kind $add $del $path"
        done
    done | awk '{ a[$1] += $2; d[$1] += $3 } END {
        for (k in a) printf "total %s files: +%d -%d (net %+d)\n", k, a[k], d[k], a[k] - d[k] }' | sort
    dirs=(schedulers searchers tunebench/executors tunebench/workloads tunebench/compare/peers tunebench/scheduler.py tunebench/searcher.py)
    for rev in "$1~1" "${!#}"; do
        bools=$(git grep -h "isinstance([^)]*, bool)" "$rev" -- "${dirs[@]}" | wc -l || true)
        defs=$(git grep -hE "def _?check_(int|float|seconds|address|cost|choice|count|eta|patience|tol|n_trials)\b" "$rev" -- "${dirs[@]}" | wc -l || true)
        echo "at $(git rev-parse --short "$rev"): inline isinstance(..., bool) checks $bools, check helper definitions $defs"
    done
} > "$out"
rm -f "$out.tmp"
tail -n 4 "$out"
