/** tanh, overflow-safe for any |x| (the pooler / classifier activation). */
import type { GpuContext, RunArgs } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

const WG = 256;

/** The vec4 entry point when n % 4 == 0 (docs/KERNELS.md), else the scalar one. */
function launch(ctx: GpuContext, n: number): Pick<RunArgs, "entryPoint" | "workgroups"> {
  return n % 4 === 0
    ? { entryPoint: "main", workgroups: ctx.grid1d(n / 4, WG) }
    : { entryPoint: "main_scalar", workgroups: ctx.grid1d(n, WG) };
}

/** out = tanh(inp), elementwise over n values. */
export function tanhForward(
  ctx: GpuContext,
  out: GpuTensor, // (n)
  inp: GpuTensor, // (n)
  n: number,
): void {
  ctx.run("tanh_forward", { buffers: [out, inp], u32: [n], ...launch(ctx, n) });
}

/** dinp = dout * (1 - out^2) (overwritten); out is the forward's saved output. */
export function tanhBackward(
  ctx: GpuContext,
  dinp: GpuTensor, // (n)
  dout: GpuTensor, // (n)
  out: GpuTensor, // (n)
  n: number,
): void {
  ctx.run("tanh_backward", {
    buffers: [dinp, dout, out],
    u32: [n],
    ...launch(ctx, n),
  });
}
