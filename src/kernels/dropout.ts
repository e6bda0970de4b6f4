/**
 * Inverted dropout with a counter-based mask: element i is kept iff
 * philoxElementUniform(seed, offset + i) >= p (src/cpu/philox.ts: one Philox call per four
 * elements), and kept values are scaled by 1 / (1 - p). The backward regenerates the same mask
 * from (seed, offset); nothing is stored. Give every dropout site in a step its own offset range
 * (or seed) so masks do not repeat.
 */
import type { GpuContext, RunArgs } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { splitU64 } from "../cpu/philox.ts";

const WG = 256;

/**
 * The vec4 entry point (one Philox call per thread, for four values; docs/KERNELS.md) when n and
 * offset are multiples of 4, else the scalar one.
 */
function launch(
  ctx: GpuContext,
  n: number,
  offset: number,
): Pick<RunArgs, "entryPoint" | "workgroups"> {
  return n % 4 === 0 && offset % 4 === 0
    ? { entryPoint: "main", workgroups: ctx.grid1d(n / 4, WG) }
    : { entryPoint: "main_scalar", workgroups: ctx.grid1d(n, WG) };
}

/** The factor kept values are multiplied by: 1 / (1 - p), and 0 for p = 1 (nothing is kept). */
export function dropoutScale(p: number): number {
  return p < 1 ? 1 / (1 - p) : 0;
}

export interface DropoutDims {
  /** Elements. */
  n: number;
  /** Drop probability in [0, 1]; 0 is a copy. */
  p: number;
  /** Philox key, an integer in [0, 2^53). */
  seed: number;
  /** Philox counter of element 0; offset + n must stay below 2^53. */
  offset: number;
}

function dropoutParams(dims: DropoutDims): { u32: number[]; f32: number[] } {
  const { n, p, seed, offset } = dims;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`dropout: bad n=${n}`);
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  const [seedLo, seedHi] = splitU64(seed, "dropout seed");
  const [offLo, offHi] = splitU64(offset, "dropout offset");
  splitU64(offset + n, "dropout offset + n");
  // u = k 2^-24 >= p  <=>  k >= ceil(p 2^24) for integer k (p 2^24 is exact in f64).
  const threshold = Math.ceil(p * 2 ** 24);
  const scale = dropoutScale(p);
  return { u32: [n, seedLo, seedHi, offLo, offHi, threshold], f32: [scale] };
}

function dispatch(ctx: GpuContext, dst: GpuTensor, src: GpuTensor, dims: DropoutDims): void {
  if (dst.buffer === src.buffer) throw new Error("dropout: output must not alias the input");
  const { u32, f32 } = dropoutParams(dims);
  ctx.run("dropout_forward", {
    buffers: [dst, src],
    u32,
    f32,
    ...launch(ctx, dims.n, dims.offset),
  });
}

/** out = mask * inp / (1 - p) (overwritten). */
export function dropoutForward(
  ctx: GpuContext,
  out: GpuTensor, // (n)
  inp: GpuTensor, // (n)
  dims: DropoutDims,
): void {
  dispatch(ctx, out, inp, dims);
}

/** dinp = mask * dout / (1 - p) (overwritten), with the forward's (seed, offset). */
export function dropoutBackward(
  ctx: GpuContext,
  dinp: GpuTensor, // (n)
  dout: GpuTensor, // (n)
  dims: DropoutDims,
): void {
  dispatch(ctx, dinp, dout, dims);
}
