// TEMPORARY stand-in by the lead (the linear helper owns this file): CPU references, f64 sums.
import type { Vec } from "./types.ts";

export interface LinearDims {
  M: number;
  K: number;
  N: number;
  ldo?: number;
  colOffset?: number;
}

export function linearForward(out: Vec, inp: Vec, w: Vec, b: Vec | null, d: LinearDims): void {
  const ldo = d.ldo ?? d.N, off = d.colOffset ?? 0;
  for (let m = 0; m < d.M; m++) {
    for (let n = 0; n < d.N; n++) {
      let s = b ? b[n] : 0;
      for (let k = 0; k < d.K; k++) s += inp[m * d.K + k] * w[n * d.K + k];
      out[m * ldo + off + n] = s;
    }
  }
}

export function linearBackwardInput(
  dinp: Vec,
  dout: Vec,
  w: Vec,
  d: LinearDims & { accumulate?: boolean },
): void {
  const ldo = d.ldo ?? d.N, off = d.colOffset ?? 0;
  for (let m = 0; m < d.M; m++) {
    for (let k = 0; k < d.K; k++) {
      let s = 0;
      for (let n = 0; n < d.N; n++) s += dout[m * ldo + off + n] * w[n * d.K + k];
      dinp[m * d.K + k] = d.accumulate ? dinp[m * d.K + k] + s : s;
    }
  }
}

export function linearBackwardWeight(
  dw: Vec,
  db: Vec | null,
  dout: Vec,
  inp: Vec,
  d: LinearDims,
): void {
  const ldo = d.ldo ?? d.N, off = d.colOffset ?? 0;
  for (let n = 0; n < d.N; n++) {
    for (let k = 0; k < d.K; k++) {
      let s = 0;
      for (let m = 0; m < d.M; m++) s += dout[m * ldo + off + n] * inp[m * d.K + k];
      dw[n * d.K + k] += s;
    }
    if (db) {
      let s = 0;
      for (let m = 0; m < d.M; m++) s += dout[m * ldo + off + n];
      db[n] += s;
    }
  }
}
