/**
 * mPLT (SPEC §3) and MLM masking (SPEC §4): the mean of m is pbar with redistribution and below it
 * with clipping, the special cases, and the masking draws against their probabilities with
 * binomial bounds (5 standard deviations, so a correct implementation essentially never fails and
 * a wrong rate by a few percent does).
 */
import assert from "node:assert/strict";
import { complementOf, maskProbabilities, MAX_SURPRISAL, redistribute } from "../src/mask/mplt.ts";
import {
  KIND_KEEP,
  KIND_MASK,
  KIND_RANDOM,
  maskBatch,
  type MaskingInput,
  type MaskingOptions,
  replacementIds,
} from "../src/mask/masking.ts";
import { rng } from "./util.ts";

function mean(m: number[], plt: readonly (number | null)[]): number {
  let s = 0, n = 0;
  for (let i = 0; i < m.length; i++) if (plt[i] !== null) s += m[i], n++;
  return s / n;
}

/** A text's PLT: null for the two specials around it, values spread over (0, 1). */
function randomPlt(n: number, seed: number): (number | null)[] {
  const r = rng(seed);
  return [null, ...Array.from({ length: n }, () => r() ** 2), null];
}

/** Passes when an observed count is within 5 binomial standard deviations (+1) of n p. */
function assertBinomial(count: number, n: number, p: number, label: string): void {
  const sd = Math.sqrt(n * p * (1 - p));
  const dev = Math.abs(count - n * p);
  assert.ok(dev <= 5 * sd + 1, `${label}: ${count} of ${n}, expected ${n * p} ± ${5 * sd + 1}`);
}

Deno.test("mPLT: mean is pbar, m <= 1, specials 0, for both complements", () => {
  for (const complement of ["one-minus", "surprisal"] as const) {
    for (const [n, seed] of [[5, 1], [30, 2], [126, 3]]) {
      for (const pbar of [0.15, 0.3, 0.5]) {
        const plt = randomPlt(n, seed);
        const m = maskProbabilities(plt, { pbar, complement });
        const label = `${complement} n=${n} pbar=${pbar}`;
        assert.equal(m.length, plt.length);
        assert.equal(m[0], 0, label);
        assert.equal(m[m.length - 1], 0, label);
        assert.ok(m.every((x) => x >= 0 && x <= 1), `${label}: ${m}`);
        assert.ok(Math.abs(mean(m, plt) - pbar) < 1e-9, `${label}: mean ${mean(m, plt)}`);
      }
    }
  }
});

Deno.test("mPLT: without overflow, m = alpha c exactly as SPEC §3 writes it", () => {
  const plt = [null, 0.9, 0.5, 0.2, 0.7, null];
  for (const complement of ["one-minus", "surprisal"] as const) {
    const c = plt.slice(1, -1).map((p) => complementOf(p!, complement));
    const alpha = (c.length * 0.15) / c.reduce((a, b) => a + b, 0);
    const m = maskProbabilities(plt, { complement });
    assert.ok(alpha * Math.max(...c) < 1, "the case must not overflow");
    c.forEach((ci, k) => assert.ok(Math.abs(m[k + 1] - alpha * ci) < 1e-15, complement));
  }
  assert.ok(Math.abs(complementOf(0.5, "surprisal") - Math.LN2) < 1e-15);
  assert.equal(complementOf(0.25, "one-minus"), 0.75);
});

Deno.test("mPLT overflow: redistribution keeps the mean, clip (reference code) drops it", () => {
  // One uncertain token among 19 confident ones: alpha c_0 is about 2.9.
  const plt = [null, 1e-6, ...Array(19).fill(0.999), null];
  for (const complement of ["one-minus", "surprisal"] as const) {
    const red = maskProbabilities(plt, { complement, overflow: "redistribute" });
    const clip = maskProbabilities(plt, { complement, overflow: "clip" });
    assert.equal(red[1], 1, complement);
    assert.equal(clip[1], 1, complement);
    assert.ok(red.every((x) => x <= 1) && clip.every((x) => x <= 1), complement);
    assert.ok(Math.abs(mean(red, plt) - 0.15) < 1e-12, `${complement}: ${mean(red, plt)}`);
    assert.ok(mean(clip, plt) < 0.15 - 0.01, `${complement} clip mean ${mean(clip, plt)}`);
    // The excess goes equally to the others: they all rise by the same amount.
    const rise = red[2] - clip[2];
    assert.ok(rise > 0, complement);
    for (let i = 2; i < 21; i++) assert.ok(Math.abs(red[i] - clip[i] - rise) < 1e-12, complement);
    // Clip is min(1, alpha c), the reference code.
    const c = plt.slice(1, -1).map((p) => complementOf(p!, complement));
    const alpha = (c.length * 0.15) / c.reduce((a, b) => a + b, 0);
    c.forEach((ci, k) => assert.ok(Math.abs(clip[k + 1] - Math.min(1, alpha * ci)) < 1e-15));
  }
});

