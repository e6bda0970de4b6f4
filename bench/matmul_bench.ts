/**
 * GFLOP/s of every linear-layer kernel variant (src/kernels/linear.ts, and bench/dev/'s) on this adapter, next to the
 * PyTorch peer (bench/peers/matmul_peer.py: CPU, f32, torch.set_num_threads(2)) on the same shapes:
 *   (8192 x 768) . (768 x 768)ᵀ   and   (8192 x 768) . (3072 x 768)ᵀ     (M x K) . (N x K)ᵀ
 * for the forward (with bias), backward-input and backward-weight (with bias gradient) products.
 *
 * Each kernel's GFLOP/s is also given as a fraction of this adapter's vec4 FMA peak, measured in
 * the same run by bench/peak_bench.ts ("of peak").
 *
 * Every variant is first validated against the CPU reference (src/cpu/linear.ts) on a smaller
 * shape. Timing: one untimed call (pipeline compile, first touch), then `--reps` batches of
 * `--iters` calls each recorded in one command batch and awaited with ctx.sync(); the median batch
 * gives ms per call. The naive variants are timed on the first `--naive-rows` rows of the inputs
 * (their GFLOP/s does not depend on M at these sizes; a full-size naive call takes minutes).
 * On a shared machine other jobs slow both sides, so the load average is printed and, next to the
 * wall-clock GFLOP/s, "GFLOP/cpu-s x2": flops per CPU-second of this process (all threads) times
 * 2, i.e. what 2 dedicated cores would do if the work stayed CPU-bound (the peer reports the same;
 * its CPU time includes BLAS threads spin-waiting, so its figure there is a lower bound).
 *
 *   deno run -A bench/matmul_bench.ts [--reps 3] [--iters 1] [--naive-rows 512] [--no-peer]
 *     [--variants slab,tile]
 */
import { createContext, type GpuContext } from "../src/gpu/context.ts";
import type { GpuTensor } from "../src/gpu/tensor.ts";
import * as cpu from "../src/cpu/linear.ts";
import {
  LINEAR_VARIANTS,
  linearBackwardInput,
  linearBackwardWeight,
  linearForward,
} from "../src/kernels/linear.ts";
import process from "node:process";
import {
  DEV_VARIANTS,
  devLinearBackwardInput,
  devLinearBackwardWeight,
  devLinearForward,
  type DevVariant,
} from "./dev/linear_dev.ts";
import { measurePeak } from "./peak_bench.ts";
import {
  adapterLine,
  boolFlag,
  intFlag,
  median,
  printTable,
  runPeer,
  speedRatio,
  strFlag,
} from "./util.ts";

const reps = intFlag("reps", 3);
const iters = intFlag("iters", 1);
const naiveRows = intFlag("naive-rows", 512);
/** `--variants slab,tile`: time only these (default: every variant). */
const only = strFlag("variants", "") ? strFlag("variants", "").split(",") : null;
/** The product's variants, then bench/dev/'s (kernels no adapter chooses). */
const variantsOf = (op: Op): readonly string[] =>
  [...LINEAR_VARIANTS[op], ...DEV_VARIANTS].filter((v) => !only || only.includes(v));
const isDev = (v: string): v is DevVariant => (DEV_VARIANTS as readonly string[]).includes(v);
const SHAPES = [
  { M: 8192, K: 768, N: 768 },
  { M: 8192, K: 768, N: 3072 },
];
const VALIDATE = { M: 200, K: 264, N: 136 };
type Op = keyof typeof LINEAR_VARIANTS;
const OPS: Op[] = ["forward", "backwardInput", "backwardWeight"];
const PEER_OP: Record<Op, string> = {
  forward: "forward",
  backwardInput: "backward_input",
  backwardWeight: "backward_weight",
};

interface Buffers {
  inp: GpuTensor;
  w: GpuTensor;
  b: GpuTensor;
  out: GpuTensor;
  dout: GpuTensor;
  dinp: GpuTensor;
  dw: GpuTensor;
  db: GpuTensor;
}

