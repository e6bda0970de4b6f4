/**
 * Mask probabilities from token-wise pseudo-likelihoods (mPLT, SPEC §3):
 *
 *     c_i = 1 - PLT_i  (one-minus, the paper)   or   c_i = -ln PLT_i  (surprisal, reference code)
 *     m_i = alpha c_i,  alpha = n pbar / sum_i c_i      (n = scored tokens)
 *
 * then overflow handling: `redistribute` (default) caps m at 1 and spreads the excess equally over
 * the tokens still below 1, repeating until none exceeds 1, so mean(m) = pbar exactly (up to
 * rounding); `clip` caps at 1 and drops the excess, as the reference code does, so mean(m) < pbar
 * whenever some alpha c_i > 1. sum c = 0 (every token certain) gives m_i = pbar. Unscored tokens
 * (special, pad: PLT null/undefined) get 0.
 */
import { option } from "../options/table.ts";

export type Complement = "one-minus" | "surprisal";
export type Overflow = "redistribute" | "clip";

export interface MaskProbOptions {
  /** Mean mask probability over scored tokens, in [0, 1] (default: the option table's pbar). */
  pbar?: number;
  complement?: Complement;
  overflow?: Overflow;
}

/**
 * The surprisal of PLT = 0, and the largest surprisal used: -ln(2^-149) = 149 ln 2 ≈ 103.28, the
 * surprisal of the smallest positive f32. PLT comes from f32 softmax, so 0 means "underflowed below
 * 2^-149"; treating it as 2^-149 keeps c finite (no Infinity/NaN in alpha) while still ranking the
 * token above every representable PLT. Smaller f64 inputs are capped to the same value.
 */
export const MAX_SURPRISAL = 149 * Math.LN2;

/** The complement c of one PLT value. */
export function complementOf(plt: number, complement: Complement): number {
  if (complement === "one-minus") return 1 - plt;
  return plt <= 0 ? MAX_SURPRISAL : Math.min(-Math.log(plt), MAX_SURPRISAL);
}

/**
 * Mask probability per position of one text. `plt[i]` is the PLT of token i in [0, 1], or
 * null/undefined for special and pad tokens. Values a rounding step outside [0, 1] (f32 softmax can
 * give 1.0000001) are clamped; NaN or anything further out is a bug upstream and throws.
 */
export function maskProbabilities(
  plt: readonly (number | null | undefined)[],
  opts: MaskProbOptions = {},
): number[] {
  const pbar = opts.pbar ?? option("pbar").default as number;
  const complement = opts.complement ?? option("complement").default as Complement;
  const overflow = opts.overflow ?? option("overflow").default as Overflow;
  if (!(pbar >= 0 && pbar <= 1)) throw new Error(`pbar must be in [0, 1], got ${pbar}`);
  if (complement !== "one-minus" && complement !== "surprisal") {
    throw new Error(`unknown complement ${JSON.stringify(complement)}`);
  }
  if (overflow !== "redistribute" && overflow !== "clip") {
    throw new Error(`unknown overflow rule ${JSON.stringify(overflow)}`);
  }

  const m = new Array<number>(plt.length).fill(0);
  const scored: number[] = [];
  const c: number[] = [];
  let sum = 0;
  for (let i = 0; i < plt.length; i++) {
    const p = plt[i];
    if (p === null || p === undefined) continue;
    if (!(p >= -1e-6 && p <= 1 + 1e-6)) throw new Error(`PLT[${i}] = ${p} is not a probability`);
    const ci = complementOf(Math.min(1, Math.max(0, p)), complement);
    scored.push(i);
    c.push(ci);
    sum += ci;
  }
  const n = scored.length;
  if (n === 0) return m;
  if (sum <= 0) {
    for (const i of scored) m[i] = pbar;
    return m;
  }

  // m_i = n pbar (c_i / sum): the ratio first, so a tiny sum cannot overflow alpha.
  const v = c.map((ci) => n * pbar * (ci / sum));
  if (overflow === "clip") {
    for (let k = 0; k < n; k++) m[scored[k]] = Math.min(1, v[k]);
    return m;
  }
  // pbar = 1 has one solution, every m = 1; rounding would leave some at 1 - 2^-53.
  if (pbar === 1) v.fill(1);
  else redistribute(v);
  for (let k = 0; k < n; k++) m[scored[k]] = v[k];
  return m;
}

/**
 * In place: caps values above 1 at 1 and spreads the excess equally over the values still below 1,
 * until none exceeds 1. Each pass that finds an excess caps at least one more value (capped values
 * are exactly 1 and never exceed it again), so it ends within n + 1 passes without a tolerance.
 * The sum is preserved up to rounding when it is at most n; above that everything ends at 1.
 */
export function redistribute(v: number[]): void {
  const capped = new Uint8Array(v.length);
  let free = v.length;
  for (;;) {
    let excess = 0;
    for (let k = 0; k < v.length; k++) {
      if (!capped[k] && v[k] >= 1) {
        excess += v[k] - 1;
        v[k] = 1;
        capped[k] = 1;
        free--;
      }
    }
    if (excess <= 0 || free === 0) return;
    const share = excess / free;
    for (let k = 0; k < v.length; k++) if (!capped[k]) v[k] += share;
  }
}
