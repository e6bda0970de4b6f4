/**
 * LayerNorm over the last axis (BERT/RoBERTa post-LN): forward saves mean and rstd per row,
 * backward recomputes xhat from them. Rows of length C % 4 == 0 take the vec4 shaders; other C
 * take the scalar ones.
 */
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { residualForward } from "./residual.ts";

/** Threads per workgroup of the row kernels (one thread per row; see docs/KERNELS.md). */
const ROW_WG = 16;
/** Threads per workgroup of the column kernels of the dw/db reduction. */
const COL_WG = 64;
/** Rows summed by one thread of the dw/db first pass. */
const ROWS_PER_BLOCK = 64;

export interface LayernormForwardDims {
  N: number;
  C: number;
  eps: number;
}

export interface LayernormBackwardDims {
  N: number;
  C: number;
}

function checkDims(op: string, N: number, C: number): void {
  if (!Number.isInteger(N) || N < 0 || !Number.isInteger(C) || C < 1) {
    throw new Error(`${op}: bad dims N=${N} C=${C}`);
  }
}

/** out = (inp - mean) * rstd * w + b per row; mean and rstd are saved for the backward. */
export function layernormForward(
  ctx: GpuContext,
  out: GpuTensor, // (N, C)
  mean: GpuTensor, // (N)
  rstd: GpuTensor, // (N)
  inp: GpuTensor, // (N, C)
  w: GpuTensor, // (C)
  b: GpuTensor, // (C)
  dims: LayernormForwardDims,
): void {
  const { N, C, eps } = dims;
  checkDims("layernormForward", N, C);
  ctx.run(C % 4 === 0 ? "layernorm_forward" : "layernorm_forward_scalar", {
    buffers: [out, mean, rstd, inp, w, b],
    u32: [N, C],
    f32: [eps],
    workgroups: ctx.grid1d(N, ROW_WG),
    overrides: { WG: ROW_WG },
  });
}

/**
 * The residual add and the LayerNorm after it: out = LayerNorm(a + r), bit-identical to
 * residualForward then layernormForward, in one dispatch where C % 4 == 0 (else those two). The
 * sum a + r is written to `sum` when given (the LayerNorm backward reads it), else not at all.
 */
export function residualLayernormForward(
  ctx: GpuContext,
  out: GpuTensor, // (N, C)
  mean: GpuTensor, // (N)
  rstd: GpuTensor, // (N)
  sum: GpuTensor | null, // (N, C)
  a: GpuTensor, // (N, C)
  r: GpuTensor, // (N, C)
  w: GpuTensor, // (C)
  b: GpuTensor, // (C)
  dims: LayernormForwardDims,
): void {
  const { N, C, eps } = dims;
  checkDims("residualLayernormForward", N, C);
  if (C % 4 !== 0) {
    const x = sum ?? ctx.empty([N, C], "residual sum");
    residualForward(ctx, x, a, r, N * C);
    layernormForward(ctx, out, mean, rstd, x, w, b, dims);
    if (!sum) ctx.release(x);
    return;
  }
  const dummy = sum ? null : ctx.empty([4], "unused sum");
  ctx.run("layernorm_residual_forward", {
    buffers: [out, mean, rstd, sum ?? dummy!, a, r, w, b],
    u32: [N, C],
    f32: [eps],
    workgroups: ctx.grid1d(N, ROW_WG),
    overrides: { WG: ROW_WG, SAVE_SUM: sum ? 1 : 0 },
  });
  if (dummy) ctx.release(dummy);
}

/**
 * dinp is overwritten; dw and db accumulate (+=). dw/db are reduced over rows in two passes
 * (per-block partial sums into a scratch tensor, then a sum over blocks), so results are
 * bit-identical from run to run.
 */
export function layernormBackward(
  ctx: GpuContext,
  dinp: GpuTensor, // (N, C)
  dw: GpuTensor, // (C)
  db: GpuTensor, // (C)
  dout: GpuTensor, // (N, C)
  inp: GpuTensor, // (N, C)
  w: GpuTensor, // (C)
  mean: GpuTensor, // (N)
  rstd: GpuTensor, // (N)
  dims: LayernormBackwardDims,
): void {
  const { N, C } = dims;
  checkDims("layernormBackward", N, C);
  if (N === 0) return;
  const vec4 = C % 4 === 0;
  ctx.run(vec4 ? "layernorm_backward" : "layernorm_backward_scalar", {
    buffers: [dinp, dout, inp, w, mean, rstd],
    u32: [N, C],
    workgroups: ctx.grid1d(N, ROW_WG),
    overrides: { WG: ROW_WG },
  });

  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const rows = Math.max(ROWS_PER_BLOCK, Math.ceil(N / maxDim));
  const blocks = Math.ceil(N / rows);
  const colGroups = Math.ceil((vec4 ? C / 4 : C) / COL_WG);
  if (colGroups > maxDim) throw new Error(`layernormBackward: C=${C} is too wide`);
  const parts = ctx.empty([2, blocks, C], "layernorm-dwdb-partials");
  ctx.run("layernorm_backward_dwdb_partial", {
    buffers: [parts, dout, inp, mean, rstd],
    u32: [N, C, rows],
    workgroups: [colGroups, blocks],
    overrides: { WG: COL_WG },
    entryPoint: vec4 ? "main" : "main_scalar",
  });
  ctx.run("layernorm_backward_dwdb_reduce", {
    buffers: [dw, db, parts],
    u32: [C, blocks],
    workgroups: ctx.grid1d(C, COL_WG),
    overrides: { WG: COL_WG },
  });
  ctx.release(parts);
}