Deno.test("mPLT overflow: repeated redistribution when spreading pushes others over 1", () => {
  // c = [10, 6, 0.1, 0.1], pbar 0.6: m = [1.49, 0.89, 0.015, 0.015]; the first spread lifts the
  // second over 1, the second round caps it: m = [1, 1, 0.2, 0.2].
  const plt = [1 - 10 / 16, 1 - 6 / 16, 1 - 0.1 / 16, 1 - 0.1 / 16];
  const m = maskProbabilities(plt, { pbar: 0.6 });
  const want = [1, 1, 0.2, 0.2];
  m.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-12, `m = ${m}`));
  // Order is preserved and the sum conserved for many random overflow cases.
  const r = rng(11);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(r() * 40);
    const v = Array.from({ length: n }, () => r() ** 8 * 5);
    const total = v.reduce((a, b) => a + b, 0);
    const before = [...v];
    redistribute(v);
    assert.ok(v.every((x) => x <= 1 && x >= 0));
    if (total <= n) assert.ok(Math.abs(v.reduce((a, b) => a + b, 0) - total) < 1e-9 * n);
    else assert.ok(v.every((x) => x === 1));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) if (before[i] < before[j]) assert.ok(v[i] <= v[j]);
    }
  }
  // pbar = 1: every scored token is always masked.
  assert.deepEqual(maskProbabilities([null, 0.1, 0.99, 0.5, null], { pbar: 1 }), [0, 1, 1, 1, 0]);
});

Deno.test("mPLT: sum c = 0 gives pbar, no scored tokens give zeros, PLT = 0 stays finite", () => {
  assert.deepEqual(maskProbabilities([null, 1, 1, 1, null]), [0, 0.15, 0.15, 0.15, 0]);
  assert.deepEqual(maskProbabilities([null, 1, 1, null], { complement: "surprisal" }), [
    0,
    0.15,
    0.15,
    0,
  ]);
  assert.deepEqual(maskProbabilities([null, null]), [0, 0]);
  assert.deepEqual(maskProbabilities([]), []);
  assert.deepEqual(maskProbabilities([undefined, 0.5, undefined]), [0, 0.15, 0]);

  assert.equal(complementOf(0, "surprisal"), MAX_SURPRISAL);
  assert.ok(complementOf(1e-300, "surprisal") === MAX_SURPRISAL);
  assert.ok(complementOf(2 ** -149, "surprisal") <= MAX_SURPRISAL);
  const plt = [null, 0, 0.5, 0.9, ...Array(40).fill(1), null];
  const m = maskProbabilities(plt, { complement: "surprisal" });
  assert.ok(m.every(Number.isFinite), `${m}`);
  assert.ok(Math.abs(mean(m, plt) - 0.15) < 1e-12);
  assert.equal(m[1], 1);

  // A PLT one rounding step above 1 (f32 softmax) is clamped; a real out-of-range value throws.
  assert.deepEqual(maskProbabilities([1.0000001, 1]), [0.15, 0.15]);
  assert.throws(() => maskProbabilities([1.5]), /not a probability/);
  assert.throws(() => maskProbabilities([NaN]), /not a probability/);
  assert.throws(() => maskProbabilities([0.5], { pbar: 1.2 }), /pbar/);
});

// ---- masking ----

const V = 40;
const SPECIAL = new Set([0, 1, 2, 3, 4]); // pad 0, cls 1, sep 2, mask 3, unk 4
const PAD = 0, CLS = 1, SEP = 2, MASK = 3;
const isSpecial = (id: number) => SPECIAL.has(id);
const RANDOM_IDS = replacementIds(V, isSpecial);

/** B examples `[CLS] w.. [SEP]` of varied lengths with mPLT from random PLT. */
interface TestBatch extends MaskingInput {
  ids: number[][];
  scored: boolean[][];
  maskProb: number[][];
}

