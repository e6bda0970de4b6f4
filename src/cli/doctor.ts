/** `l3mask doctor`: the adapter, its limits and features, and a matmul self-check with GFLOP/s. */
import { adapterReport } from "../gpu/adapters.ts";
import { type GpuContext, openDevice } from "../gpu/context.ts";
import { UserError } from "../errors.ts";
import { linearForward, matmulPolicy } from "../kernels/linear.ts";
import { tuneCachePath } from "../kernels/linear_tune.ts";
import * as cpu from "../cpu/linear.ts";
import { parse } from "../options/args.ts";
import { CommandOptions } from "../options/command.ts";

const OPTIONS = new CommandOptions("doctor", ["size@doctor", "tune"] as const);

const USAGE = `Usage: l3mask doctor [--size N] [--tune]

Prints the WebGPU adapter that runs (a GPU, lavapipe or GL llvmpipe; fallback or not), whether this
machine could run a faster one and how to get it, the adapter's limits and features, then checks a
matmul against the CPU reference and prints its speed, and which large-matmul kernel (slab or
tile) this adapter uses, as measured and cached on disk.

Options:
${OPTIONS.help()}`;

/** Shape classes (K x N) doctor --tune measures: BERT-base's and l3mask-mini's layers. */
const TUNE_SHAPES = [
  { K: 768, N: 768 },
  { K: 768, N: 3072 },
  { K: 3072, N: 768 },
  { K: 128, N: 512 },
  { K: 512, N: 128 },
];

const LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupsPerDimension",
] as const;

export async function doctor(args: string[]): Promise<void> {
  const { values } = parse("doctor", args, OPTIONS.flagOptions(), USAGE);
  const { size, tune } = OPTIONS.readFlags(values);
  const ctx = await openDevice();
  const a = ctx.adapter;
  const report = adapterReport(a, ctx.maxStorageBuffers);
  console.log(`adapter:   ${report.running}`);
  console.log(`faster:    ${report.advice ?? "none known on this machine"}`);
  console.log(`vendor:    ${a.vendor || "-"}   architecture: ${a.architecture || "-"}`);
  console.log(`fallback:  ${a.isFallback ? "yes (software adapter: expect CPU speed)" : "no"}`);
  console.log("limits:");
  for (const k of LIMITS) console.log(`  ${k.padEnd(36)} ${ctx.limits[k]}`);
  console.log(`features:  ${[...ctx.device.features].sort().join(", ") || "-"}`);

  const ok = await selfCheck(ctx, 67, 45, 33);
  console.log(
    `self-check (67x45 · 33x45ᵀ vs CPU): ${ok.pass ? "pass" : "FAIL"} (max abs error ${
      ok.maxErr.toExponential(2)
    })`,
  );
  const gflops = await speed(ctx, size);
  console.log(`matmul ${size}x${size}x${size}: ${gflops.toFixed(2)} GFLOP/s`);
  const policy = matmulPolicy(ctx);
  console.log(`tune cache: ${tuneCachePath() ?? "none (no HOME or XDG_CACHE_HOME)"}`);
  if (tune) {
    console.log("tuning the large-matmul kernels (forward products of 2^30 multiply-adds):");
    await policy.tune(TUNE_SHAPES, { fresh: true, log: (l) => console.log(l) });
  }
  const rec = policy.tuned;
  const classes = Object.entries(rec.shapes);
  if (policy.forced) console.log(`large matmuls: ${policy.forced} (forced)`);
  else if (!classes.length) {
    console.log(
      "large matmuls: not measured yet on this adapter (doctor --tune, or the first run)",
    );
  } else {
    const compile = Object.entries(rec.compileS).map(([v, s]) => `${v} ${s!.toFixed(1)} s`);
    console.log(`large matmuls (compile: ${compile.join(", ") || "-"}):`);
    for (const [cls, t] of classes) {
      console.log(
        `  ${cls.padEnd(10)} ${t.best} (slab ${t.gflops.slab.toFixed(1)}, tile ` +
          `${t.gflops.tile.toFixed(1)} GFLOP/s)`,
      );
    }
  }
  ctx.destroy();
  if (!ok.pass) {
    throw new UserError("the matmul self-check failed: this adapter computes wrong results");
  }
}

function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

async function selfCheck(ctx: GpuContext, M: number, K: number, N: number) {
  const x = seeded(M * K, 1), w = seeded(N * K, 2), b = seeded(N, 3);
  const gx = ctx.upload(x, [M, K]), gw = ctx.upload(w, [N, K]), gb = ctx.upload(b, [N]);
  const gy = ctx.empty([M, N]);
  linearForward(ctx, gy, gx, gw, gb, { M, K, N });
  const got = await ctx.read(gy);
  const want = new Float32Array(M * N);
  cpu.linearForward(want, x, w, b, { M, K, N });
  let maxErr = 0;
  for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
  ctx.release(gx, gw, gb, gy);
  return { pass: maxErr < 1e-4, maxErr };
}

async function speed(ctx: GpuContext, n: number): Promise<number> {
  const x = ctx.upload(seeded(n * n, 4), [n, n]), w = ctx.upload(seeded(n * n, 5), [n, n]);
  const y = ctx.empty([n, n]);
  linearForward(ctx, y, x, w, null, { M: n, K: n, N: n });
  await ctx.sync();
  const reps = 5;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) linearForward(ctx, y, x, w, null, { M: n, K: n, N: n });
  await ctx.sync();
  const sec = (performance.now() - t0) / 1000;
  ctx.release(x, w, y);
  return (2 * n * n * n * reps) / sec / 1e9;
}
