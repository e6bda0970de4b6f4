import * as cpu from "../src/cpu/attention.ts";
import * as cpuDropout from "../src/cpu/dropout.ts";
import { attentionBackward, attentionForward } from "./test_kernels.ts";
import {
  attentionContext,
  attentionContextBackward,
  type AttentionDims,
  attentionQuery,
  attentionScores,
  attentionScoresBackward,
} from "../src/kernels/attention.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randn, uniform } from "./util.ts";

const MASKED = -1e9;

interface Shape {
  name: string;
  dims: AttentionDims;
  /** Real tokens per batch row; keys at or past the length are padding. */
  lens: number[];
}

const SHAPES: Shape[] = [
  { name: "tiny", dims: { B: 1, T: 3, NH: 1, HS: 4 }, lens: [2] },
  { name: "odd", dims: { B: 3, T: 37, NH: 3, HS: 20 }, lens: [37, 23, 1] },
  // T % 4 == 0 (the vec4 paths) but not a multiple of the 16-wide tiles.
  { name: "aligned T=20", dims: { B: 2, T: 20, NH: 2, HS: 8 }, lens: [20, 7] },
  { name: "bert-base", dims: { B: 2, T: 128, NH: 12, HS: 64 }, lens: [128, 77] },
];

function maskFor(T: number, lens: number[], value = MASKED): Float32Array {
  const m = new Float32Array(lens.length * T);
  lens.forEach((len, b) => {
    for (let j = len; j < T; j++) m[b * T + j] = value;
  });
  return m;
}

function sizes({ B, T, NH, HS }: AttentionDims) {
  return { btc: B * T * NH * HS, btt: B * NH * T * T };
}

/** Probabilities: masked keys get (exactly) zero and every row sums to 1. */
function checkProbabilities(att: Float32Array, { B, T, NH }: AttentionDims, lens: number[]) {
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const o = ((b * NH + h) * T + i) * T;
        let sum = 0;
        for (let j = 0; j < T; j++) {
          sum += att[o + j];
          if (j >= lens[b] && !(att[o + j] <= 1e-30)) {
            throw new Error(`att[${b},${h},${i},${j}] = ${att[o + j]} for a masked key`);
          }
        }
        if (!(Math.abs(sum - 1) <= 1e-5)) throw new Error(`row (${b},${h},${i}) sums to ${sum}`);
      }
    }
  }
}

