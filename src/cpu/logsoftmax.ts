import type { Vec } from "./types.ts";

export interface LogsoftmaxDims {
  M: number;
  V: number;
}

/** CPU reference: lse[m] = log sum_v exp(logits[m, v]) (max-subtracted, f64); logp = target - lse. */
export function logsoftmaxGatherForward(
  logp: Vec, // (M)
  lse: Vec, // (M)
  logits: Vec, // (M, V)
  targets: Uint32Array, // (M)
  dims: LogsoftmaxDims,
): void {
  const { M, V } = dims;
  for (let m = 0; m < M; m++) {
    const row = m * V;
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits[row + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[row + v] - mx);
    const l = mx + Math.log(s);
    lse[m] = l;
    logp[m] = logits[row + targets[m]] - l;
  }
}

/** CPU reference: dlogits[m, v] = dlogp[m] * (onehot(targets[m])[v] - softmax[m, v]); overwrite. */
export function logsoftmaxGatherBackward(
  dlogits: Vec, // (M, V)
  dlogp: Vec, // (M)
  logits: Vec, // (M, V)
  lse: Vec, // (M)
  targets: Uint32Array, // (M)
  dims: LogsoftmaxDims,
): void {
  const { M, V } = dims;
  for (let m = 0; m < M; m++) {
    for (let v = 0; v < V; v++) {
      const i = m * V + v;
      const onehot = v === targets[m] ? 1 : 0;
      dlogits[i] = dlogp[m] * (onehot - Math.exp(logits[i] - lse[m]));
    }
  }
}
