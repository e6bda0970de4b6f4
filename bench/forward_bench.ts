/**
 * One inference forward (train=false, hidden states only: no MLM head, no classifier) of the
 * `--model` encoder (bench/models.ts; default roberta-base-shapes: roberta-base's real shapes,
 * V 50265, C 768, 12 layers, 12 heads, 3072, 514 positions, 124.1M parameters without the pooler,
 * random weights, nothing downloaded) on a batch of B x T tokens, next to the PyTorch peer
 * (bench/peers/forward_peer.py, CPU, torch.set_num_threads(2)) running the same forward with the
 * same weights on the same ids.
 *
 * Prints the adapter, how many bindings the word embedding needed, the median (and min) forward
 * time after `--warmup` untimed forwards, l3mask's device memory (the buffer pool's peak: weights
 * plus activations), this process's RSS (Deno.memoryUsage().rss, and the kernel's peak VmHWM from
 * the weights' load on) and the peer's time and peak RSS (VmHWM and getrusage), with the speed
 * ratio l3mask / peer (higher = l3mask faster). The peer runs first, while this process is still
 * small (see forward_peer.py).
 *
 *   deno run -A bench/forward_bench.ts [--model roberta-base-shapes|tiny|mini|DIR] [--B 8]
 *     [--T 128] [--warmup 1] [--reps 3] [--peer-reps 5] [--no-peer]
 */
import { createContext } from "../src/gpu/context.ts";
import { maxSequenceLength, type ModelConfig } from "../src/model/config.ts";
import { type Batch, Encoder } from "../src/model/encoder.ts";
import { GpuBackend } from "../src/model/gpu_backend.ts";
import { gpuStore } from "../src/model/weights.ts";
import { benchModel } from "./models.ts";
import {
  adapterLine,
  boolFlag,
  intFlag,
  loadLine,
  median,
  mib,
  peakRss,
  printTable,
  resetPeakRss,
  rss,
  runPeer,
  speedRatio,
} from "./util.ts";
import { matmulPolicy } from "../src/kernels/linear.ts";

const B = intFlag("B", 8);
const T = intFlag("T", 128);
const warmup = intFlag("warmup", 1);
const reps = intFlag("reps", 3);
const peerReps = intFlag("peer-reps", 5);
const noPeer = boolFlag("no-peer");
/** Largest |hidden| difference allowed between l3mask and the peer (f32, LayerNorm-scaled). */
const HIDDEN_TOLERANCE = 1e-3;

function count(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(1)}k`;
}

/** Token ids drawn from a fixed LCG over the non-special range [4, V): no padding. */
function batchIds(cfg: ModelConfig): Batch {
  const ids = new Uint32Array(B * T);
  let s = 12345;
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids[i] = 4 + (s % (cfg.vocabSize - 4));
  }
  return { B, T, ids, mask: new Uint32Array(B * T).fill(1) };
}

await using bm = await benchModel({
  fallback: "roberta-base-shapes",
  tiny: "roberta",
  heads: { mlm: false, classifier: false },
  needTokenizer: false,
});
const cfg = bm.config;
if (T > maxSequenceLength(cfg)) {
  throw new Error(
    `--T ${T} exceeds the ${maxSequenceLength(cfg)} tokens the model's positions allow`,
  );
}
const ctx = await createContext();
console.log(adapterLine(ctx));
console.log(`before: ${loadLine()}`);
console.log(
  `model: ${bm.label} (${bm.shapes()}); batch ${B} x ${T} tokens; forward train=false, ` +
    `hidden states only (no MLM head); warm-up ${warmup}, timed ${reps} (l3mask) / ${peerReps} (peer)`,
);

// The peer runs first, while this process is small: Linux carries a parent's RSS high-water
// mark into a spawned child's getrusage().ru_maxrss.
const batch = batchIds(cfg);
type PeerOut = {
  torch: string;
  threads: number;
  params: number;
  times_s: number[];
  finite: boolean;
  hidden_head: number[];
  rss_after_load: number;
  peak_rss: number;
  vm_hwm: number;
};
const peer = noPeer
  ? { ok: false as const, reason: "--no-peer" }
  : await runPeer<PeerOut>("forward_peer.py", [], {
    model_dir: bm.dir,
    B,
    T,
    ids: Array.from(batch.ids),
    mask: Array.from(batch.mask),
    warmup,
    reps: peerReps,
    threads: 2,
  });

// l3mask's peak RSS counts from here: the weights' load, upload and the forwards.
resetPeakRss();
let t0 = performance.now();
const host = await bm.params();
const nParams = [...host.values()].reduce((s, a) => s + a.length, 0);
const loadS = (performance.now() - t0) / 1000;
t0 = performance.now();
const store = gpuStore(ctx, cfg, host);
await ctx.sync();
const uploadS = (performance.now() - t0) / 1000;
host.clear(); // the device holds the weights now; let the host copies go
const weightBytes = ctx.pool.allocatedBytes;
console.log(
  `parameters: ${count(nParams)} (${mib(nParams * 4)} f32); load ${loadS.toFixed(1)} s, ` +
    `upload ${uploadS.toFixed(1)} s; word embedding in ${store.wte.chunks.length} bindings ` +
    `(rows ${store.wte.chunks.map((c) => c.rows).join(" + ")})`,
);

