import type { Vec } from "./types.ts";

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

/**
 * erfc(x) in f64 (about 1e-15 relative for x >= 0). |x| < 2: 1 - erf from the all-positive
 * series erf x = (2/sqrt pi) e^{-x^2} sum_n (2x^2)^n x / (1*3*...*(2n+1)); x >= 2: the continued
 * fraction erfc x = (e^{-x^2}/sqrt pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) (A&S 7.1.14),
 * evaluated bottom-up; x <= -2: 2 - erfc(-x).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < -2) return 2 - erfc(-x);
  if (x < 2) return 1 - erfSeries(x);
  if (x > 27.3) return 0; // below the smallest f64 denormal
  let f = x;
  for (let k = 160; k >= 1; k--) f = x + (k / 2) / f;
  return Math.exp(-x * x) * INV_SQRT_PI / f;
}

/** erf(x) in f64. */
export function erf(x: number): number {
  return Math.abs(x) < 2 ? erfSeries(x) : 1 - erfc(x);
}

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x, sum = x;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= 2 * x2 / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2 (no cancellation in the lower tail). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * INV_SQRT2);
}

/** CPU reference: out = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), exact GELU. */
export function geluForward(out: Vec, inp: Vec, n: number): void {
  for (let i = 0; i < n; i++) out[i] = inp[i] * normalCdf(inp[i]);
}

/** CPU reference: dinp = dout * (Phi(x) + x phi(x)), phi the standard normal density. */
export function geluBackward(dinp: Vec, dout: Vec, inp: Vec, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    dinp[i] = dout[i] * (normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x));
  }
}