for (const { name, dims, lens } of SHAPES) {
  const { btc, btt } = sizes(dims);

  gpuTest(`attention forward GPU vs CPU (${name})`, async (ctx) => {
    const q = randn(btc, 1, 1.5), k = randn(btc, 2, 1.5), v = randn(btc, 3);
    const mask = maskFor(dims.T, lens);
    // Arbitrary weights (as after dropout): not rows of probabilities, some exact zeros.
    const w = uniform(btt, 4, -0.5, 1).map((x) => (x < 0 ? 0 : x));
    const gq = ctx.upload(q), gk = ctx.upload(k), gv = ctx.upload(v), gmask = ctx.upload(mask);
    const gw = ctx.upload(w);
    const gatt = ctx.empty([btt]), gout = ctx.empty([btc]), gatt2 = ctx.empty([btt]);
    const gctx = ctx.empty([btc]), gout2 = ctx.empty([btc]);
    attentionForward(ctx, gout, gatt, gq, gk, gv, gmask, dims);
    attentionScores(ctx, gatt2, gq, gk, gmask, dims);
    attentionContext(ctx, gctx, gw, gv, dims);
    attentionForward(ctx, gout2, gatt2, gq, gk, gv, gmask, dims);
    const [att, out, att2, outw, out2] = await ctx.readMany([gatt, gout, gatt2, gctx, gout2]);

    const eAtt = new Float64Array(btt), eOut = new Float64Array(btc), eOutw = new Float64Array(btc);
    cpu.attentionForward(eOut, eAtt, q, k, v, mask, dims);
    cpu.attentionContext(eOutw, w, v, dims);
    assertClose(att, eAtt, { atol: 2e-7, rtol: 1e-5, label: "att" });
    checkProbabilities(att, dims, lens);
    assertClose(out, eOut, { atol: 2e-6, rtol: 1e-5, label: "out" });
    assertClose(outw, eOutw, { atol: 1e-5, rtol: 1e-5, label: "out (arbitrary weights)" });
    assertClose(att2, att, { atol: 0, rtol: 0, label: "att, second run (determinism)" });
    assertClose(out2, out, { atol: 0, rtol: 0, label: "out, second run (determinism)" });
    ctx.release(gq, gk, gv, gmask, gw, gatt, gout, gatt2, gctx, gout2);
  });

  gpuTest(`attention backward GPU vs CPU (${name})`, async (ctx) => {
    const q = randn(btc, 11, 1.5), k = randn(btc, 12, 1.5), v = randn(btc, 13);
    const dout = randn(btc, 14), dattIn = randn(btt, 15);
    const mask = maskFor(dims.T, lens);
    const att = new Float32Array(btt);
    cpu.attentionScores(att, q, k, mask, dims);
    const gq = ctx.upload(q), gk = ctx.upload(k), gv = ctx.upload(v), gdout = ctx.upload(dout);
    const gatt = ctx.upload(att), gdattIn = ctx.upload(dattIn);
    const gdatt = ctx.empty([btt]), gdv = ctx.empty([btc]);
    const gdq = ctx.empty([btc]), gdk = ctx.empty([btc]);
    const gdq2 = ctx.empty([btc]), gdk2 = ctx.empty([btc]), gdv2 = ctx.empty([btc]);
    attentionContextBackward(ctx, gdatt, gdv, gdout, gatt, gv, dims);
    attentionScoresBackward(ctx, gdq, gdk, gdattIn, gatt, gq, gk, dims);
    attentionBackward(ctx, gdq2, gdk2, gdv2, gdout, gq, gk, gv, gatt, dims);
    const gdq3 = ctx.empty([btc]), gdk3 = ctx.empty([btc]), gdv3 = ctx.empty([btc]);
    attentionBackward(ctx, gdq3, gdk3, gdv3, gdout, gq, gk, gv, gatt, dims);
    const [datt, dv, dq, dk, dq2, dk2, dv2, dq3, dk3, dv3] = await ctx.readMany([
      gdatt,
      gdv,
      gdq,
      gdk,
      gdq2,
      gdk2,
      gdv2,
      gdq3,
      gdk3,
      gdv3,
    ]);

    const eDatt = new Float64Array(btt), eDv = new Float64Array(btc);
    const eDq = new Float64Array(btc), eDk = new Float64Array(btc);
    cpu.attentionContextBackward(eDatt, eDv, dout, att, v, dims);
    cpu.attentionScoresBackward(eDq, eDk, dattIn, att, q, k, dims);
    assertClose(datt, eDatt, { atol: 1e-5, rtol: 1e-5, label: "datt" });
    assertClose(dv, eDv, { atol: 1e-5, rtol: 1e-5, label: "dv" });
    assertClose(dq, eDq, { atol: 1e-5, rtol: 1e-4, label: "dq" });
    assertClose(dk, eDk, { atol: 1e-5, rtol: 1e-4, label: "dk" });

    const cDq = new Float64Array(btc), cDk = new Float64Array(btc), cDv = new Float64Array(btc);
    cpu.attentionBackward(cDq, cDk, cDv, dout, q, k, v, att, dims);
    assertClose(dq2, cDq, { atol: 1e-5, rtol: 1e-4, label: "dq (attentionBackward)" });
    assertClose(dk2, cDk, { atol: 1e-5, rtol: 1e-4, label: "dk (attentionBackward)" });
    assertClose(dv2, cDv, { atol: 1e-5, rtol: 1e-5, label: "dv (attentionBackward)" });
    assertClose(dq3, dq2, { atol: 0, rtol: 0, label: "dq, second run (determinism)" });
    assertClose(dk3, dk2, { atol: 0, rtol: 0, label: "dk, second run (determinism)" });
    assertClose(dv3, dv2, { atol: 0, rtol: 0, label: "dv, second run (determinism)" });
    ctx.release(gq, gk, gv, gdout, gatt, gdattIn, gdatt, gdv, gdq, gdk, gdq2, gdk2, gdv2);
    ctx.release(gdq3, gdk3, gdv3);
  });
}

