import type { CrossEntropyDims } from "../cpu/cross_entropy.ts";
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

export type { CrossEntropyDims };

/**
 * Classification cross-entropy per row: probs = softmax(logits) (saved for the backward),
 * losses[b] = -log probs[b, labels[b]]. The mean over the batch is the caller's (B values).
 */
export function crossEntropyForward(
  ctx: GpuContext,
  losses: GpuTensor, // (B)
  probs: GpuTensor, // (B, K)
  logits: GpuTensor, // (B, K)
  labels: GpuTensor, // (B) u32
  dims: CrossEntropyDims,
): void {
  const { B, K } = dims;
  ctx.run("cross_entropy_forward", {
    buffers: [losses, probs, logits, labels],
    u32: [B, K],
    workgroups: [Math.ceil(B / 64)],
    overrides: { WG: 64 },
  });
}

/** dlogits = scale * (probs - onehot(labels)); scale = 1/B for the mean loss. Overwrites. */
export function crossEntropyBackward(
  ctx: GpuContext,
  dlogits: GpuTensor, // (B, K)
  probs: GpuTensor, // (B, K)
  labels: GpuTensor, // (B) u32
  dims: CrossEntropyDims & { scale: number },
): void {
  const { B, K, scale } = dims;
  ctx.run("cross_entropy_backward", {
    buffers: [dlogits, probs, labels],
    u32: [B, K],
    f32: [scale],
    workgroups: ctx.grid1d(B * K, 256),
  });
}
