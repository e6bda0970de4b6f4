#!/usr/bin/env bash
# Same seed, same numbers: trains the same short MTL-L3Masking / META-TARTAN run (2 epochs of 64
# ACL-ARC rows, seed 3) with the working tree and with an earlier commit, on the tiny fixture model
# and on the shipped mini model, and compares the two metrics.jsonl files record by record with
# the timing fields (examples_per_s, time) left out. Use it to show that a speed change leaves
# training bit-identical.
#
#   bash bench/same_metrics.sh BASE_COMMIT [OUT_DIR]     (default /tmp/l3mask-same; ~12 minutes)
#
# Needs deno, python3 and ../shared/datasets/citation_intent. The base commit is checked out as a
# git worktree under OUT_DIR (removed at the end); node_modules is shared with this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: bash bench/same_metrics.sh BASE_COMMIT [OUT_DIR]}
OUT=${2:-/tmp/l3mask-same}
D=../shared/datasets/citation_intent
[ -f "$D/train.jsonl" ] || { echo "no ACL-ARC data at $D" >&2; exit 1; }
mkdir -p "$OUT"
head -64 "$D/train.jsonl" >"$OUT/train64.jsonl"
rm -rf "$OUT/base"
git worktree add -f --detach "$OUT/base" "$BASE" >/dev/null
trap 'git worktree remove --force "$OUT/base" >/dev/null 2>&1 || true' EXIT
ln -s "$PWD/node_modules" "$OUT/base/node_modules"
DEV=$(realpath "$D/dev.jsonl")
run() { # TREE NAME MODEL
  (cd "$1" && deno run -A main.ts train --model "$3" --train "$OUT/train64.jsonl" --dev "$DEV" \
    --config tiny --max-length 32 --batch-size 16 --max-epochs 2 --mode mtl --masking l3 \
    --weighting meta --seed 3 --out "$OUT/$2" >/dev/null 2>"$OUT/$2.err") ||
    { tail -5 "$OUT/$2.err"; exit 1; }
}
status=0
for m in tests/fixtures/tiny-bert models/l3mask-mini; do
  n=$(basename "$m")
  rm -rf "$OUT/base-$n" "$OUT/head-$n"
  run "$OUT/base" "base-$n" "$m"
  run "$PWD" "head-$n" "$m"
  python3 - "$OUT/base-$n/metrics.jsonl" "$OUT/head-$n/metrics.jsonl" "$n" <<'PY' || status=1
import json, sys
def records(path):
    out = []
    for line in open(path):
        r = json.loads(line)
        r.pop("examples_per_s", None)
        r.pop("time", None)
        out.append(r)
    return out
a, b = records(sys.argv[1]), records(sys.argv[2])
if a == b:
    print(f"{sys.argv[3]}: {len(a)} records, identical")
    sys.exit(0)
print(f"{sys.argv[3]}: DIFFERENT ({len(a)} vs {len(b)} records)")
for x, y in zip(a, b):
    if x != y:
        print(" base:", x)
        print(" head:", y)
        break
sys.exit(1)
PY
done
exit $status
