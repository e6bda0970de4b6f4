/**
 * GPU kernels that only tests run, kept out of the product (as bench/dev/linear_dev.ts keeps the
 * dev linear kernels): their shaders live in tests/shaders/ and are registered on a context under
 * `dev/...` names by the wrappers themselves.
 *
 * - positionIds: position ids on the device, checked against the CPU reference and against
 *   src/kernels/embedding.ts's positionIdsHost (which the product uses).
 * - residualBackward: da += dout; db += dout, checked against the CPU reference.
 * - attentionForward / attentionBackward: the attention kernels composed without dropout, as the
 *   CPU reference composes them (the encoder composes them itself, with dropout).
 * - flatTensors, dotProduct, scaleByScalar, packScalars: flat-vector helpers over
 *   src/kernels/norm.ts's partials, checked against src/cpu/norm.ts.
 */
import type { PositionDims } from "../src/cpu/embedding.ts";
import type { GpuContext } from "../src/gpu/context.ts";
import type { GpuTensor } from "../src/gpu/tensor.ts";
import position_ids from "./shaders/position_ids.wgsl" with { type: "text" };
import residual_backward from "./shaders/residual_backward.wgsl" with { type: "text" };
import clip_scale from "./shaders/clip_scale.wgsl" with { type: "text" };
import reduce_pack from "./shaders/reduce_pack.wgsl" with { type: "text" };
import type { ChunkedTensor } from "../src/gpu/chunked.ts";
import {
  attentionContext,
  attentionContextBackward,
  type AttentionDims,
  attentionScores,
  attentionScoresBackward,
} from "../src/kernels/attention.ts";
import { dotPartials, WG } from "../src/kernels/norm.ts";

/** Makes the test shaders runnable on this context (the wrappers below call it themselves). */
export function register(ctx: GpuContext): void {
  ctx.pipelines.addDevSources({
    "dev/position_ids": position_ids,
    "dev/residual_backward": residual_backward,
    "dev/clip_scale": clip_scale,
    "dev/reduce_pack": reduce_pack,
  });
}

/** Position ids on the device: BERT 0..T-1, RoBERTa cumsum(mask) * mask + padId. */
export function positionIds(
  ctx: GpuContext,
  pos: GpuTensor, // (B, T) u32
  ids: GpuTensor, // (B, T) u32
  dims: PositionDims,
): void {
  register(ctx);
  const { B, T, kind, padId } = dims;
  ctx.run("dev/position_ids", {
    buffers: [pos, ids],
    u32: [B, T, kind === "bert" ? 0 : 1, padId],
    workgroups: [Math.ceil(B / 64)],
    overrides: { WG: 64 },
  });
}

const RESIDUAL_WG = 256;

/** da += dout; db += dout (residual-stream gradients accumulate). */
export function residualBackward(
  ctx: GpuContext,
  da: GpuTensor, // (n)
  db: GpuTensor, // (n)
  dout: GpuTensor, // (n)
  n: number,
): void {
  register(ctx);
  ctx.run("dev/residual_backward", {
    buffers: [da, db, dout],
    u32: [n],
    workgroups: ctx.grid1d(n, RESIDUAL_WG),
  });
}

/** attentionScores then attentionContext (no dropout); att is kept for the backward pass. */
export function attentionForward(
  ctx: GpuContext,
  out: GpuTensor, // (B, T, C)
  att: GpuTensor, // (B, NH, T, T)
  q: GpuTensor, // (B, T, C)
  k: GpuTensor, // (B, T, C)
  v: GpuTensor, // (B, T, C)
  maskAdd: GpuTensor, // (B, T)
  dims: AttentionDims,
): void {
  attentionScores(ctx, att, q, k, maskAdd, dims);
  attentionContext(ctx, out, att, v, dims);
}

/** Backward of attentionForward (no dropout); overwrites dq, dk, dv. */
export function attentionBackward(
  ctx: GpuContext,
  dq: GpuTensor, // (B, T, C)
  dk: GpuTensor, // (B, T, C)
  dv: GpuTensor, // (B, T, C)
  dout: GpuTensor, // (B, T, C)
  q: GpuTensor, // (B, T, C)
  k: GpuTensor, // (B, T, C)
  v: GpuTensor, // (B, T, C)
  att: GpuTensor, // (B, NH, T, T)
  dims: AttentionDims,
): void {
  const { B, T, NH } = dims;
  const datt = ctx.empty([B, NH, T, T], "attention datt");
  attentionContextBackward(ctx, datt, dv, dout, att, v, dims);
  attentionScoresBackward(ctx, dq, dk, datt, att, q, k, dims);
  ctx.release(datt);
}

const PACK_PER_DISPATCH = 15;

/** The tensors of a parameter list, with each ChunkedTensor contributing its chunks in order. */
export function flatTensors(items: readonly (GpuTensor | ChunkedTensor)[]): GpuTensor[] {
  return items.flatMap((t) => "chunks" in t ? t.chunks.map((c) => c.tensor) : [t]);
}

/** out[0] = sum over paired tensors of a.b (one flat dot product). */
export function dotProduct(
  ctx: GpuContext,
  out: GpuTensor, // (1)
  a: GpuTensor[], // each (numel)
  b: GpuTensor[], // each (numel), paired with a
): void {
  const { partials, slots } = dotPartials(ctx, a, b);
  // One workgroup: channel 0 (a.b) of the stride-3 partials only.
  ctx.run("reduce_sum", {
    buffers: [out, partials],
    u32: [slots, 3],
    workgroups: [1],
    overrides: { WG },
  });
  ctx.release(partials);
}

/** x *= s[0] over n values (s stays on the device). */
export function scaleByScalar(
  ctx: GpuContext,
  x: GpuTensor, // (n) scaled in place
  s: GpuTensor, // (1)
  n: number,
): void {
  register(ctx);
  ctx.run("dev/clip_scale", {
    buffers: [x, s],
    u32: [n],
    workgroups: ctx.grid1d(n, WG),
    overrides: { WG },
  });
}

/** A device scalar to pack: a tensor (its element 0) or a tensor and an element index. */
export type ScalarRef = GpuTensor | { tensor: GpuTensor; index: number };

/** out[j] = scalars[j] (element 0, or the given index), so k values come back in one read. */
export function packScalars(
  ctx: GpuContext,
  out: GpuTensor, // (k), k >= scalars.length
  scalars: ScalarRef[],
): void {
  if (out.numel < scalars.length) {
    throw new Error(`packScalars: ${scalars.length} scalars into '${out.label}' (${out.numel})`);
  }
  const refs = scalars.map((s) => "tensor" in s ? s : { tensor: s, index: 0 });
  for (const r of refs) {
    if (!Number.isInteger(r.index) || r.index < 0 || r.index >= r.tensor.numel) {
      throw new Error(`packScalars: index ${r.index} outside '${r.tensor.label}'`);
    }
  }
  register(ctx);
  for (let offset = 0; offset < refs.length; offset += PACK_PER_DISPATCH) {
    const part = refs.slice(offset, offset + PACK_PER_DISPATCH);
    const index = new Array(16).fill(0);
    part.forEach((r, j) => index[j] = r.index);
    const bound = part.map((r) => r.tensor);
    while (bound.length < PACK_PER_DISPATCH) bound.push(bound[0]);
    ctx.run("dev/reduce_pack", {
      buffers: [out, ...bound],
      u32: [part.length, offset, 0, 0, ...index], // two pad words: index[] is 16-byte aligned
      workgroups: [1],
    });
  }
}