const model = new Encoder(new GpuBackend(ctx), cfg, store, { mlm: false, classifier: false });
const times: number[] = [];
let finite = true;
let hiddenHead = new Float32Array(0); // sequence 0's first 8 tokens, as the peer returns them
let rssAfter = 0;
for (let i = 0; i < warmup + reps; i++) {
  // First use of a shape class measures the matmul kernels (once per machine): not a forward's cost.
  if (i === warmup) await matmulPolicy(ctx).tuneIfPending();
  const t = performance.now();
  const pass = model.forward(batch, { train: false, seed: 0, inference: true });
  await ctx.sync();
  const dt = (performance.now() - t) / 1000;
  if (i >= warmup) times.push(dt);
  console.log(`  l3mask forward ${i < warmup ? "warm-up" : i - warmup + 1}: ${dt.toFixed(2)} s`);
  if (i === warmup + reps - 1) {
    const h = await ctx.read(pass.hidden);
    finite = h.subarray(0, B * T * cfg.hidden).every(Number.isFinite);
    hiddenHead = h.slice(0, Math.min(T, 8) * cfg.hidden);
    rssAfter = rss();
  }
  model.releasePass(pass);
}
const l3Time = median(times);

console.log();
const tokS = (s: number) => `${((B * T) / s).toFixed(0)} tok/s`;
const rows: string[][] = [["", "l3mask", "PyTorch peer", "l3mask/peer"]];
if (peer.ok) {
  const p = peer.value;
  if (p.params !== nParams) throw new Error(`peer has ${p.params} parameters, l3mask ${nParams}`);
  const pt = median(p.times_s);
  rows.push([
    "forward time (median)",
    `${l3Time.toFixed(2)} s`,
    `${pt.toFixed(3)} s`,
    speedRatio(l3Time, pt, "time"),
  ]);
  const l3Min = Math.min(...times), ptMin = Math.min(...p.times_s);
  rows.push([
    "forward time (min)",
    `${l3Min.toFixed(2)} s`,
    `${ptMin.toFixed(3)} s`,
    speedRatio(l3Min, ptMin, "time"),
  ]);
  rows.push(["throughput", tokS(l3Time), tokS(pt), ""]);
  rows.push(["device memory (pool peak)", mib(ctx.pool.peakBytes), "-", ""]);
  rows.push(["  of which weights", mib(weightBytes), "-", ""]);
  rows.push(["RSS after forward", mib(rssAfter), "-", ""]);
  rows.push(["RSS after weights load", "-", mib(p.rss_after_load), ""]);
  rows.push(["peak RSS (VmHWM)", mib(peakRss()), mib(p.vm_hwm), ""]);
  rows.push(["peak RSS (getrusage)", "-", mib(p.peak_rss), ""]);
  printTable(rows);
  console.log(`peer forward times: ${p.times_s.map((x) => x.toFixed(2)).join(", ")} s`);
  console.log(
    `peer: torch ${p.torch}, ${p.threads} threads, fp32, inference_mode; outputs finite: l3mask ${finite}, peer ${p.finite}`,
  );
  // Same weights, same ids: the hidden states agree to f32 rounding.
  let worst = 0;
  hiddenHead.forEach((x, i) => worst = Math.max(worst, Math.abs(x - p.hidden_head[i])));
  console.log(
    `agreement: max |hidden diff| over sequence 0's first ${hiddenHead.length / cfg.hidden} ` +
      `tokens ${worst.toExponential(2)}`,
  );
  if (p.hidden_head.length !== hiddenHead.length || !(worst <= HIDDEN_TOLERANCE)) {
    throw new Error(`l3mask and the peer disagree (tolerance ${HIDDEN_TOLERANCE}): same weights?`);
  }
} else {
  rows.push(["forward time (median)", `${l3Time.toFixed(2)} s`, "unavailable", "-"]);
  rows.push(["throughput", tokS(l3Time), "-", ""]);
  rows.push(["device memory (pool peak)", mib(ctx.pool.peakBytes), "-", ""]);
  rows.push(["RSS after forward", mib(rssAfter), "-", ""]);
  rows.push(["peak RSS", mib(peakRss()), "-", ""]);
  printTable(rows);
  console.log(`peer unavailable: ${peer.reason}; outputs finite: l3mask ${finite}`);
}
console.log(
  "(l3mask RSS includes llvmpipe's device buffers, which live in host memory on a CPU adapter)",
);
console.log(`after: ${loadLine()}`);
ctx.destroy();