/** Seeded values in [-1, 1) (an LCG: fast enough for 25M values). */
function values(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function upload(ctx: GpuContext, d: { M: number; K: number; N: number }): Buffers {
  return {
    inp: ctx.upload(values(d.M * d.K, 1), [d.M, d.K], "inp"),
    w: ctx.upload(values(d.N * d.K, 2), [d.N, d.K], "w"),
    b: ctx.upload(values(d.N, 3), [d.N], "b"),
    out: ctx.empty([d.M, d.N], "out"),
    dout: ctx.upload(values(d.M * d.N, 4), [d.M, d.N], "dout"),
    dinp: ctx.empty([d.M, d.K], "dinp"),
    dw: ctx.zeros([d.N, d.K], "dw"),
    db: ctx.zeros([d.N], "db"),
  };
}

function record(
  ctx: GpuContext,
  op: Op,
  variant: string,
  t: Buffers,
  d: { M: number; K: number; N: number },
) {
  if (isDev(variant)) {
    const dims = { ...d, variant };
    if (op === "forward") devLinearForward(ctx, t.out, t.inp, t.w, t.b, dims);
    else if (op === "backwardInput") devLinearBackwardInput(ctx, t.dinp, t.dout, t.w, dims);
    else devLinearBackwardWeight(ctx, t.dw, t.db, t.dout, t.inp, dims);
    return;
  }
  const dims = { ...d, variant };
  if (op === "forward") linearForward(ctx, t.out, t.inp, t.w, t.b, dims);
  else if (op === "backwardInput") linearBackwardInput(ctx, t.dinp, t.dout, t.w, dims);
  else linearBackwardWeight(ctx, t.dw, t.db, t.dout, t.inp, dims);
}

/** Runs one op on the GPU and on the CPU at the validation shape; throws on a mismatch. */
async function validate(ctx: GpuContext, op: Op, variant: string): Promise<void> {
  const d = VALIDATE;
  const t = upload(ctx, d);
  record(ctx, op, variant, t, d);
  const [inp, w, b, dout] = [
    values(d.M * d.K, 1),
    values(d.N * d.K, 2),
    values(d.N, 3),
    values(d.M * d.N, 4),
  ];
  let got: Float32Array, want: Float64Array, R: number;
  if (op === "forward") {
    got = await ctx.read(t.out);
    want = new Float64Array(d.M * d.N);
    cpu.linearForward(want, inp, w, b, d);
    R = d.K;
  } else if (op === "backwardInput") {
    got = await ctx.read(t.dinp);
    want = new Float64Array(d.M * d.K);
    cpu.linearBackwardInput(want, dout, w, d);
    R = d.N;
  } else {
    const [dw, db] = await ctx.readMany([t.dw, t.db]);
    got = Float32Array.from([...dw, ...db]);
    const wdw = new Float64Array(d.N * d.K), wdb = new Float64Array(d.N);
    cpu.linearBackwardWeight(wdw, wdb, dout, inp, d);
    want = Float64Array.from([...wdw, ...wdb]);
    R = d.M;
  }
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (3e-5 * Math.sqrt(R) + 1e-4 * Math.abs(want[i]));
    if (!(err <= worst)) worst = err; // NaN-safe
  }
  release(ctx, t);
  if (!(worst <= 1)) {
    throw new Error(`${op}/${variant} disagrees with the CPU reference (${worst}x the tolerance)`);
  }
}

function release(ctx: GpuContext, t: Buffers) {
  ctx.release(t.inp, t.w, t.b, t.out, t.dout, t.dinp, t.dw, t.db);
}

/** Median wall ms and CPU ms (this process, all threads) per call. */
async function time(ctx: GpuContext, fn: () => void): Promise<{ ms: number; cpuMs: number }> {
  fn();
  await ctx.sync();
  const wall: number[] = [], cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    for (let i = 0; i < iters; i++) fn();
    await ctx.sync();
    const c = process.cpuUsage(c0);
    wall.push((performance.now() - t0) / iters);
    cpu.push((c.user + c.system) / 1000 / iters);
  }
  return { ms: median(wall), cpuMs: median(cpu) };
}

