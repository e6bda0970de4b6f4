import type { Vec } from "./types.ts";

export interface LayernormForwardDims {
  N: number;
  C: number;
  eps: number;
}

export interface LayernormBackwardDims {
  N: number;
  C: number;
}

/**
 * CPU reference: per row, mean = sum(x) / C, var = sum((x - mean)^2) / C (biased),
 * rstd = 1 / sqrt(var + eps), out = (x - mean) * rstd * w + b.
 */
export function layernormForward(
  out: Vec, // (N, C)
  mean: Vec, // (N)
  rstd: Vec, // (N)
  inp: Vec, // (N, C)
  w: Vec, // (C)
  b: Vec, // (C)
  dims: LayernormForwardDims,
): void {
  const { N, C, eps } = dims;
  for (let n = 0; n < N; n++) {
    const row = n * C;
    let s = 0;
    for (let c = 0; c < C; c++) s += inp[row + c];
    const m = s / C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (inp[row + c] - m) ** 2;
    const rs = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[row + c] = (inp[row + c] - m) * rs * w[c] + b[c];
    mean[n] = m;
    rstd[n] = rs;
  }
}

/**
 * CPU reference of the gradients. With xhat = (x - mean) * rstd and g = dout * w:
 * dinp = rstd * (g - mean(g) - xhat * mean(g * xhat)) (overwritten),
 * dw += sum_n dout * xhat, db += sum_n dout (accumulated).
 */
export function layernormBackward(
  dinp: Vec, // (N, C)
  dw: Vec, // (C)
  db: Vec, // (C)
  dout: Vec, // (N, C)
  inp: Vec, // (N, C)
  w: Vec, // (C)
  mean: Vec, // (N)
  rstd: Vec, // (N)
  dims: LayernormBackwardDims,
): void {
  const { N, C } = dims;
  const dwSum = new Float64Array(C);
  const dbSum = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const row = n * C;
    const m = mean[n], rs = rstd[n];
    let sg = 0, sgx = 0;
    for (let c = 0; c < C; c++) {
      const xhat = (inp[row + c] - m) * rs;
      const g = dout[row + c] * w[c];
      sg += g;
      sgx += g * xhat;
      dwSum[c] += dout[row + c] * xhat;
      dbSum[c] += dout[row + c];
    }
    const mg = sg / C, mgx = sgx / C;
    for (let c = 0; c < C; c++) {
      const xhat = (inp[row + c] - m) * rs;
      dinp[row + c] = (dout[row + c] * w[c] - mg - xhat * mgx) * rs;
    }
  }
  for (let c = 0; c < C; c++) {
    dw[c] += dwSum[c];
    db[c] += dbSum[c];
  }
}
