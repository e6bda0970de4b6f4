import type { Vec } from "./types.ts";

/** CPU reference: out[0] = sum over all tensors of sum x^2 (f64 accumulator). */
export function sumSquares(out: Vec, tensors: Vec[]): void {
  let s = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) s += t[i] * t[i];
  out[0] = s;
}

/** CPU reference: sums = (a.b, a.a, b.b) over paired tensors as one flat vector. */
export function dotSums(sums: Vec, a: Vec[], b: Vec[]): void {
  if (a.length !== b.length) throw new Error(`dot: ${a.length} tensors vs ${b.length}`);
  let ab = 0, aa = 0, bb = 0;
  a.forEach((x, k) => {
    const y = b[k];
    if (x.length !== y.length) throw new Error(`dot: pair ${k} has ${x.length} vs ${y.length}`);
    for (let i = 0; i < x.length; i++) {
      ab += x[i] * y[i];
      aa += x[i] * x[i];
      bb += y[i] * y[i];
    }
  });
  sums[0] = ab;
  sums[1] = aa;
  sums[2] = bb;
}

/** CPU reference: out[0] = sum over paired tensors of a.b. */
export function dotProduct(out: Vec, a: Vec[], b: Vec[]): void {
  const sums = new Float64Array(3);
  dotSums(sums, a, b);
  out[0] = sums[0];
}

/** CPU reference: out[0] = a.b / (|a| |b| + tiny). */
export function cosineSimilarity(out: Vec, a: Vec[], b: Vec[], tiny = 1e-12): void {
  const sums = new Float64Array(3);
  dotSums(sums, a, b);
  out[0] = sums[0] / (Math.sqrt(sums[1]) * Math.sqrt(sums[2]) + tiny);
}

/** CPU reference (torch.nn.utils.clip_grad_norm_): factor = min(1, maxNorm / (norm + 1e-6)). */
export function clipFactor(factor: Vec, sumsq: Vec, maxNorm: number, norm?: Vec): void {
  const total = Math.sqrt(sumsq[0]);
  if (norm) norm[0] = total;
  factor[0] = Math.min(1, maxNorm / (total + 1e-6));
}

/** CPU reference: the clip factor of the global L2 norm of all gradients. */
export function globalNormClip(factor: Vec, grads: Vec[], maxNorm: number, norm?: Vec): void {
  const sumsq = new Float64Array(1);
  sumSquares(sumsq, grads);
  clipFactor(factor, sumsq, maxNorm, norm);
}

/** CPU reference: x *= s[0]. */
export function scaleByScalar(x: Vec, s: Vec, n: number): void {
  for (let i = 0; i < n; i++) x[i] *= s[0];
}

/** CPU reference: out[j] = scalars[j][index] (index 0 unless given). */
export function packScalars(out: Vec, scalars: (Vec | { tensor: Vec; index: number })[]): void {
  scalars.forEach((s, j) => out[j] = "tensor" in s ? s.tensor[s.index] : s[0]);
}
