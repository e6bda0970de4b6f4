/**
 * Linear-layer kernels that no adapter chooses, kept with their benches (as llm.c keeps its dev/
 * kernels): the register-tiled ("tiled": 4 x 4 / 8 x 8 tiles, vec4 loads, no workgroup memory)
 * and the naive ("naive": one output per invocation) forward and backward products. Same contracts
 * as src/kernels/linear.ts (HF layout, column windows, accumulation), but their own summation
 * orders, so their results differ from the product's in the last bits. bench/matmul_bench.ts
 * times them next to slab and tile; tests/linear_dev_test.ts checks them against the CPU.
 */
import type { GpuContext } from "../../src/gpu/context.ts";
import type { GpuTensor } from "../../src/gpu/tensor.ts";
import {
  ceil4,
  type LinearDims,
  need,
  packWindow,
  resolve,
  type Resolved,
} from "../../src/kernels/linear.ts";
import linear_forward_naive from "./shaders/linear_forward_naive.wgsl" with { type: "text" };
import linear_forward_v2_tiled from "./shaders/linear_forward_v2_tiled.wgsl" with { type: "text" };
import linear_backward_input_naive from "./shaders/linear_backward_input_naive.wgsl" with {
  type: "text",
};
import linear_backward_input_tiled from "./shaders/linear_backward_input_tiled.wgsl" with {
  type: "text",
};
import linear_backward_weight_naive from "./shaders/linear_backward_weight_naive.wgsl" with {
  type: "text",
};
import linear_backward_weight_tiled from "./shaders/linear_backward_weight_tiled.wgsl" with {
  type: "text",
};
import linear_bias_grad from "./shaders/linear_bias_grad.wgsl" with { type: "text" };
import linear_split_reduce from "./shaders/linear_split_reduce.wgsl" with { type: "text" };

export const DEV_VARIANTS = ["tiled", "naive"] as const;
export type DevVariant = typeof DEV_VARIANTS[number];

/** Makes the dev shaders runnable on this context (the dev wrappers call it themselves). */
export function register(ctx: GpuContext): void {
  ctx.pipelines.addDevSources({
    "dev/linear_forward_naive": linear_forward_naive,
    "dev/linear_forward_v2_tiled": linear_forward_v2_tiled,
    "dev/linear_backward_input_naive": linear_backward_input_naive,
    "dev/linear_backward_input_tiled": linear_backward_input_tiled,
    "dev/linear_backward_weight_naive": linear_backward_weight_naive,
    "dev/linear_backward_weight_tiled": linear_backward_weight_tiled,
    "dev/linear_bias_grad": linear_bias_grad,
    "dev/linear_split_reduce": linear_split_reduce,
  });
}

/** out[m, col + n] = sum_k inp[m, k] w[n, k] + b[n]; other columns of out are untouched. */
export function devLinearForward(
  ctx: GpuContext,
  out: GpuTensor,
  inp: GpuTensor,
  w: GpuTensor,
  b: GpuTensor | null,
  dims: LinearDims & { variant: DevVariant },
): void {
  register(ctx);
  const d = resolve(dims);
  need(out, (d.M - 1) * d.ldo + d.col + d.N, "devLinearForward out");
  need(inp, d.M * d.K, "devLinearForward inp");
  need(w, d.N * d.K, "devLinearForward w");
  if (b) need(b, d.N, "devLinearForward b");
  if (dims.variant === "naive") {
    ctx.run("dev/linear_forward_naive", {
      buffers: [out, inp, w, b ?? w],
      u32: [d.M, d.K, d.N, d.ldo, d.col, b ? 1 : 0],
      workgroups: ctx.grid1d(d.M * d.N, 64),
    });
    return;
  }
  // vec4 rows need K % 4 == 0; otherwise zero-padded copies (K4 columns) of both operands.
  const K4 = ceil4(d.K);
  const padded = d.K % 4 !== 0;
  const a = padded ? packWindow(ctx, inp, d.M, d.K, d.K, 0, "linear.inp_padded") : inp;
  const wk = padded ? packWindow(ctx, w, d.N, d.K, d.K, 0, "linear.w_padded") : w;
  // Aligned windows: the 8 x 8 tile with vec4 stores; otherwise 4 x 4 with scalar stores.
  const vec4 = d.N % 4 === 0 && d.ldo % 4 === 0 && d.col % 4 === 0;
  const span = vec4 ? 64 : 32; // rows (and columns) per 8 x 8 workgroup
  ctx.run("dev/linear_forward_v2_tiled", {
    entryPoint: vec4 ? "main_vec4" : "main",
    buffers: [out, a, wk, b ?? wk],
    u32: [d.M, K4 / 4, d.N, d.ldo, d.col, b ? 1 : 0],
    workgroups: [Math.ceil(d.N / span), Math.ceil(d.M / span)],
  });
  if (padded) ctx.release(a, wk);
}

