/** Exact (erf) GELU, as BERT and RoBERTa use it. */
import type { GpuContext, RunArgs } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

const WG = 256;

/** The vec4 entry point when n % 4 == 0 (docs/KERNELS.md), else the scalar one. */
function launch(ctx: GpuContext, n: number): Pick<RunArgs, "entryPoint" | "workgroups"> {
  return n % 4 === 0
    ? { entryPoint: "main", workgroups: ctx.grid1d(n / 4, WG) }
    : { entryPoint: "main_scalar", workgroups: ctx.grid1d(n, WG) };
}

/** out = 0.5 x (1 + erf(x / sqrt 2)), elementwise over n values. */
export function geluForward(
  ctx: GpuContext,
  out: GpuTensor, // (n)
  inp: GpuTensor, // (n)
  n: number,
): void {
  ctx.run("gelu_forward", { buffers: [out, inp], u32: [n], ...launch(ctx, n) });
}

/** dinp = dout * GELU'(inp) (overwritten); inp is the forward's saved input. */
export function geluBackward(
  ctx: GpuContext,
  dinp: GpuTensor, // (n)
  dout: GpuTensor, // (n)
  inp: GpuTensor, // (n)
  n: number,
): void {
  ctx.run("gelu_backward", {
    buffers: [dinp, dout, inp],
    u32: [n],
    ...launch(ctx, n),
  });
}
