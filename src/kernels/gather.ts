import type { GatherDims } from "../cpu/gather.ts";
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

export type { GatherDims };

// One workgroup per row; its threads loop over the C channels.
const WG = 64;

/** out[m] = inp[rows[m]]: pick M rows (e.g. the masked target rows) of an (N, C) matrix. */
export function gatherRows(
  ctx: GpuContext,
  out: GpuTensor, // (M, C)
  inp: GpuTensor, // (N, C)
  rows: GpuTensor, // (M) u32
  dims: GatherDims,
): void {
  const { M, C } = dims;
  ctx.run("gather_rows_forward", {
    buffers: [out, inp, rows],
    u32: [M, C],
    workgroups: ctx.grid1d(M, 1),
    overrides: { WG },
  });
}

/** dinp[rows[m]] += dout[m]. Rows must be distinct. Accumulates (residual-stream gradient). */
export function gatherRowsBackward(
  ctx: GpuContext,
  dinp: GpuTensor, // (N, C)
  dout: GpuTensor, // (M, C)
  rows: GpuTensor, // (M) u32
  dims: GatherDims,
): void {
  const { M, C } = dims;
  ctx.run("gather_rows_backward", {
    buffers: [dinp, dout, rows],
    u32: [M, C],
    workgroups: ctx.grid1d(M, 1),
    overrides: { WG },
  });
}
