/**
 * Attention forward and backward at B=8, T=128, NH=12, HS=64 (one BERT-base layer's batch).
 * Each piece is validated against the CPU reference at a small shape first, then timed: warm-up,
 * then `iters` iterations recorded into one batch and one `ctx.sync()`; best of `rounds`.
 *
 *   deno run -A bench/attention_bench.ts [--iters 5] [--rounds 3] [--B 8] [--T 128] [--NH 12] [--HS 64]
 */
import process from "node:process";
import { createContext, type GpuContext } from "../src/gpu/context.ts";
import type { GpuTensor } from "../src/gpu/tensor.ts";
import * as cpu from "../src/cpu/attention.ts";
import {
  attentionContext,
  attentionContextBackward,
  type AttentionDims,
  attentionScores,
  attentionScoresBackward,
} from "../src/kernels/attention.ts";
import { attentionBackward, attentionForward } from "../tests/test_kernels.ts";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(Deno.args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive integer`);
  return v;
}
const dims: AttentionDims = {
  B: flag("B", 8),
  T: flag("T", 128),
  NH: flag("NH", 12),
  HS: flag("HS", 64),
};
const iters = flag("iters", 5);
const rounds = flag("rounds", 3);

function randn(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  }
  return out;
}

function maxRelErr(got: Float32Array, want: Float64Array): number {
  let scale = 0, err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    err = Math.max(err, Math.abs(got[i] - want[i]));
  }
  return err / Math.max(scale, 1e-30);
}

/** Compare forward and backward with the CPU (scalar and vec4 paths); throws on a mismatch. */
async function validate(ctx: GpuContext): Promise<void> {
  for (const T of [19, 20]) {
    const d: AttentionDims = { B: 2, T, NH: 3, HS: 12 };
    const btc = d.B * d.T * d.NH * d.HS, btt = d.B * d.NH * d.T * d.T;
    const q = randn(btc, 1), k = randn(btc, 2), v = randn(btc, 3), dout = randn(btc, 4);
    const mask = new Float32Array(d.B * d.T);
    for (let j = 11; j < d.T; j++) mask[d.T + j] = -1e9;
    const g = [q, k, v, dout, mask].map((x) => ctx.upload(x));
    const [gq, gk, gv, gdout, gmask] = g;
    const gatt = ctx.empty([btt]), gout = ctx.empty([btc]);
    const gdq = ctx.empty([btc]), gdk = ctx.empty([btc]), gdv = ctx.empty([btc]);
    attentionForward(ctx, gout, gatt, gq, gk, gv, gmask, d);
    attentionBackward(ctx, gdq, gdk, gdv, gdout, gq, gk, gv, gatt, d);
    const [att, out, dq, dk, dv] = await ctx.readMany([gatt, gout, gdq, gdk, gdv]);
    const e = Array.from({ length: 5 }, (_, i) => new Float64Array(i === 0 ? btt : btc));
    cpu.attentionForward(e[1], e[0], q, k, v, mask, d);
    cpu.attentionBackward(e[2], e[3], e[4], dout, q, k, v, att, d);
    [att, out, dq, dk, dv].forEach((x, i) => {
      const r = maxRelErr(x, e[i]);
      const name = ["att", "out", "dq", "dk", "dv"][i];
      if (!(r < 1e-5)) throw new Error(`validation (T=${T}): ${name} off by ${r}`);
    });
    ctx.release(...g, gatt, gout, gdq, gdk, gdv);
  }
}

/**
 * Best wall-clock and best process CPU time per iteration (ms). On a CPU adapter shared with other
 * work, CPU time (all threads) is the steadier number; wall time is what a user waits.
 */
async function time(ctx: GpuContext, record: () => void): Promise<[number, number]> {
  record();
  await ctx.sync();
  let wall = Infinity, cpuMs = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < iters; i++) record();
    await ctx.sync();
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, (performance.now() - t0) / iters);
    cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000 / iters);
  }
  return [wall, cpuMs];
}

const ctx = await createContext();
await validate(ctx);
const { B, T, NH, HS } = dims;
const btc = B * T * NH * HS, btt = B * NH * T * T;
const up = (seed: number, n = btc): GpuTensor => ctx.upload(randn(n, seed));
const q = up(1), k = up(2), v = up(3), dout = up(4);
const maskHost = new Float32Array(B * T);
for (let b = 0; b < B; b++) for (let j = T - 8 * b; j < T; j++) maskHost[b * T + j] = -1e9;
const mask = ctx.upload(maskHost);
const att = ctx.empty([btt]), out = ctx.empty([btc]), datt = up(5, btt);
const dq = ctx.empty([btc]), dk = ctx.empty([btc]), dv = ctx.empty([btc]);

const matmul = 2 * B * NH * T * T * HS; // FLOPs of one per-head T x T x HS product
const rows: [string, number, () => void][] = [
  ["scores (QKᵀ + mask + softmax)", matmul, () => attentionScores(ctx, att, q, k, mask, dims)],
  ["context (att v)", matmul, () => attentionContext(ctx, out, att, v, dims)],
  [
    "context backward (datt, dv)",
    2 * matmul,
    () => attentionContextBackward(ctx, datt, dv, dout, att, v, dims),
  ],
  [
    "scores backward (softmax, dq, dk)",
    2 * matmul,
    () => attentionScoresBackward(ctx, dq, dk, datt, att, q, k, dims),
  ],
  ["forward", 2 * matmul, () => attentionForward(ctx, out, att, q, k, v, mask, dims)],
  ["backward", 4 * matmul, () => attentionBackward(ctx, dq, dk, dv, dout, q, k, v, att, dims)],
];

console.log(
  `attention B=${B} T=${T} NH=${NH} HS=${HS} on ${ctx.adapter.description}; ` +
    `${iters} iterations per submit, best of ${rounds}`,
);
console.log(`${"".padEnd(34)}  wall ms  GFLOP/s   CPU ms (all threads)`);
for (const [name, flops, record] of rows) {
  const [wall, cpuMs] = await time(ctx, record);
  console.log(
    `${name.padEnd(34)} ${wall.toFixed(2).padStart(8)} ${
      (flops / wall / 1e6).toFixed(2).padStart(8)
    } ${cpuMs.toFixed(2).padStart(8)}`,
  );
}
ctx.destroy();