for (const { name, dims, lens } of SHAPES) {
  const { btc, btt } = sizes(dims);
  gpuTest(
    `attention backward with folded-in dropout GPU vs CPU, and vs dropout then backward (${name})`,
    async (ctx) => {
      const q = randn(btc, 21, 1.5), k = randn(btc, 22, 1.5), dattIn = randn(btt, 23);
      const mask = maskFor(dims.T, lens);
      const att = new Float32Array(btt);
      cpu.attentionScores(att, q, k, mask, dims);
      // The forward's dropout of the probabilities (a quarter dropped: many of both kinds).
      const p = 0.25, d = { n: btt, p, seed: 7, offset: 0 };
      const dropped = new Float32Array(btt);
      cpuDropout.dropoutForward(dropped, att, d);
      const gq = ctx.upload(q), gk = ctx.upload(k), gatt = ctx.upload(att);
      const gdatt = ctx.upload(dattIn), gdropped = ctx.upload(dropped);
      const gdq = ctx.empty([btc]), gdk = ctx.empty([btc]);
      attentionScoresBackward(ctx, gdq, gdk, gdatt, gatt, gq, gk, dims, { dropped: gdropped, p });
      const [dq, dk] = await ctx.readMany([gdq, gdk]);
      const eDq = new Float64Array(btc), eDk = new Float64Array(btc);
      cpu.attentionScoresBackward(eDq, eDk, dattIn, att, q, k, dims, { dropped, p });
      assertClose(dq, eDq, { atol: 1e-5, rtol: 1e-4, label: "dq" });
      assertClose(dk, eDk, { atol: 1e-5, rtol: 1e-4, label: "dk" });
      // The reference folds the dropout's backward in by the dropped values' zeros; that is the
      // generator's mask (dropoutBackward) followed by the plain softmax backward.
      const dattRaw = new Float64Array(btt);
      cpuDropout.dropoutBackward(dattRaw, dattIn, d);
      const cDq = new Float64Array(btc), cDk = new Float64Array(btc);
      cpu.attentionScoresBackward(cDq, cDk, dattRaw, att, q, k, dims);
      assertClose(eDq, cDq, { atol: 0, rtol: 0, label: "dq (mask from zeros vs generator)" });
      assertClose(eDk, cDk, { atol: 0, rtol: 0, label: "dk (mask from zeros vs generator)" });
      ctx.release(gq, gk, gatt, gdatt, gdropped, gdq, gdk);
    },
  );
}

/** Query rows (sequence seq[r], position pos[r]) of a (B, T, C) tensor, as (R, C). */
function pickRows(
  x: Float32Array | Float64Array,
  seq: Uint32Array,
  pos: number[],
  T: number,
  C: number,
) {
  const out = new Float64Array(seq.length * C);
  seq.forEach((b, r) => {
    const at = (b * T + pos[r]) * C;
    out.set(x.subarray(at, at + C), r * C);
  });
  return out;
}

for (const { name, dims, lens } of SHAPES) {
  gpuTest(`attention query rows GPU vs CPU, and vs full attention (${name})`, async (ctx) => {
    const { B, T, NH, HS } = dims;
    const C = NH * HS, btc = B * T * C;
    const q = randn(btc, 41, 1.5), k = randn(btc, 42, 1.5), v = randn(btc, 43);
    const mask = maskFor(T, lens);
    // Query rows: sequence 0 has none (when there are others), sequences b ≡ 1 (mod 3) two (the
    // last real row and row 0), the rest one: a real row or a padding row.
    const seq: number[] = [], pos: number[] = [];
    lens.forEach((len, b) => {
      if (b === 0 && B > 1) return;
      seq.push(b);
      pos.push(b % 2 === 0 ? len - 1 : Math.min(T - 1, len));
      if (b % 3 === 1) {
        seq.push(b);
        pos.push(0);
      }
    });
    const R = seq.length;
    const seqs = Uint32Array.from(seq);
    const qs = Float32Array.from(pickRows(q, seqs, pos, T, C));
    const gq = ctx.upload(qs), gk = ctx.upload(k), gv = ctx.upload(v), gmask = ctx.upload(mask);
    const gseq = ctx.upload(seqs);
    const gout = ctx.empty([R * C]), gout2 = ctx.empty([R * C]);
    attentionQuery(ctx, gout, gq, gk, gv, gmask, gseq, dims);
    attentionQuery(ctx, gout2, gq, gk, gv, gmask, gseq, dims);
    const [out, out2] = await ctx.readMany([gout, gout2]);
    const expect = new Float64Array(R * C);
    cpu.attentionQuery(expect, qs, k, v, mask, seqs, dims);
    assertClose(out, expect, { atol: 2e-6, rtol: 1e-5, label: "out" });
    assertClose(out2, out, { atol: 0, rtol: 0, label: "out, second run (determinism)" });
    // The CPU reference is the full attention (whose backward is checked above) at those rows.
    const full = new Float64Array(btc), att = new Float64Array(B * NH * T * T);
    cpu.attentionForward(full, att, q, k, v, mask, dims);
    assertClose(expect, pickRows(full, seqs, pos, T, C), {
      atol: 1e-12,
      rtol: 1e-10,
      label: "query rows vs full attention",
    });
    // A row alone gives the same bits as among the others (no dependence on the other rows).
    const last = R - 1;
    const g1 = ctx.upload(qs.slice(last * C)), s1 = ctx.upload(seqs.slice(last));
    const o1 = ctx.empty([C]);
    attentionQuery(ctx, o1, g1, gk, gv, gmask, s1, dims);
    assertClose(await ctx.read(o1), out.subarray(last * C), { atol: 0, rtol: 0, label: "alone" });
    ctx.release(gq, gk, gv, gmask, gseq, gout, gout2, g1, s1, o1);
  });
}

