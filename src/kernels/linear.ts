// TEMPORARY stand-in written by the lead so the model can be composed; the linear helper owns
// this file and replaces it with the tuned kernels (same API).
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

export interface LinearDims {
  M: number;
  K: number;
  N: number;
  ldo?: number;
  colOffset?: number;
  variant?: string;
}

const dummy = (t: GpuTensor) => t;

export function linearForward(
  ctx: GpuContext,
  out: GpuTensor,
  inp: GpuTensor,
  w: GpuTensor,
  b: GpuTensor | null,
  d: LinearDims,
): void {
  const ldo = d.ldo ?? d.N, off = d.colOffset ?? 0;
  ctx.run("lead_linear", {
    entryPoint: "fwd",
    buffers: [out, inp, w, b ?? dummy(inp)],
    u32: [d.M, d.K, d.N, ldo, off, b ? 1 : 0],
    workgroups: [Math.ceil(d.N / 32), Math.ceil(d.M / 32)],
  });
}

export function linearBackwardInput(
  ctx: GpuContext,
  dinp: GpuTensor,
  dout: GpuTensor,
  w: GpuTensor,
  d: LinearDims & { accumulate?: boolean },
): void {
  const ldo = d.ldo ?? d.N, off = d.colOffset ?? 0;
  ctx.run("lead_linear", {
    entryPoint: "bin",
    buffers: [dinp, dout, w],
    u32: [d.M, d.K, d.N, ldo, off, d.accumulate ? 1 : 0],
    workgroups: [Math.ceil(d.K / 32), Math.ceil(d.M / 32)],
  });
}

export function linearBackwardWeight(
  ctx: GpuContext,
  dw: GpuTensor,
  db: GpuTensor | null,
  dout: GpuTensor,
  inp: GpuTensor,
  d: LinearDims,
): void {
  const ldo = d.ldo ?? d.N, off = d.colOffset ?? 0;
  ctx.run("lead_linear", {
    entryPoint: "bw",
    buffers: [dw, dout, inp],
    u32: [d.M, d.K, d.N, ldo, off, 0],
    workgroups: [Math.ceil(d.K / 32), Math.ceil(d.N / 32)],
  });
  if (db) {
    ctx.run("lead_linear", {
      entryPoint: "bb",
      buffers: [db, dout],
      u32: [d.M, d.K, d.N, ldo, off, 0],
      workgroups: [Math.ceil(d.N / 64)],
    });
  }
}
