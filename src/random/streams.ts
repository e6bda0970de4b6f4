/**
 * Every random stream l3mask draws from, in one table. A run's numbers are a function of its seed
 * and of these ids, so an id is never renumbered or reused: changing one changes every run that
 * draws from it (and `bench/same_metrics.sh` against an earlier commit would show it).
 *
 * All draws are Philox4x32-10 (src/cpu/philox.ts) keyed by the run's seed. Three families:
 * - shuffles: `shuffled(n, seed, stream, epoch)`, counter base (stream · 2^20 + epoch) · 2^24;
 * - per-token masking draws: counter word 3 is a constant tag (src/mask/masking.ts);
 * - derived 32-bit seeds (dropout, per-site dropout, fresh heads, held-out MLM masks), each a fixed
 *   function below.
 * Weight initialisation draws parameter `index` from counter base index · 2^32
 * (src/model/weights.ts `initParam`).
 */
import { philoxUniform } from "../cpu/philox.ts";

/** Shuffle stream ids (`shuffled`'s `stream`). */
export const SHUFFLE = {
  /** Primary-task batch order per epoch (`train`). */
  primary: 1,
  /** MLM-task batch order per epoch (`train`, MTL modes). */
  mlm: 2,
  /** Dev sample for META-TARTAN's dev gradient (draw per step). */
  dev: 3,
  /** The `max_train_examples` subset of the training rows. */
  subset: 9,
  /** Primary-task order in the fine-tuning phase of the TAPT → fine-tune schedule. */
  finetunePrimary: 11,
  /** `pretrain`: the held-out split of the packed corpus. */
  pretrainSplit: 17,
  /** `pretrain`: batch order per epoch. */
  pretrainOrder: 21,
  /** Built-in spam corpus: spam rows, ham rows, and the mixed split order (epoch = split index). */
  spam: 31,
  ham: 32,
  spamMix: 33,
} as const;

/** Counter word 3 of masking draws: per-token draws ("MASK") and the empty-batch fallback ("MASL"). */
export const MASK_TAG = {
  token: 0x4d41534b,
  fallback: 0x4d41534c,
} as const;

/** A permutation of 0..n-1 drawn from (seed, stream, epoch): Fisher-Yates on Philox uniforms. */
export function shuffled(n: number, seed: number, stream: number, epoch: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  const base = (stream * 2 ** 20 + epoch) * 2 ** 24;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(philoxUniform(seed, base + i) * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The dropout seed of one (optimizer step, micro-batch, task) of `train`; task 0 primary, 1 MLM. */
export function dropoutSeed(seed: number, step: number, micro: number, task: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 2654435761) + step * 4099 + micro * 7 + task) >>> 0;
}

/** splitmix32: a per-site dropout seed from the step seed, so sites draw independent masks. */
export function siteSeed(seed: number, site: number): number {
  let z = (seed + Math.imul(site + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** The init seed of META-TARTAN's fresh dev head at optimizer step `step`. */
export function devHeadSeed(seed: number, step: number): number {
  return seed + 7919 * (step + 1);
}

/** Dropout seed of META-TARTAN's dev-head step `headStep` at optimizer step `step`. */
export function devHeadDropoutSeed(step: number, headStep: number): number {
  return (step * 131 + headStep) >>> 0;
}

/**
 * Masks of the held-out MLM loss (`pretrain`): fixed by the seed so the loss is comparable across
 * steps. Returns the masking seed and the masking `step` of the batch starting at row `start`.
 */
export function heldOutMaskDraw(seed: number, start: number): { seed: number; step: number } {
  return { seed: seed ^ 0x5eed, step: 0x7fff0000 + start };
}
