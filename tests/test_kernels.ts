/**
 * GPU kernels that only tests run, kept out of the product (as bench/dev/linear_dev.ts keeps the
 * dev linear kernels): their shaders live in tests/shaders/ and are registered on a context under
 * `dev/...` names by the wrappers themselves.
 *
 * - positionIds: position ids on the device, checked against the CPU reference and against
 *   src/kernels/embedding.ts's positionIdsHost (which the product uses).
 * - residualBackward: da += dout; db += dout, checked against the CPU reference.
 */
import type { PositionDims } from "../src/cpu/embedding.ts";
import type { GpuContext } from "../src/gpu/context.ts";
import type { GpuTensor } from "../src/gpu/tensor.ts";
import position_ids from "./shaders/position_ids.wgsl" with { type: "text" };
import residual_backward from "./shaders/residual_backward.wgsl" with { type: "text" };

/** Makes the test shaders runnable on this context (the wrappers below call it themselves). */
export function register(ctx: GpuContext): void {
  ctx.pipelines.addDevSources({
    "dev/position_ids": position_ids,
    "dev/residual_backward": residual_backward,
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
