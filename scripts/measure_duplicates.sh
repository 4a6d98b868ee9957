#!/usr/bin/env bash
# Count repeated code at a commit: export REV (default HEAD) to a temporary folder, run
# `duplicates` over the whole exported tree, and write the listing to
# results/duplicates-<rev>.txt. With a second argument BASE, also write the pairs that the
# commits BASE..REV added (results/duplicates-added-<base>-<rev>.txt) and the line counts
# of those commits (results/diffstat-<base>-<rev>.txt).
#
#     bash scripts/measure_duplicates.sh [REV] [BASE]
set -euo pipefail
cd "$(dirname "$0")/.."
rev="$(git rev-parse --short "${1:-HEAD}")"
mkdir -p results
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
git archive "$rev" | tar -x -C "$tree"
duplicates --repo "$tree" --most 200 --seconds 120 > "results/duplicates-$rev.txt"
echo "results/duplicates-$rev.txt: $(head -1 "results/duplicates-$rev.txt")"
if [ $# -ge 2 ]; then
    base="$(git rev-parse --short "$2")"
    duplicates --change --base "$base" --most 200 --seconds 120 > "results/duplicates-added-$base-$rev.txt"
    echo "results/duplicates-added-$base-$rev.txt: $(head -1 "results/duplicates-added-$base-$rev.txt")"
    git diff --stat "$base" "$rev" > "results/diffstat-$base-$rev.txt"
    echo "results/diffstat-$base-$rev.txt: $(tail -1 "results/diffstat-$base-$rev.txt")"
fi
