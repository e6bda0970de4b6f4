/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
 * counter-based generator behind dropout. The GPU copy lives in shaders/dropout_forward.wgsl;
 * both must give the same words for the same (counter, key), which tests/dropout_test.ts checks
 * (and this file against Random123's known-answer vectors).
 *
 * All arithmetic is exact u32: the low product word is Math.imul, the high word is built from
 * 16-bit limbs so no intermediate exceeds 2^53.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9; // golden ratio
const W1 = 0xbb67ae85; // sqrt(3) - 1
const ROUNDS = 10;
const TWO_POW_32 = 4294967296;

/** High 32 bits of the 64-bit product of two u32 values. */
export function mulhi32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16;
  const bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh; // each < 2^32, exact
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff); // carry column of bits 16..31
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1), written into `out` (4 words).
 * Round: (c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0));
 * the key is bumped by (W0, W1) between rounds.
 */
export function philox4x32Into(
  out: Uint32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): Uint32Array {
  c0 >>>= 0, c1 >>>= 0, c2 >>>= 0, c3 >>>= 0, k0 >>>= 0, k1 >>>= 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
  return out;
}

/** Philox4x32-10 of a 4-word counter under a 2-word key. */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>): Uint32Array {
  return philox4x32Into(
    new Uint32Array(4),
    counter[0],
    counter[1],
    counter[2],
    counter[3],
    key[0],
    key[1],
  );
}

/** Splits a non-negative integer below 2^53 into its (low, high) u32 words. */
export function splitU64(x: number, what = "value"): [number, number] {
  if (!Number.isSafeInteger(x) || x < 0) {
    throw new Error(`${what} must be an integer in [0, 2^53), got ${x}`);
  }
  return [x % TWO_POW_32, Math.floor(x / TWO_POW_32)];
}

const scratch = new Uint32Array(4);

/**
 * The uniform in [0, 1) drawn for `counter` under `seed`: key = (seed low word, seed high word),
 * counter = (counter low word, counter high word, 0, 0), u = (first output word >> 8) * 2^-24.
 * For seed and counter below 2^32 this is key (seed, 0), counter (counter, 0, 0, 0).
 * Exactly representable in f32, so GPU and host agree bit for bit.
 */
export function philoxUniform(seed: number, counter: number): number {
  const [k0, k1] = splitU64(seed, "philox seed");
  const [c0, c1] = splitU64(counter, "philox counter");
  philox4x32Into(scratch, c0, c1, 0, 0, k0, k1);
  return (scratch[0] >>> 8) * 2 ** -24;
}

/**
 * Dropout's uniform for element `index` under `seed`: word (index mod 4) of Philox4x32-10 under
 * key (seed low word, seed high word) at counter (floor(index / 4) low word, high word, 0, 0),
 * u = (word >> 8) * 2^-24. One generator call serves four consecutive elements (all four output
 * words are used), so elements 4c .. 4c + 3 share counter c.
 */
export function philoxElementUniform(seed: number, index: number): number {
  const [k0, k1] = splitU64(seed, "philox seed");
  const [c0, c1] = splitU64(Math.floor(index / 4), "philox counter");
  philox4x32Into(scratch, c0, c1, 0, 0, k0, k1);
  return (scratch[index % 4] >>> 8) * 2 ** -24;
}

/** philoxUniform(seed, start + i) for i < n, into `out` (allocated when absent). */
export function philoxUniforms(
  seed: number,
  start: number,
  n: number,
  out: Float64Array | Float32Array = new Float64Array(n),
): Float64Array | Float32Array {
  splitU64(start + n, "philox counter");
  for (let i = 0; i < n; i++) out[i] = philoxUniform(seed, start + i);
  return out;
}
