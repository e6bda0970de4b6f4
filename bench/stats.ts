/**
 * Statistics for the replication report (bench/replicate.ts): descriptive measures, the paired
 * t-test with its Student-t p-value (from the regularized incomplete beta function), the exact
 * sign-flip permutation test, quantiles and a text histogram. Plain f64, no dependencies.
 */

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (divisor n − 1); NaN below two values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Population standard deviation (divisor n): describes a whole set, e.g. every token's m. */
export function populationSd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-14). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * Continued fraction of I_x(a, b) (modified Lentz, as Numerical Recipes' betacf), converging fast
 * for x < (a + 1) / (a + b + 2); throws if 300 term pairs do not reach relative change 1e-15.
 */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const guard = (v: number) => (Math.abs(v) < tiny ? tiny : v);
  let c = 1, d = 1 / guard(1 - (a + b) * x / (a + 1)), h = d;
  /** One term with numerator coef: updates c, d and h, returns the factor applied to h. */
  const term = (coef: number) => {
    d = 1 / guard(1 + coef * d);
    c = guard(1 + coef / c);
    h *= d * c;
    return d * c;
  };
  for (let m = 1; m <= 300; m++) {
    term(m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)));
    const last = term(-(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)));
    if (Math.abs(last - 1) < 1e-15) return h;
  }
  throw new Error(`incomplete beta: no convergence for a=${a}, b=${b}, x=${x}`);
}

/** The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new Error(`incomplete beta needs a, b > 0 (a=${a}, b=${b})`);
  if (!(x >= 0 && x <= 1)) throw new Error(`incomplete beta needs x in [0, 1] (x=${x})`);
  if (x === 0 || x === 1) return x;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) +
    b * Math.log1p(-x);
  // The fraction converges fast on its side of the mean; the symmetry covers the other side.
  if (x < (a + 1) / (a + b + 2)) return Math.exp(lnFront) * betaContinuedFraction(a, b, x) / a;
  return 1 - Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x) / b;
}

/** Two-sided p-value of Student's t with df degrees of freedom: P(|T| >= |t|). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`Student t needs df > 0 (df=${df})`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

export interface PairedTest {
  n: number;
  /** Mean and sample sd of the differences. */
  mean: number;
  sd: number;
  /** Paired t statistic mean / (sd / √n), df = n − 1, and its two-sided p-value. */
  t: number;
  df: number;
  pT: number;
  /** Exact two-sided sign-flip permutation p-value (all 2^n sign assignments). */
  pPerm: number;
}

/**
 * Paired comparison of per-seed differences (a − b for the same seeds). n < 2 gives NaN for sd,
 * t and pT. Every difference equal and non-zero gives sd 0, t ±Infinity and pT 0; all zero gives
 * t 0 and pT 1.
 */
export function pairedTest(diffs: readonly number[]): PairedTest {
  const n = diffs.length;
  const m = mean(diffs), sd = sampleSd(diffs);
  let t = NaN;
  if (n >= 2) t = sd > 0 ? m / (sd / Math.sqrt(n)) : (m === 0 ? 0 : Math.sign(m) * Infinity);
  const pT = n >= 2 ? studentTwoSidedP(t, n - 1) : NaN;
  return { n, mean: m, sd, t, df: n - 1, pT, pPerm: signFlipP(diffs) };
}

/** The most differences signFlipP enumerates (2^20 sign assignments). */
export const MAX_SIGN_FLIP_N = 20;

/**
 * Exact two-sided sign-flip permutation p-value of paired differences: the share of all 2^n sign
 * assignments whose |sum| is at least the observed |sum| (ties within 1e-12 relative count as at
 * least). The smallest value it can take is 2 / 2^n (0.0625 for n = 5). NaN for n = 0.
 */
export function signFlipP(diffs: readonly number[]): number {
  const n = diffs.length;
  if (n === 0) return NaN;
  if (n > MAX_SIGN_FLIP_N) throw new Error(`sign-flip test enumerates at most 2^20 (n=${n})`);
  const mag = diffs.map(Math.abs);
  const observed = Math.abs(diffs.reduce((a, b) => a + b, 0));
  const tol = 1e-12 * Math.max(1e-300, mag.reduce((a, b) => a + b, 0));
  let atLeast = 0;
  for (let signs = 0; signs < 1 << n; signs++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += signs & (1 << i) ? -mag[i] : mag[i];
    if (Math.abs(s) >= observed - tol) atLeast++;
  }
  return atLeast / 2 ** n;
}

/** Quantile q of sorted values, linear between order statistics (R type 7, numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h), hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Counts of xs in `bins` equal-width bins over [lo, hi]; values outside go to the end bins. */
export function histogram(xs: readonly number[], lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins;
  for (const x of xs) counts[Math.min(bins - 1, Math.max(0, Math.floor((x - lo) / w)))]++;
  return counts;
}

/**
 * One text bar per bin: "[lo, hi)  ████  share%"; the last bin is closed and runs to `top`
 * (default hi): histogram() puts the values at or above hi there. Bars scaled to the largest bin.
 */
export function histogramLines(
  counts: readonly number[],
  lo: number,
  hi: number,
  top = hi,
): string[] {
  const total = counts.reduce((a, b) => a + b, 0), most = Math.max(...counts);
  const w = (hi - lo) / counts.length;
  return counts.map((c, i) => {
    const bar = "█".repeat(most > 0 ? Math.round(40 * c / most) : 0);
    const last = i === counts.length - 1;
    const range = `[${(lo + i * w).toFixed(3)}, ${(last ? top : lo + (i + 1) * w).toFixed(3)}${
      last ? "]" : ")"
    }`;
    return `${range.padEnd(16)} ${bar.padEnd(40)} ${(100 * c / total).toFixed(1)}%`;
  });
}