gpuTest("attention query row: -inf masks give no NaN; limits are checked", async (ctx) => {
  const dims = { B: 3, T: 11, NH: 2, HS: 8 };
  const { T } = dims;
  const C = 16, btc = 3 * T * C;
  const q = randn(3 * C, 51), k = randn(btc, 52), v = randn(btc, 53);
  const mask = new Float32Array(3 * T);
  for (let j = 0; j < T; j++) {
    mask[j] = j >= 4 ? -Infinity : 0;
    mask[T + j] = -Infinity;
    mask[2 * T + j] = MASKED;
  }
  const gq = ctx.upload(q), gk = ctx.upload(k), gv = ctx.upload(v), gmask = ctx.upload(mask);
  const gout = ctx.empty([3 * C]);
  const seq = Uint32Array.from([0, 1, 2]), gseq = ctx.upload(seq);
  attentionQuery(ctx, gout, gq, gk, gv, gmask, gseq, dims);
  const out = await ctx.read(gout);
  if (out.some(Number.isNaN)) throw new Error("NaN in attention query output");
  const expect = new Float64Array(3 * C);
  cpu.attentionQuery(expect, q, k, v, mask, seq, dims);
  assertClose(out.subarray(0, C), expect.subarray(0, C), { atol: 2e-6, rtol: 1e-5, label: "b0" });
  // Every key -inf: clamped to the lowest score, uniform weights: the mean of the value rows.
  const mean = new Float64Array(C);
  for (let j = 0; j < T; j++) for (let d = 0; d < C; d++) mean[d] += v[(T + j) * C + d] / T;
  assertClose(out.subarray(C, 2 * C), mean, { atol: 2e-6, rtol: 1e-5, label: "b1 (uniform)" });
  const big = { B: 1, T: 513, NH: 1, HS: 4 };
  const t4 = ctx.empty([4]), tk = ctx.empty([513 * 4]), tm = ctx.empty([513]);
  const ts = ctx.upload(new Uint32Array(1));
  let msg = "";
  try {
    attentionQuery(ctx, t4, t4, tk, tk, tm, ts, big);
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes("T = 513")) throw new Error(`no limit error for T = 513: '${msg}'`);
  ctx.release(gq, gk, gv, gmask, gseq, gout, t4, tk, tm, ts);
});

