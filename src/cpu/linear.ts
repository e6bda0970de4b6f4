/**
 * CPU references of the linear layer, written from the math (Hugging Face layout: w is (N, K) =
 * (out, in), y = x wᵀ + b), with f64 accumulators. Same names and argument order as
 * src/kernels/linear.ts minus the context; `variant` is ignored.
 */
import type { Vec } from "./types.ts";

export interface LinearDims {
  M: number;
  K: number;
  N: number;
  /** Row stride of out / dout (default N). */
  ldo?: number;
  /** First column of the window of out / dout (default 0). */
  colOffset?: number;
  variant?: string;
}

/** out[m, col + n] = sum_k inp[m, k] w[n, k] + b[n]; other columns of out untouched. */
export function linearForward(
  out: Vec, // (M, ldo)
  inp: Vec, // (M, K)
  w: Vec, // (N, K)
  b: Vec | null, // (N)
  d: LinearDims,
): void {
  const { M, K, N } = d;
  const ldo = d.ldo ?? N, col = d.colOffset ?? 0;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += inp[m * K + k] * w[n * K + k];
      out[m * ldo + col + n] = b ? s + b[n] : s;
    }
  }
}

/** dinp = dout[:, col:col+N] · w, overwriting dinp or (accumulate) adding to it. */
export function linearBackwardInput(
  dinp: Vec, // (M, K)
  dout: Vec, // (M, ldo)
  w: Vec, // (N, K)
  d: LinearDims & { accumulate?: boolean },
): void {
  const { M, K, N } = d;
  const ldo = d.ldo ?? N, col = d.colOffset ?? 0;
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dout[m * ldo + col + n] * w[n * K + k];
      dinp[m * K + k] = d.accumulate ? dinp[m * K + k] + s : s;
    }
  }
}

/** dw += dout[:, col:col+N]ᵀ · inp; db += column sums of the window (parameter grads: +=). */
export function linearBackwardWeight(
  dw: Vec, // (N, K)
  db: Vec | null, // (N)
  dout: Vec, // (M, ldo)
  inp: Vec, // (M, K)
  d: LinearDims,
): void {
  const { M, K, N } = d;
  const ldo = d.ldo ?? N, col = d.colOffset ?? 0;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += dout[m * ldo + col + n] * inp[m * K + k];
      dw[n * K + k] += s;
    }
    if (db) {
      let s = 0;
      for (let m = 0; m < M; m++) s += dout[m * ldo + col + n];
      db[n] += s;
    }
  }
}
