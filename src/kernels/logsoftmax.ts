/**
 * Log-softmax over the vocabulary at selected rows, gathered at one target per row: the PLT
 * score (SPEC §2) and the MLM loss (-mean logp, formed by the caller through dlogp = -1/M).
 *
 * Forward is two passes: S threads per row each reduce a strided share of the row to a partial
 * (max, sum exp), then one thread per row combines its S partials in order (deterministic). Why
 * two passes: shaders/logsoftmax_gather_partials.wgsl; timings in docs/KERNELS.md.
 */
import type { LogsoftmaxDims } from "../cpu/logsoftmax.ts";
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

export type { LogsoftmaxDims };

const WG = 64;
const MAX_PARTIALS = 512;
// Backward: each thread writes BWD_PER_THREAD logits (timings in docs/KERNELS.md).
const BWD_WG = 64;
const BWD_PER_THREAD = 64;

/** Partials per row: a multiple of WG, about 32 logits per thread or more, at most 512. */
export function partialsPerRow(V: number): number {
  return Math.min(MAX_PARTIALS, WG * Math.max(1, Math.ceil(V / (32 * WG))));
}

/**
 * lse[m] = max + log(sum exp(logits[m] - max)) (f32, max-subtracted);
 * logp[m] = logits[m, targets[m]] - lse[m]. Overwrites logp and lse.
 */
export function logsoftmaxGatherForward(
  ctx: GpuContext,
  logp: GpuTensor, // (M)
  lse: GpuTensor, // (M)
  logits: GpuTensor, // (M, V)
  targets: GpuTensor, // (M) u32
  dims: LogsoftmaxDims,
): void {
  const { M, V } = dims;
  const S = partialsPerRow(V);
  // Released at once: the pool hands it out again only after this work is submitted.
  const part = ctx.empty([M, S, 2], "logsoftmax.partials");
  ctx.run("logsoftmax_gather_partials", {
    buffers: [part, logits],
    u32: [M, V, S],
    workgroups: [S / WG, M],
    overrides: { WG },
  });
  ctx.run("logsoftmax_gather_forward", {
    buffers: [logp, lse, part, logits, targets],
    u32: [M, V, S],
    workgroups: [Math.ceil(M / 64)],
    overrides: { WG: 64 },
  });
  ctx.release(part);
}

/** dlogits[m, v] = dlogp[m] * (onehot(targets[m])[v] - exp(logits[m, v] - lse[m])); overwrite. */
export function logsoftmaxGatherBackward(
  ctx: GpuContext,
  dlogits: GpuTensor, // (M, V)
  dlogp: GpuTensor, // (M)
  logits: GpuTensor, // (M, V)
  lse: GpuTensor, // (M)
  targets: GpuTensor, // (M) u32
  dims: LogsoftmaxDims,
): void {
  const { M, V } = dims;
  ctx.run("logsoftmax_gather_backward", {
    buffers: [dlogits, dlogp, logits, lse, targets],
    u32: [M, V],
    workgroups: [Math.ceil(V / (BWD_WG * BWD_PER_THREAD)), M],
    overrides: { WG: BWD_WG, E: BWD_PER_THREAD },
  });
}
