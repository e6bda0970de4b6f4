import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

const WG = 256;

/** y = alpha * x + beta * y over n values (beta 0: y is overwritten without being read). */
export function scaleAccumulate(
  ctx: GpuContext,
  y: GpuTensor, // (n)
  x: GpuTensor, // (n)
  alpha: number,
  beta: number,
  n: number,
): void {
  if (x.buffer === y.buffer) throw new Error("scaleAccumulate: x and y must be different tensors");
  ctx.run("scale_accumulate", {
    buffers: [x, y],
    u32: [n],
    f32: [alpha, beta],
    workgroups: ctx.grid1d(n, WG),
  });
}
