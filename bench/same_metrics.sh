#!/usr/bin/env bash
# Same seed, same numbers: trains the same short MTL-L3Masking / META-TARTAN run (2 epochs of 64
# ACL-ARC rows, with a test split, seed 3) with the working tree and with an earlier commit, on the
# tiny fixture model and on the shipped mini model, and compares the two metrics.jsonl files record
# by record with the timing fields (examples_per_s, time) left out, and the run's files byte for
# byte: config.yaml, best/ (weights, config.json, tokenizer.json), predictions/, state/. Then the
# same for a short `adapt` run (L3Masking MLM on ACL-ARC text; metrics without tokens_per_s and
# time, the checkpoint and state/) and for `eval` of the trained mini model's best/. Use it to show
# that a speed change or a refactor leaves training bit-identical.
#
#   bash bench/same_metrics.sh BASE_COMMIT [OUT_DIR]     (default /tmp/l3mask-same; ~15 minutes)
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
TEST=$(realpath "$D/test.jsonl")
head -40 "$D/train.jsonl" | python3 -c 'import json,sys; [print(json.loads(l)["text"]) for l in sys.stdin]' >"$OUT/corpus.txt"
run() { # TREE NAME MODEL
  (cd "$1" && deno run -A main.ts train --model "$3" --train "$OUT/train64.jsonl" --dev "$DEV" \
    --test "$TEST" --config tiny --max-length 32 --batch-size 16 --max-epochs 2 --mode mtl \
    --masking l3 --weighting meta --seed 3 --out "$OUT/$2" >/dev/null 2>"$OUT/$2.err") ||
    { tail -5 "$OUT/$2.err"; exit 1; }
}
# same_metrics BASE_FILE HEAD_FILE NAME: records equal with the timing fields left out.
same_metrics() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
def records(path):
    out = []
    for line in open(path):
        r = json.loads(line)
        for k in ("examples_per_s", "tokens_per_s", "time"):
            r.pop(k, None)
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
}
# same_files BASE_DIR HEAD_DIR NAME: every file of the run but metrics.jsonl and report.html
# (timings) byte for byte (config.yaml without its out: line), and the same file list.
same_files() {
  local a=$1 b=$2 list
  list=$(cd "$a" && find . -type f ! -name metrics.jsonl ! -name report.html | sort)
  if [ "$list" != "$(cd "$b" && find . -type f ! -name metrics.jsonl ! -name report.html | sort)" ]; then
    echo "$3: DIFFERENT file lists"; return 1
  fi
  for f in $list; do
    if [ "$(basename "$f")" = config.yaml ]; then # names its own --out
      cmp -s <(grep -v '^out:' "$a/$f") <(grep -v '^out:' "$b/$f") ||
        { echo "$3: $f DIFFERENT"; return 1; }
    else
      cmp -s "$a/$f" "$b/$f" || { echo "$3: $f DIFFERENT"; return 1; }
    fi
  done
  echo "$3: $(echo "$list" | wc -l) files identical ($(echo $list | tr '\n' ' '))"
}
status=0
for m in tests/fixtures/tiny-bert models/l3mask-mini; do
  n=$(basename "$m")
  rm -rf "$OUT/base-$n" "$OUT/head-$n"
  run "$OUT/base" "base-$n" "$m"
  run "$PWD" "head-$n" "$m"
  same_metrics "$OUT/base-$n/metrics.jsonl" "$OUT/head-$n/metrics.jsonl" "train $n" || status=1
  same_files "$OUT/base-$n" "$OUT/head-$n" "train $n" || status=1
done
# adapt: MLM training in a run directory (checkpoint next to metrics.jsonl and state/).
adapt() { # TREE NAME
  (cd "$1" && deno run -A main.ts adapt --model models/l3mask-mini --corpus "$OUT/corpus.txt" \
    --out "$OUT/$2" --masking l3 --steps 4 --batch-size 8 --max-length 32 --eval-every 2 \
    --seed 5 >/dev/null 2>"$OUT/$2.err") || { tail -5 "$OUT/$2.err"; exit 1; }
}
rm -rf "$OUT/base-adapt" "$OUT/head-adapt"
adapt "$OUT/base" base-adapt
adapt "$PWD" head-adapt
same_metrics "$OUT/base-adapt/metrics.jsonl" "$OUT/head-adapt/metrics.jsonl" adapt || status=1
same_files "$OUT/base-adapt" "$OUT/head-adapt" adapt || status=1
# eval: the trained mini model's best/ on the test split, predictions byte for byte.
for t in base head; do
  tree=$PWD; [ $t = base ] && tree=$OUT/base
  (cd "$tree" && deno run -A main.ts eval --model "$OUT/head-l3mask-mini/best" --data "$TEST" \
    --out "$OUT/$t-eval.jsonl" >"$OUT/$t-eval.out" 2>"$OUT/$t-eval.err") ||
    { tail -5 "$OUT/$t-eval.err"; exit 1; }
done
if cmp -s "$OUT/base-eval.jsonl" "$OUT/head-eval.jsonl" &&
  cmp -s <(grep -v '^predictions:' "$OUT/base-eval.out") <(grep -v '^predictions:' "$OUT/head-eval.out"); then
  echo "eval: predictions and summary identical"
else
  echo "eval: DIFFERENT"; status=1
fi
exit $status

