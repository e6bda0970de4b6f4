/**
 * One inference forward (train=false, hidden states only: no MLM head, no classifier) of a
 * random-weight encoder with roberta-base's real shapes (V 50265, C 768, 12 layers, 12 heads,
 * 3072, 514 positions; 124.1M parameters without the pooler, built in memory with initParams,
 * nothing downloaded) on a batch of B x T tokens, next to the PyTorch peer
 * (bench/peers/forward_peer.py, CPU, torch.set_num_threads(2)) running the same forward on the
 * same ids.
 *
 * Prints the adapter, how many bindings the word embedding needed, the median (and min) forward
 * time after `--warmup` untimed forwards, l3mask's device memory (the buffer pool's peak: weights
 * plus activations), this process's RSS (Deno.memoryUsage().rss, and the kernel's peak VmHWM) and
 * the peer's time and peak RSS (VmHWM and getrusage), with the speed ratio l3mask / peer (higher =
 * l3mask faster). The peer runs first, while this process is still small (see forward_peer.py).
 *
 *   deno run -A bench/forward_bench.ts [--B 8] [--T 128] [--warmup 1] [--reps 3] [--peer-reps 5]
 */
import { createContext } from "../src/gpu/context.ts";
import type { ModelConfig } from "../src/model/config.ts";
import { type Batch, Encoder } from "../src/model/encoder.ts";
import { GpuBackend } from "../src/model/gpu_backend.ts";
import { paramSpecs } from "../src/model/params.ts";
import { gpuStore, initParams } from "../src/model/weights.ts";
import {
  adapterLine,
  intFlag,
  loadLine,
  median,
  mib,
  printTable,
  rss,
  runPeer,
  speedRatio,
} from "./util.ts";

const B = intFlag("B", 8);
const T = intFlag("T", 128);
const warmup = intFlag("warmup", 1);
const reps = intFlag("reps", 3);
const peerReps = intFlag("peer-reps", 5);

/** roberta-base's config.json, in l3mask's names. */
const ROBERTA_BASE: ModelConfig = {
  modelType: "roberta",
  vocabSize: 50265,
  hidden: 768,
  layers: 12,
  heads: 12,
  intermediate: 3072,
  maxPositions: 514,
  typeVocabSize: 1,
  layerNormEps: 1e-5,
  padTokenId: 1,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  numLabels: 0,
};

/** The kernel's peak resident set size of this process (VmHWM), bytes; NaN off Linux. */
function peakRss(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
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

const cfg = ROBERTA_BASE;
const ctx = await createContext();
console.log(adapterLine(ctx));
console.log(`before: ${loadLine()}`);
console.log(
  `model: roberta-base shapes, random weights; batch ${B} x ${T} tokens; forward train=false, ` +
    `hidden states only (no MLM head); warm-up ${warmup}, timed ${reps} (l3mask) / ${peerReps} (peer)`,
);

// The peer runs first, while this process is small: Linux carries a parent's RSS high-water
// mark into a spawned child's getrusage().ru_maxrss.
const batch = batchIds(cfg);
const peer = await runPeer<{
  torch: string;
  threads: number;
  params: number;
  times_s: number[];
  finite: boolean;
  rss_after_load: number;
  peak_rss: number;
  vm_hwm: number;
}>("forward_peer.py", [], {
  cfg: {
    kind: cfg.modelType,
    V: cfg.vocabSize,
    C: cfg.hidden,
    L: cfg.layers,
    NH: cfg.heads,
    I: cfg.intermediate,
    P: cfg.maxPositions,
    types: cfg.typeVocabSize,
    eps: cfg.layerNormEps,
    pad: cfg.padTokenId,
    p_hidden: cfg.hiddenDropout,
    p_att: cfg.attentionDropout,
    num_labels: 2,
  },
  B,
  T,
  ids: Array.from(batch.ids),
  mask: Array.from(batch.mask),
  warmup,
  reps: peerReps,
  threads: 2,
  seed: 0,
});

let t0 = performance.now();
const specs = paramSpecs(cfg, { mlm: false, classifier: false });
const host = initParams(specs, 0);
const nParams = [...host.values()].reduce((s, a) => s + a.length, 0);
const initS = (performance.now() - t0) / 1000;
t0 = performance.now();
const store = gpuStore(ctx, cfg, host);
await ctx.sync();
const uploadS = (performance.now() - t0) / 1000;
host.clear(); // the device holds the weights now; let the host copies go
const weightBytes = ctx.pool.allocatedBytes;
console.log(
  `parameters: ${(nParams / 1e6).toFixed(1)}M (${mib(nParams * 4)} f32); init ${
    initS.toFixed(1)
  } s, ` +
    `upload ${uploadS.toFixed(1)} s; word embedding in ${store.wte.chunks.length} bindings ` +
    `(rows ${store.wte.chunks.map((c) => c.rows).join(" + ")})`,
);

const model = new Encoder(new GpuBackend(ctx), cfg, store, { mlm: false, classifier: false });
const times: number[] = [];
let finite = true;
let rssAfter = 0;
for (let i = 0; i < warmup + reps; i++) {
  const t = performance.now();
  const pass = model.forward(batch, { train: false, seed: 0, inference: true });
  await ctx.sync();
  const dt = (performance.now() - t) / 1000;
  if (i >= warmup) times.push(dt);
  console.log(`  l3mask forward ${i < warmup ? "warm-up" : i - warmup + 1}: ${dt.toFixed(2)} s`);
  if (i === warmup + reps - 1) {
    const h = await ctx.read(pass.hidden);
    finite = h.subarray(0, B * T * cfg.hidden).every(Number.isFinite);
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
