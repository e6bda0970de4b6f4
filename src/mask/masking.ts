/**
 * Corrupting a mini-batch for the MLM task (SPEC §4). Each scored token (not special, not pad) is
 * selected independently with probability m_i (L3Masking, `l3`) or pbar (random token masking,
 * `rtm`); a selected token becomes the mask id (80%), a uniformly random non-special id (10%) or
 * stays as it is (10%). The MLM loss is cross-entropy at the selected rows against the original
 * ids.
 *
 * Randomness: one Philox4x32-10 call (src/cpu/philox.ts) per token, under key = seed (low, high
 * word) and counter
 *
 *     (t, exampleBase + b, step, MASK_TAG.token)     t: position, b: example in the batch
 *
 * whose four output words w0..w3 are the draws of that token:
 *     select   <=>  (w0 >> 8) 2^-24 < p                 (p = m_i or pbar; p = 1 always selects)
 *     kind     =  mask if (w1 >> 8) 2^-24 < 0.8, random if < 0.9, else keep
 *     random id = randomIds[floor(w2 2^-32 len)]        (w3 unused)
 * The same seed, step and batch give the same masks; a different step (or example slot) gives
 * fresh positions. The last counter word is a constant tag, so these draws never coincide with the
 * Philox streams (counter words 2 and 3 zero) that dropout and philoxUniform use under the same
 * seed. `step` must be unique per drawn batch: with gradient accumulation use a micro-batch
 * counter, or the optimizer step with `exampleBase` = micro-batch index × micro-batch size.
 *
 * An example may get no selected token (a short text at pbar 0.15 often does); that is fine, the
 * loss is a mean over the batch's selected rows. If the whole batch gets none, the loss would be
 * undefined, so exactly one scored token is selected: the one with the highest m (first in batch
 * order on ties) for `l3`, a uniformly random scored token for `rtm` (drawn from counter
 * (0, 0, step, MASK_TAG.fallback)); its kind and random id come from its own draws as above. A batch
 * without any scored token yields no rows; the caller must skip it.
 */
import { philox4x32Into, splitU64 } from "../cpu/philox.ts";
import { MASK_TAG } from "../random/streams.ts";

export type MaskingMode = "l3" | "rtm";

const MASK_STREAM = MASK_TAG.token;
const FALLBACK_STREAM = MASK_TAG.fallback;

/** What became of a selected token. */
export const KIND_MASK = 0;
export const KIND_RANDOM = 1;
export const KIND_KEEP = 2;

const MASK_SHARE = 0.8;
const RANDOM_SHARE = 0.1;
const TWO_POW_24 = 2 ** -24;
const TWO_POW_32 = 2 ** -32;

export interface MaskingInput {
  /** Token ids of each example, unpadded or padded (length <= T). */
  ids: readonly ArrayLike<number>[];
  /** Per token: true (or 1) where it may be selected (not special, not pad). */
  scored: readonly ArrayLike<boolean | number>[];
  /** Per token mask probability (mode `l3`; see maskProbabilities). */
  maskProb?: readonly ArrayLike<number>[];
  /** Padded length (default: the longest example). */
  T?: number;
  /** Fills positions past each example's end. */
  padId: number;
}

export interface MaskingOptions {
  mode: MaskingMode;
  /** Selection probability for `rtm` (ignored by `l3`, whose m already averages pbar). */
  pbar: number;
  maskId: number;
  /** Replacement ids for the 10% random case, none special (see replacementIds). */
  randomIds: ArrayLike<number>;
  seed: number;
  /** Batch counter, unique per drawn batch, < 2^32. */
  step: number;
  /** Added to the example index in the counter (default 0). */
  exampleBase?: number;
}

export interface MaskedBatch {
  B: number;
  T: number;
  /** Corrupted ids, padded with padId. */
  ids: Uint32Array; // (B, T)
  /** Selected flat rows b*T + t, increasing. */
  rows: Uint32Array; // (N)
  /** Original ids at `rows` (the MLM targets). */
  targets: Uint32Array; // (N)
  /** KIND_MASK, KIND_RANDOM or KIND_KEEP per selected row. */
  kinds: Uint8Array; // (N)
}

/** The ids in [0, vocabSize) that are not special: candidates for the random replacement. */
export function replacementIds(vocabSize: number, isSpecial: (id: number) => boolean): Uint32Array {
  const out: number[] = [];
  for (let id = 0; id < vocabSize; id++) if (!isSpecial(id)) out.push(id);
  if (out.length === 0) throw new Error("every token id is special: no replacement ids");
  return Uint32Array.from(out);
}

function checkU32(x: number, what: string): void {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) {
    throw new Error(`${what} must be an integer in [0, 2^32), got ${x}`);
  }
}