// T = 11: the scalar paths; T = 12: the vec4 ones (rows 16-byte aligned).
for (const T of [11, 12]) {
  gpuTest(`attention: fully masked rows and -inf masks give no NaN (T = ${T})`, async (ctx) => {
    const dims = { B: 3, T, NH: 2, HS: 8 };
    const { btc, btt } = sizes(dims);
    const q = randn(btc, 31), k = randn(btc, 32), v = randn(btc, 33);
    // Row 0: every key masked with -1e9. In f32, -1e9 + score rounds to -1e9 (its ulp is 64), so
    // the row is uniform, as in PyTorch; the f64 reference keeps the scores, so only no-NaN and
    // uniformity are checked there. Row 1: partial -inf mask. Row 2: every key -inf (clamped to the
    // lowest finite score, so uniform too).
    const { NH } = dims;
    const mask = new Float32Array(dims.B * T);
    for (let j = 0; j < T; j++) {
      mask[j] = MASKED;
      mask[T + j] = j >= 4 ? -Infinity : 0;
      mask[2 * T + j] = -Infinity;
    }
    const gq = ctx.upload(q), gk = ctx.upload(k), gv = ctx.upload(v), gmask = ctx.upload(mask);
    const gatt = ctx.empty([btt]), gout = ctx.empty([btc]);
    attentionForward(ctx, gout, gatt, gq, gk, gv, gmask, dims);
    const [att, out] = await ctx.readMany([gatt, gout]);
    if (att.some(Number.isNaN) || out.some(Number.isNaN)) {
      throw new Error("NaN in attention output");
    }
    const eAtt = new Float64Array(btt), eOut = new Float64Array(btc);
    cpu.attentionForward(eOut, eAtt, q, k, v, mask, dims);
    const attRow = NH * T * T, outRow = T * NH * dims.HS;
    assertClose(att.subarray(attRow), eAtt.subarray(attRow), {
      atol: 2e-7,
      rtol: 1e-5,
      label: "att (rows 1, 2)",
    });
    assertClose(out.subarray(outRow), eOut.subarray(outRow), {
      atol: 2e-6,
      rtol: 1e-5,
      label: "out (rows 1, 2)",
    });
    const uniformRows = [...att.subarray(0, attRow), ...att.subarray(2 * attRow)];
    assertClose(uniformRows, new Float32Array(uniformRows.length).fill(1 / T), {
      atol: 1e-7,
      rtol: 0,
      label: "att of fully masked rows (uniform)",
    });
    ctx.release(gq, gk, gv, gmask, gatt, gout);
  });
}

Deno.test("attention CPU backward matches finite differences (with a mask)", () => {
  const dims = { B: 2, T: 5, NH: 2, HS: 4 };
  const { btc, btt } = sizes(dims);
  const q = f64(randn(btc, 41)), k = f64(randn(btc, 42)), v = f64(randn(btc, 43));
  const w = f64(randn(btc, 44));
  const mask = f64(maskFor(dims.T, [5, 3]));
  const lossOf = (qq: Float64Array, kk: Float64Array, vv: Float64Array) => {
    const out = new Float64Array(btc), att = new Float64Array(btt);
    cpu.attentionForward(out, att, qq, kk, vv, mask, dims);
    return dot(out, w);
  };
  const att = new Float64Array(btt), out = new Float64Array(btc);
  cpu.attentionForward(out, att, q, k, v, mask, dims);
  const dq = new Float64Array(btc), dk = new Float64Array(btc), dv = new Float64Array(btc);
  cpu.attentionBackward(dq, dk, dv, w, q, k, v, att, dims);
  const opts = { samples: btc, atol: 1e-8, rtol: 1e-6 };
  checkGradient((x) => lossOf(x, k, v), q, dq, { ...opts, label: "dq" });
  checkGradient((x) => lossOf(q, x, v), k, dk, { ...opts, label: "dk" });
  checkGradient((x) => lossOf(q, k, x), v, dv, { ...opts, label: "dv" });
  // Keys past the length get no gradient at all.
  for (let j = 3; j < 5; j++) {
    for (let c = 0; c < dims.NH * dims.HS; c++) {
      const g = dk[(dims.T + j) * dims.NH * dims.HS + c];
      if (g !== 0) throw new Error(`dk of masked key ${j} is ${g}`);
    }
  }

  // The weights' gradient on its own (attention weights as a free input, as after dropout).
  const a = f64(uniform(btt, 45, 0, 1));
  const loss2 = (x: Float64Array) => {
    const o = new Float64Array(btc);
    cpu.attentionContext(o, x, v, dims);
    return dot(o, w);
  };
  const datt = new Float64Array(btt), dv2 = new Float64Array(btc);
  cpu.attentionContextBackward(datt, dv2, w, a, v, dims);
  checkGradient(loss2, a, datt, { ...opts, samples: btt, label: "datt" });
});
