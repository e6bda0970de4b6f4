import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

const WG = 256;

/** out = a + b, elementwise over n values. */
export function residualForward(
  ctx: GpuContext,
  out: GpuTensor, // (n)
  a: GpuTensor, // (n)
  b: GpuTensor, // (n)
  n: number,
): void {
  ctx.run("residual_forward", { buffers: [out, a, b], u32: [n], workgroups: ctx.grid1d(n, WG) });
}