/** Draws the masks of one batch; see the file comment for the exact rule. */
export function maskBatch(input: MaskingInput, opts: MaskingOptions): MaskedBatch {
  const { mode, pbar, seed, step } = opts;
  const exampleBase = opts.exampleBase ?? 0;
  const B = input.ids.length;
  const T = input.T ?? Math.max(0, ...input.ids.map((x) => x.length));
  checkInput(input, opts, B, T);
  const [k0, k1] = splitU64(seed, "masking seed");

  const ids = new Uint32Array(B * T).fill(input.padId);
  const rows: number[] = [];
  const words = new Uint32Array(4);
  // Best fallback candidate (l3: highest m) and the scored positions (rtm fallback).
  let bestRow = -1;
  let bestP = -1;
  let scoredCount = 0;

  const probOf = (b: number, t: number): number => {
    if (mode === "rtm") return pbar;
    const p = input.maskProb![b][t];
    if (!(p >= 0 && p <= 1)) throw new Error(`maskProb[${b}][${t}] = ${p} is not in [0, 1]`);
    return p;
  };

  for (let b = 0; b < B; b++) {
    const x = input.ids[b];
    const s = input.scored[b];
    if (x.length > T) throw new Error(`example ${b} has ${x.length} tokens, more than T = ${T}`);
    if (s.length !== x.length) {
      throw new Error(`example ${b}: scored has ${s.length} entries, ids ${x.length}`);
    }
    if (mode === "l3" && input.maskProb![b].length !== x.length) {
      throw new Error(
        `example ${b}: maskProb has ${input.maskProb![b].length} entries, ids ${x.length}`,
      );
    }
    for (let t = 0; t < x.length; t++) {
      ids[b * T + t] = x[t];
      if (!s[t]) continue;
      const p = probOf(b, t);
      scoredCount++;
      if (p > bestP) bestP = p, bestRow = b * T + t;
      philox4x32Into(words, t, exampleBase + b, step, MASK_STREAM, k0, k1);
      if ((words[0] >>> 8) * TWO_POW_24 < p) rows.push(b * T + t);
    }
  }

  if (rows.length === 0 && scoredCount > 0) {
    if (mode === "l3") rows.push(bestRow);
    else {
      philox4x32Into(words, 0, 0, step, FALLBACK_STREAM, k0, k1);
      const pick = Math.floor(words[0] * TWO_POW_32 * scoredCount);
      rows.push(nthScored(input, T, pick));
    }
  }

  return corrupt({ B, T, ids, rows: Uint32Array.from(rows) }, opts, k0, k1);
}

/** The validity checks of maskBatch's input (programming errors: plain Errors). */
function checkInput(input: MaskingInput, opts: MaskingOptions, B: number, T: number): void {
  const { mode, pbar, randomIds, step } = opts;
  if (mode !== "l3" && mode !== "rtm") throw new Error(`unknown masking mode ${mode}`);
  if (mode === "rtm" && !(pbar >= 0 && pbar <= 1)) throw new Error(`pbar must be in [0, 1]`);
  if (mode === "l3" && input.maskProb === undefined) throw new Error("l3 masking needs maskProb");
  if (input.scored.length !== B) {
    throw new Error(`scored has ${input.scored.length} rows, ids ${B}`);
  }
  if (input.maskProb && input.maskProb.length !== B) {
    throw new Error(`maskProb has ${input.maskProb.length} rows, ids ${B}`);
  }
  if (randomIds.length === 0) throw new Error("randomIds is empty");
  checkU32(step, "step");
  checkU32((opts.exampleBase ?? 0) + Math.max(0, B - 1), "exampleBase + example index");
  checkU32(Math.max(0, T - 1), "position");
}

/**
 * Each selected row becomes the mask id, a random id or stays (its own draws w1, w2); the
 * targets are the original ids. Overwrites `b.ids` at the selected rows.
 */
function corrupt(
  b: { B: number; T: number; ids: Uint32Array; rows: Uint32Array },
  opts: MaskingOptions,
  k0: number,
  k1: number,
): MaskedBatch {
  const { T, ids, rows } = b;
  const words = new Uint32Array(4);
  const n = rows.length;
  const out: MaskedBatch = { ...b, targets: new Uint32Array(n), kinds: new Uint8Array(n) };
  for (let k = 0; k < n; k++) {
    const row = rows[k];
    const e = Math.floor(row / T), t = row - e * T;
    philox4x32Into(words, t, (opts.exampleBase ?? 0) + e, opts.step, MASK_STREAM, k0, k1);
    out.targets[k] = ids[row];
    const u = (words[1] >>> 8) * TWO_POW_24;
    if (u < MASK_SHARE) {
      out.kinds[k] = KIND_MASK;
      ids[row] = opts.maskId;
    } else if (u < MASK_SHARE + RANDOM_SHARE) {
      out.kinds[k] = KIND_RANDOM;
      ids[row] = opts.randomIds[Math.floor(words[2] * TWO_POW_32 * opts.randomIds.length)];
    } else {
      out.kinds[k] = KIND_KEEP;
    }
  }
  return out;
}

/** The flat row of the `pick`-th scored token (0-based, batch order). */
function nthScored(input: MaskingInput, T: number, pick: number): number {
  let k = 0;
  for (let b = 0; b < input.ids.length; b++) {
    const s = input.scored[b];
    for (let t = 0; t < s.length; t++) {
      if (s[t] && k++ === pick) return b * T + t;
    }
  }
  throw new Error("unreachable: pick is below the scored count");
}