function makeBatch(B: number, seed: number): TestBatch {
  const r = rng(seed);
  const ids: number[][] = [], scored: boolean[][] = [], maskProb: number[][] = [];
  for (let b = 0; b < B; b++) {
    const n = 3 + Math.floor(r() * 14);
    const words = Array.from({ length: n }, () => 5 + Math.floor(r() * (V - 5)));
    const x = [CLS, ...words, SEP];
    ids.push(x);
    scored.push(x.map((id) => !isSpecial(id)));
    maskProb.push(maskProbabilities(x.map((id) => (isSpecial(id) ? null : r() ** 3))));
  }
  return { ids, scored, maskProb, padId: PAD };
}

const baseOpts: MaskingOptions = {
  mode: "l3",
  pbar: 0.15,
  maskId: MASK,
  randomIds: RANDOM_IDS,
  seed: 1234,
  step: 0,
};

Deno.test("masking: selection rates match m_i (L3) and pbar (RTM); never special or pad", () => {
  const input = makeBatch(6, 5);
  const T = Math.max(...input.ids.map((x) => x.length)) + 2; // extra padding columns
  const steps = 3000;
  for (const mode of ["l3", "rtm"] as const) {
    const counts = new Float64Array(input.ids.length * T);
    for (let step = 0; step < steps; step++) {
      const out = maskBatch({ ...input, T }, { ...baseOpts, mode, step });
      for (const row of out.rows) {
        const b = Math.floor(row / T), t = row % T;
        assert.ok(t < input.ids[b].length, `${mode}: selected a pad position`);
        assert.ok(input.scored[b][t], `${mode}: selected a special token`);
        counts[row]++;
      }
    }
    let total = 0, scoredTokens = 0;
    input.ids.forEach((x, b) =>
      x.forEach((_, t) => {
        if (!input.scored[b][t]) return;
        const p = mode === "l3" ? input.maskProb![b][t] : 0.15;
        assertBinomial(counts[b * T + t], steps, p, `${mode} rate at (${b}, ${t})`);
        total += counts[b * T + t];
        scoredTokens++;
      })
    );
    assertBinomial(total, steps * scoredTokens, 0.15, `${mode} overall rate`);
  }
});

Deno.test("masking: 80/10/10 split, targets, replacement ids never special", () => {
  const input = makeBatch(8, 9);
  const kinds = [0, 0, 0];
  const randomCounts = new Map<number, number>();
  let selected = 0;
  for (let step = 0; step < 2000; step++) {
    const out = maskBatch(input, { ...baseOpts, mode: "rtm", pbar: 0.3, step });
    assert.equal(out.ids.length, out.B * out.T);
    const isSelected = new Set(out.rows);
    for (let b = 0; b < out.B; b++) {
      for (let t = 0; t < out.T; t++) {
        const row = b * out.T + t;
        if (t >= input.ids[b].length) assert.equal(out.ids[row], PAD);
        else if (!isSelected.has(row)) assert.equal(out.ids[row], input.ids[b][t]);
      }
    }
    for (let k = 0; k < out.rows.length; k++) {
      const row = out.rows[k];
      if (k > 0) assert.ok(row > out.rows[k - 1], "rows increase");
      const b = Math.floor(row / out.T), t = row % out.T;
      assert.equal(out.targets[k], input.ids[b][t]);
      const id = out.ids[row];
      kinds[out.kinds[k]]++;
      if (out.kinds[k] === KIND_MASK) assert.equal(id, MASK);
      if (out.kinds[k] === KIND_KEEP) assert.equal(id, out.targets[k]);
      if (out.kinds[k] === KIND_RANDOM) {
        assert.ok(!isSpecial(id) && id < V, `random replacement ${id} is special`);
        randomCounts.set(id, (randomCounts.get(id) ?? 0) + 1);
      }
    }
    selected += out.rows.length;
  }
  assertBinomial(kinds[KIND_MASK], selected, 0.8, "mask share");
  assertBinomial(kinds[KIND_RANDOM], selected, 0.1, "random share");
  assertBinomial(kinds[KIND_KEEP], selected, 0.1, "keep share");
  // Uniform over the non-special ids.
  for (const id of RANDOM_IDS) {
    assertBinomial(
      randomCounts.get(id) ?? 0,
      kinds[KIND_RANDOM],
      1 / RANDOM_IDS.length,
      `id ${id}`,
    );
  }
  assert.deepEqual(
    [...replacementIds(8, (id) => id < 3 || id === 6)],
    [3, 4, 5, 7],
  );
});

