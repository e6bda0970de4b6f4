import type { Vec } from "./types.ts";

export interface CrossEntropyDims {
  B: number;
  K: number;
}

/** CPU reference: probs = softmax(logits); losses[b] = -log probs[b, labels[b]]. */
export function crossEntropyForward(
  losses: Vec, // (B)
  probs: Vec, // (B, K)
  logits: Vec, // (B, K)
  labels: Uint32Array, // (B)
  dims: CrossEntropyDims,
): void {
  const { B, K } = dims;
  for (let b = 0; b < B; b++) {
    const row = b * K;
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, logits[row + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[row + k] - mx);
    for (let k = 0; k < K; k++) probs[row + k] = Math.exp(logits[row + k] - mx) / s;
    losses[b] = mx + Math.log(s) - logits[row + labels[b]];
  }
}

/** CPU reference: dlogits = scale * (probs - onehot(labels)); overwrite. */
export function crossEntropyBackward(
  dlogits: Vec, // (B, K)
  probs: Vec, // (B, K)
  labels: Uint32Array, // (B)
  dims: CrossEntropyDims & { scale: number },
): void {
  const { B, K, scale } = dims;
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      dlogits[b * K + k] = scale * (probs[b * K + k] - (k === labels[b] ? 1 : 0));
    }
  }
}