function loadavg(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

const ctx = await createContext();
console.log(adapterLine(ctx));
console.log(`load average before: ${loadavg()} (${navigator.hardwareConcurrency} CPUs)`);

for (const op of OPS) {
  for (const variant of variantsOf(op)) await validate(ctx, op, variant);
}
console.log(
  `validated every variant against the CPU reference at M=${VALIDATE.M} K=${VALIDATE.K} ` +
    `N=${VALIDATE.N}`,
);

interface Row {
  shape: { M: number; K: number; N: number };
  op: Op;
  variant: string;
  rows: number;
  ms: number;
  gflops: number;
  cpuGflops: number;
}
const rows: Row[] = [];
for (const shape of SHAPES) {
  const t = upload(ctx, shape);
  for (const op of OPS) {
    for (const variant of variantsOf(op)) {
      const M = variant === "naive" ? Math.min(naiveRows, shape.M) : shape.M;
      const d = { ...shape, M };
      const { ms, cpuMs } = await time(ctx, () => record(ctx, op, variant, t, d));
      const flop = 2 * M * shape.K * shape.N;
      const gflops = flop / ms / 1e6, cpuGflops = (2 * flop) / cpuMs / 1e6;
      rows.push({ shape, op, variant, rows: M, ms, gflops, cpuGflops });
      console.log(
        `  ${op} ${variant} M=${M} K=${shape.K} N=${shape.N}: ${ms.toFixed(1)} ms, ` +
          `${gflops.toFixed(2)} GFLOP/s`,
      );
    }
  }
  release(ctx, t);
}
console.log(`load average after l3mask: ${loadavg()}`);
// This adapter's own ceiling (bench/peak_bench.ts), measured in the same run.
const peak = await measurePeak(ctx, 2);
console.log(
  `adapter peak: vec4 FMA ${peak.vec4.toFixed(1)} GFLOP/s, scalar ${peak.scalar.toFixed(1)}; ` +
    `copy ${peak.copy.toFixed(1)} GB/s`,
);

type PeerResult = { M: number; K: number; N: number; op: string; gflops: number; cpu_ms: number };
type PeerJson = { torch: string; threads: number; results: PeerResult[] };
const peer = boolFlag("no-peer")
  ? { ok: false as const, reason: "--no-peer" }
  : await runPeer<PeerJson>(
    "matmul_peer.py",
    [...SHAPES.map((s) => `${s.M},${s.K},${s.N}`), "--reps", String(Math.max(3, reps))],
  );
const peerOf = (s: Row["shape"], op: Op) =>
  peer.ok
    ? peer.value.results.find((r) =>
      r.M === s.M && r.K === s.K && r.N === s.N && r.op === PEER_OP[op]
    )
    : undefined;
const peerGflops = (s: Row["shape"], op: Op) => peerOf(s, op)?.gflops ?? NaN;
const peerCpuGflops = (s: Row["shape"], op: Op) => {
  const p = peerOf(s, op);
  return p ? (4 * s.M * s.K * s.N) / p.cpu_ms / 1e6 : NaN;
};
console.log(
  peer.ok
    ? `peer: PyTorch ${peer.value.torch}, ${peer.value.threads} threads, f32 ` +
      `(load average after: ${loadavg()})`
    : `peer: unavailable (${peer.reason})`,
);

const table = [[
  "shape (M x K) . (N x K)^T",
  "op",
  "variant",
  "ms",
  "GFLOP/s",
  "of peak",
  "peer",
  "ratio",
  "GFLOP/cpu-s x2",
  "peer",
  "ratio",
]];
const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : "-");
for (const r of rows) {
  const p = peerGflops(r.shape, r.op), pc = peerCpuGflops(r.shape, r.op);
  table.push([
    `${r.rows} x ${r.shape.K} . ${r.shape.N} x ${r.shape.K}`,
    r.op,
    r.variant,
    r.ms.toFixed(1),
    fmt(r.gflops),
    `${(r.gflops / peak.vec4).toFixed(2)}`,
    fmt(p),
    speedRatio(r.gflops, p, "rate"),
    fmt(r.cpuGflops),
    fmt(pc),
    speedRatio(r.cpuGflops, pc, "rate"),
  ]);
}
printTable(table);
for (const op of OPS) {
  const best = Math.min(
    ...SHAPES.map((s) => {
      const g = Math.max(...rows.filter((r) => r.op === op && r.shape === s).map((r) => r.gflops));
      return g / peerGflops(s, op);
    }),
  );
  if (Number.isFinite(best)) {
    console.log(`${op}: best variant / peer (wall clock), worst shape: ${best.toFixed(2)}x`);
  }
}