/** dinp = dout[:, col:col+N] · w, overwriting dinp, or adding to it when `accumulate`. */
export function devLinearBackwardInput(
  ctx: GpuContext,
  dinp: GpuTensor,
  dout: GpuTensor,
  w: GpuTensor,
  dims: LinearDims & { variant: DevVariant; accumulate?: boolean },
): void {
  register(ctx);
  const d = resolve(dims);
  need(dinp, d.M * d.K, "devLinearBackwardInput dinp");
  need(dout, (d.M - 1) * d.ldo + d.col + d.N, "devLinearBackwardInput dout");
  need(w, d.N * d.K, "devLinearBackwardInput w");
  const tiled = dims.variant === "tiled";
  const vec4 = tiled && aligned4(d); // main_vec4: tiles of 2 * TILE_ROWS rows
  ctx.run(tiled ? "dev/linear_backward_input_tiled" : "dev/linear_backward_input_naive", {
    entryPoint: vec4 ? "main_vec4" : "main",
    buffers: [dinp, dout, w],
    u32: [d.M, d.K, d.N, d.ldo, d.col, dims.accumulate ? 1 : 0],
    workgroups: ctx.grid1d(
      tiled
        ? Math.ceil(d.M / (vec4 ? 2 * TILE_ROWS : TILE_ROWS)) * Math.ceil(d.K / TILE_COLS)
        : d.M * d.K,
      64,
    ),
  });
}

/** dw += dout[:, col:col+N]ᵀ · inp; db += sum over rows of the window (both accumulate). */
export function devLinearBackwardWeight(
  ctx: GpuContext,
  dw: GpuTensor,
  db: GpuTensor | null,
  dout: GpuTensor,
  inp: GpuTensor,
  dims: LinearDims & { variant: DevVariant },
): void {
  register(ctx);
  const d = resolve(dims);
  need(dw, d.N * d.K, "devLinearBackwardWeight dw");
  if (db) need(db, d.N, "devLinearBackwardWeight db");
  need(dout, (d.M - 1) * d.ldo + d.col + d.N, "devLinearBackwardWeight dout");
  need(inp, d.M * d.K, "devLinearBackwardWeight inp");
  if (dims.variant === "naive") {
    ctx.run("dev/linear_backward_weight_naive", {
      buffers: [dw, dout, inp],
      u32: [d.M, d.K, d.N, d.ldo, d.col],
      workgroups: ctx.grid1d(d.N * d.K, 64),
    });
  } else if (backwardWeightTiled(ctx, dw, db, dout, inp, d)) {
    return; // the bias gradient was summed in the same dispatch
  }
  if (db) {
    ctx.run("dev/linear_bias_grad", {
      buffers: [db, dout],
      u32: [d.M, d.N, d.ldo, d.col],
      workgroups: ctx.grid1d(d.N, 64),
    });
  }
}

/** Rows of dout's window and of the (N, K) weight start on 16-byte boundaries: vec4 loads. */
const aligned4 = (d: Resolved) =>
  d.K % 4 === 0 && d.N % 4 === 0 && d.ldo % 4 === 0 && d.col % 4 === 0;

// The register tile of the "tiled" backward kernels (rows x columns per invocation).
const TILE_ROWS = 4;
const TILE_COLS = 8;
/**
 * Invocations the tiled backward-weight kernel aims for: dw has only N K / 32 tiles (32 for a
 * 32 x 32 weight), too few to occupy a device, so the reduction over M is split into up to this
 * many / tiles parts (each at least MIN_SPLIT_ROWS rows) summed by a second pass.
 */
const TARGET_INVOCATIONS = 2048;
const MIN_SPLIT_ROWS = 32;

/**
 * dw += dout[:, window]ᵀ · inp with linear_backward_weight_tiled (+ linear_split_reduce). On the
 * vec4 path db (if any) is summed in the same dispatch and the result is true; otherwise false
 * and the caller sums db.
 */
function backwardWeightTiled(
  ctx: GpuContext,
  dw: GpuTensor,
  db: GpuTensor | null,
  dout: GpuTensor,
  inp: GpuTensor,
  d: Resolved,
): boolean {
  const tiles = Math.ceil(d.N / TILE_ROWS) * Math.ceil(d.K / TILE_COLS);
  const fit = Math.floor(ctx.maxBindingBytes / (4 * d.N * d.K));
  const want = Math.min(
    Math.ceil(TARGET_INVOCATIONS / tiles),
    Math.floor(d.M / MIN_SPLIT_ROWS),
    fit,
    ctx.limits.maxComputeWorkgroupsPerDimension,
  );
  const mChunk = Math.ceil(d.M / Math.max(1, want));
  const splits = Math.ceil(d.M / mChunk);
  const part = splits > 1 ? ctx.empty([splits, d.N, d.K], "linear.dw_splits") : dw;
  const vec4 = aligned4(d);
  // main_vec4's tiles have twice the rows; the splits stay those of the 4-row tiles.
  const [x, y] = ctx.grid1d(
    vec4 ? Math.ceil(d.N / (2 * TILE_ROWS)) * Math.ceil(d.K / TILE_COLS) : tiles,
    64,
  );
  const bias = vec4 && db !== null;
  // main_vec4 binds db (a scratch one when there is no bias); `main` has no such binding.
  const dbBinding = vec4 && !bias ? ctx.empty([4], "linear.no_bias") : db;
  ctx.run("dev/linear_backward_weight_tiled", {
    entryPoint: vec4 ? "main_vec4" : "main",
    buffers: vec4 ? [part, dout, inp, dbBinding!] : [part, dout, inp],
    u32: [d.M, d.K, d.N, d.ldo, d.col, mChunk, splits > 1 ? 0 : 1, bias ? 1 : 0],
    workgroups: [x, y, splits + (bias ? 1 : 0)],
  });
  if (vec4 && !bias) ctx.release(dbBinding!);
  if (splits > 1) {
    ctx.run("dev/linear_split_reduce", {
      buffers: [dw, part],
      u32: [d.N * d.K, splits],
      workgroups: ctx.grid1d(d.N * d.K, 256),
    });
    ctx.release(part);
  }
  return bias;
}
