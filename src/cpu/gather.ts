import type { Vec } from "./types.ts";

export interface GatherDims {
  M: number;
  C: number;
}

/** CPU reference: out[m] = inp[rows[m]]. */
export function gatherRows(
  out: Vec, // (M, C)
  inp: Vec, // (N, C)
  rows: Uint32Array, // (M)
  dims: GatherDims,
): void {
  const { M, C } = dims;
  for (let m = 0; m < M; m++) {
    for (let c = 0; c < C; c++) out[m * C + c] = inp[rows[m] * C + c];
  }
}

/** CPU reference: dinp[rows[m]] += dout[m] (accumulates). */
export function gatherRowsBackward(
  dinp: Vec, // (N, C)
  dout: Vec, // (M, C)
  rows: Uint32Array, // (M)
  dims: GatherDims,
): void {
  const { M, C } = dims;
  for (let m = 0; m < M; m++) {
    for (let c = 0; c < C; c++) dinp[rows[m] * C + c] += dout[m * C + c];
  }
}
