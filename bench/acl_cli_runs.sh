#!/usr/bin/env bash
# ACL-ARC through the CLI, the way a user runs it: STL, MTL-RTM and MTL-L3Masking with META-TARTAN
# weights on the shipped mini model, each to early stopping, then `l3mask eval` on each run's best/
# in a separate process against the run's predictions/test.jsonl.
#
#   bash bench/acl_cli_runs.sh [OUT_DIR]       (default /tmp/l3mask-acl; about 45 minutes on 2 cores)
#
# Training data: 480 rows of ../shared/datasets/citation_intent/train.jsonl shuffled with Python's
# random.Random(1) (written under OUT_DIR, never into the repository); the full dev (114) and test
# (139) files. Settings: configs/tiny.yaml with max length 48, batch 16, encoder lr 1e-3, head lr
# 5e-3, dev evaluation every epoch, patience 6 evaluations, at most 40 epochs, seed 1. Prints each
# run's summary and the reload check. Needs deno and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/l3mask-acl}
D=../shared/datasets/citation_intent
[ -f "$D/train.jsonl" ] || { echo "no ACL-ARC data at $D" >&2; exit 1; }
mkdir -p "$OUT"
python3 - "$D/train.jsonl" "$OUT/train480.jsonl" <<'EOF'
import random, sys
rows = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
random.Random(1).shuffle(rows)
open(sys.argv[2], "w").write("\n".join(rows[:480]) + "\n")
EOF
COMMON=(--model models/l3mask-mini --train "$OUT/train480.jsonl" --dev "$D/dev.jsonl"
  --test "$D/test.jsonl" --config tiny --max-length 48 --batch-size 16
  --max-train-examples 480 --max-epochs 40 --patience 6 --encoder-lr 1e-3 --head-lr 5e-3 --seed 1)
for mode in stl mtl-rtm mtl-l3; do
  case $mode in
    stl) args=(--mode stl) ;;
    mtl-rtm) args=(--mode mtl --masking rtm --weighting meta) ;;
    mtl-l3) args=(--mode mtl --masking l3 --weighting meta) ;;
  esac
  rm -rf "${OUT:?}/$mode"
  deno run -A main.ts train "${COMMON[@]}" "${args[@]}" --out "$OUT/$mode" \
    >"$OUT/$mode.out" 2>"$OUT/$mode.err"
  echo "== $mode: $(grep -a 'early stop' "$OUT/$mode.err" || echo 'no early stop')"
  cat "$OUT/$mode.out"
  deno run -A main.ts eval --model "$OUT/$mode/best" --data "$D/test.jsonl" --max-length 48 \
    --out "$OUT/$mode.eval.jsonl" 2>/dev/null | grep -v '^predictions'
  python3 - "$OUT/$mode.eval.jsonl" "$OUT/$mode/predictions/test.jsonl" <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b), (len(a), len(b))
same = sum(x["pred"] == y["pred"] for x, y in zip(a, b))
diff = max(abs(p - q) for x, y in zip(a, b) for p, q in zip(x["probs"], y["probs"]))
print(f"reload: same predicted label on {same} of {len(a)} rows, largest probability difference {diff:.1e}")
EOF
done
