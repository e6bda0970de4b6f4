import { philoxElementUniform, splitU64 } from "./philox.ts";
import type { Vec } from "./types.ts";

export interface DropoutDims {
  n: number;
  p: number;
  seed: number;
  offset: number;
}

/** mask[i] = 1 iff element i is kept: philoxElementUniform(seed, offset + i) >= p. */
export function dropoutMask(dims: DropoutDims): Uint8Array {
  const { n, p, seed, offset } = dims;
  splitU64(offset + n, "dropout offset + n");
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = philoxElementUniform(seed, offset + i) >= p ? 1 : 0;
  return mask;
}

/** CPU reference: out = mask * inp / (1 - p). */
export function dropoutForward(out: Vec, inp: Vec, dims: DropoutDims): void {
  const mask = dropoutMask(dims);
  const scale = 1 / (1 - dims.p);
  for (let i = 0; i < dims.n; i++) out[i] = mask[i] ? inp[i] * scale : 0;
}

/** CPU reference: dinp = mask * dout / (1 - p), the same mask as the forward. */
export function dropoutBackward(dinp: Vec, dout: Vec, dims: DropoutDims): void {
  dropoutForward(dinp, dout, dims);
}