Deno.test("masking: same seed and step give identical masks; other steps and seeds differ", () => {
  const input = makeBatch(8, 21);
  for (const mode of ["l3", "rtm"] as const) {
    const a = maskBatch(input, { ...baseOpts, mode, step: 7 });
    const b = maskBatch(input, { ...baseOpts, mode, step: 7 });
    assert.deepEqual(a, b);
    const c = maskBatch(input, { ...baseOpts, mode, step: 8 });
    const d = maskBatch(input, { ...baseOpts, mode, step: 7, seed: 99 });
    assert.notDeepEqual([...a.rows], [...c.rows], `${mode}: step changes the positions`);
    assert.notDeepEqual([...a.rows], [...d.rows], `${mode}: seed changes the positions`);
  }
  // The counter names the example by exampleBase + b: a micro-batch of example b alone with
  // exampleBase b draws what example b draws in the full batch (unless it draws nothing, when
  // the one-example batch falls back to a single token).
  let compared = 0;
  for (let step = 0; step < 5; step++) {
    const full = maskBatch(input, { ...baseOpts, step });
    for (let b = 0; b < input.ids.length; b++) {
      const one = maskBatch({
        ids: [input.ids[b]],
        scored: [input.scored[b]],
        maskProb: [input.maskProb[b]],
        T: full.T,
        padId: PAD,
      }, { ...baseOpts, step, exampleBase: b });
      const own = [...full.rows].filter((r) => Math.floor(r / full.T) === b);
      if (own.length === 0) {
        assert.equal(one.rows.length, 1);
        continue;
      }
      assert.deepEqual([...one.rows], own.map((r) => r - b * full.T));
      assert.deepEqual([...one.ids], [...full.ids.subarray(b * full.T, (b + 1) * full.T)]);
      compared++;
    }
  }
  assert.ok(compared > 10, `only ${compared} examples compared`);
});

Deno.test("masking: an empty selection falls back to one token; no scored tokens, no rows", () => {
  const ids = [[CLS, 10, 11, 12, SEP], [CLS, 13, 14, SEP]];
  const scored = ids.map((x) => x.map((id) => !isSpecial(id)));
  // L3: every m is 0 except a tiny one; draws nearly always miss, the fallback takes the highest.
  const maskProb = [[0, 0, 1e-9, 0, 0], [0, 0, 0, 0]];
  for (let step = 0; step < 20; step++) {
    const out = maskBatch({ ids, scored, maskProb, padId: PAD }, { ...baseOpts, step });
    assert.deepEqual([...out.rows], [2]);
    assert.deepEqual([...out.targets], [11]);
  }
  // RTM at pbar 0: one uniformly random scored token per batch.
  const seen = new Map<number, number>();
  const steps = 1000;
  for (let step = 0; step < steps; step++) {
    const out = maskBatch({ ids, scored, padId: PAD }, { ...baseOpts, mode: "rtm", pbar: 0, step });
    assert.equal(out.rows.length, 1);
    const row = out.rows[0], b = Math.floor(row / out.T), t = row % out.T;
    assert.ok(scored[b][t], `fallback picked an unscored position ${row}`);
    seen.set(row, (seen.get(row) ?? 0) + 1);
  }
  assert.equal(seen.size, 5);
  for (const count of seen.values()) assertBinomial(count, steps, 1 / 5, "rtm fallback");
  // Nothing scored: nothing to select.
  const none = maskBatch(
    { ids: [[CLS, SEP]], scored: [[false, false]], maskProb: [[0, 0]], padId: PAD },
    baseOpts,
  );
  assert.equal(none.rows.length, 0);
  assert.deepEqual([...none.ids], [CLS, SEP]);
});

Deno.test("masking: input checks", () => {
  const input = makeBatch(2, 3);
  assert.throws(() => maskBatch({ ...input, maskProb: undefined }, baseOpts), /needs maskProb/);
  assert.throws(() => maskBatch({ ...input, T: 2 }, baseOpts), /more than T/);
  assert.throws(() => maskBatch(input, { ...baseOpts, step: -1 }), /step/);
  assert.throws(
    () => maskBatch({ ...input, maskProb: input.maskProb!.map((m) => m.map(() => 2)) }, baseOpts),
    /not in \[0, 1\]/,
  );
});
