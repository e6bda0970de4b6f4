import * as cpu from "../src/cpu/norm.ts";
import { ChunkedTensor } from "../src/gpu/chunked.ts";
import type { GpuContext } from "../src/gpu/context.ts";
import type { GpuTensor } from "../src/gpu/tensor.ts";
import {
  clipFactor,
  cosineSimilarity,
  dotSums,
  globalNormClip,
  sumSquares,
} from "../src/kernels/norm.ts";
import { dotProduct, flatTensors, packScalars, scaleByScalar } from "./test_kernels.ts";
import { assertClose, dot, f64, gpuTest, randInt, randn } from "./util.ts";

/**
 * A parameter list with the awkward sizes: empty, single values, around the workgroup (64) and
 * chunk (16384) sizes, roberta-base biases, LayerNorm and matrices; 43 tensors, so sums cross
 * several 15-tensor (and 7-pair) dispatches.
 */
const SIZES = [
  1,
  0,
  7,
  63,
  64,
  65,
  1037,
  16383,
  16384,
  16385,
  3 * 16384 + 5,
  768 * 3072,
  ...Array.from({ length: 24 }, (_, i) => [768, 768, 768 * 768, 3072, 2304][i % 5]),
  768 * 768 + 1,
  2,
  3,
  5,
  11,
  4099,
  257,
];
const TOTAL = SIZES.reduce((a, b) => a + b, 0);

/** Values in {-1, 0, 1}: every partial sum is a small integer, exact in f32. */
function ternary(n: number, seed: number): Float32Array {
  return Float32Array.from(randInt(n, seed, 3), (x) => x - 1);
}

function uploadAll(ctx: GpuContext, xs: Float32Array[]): GpuTensor[] {
  // An empty tensor is made with empty(): Deno 2.9.6 panics on a zero-byte writeBuffer.
  return xs.map((x, i) => x.length ? ctx.upload(x, [x.length], `t${i}`) : ctx.empty([0], `t${i}`));
}

function concat(xs: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) out[o++] = x[i];
  return out;
}

/** Sum of |a_i b_i| over the flat vectors: the scale of rounding error in a dot product. */
function absDot(a: Float32Array[], b: Float32Array[]): number {
  let s = 0;
  a.forEach((x, k) => {
    for (let i = 0; i < x.length; i++) s += Math.abs(x[i] * b[k][i]);
  });
  return s;
}

/**
 * Worst-case f32 rounding of the partials scheme, relative to the sum of |terms|: each invocation
 * adds 256 terms in sequence, a 6-level tree folds the workgroup, reduce_sum adds up to
 * ceil(slots / 64) partials in sequence (a few here) and folds 64 more in 6 levels: about 280
 * roundings of 2^-24 each.
 */
const REL_BOUND = 280 * 2 ** -24;

Deno.test("norm CPU references match direct f64 sums over the concatenated vector", () => {
  const xs = SIZES.slice(0, 12).map((n, i) => randn(n, 1 + i));
  const ys = SIZES.slice(0, 12).map((n, i) => randn(n, 100 + i));
  const fx = concat(xs), fy = concat(ys);
  const s = new Float64Array(1);
  cpu.sumSquares(s, xs);
  assertClose(s, [dot(fx, fx)], { atol: 0, rtol: 1e-12, label: "sumSquares" });
  const sums = new Float64Array(3);
  cpu.dotSums(sums, xs, ys);
  assertClose(sums, [dot(fx, fy), dot(fx, fx), dot(fy, fy)], {
    atol: 0,
    rtol: 1e-12,
    label: "dotSums",
  });
  const d = new Float64Array(1), c = new Float64Array(1);
  cpu.dotProduct(d, xs, ys);
  cpu.cosineSimilarity(c, xs, ys);
  assertClose(d, [dot(fx, fy)], { atol: 0, rtol: 1e-12, label: "dotProduct" });
  const cos = dot(fx, fy) / Math.sqrt(dot(fx, fx) * dot(fy, fy));
  assertClose(c, [cos], { atol: 1e-15, rtol: 1e-12, label: "cosine" });
  const f = new Float64Array(1), norm = new Float64Array(1);
  cpu.globalNormClip(f, xs, 1.0, norm);
  assertClose(norm, [Math.sqrt(dot(fx, fx))], { atol: 0, rtol: 1e-12, label: "norm" });
  assertClose(f, [1 / (norm[0] + 1e-6)], { atol: 0, rtol: 1e-15, label: "factor" });
});

gpuTest(
  `sumSquares/dotSums exact on integer data (${SIZES.length} tensors, ${TOTAL} values)`,
  async (ctx) => {
    // Each element must count exactly once: a missed or doubled one shows as an integer error.
    const xs = SIZES.map((n, i) => ternary(n, 1 + i));
    const ys = SIZES.map((n, i) => ternary(n, 500 + i));
    const gx = uploadAll(ctx, xs), gy = uploadAll(ctx, ys);
    const s = ctx.empty([1]), sums = ctx.empty([3]), d = ctx.empty([1]);
    sumSquares(ctx, s, gx);
    dotSums(ctx, sums, gx, gy);
    dotProduct(ctx, d, gx, gy);
    const [gs, gsums, gd] = await ctx.readMany([s, sums, d]);
    const es = new Float64Array(1), esums = new Float64Array(3);
    cpu.sumSquares(es, xs);
    cpu.dotSums(esums, xs, ys);
    assertClose(gs, es, { atol: 0, rtol: 0, label: "sum of squares" });
    assertClose(gsums, esums, { atol: 0, rtol: 0, label: "(a.b, a.a, b.b)" });
    assertClose(gd, [esums[0]], { atol: 0, rtol: 0, label: "a.b" });
    ctx.release(...gx, ...gy, s, sums, d);
  },
);

gpuTest("sumSquares, dotProduct, cosineSimilarity GPU vs CPU (gaussian data)", async (ctx) => {
  const xs = SIZES.map((n, i) => randn(n, 1 + i, 1e-3 * (1 + (i % 4))));
  const ys = SIZES.map((n, i) => randn(n, 300 + i, 1e-2));
  // b correlated with a, so the cosine is far from 0.
  ys.forEach((y, k) => y.forEach((v, i) => y[i] = v + 5 * xs[k][i]));
  const gx = uploadAll(ctx, xs), gy = uploadAll(ctx, ys);
  const s = ctx.empty([1]), d = ctx.empty([1]), c = ctx.empty([1]);
  sumSquares(ctx, s, gx);
  dotProduct(ctx, d, gx, gy);
  cosineSimilarity(ctx, c, gx, gy);
  const [gs, gd, gc] = await ctx.readMany([s, d, c]);
  const es = new Float64Array(1), ed = new Float64Array(1), ec = new Float64Array(1);
  cpu.sumSquares(es, xs);
  cpu.dotProduct(ed, xs, ys);
  cpu.cosineSimilarity(ec, xs, ys);
  assertClose(gs, es, { atol: 0, rtol: REL_BOUND, label: "sum of squares" });
  assertClose(gd, ed, { atol: REL_BOUND * absDot(xs, ys), rtol: 0, label: "dot" });
  // cos error <= (|d ab| + |cos| (|d aa| / 2 aa + |d bb| / 2 bb)) / (|a| |b|), Cauchy-Schwarz.
  assertClose(gc, ec, { atol: 2 * REL_BOUND, rtol: 0, label: "cosine" });
  const cos = ec[0];
  if (!(cos > 0.5)) throw new Error(`test data should be correlated, cos = ${cos}`);
  ctx.release(...gx, ...gy, s, d, c);
});

gpuTest("cosineSimilarity of a with a, -a, and a zero vector", async (ctx) => {
  const xs = SIZES.slice(0, 20).map((n, i) => randn(n, 40 + i));
  const neg = xs.map((x) => x.map((v) => -v));
  const zero = xs.map((x) => new Float32Array(x.length));
  const gx = uploadAll(ctx, xs), gn = uploadAll(ctx, neg), gz = uploadAll(ctx, zero);
  const same = ctx.empty([1]), opposite = ctx.empty([1]), none = ctx.empty([1]);
  cosineSimilarity(ctx, same, gx, gx);
  cosineSimilarity(ctx, opposite, gx, gn);
  cosineSimilarity(ctx, none, gx, gz);
  const [a, b, c] = await ctx.readMany([same, opposite, none]);
  assertClose(a, [1], { atol: 2 * REL_BOUND, rtol: 0, label: "cos(a, a)" });
  assertClose(b, [-1], { atol: 2 * REL_BOUND, rtol: 0, label: "cos(a, -a)" });
  assertClose(c, [0], { atol: 0, rtol: 0, label: "cos(a, 0) (tiny guard, no NaN)" });
  ctx.release(...gx, ...gn, ...gz, same, opposite, none);
});

for (const [label, std, maxNorm] of [["above", 1e-2, 1.0], ["below", 1e-5, 1.0]] as const) {
  gpuTest(`globalNormClip and scaleByScalar: norm ${label} max`, async (ctx) => {
    const gs = SIZES.map((n, i) => randn(n, 70 + i, std));
    const tensors = uploadAll(ctx, gs);
    const factor = ctx.empty([1]), norm = ctx.empty([1]), factorOnly = ctx.empty([1]);
    globalNormClip(ctx, factor, tensors, maxNorm, norm);
    globalNormClip(ctx, factorOnly, tensors, maxNorm);
    tensors.forEach((t, k) => scaleByScalar(ctx, t, factor, SIZES[k]));
    const after = ctx.empty([1]);
    sumSquares(ctx, after, tensors);
    const [gf, gn, gfo, gafter] = await ctx.readMany([factor, norm, factorOnly, after]);
    const ef = new Float64Array(1), en = new Float64Array(1);
    cpu.globalNormClip(ef, gs, maxNorm, en);
    // The norm's error is half the sum of squares' (sqrt), the factor's about the same.
    assertClose(gn, en, { atol: 0, rtol: REL_BOUND, label: "norm" });
    assertClose(gf, ef, { atol: 0, rtol: REL_BOUND, label: "factor" });
    assertClose(gfo, gf, { atol: 0, rtol: 0, label: "factor without norm output" });
    if (label === "below") {
      assertClose(gf, [1], { atol: 0, rtol: 0, label: "factor is exactly 1 below max" });
    } else if (!(en[0] > 10 * maxNorm)) throw new Error(`norm ${en[0]} should exceed max`);
    // After scaling the norm is min(norm, maxNorm) up to the 1e-6 guard.
    const want = Math.min(en[0], maxNorm * en[0] / (en[0] + 1e-6));
    assertClose([Math.sqrt(gafter[0])], [want], {
      atol: 0,
      rtol: 3 * REL_BOUND,
      label: "norm after",
    });
    const scaled = await ctx.readMany(tensors);
    const expect = gs.map((g) => f64(g));
    expect.forEach((e, k) => cpu.scaleByScalar(e, gf, SIZES[k]));
    // One f32 rounding of an exact f64 product: within 2^-24 relative.
    scaled.forEach((s, k) =>
      assertClose(s.subarray(0, SIZES[k]), expect[k], { atol: 0, rtol: 2 ** -24, label: `g${k}` })
    );
    ctx.release(...tensors, factor, norm, factorOnly, after);
  });
}

gpuTest("clipFactor from a given sum of squares (PyTorch's 1e-6 guard)", async (ctx) => {
  const cases = [0, 0.25, 1, 4, 1e6];
  const out: Float32Array[] = [];
  for (const s of cases) {
    const sumsq = ctx.upload(new Float32Array([s])), f = ctx.empty([1]);
    clipFactor(ctx, f, sumsq, 2.0);
    out.push((await ctx.read(f)).slice(0, 1));
    ctx.release(sumsq, f);
  }
  const want = cases.map((s) => Math.min(1, 2 / (Math.sqrt(s) + 1e-6)));
  assertClose(out.map((o) => o[0]), want, { atol: 0, rtol: 2 ** -23, label: "factor" });
});

gpuTest("reductions deterministic: repeated runs are bit-identical", async (ctx) => {
  const xs = SIZES.map((n, i) => randn(n, 90 + i));
  const ys = SIZES.map((n, i) => randn(n, 190 + i));
  const gx = uploadAll(ctx, xs), gy = uploadAll(ctx, ys);
  const runs: Float32Array[][] = [];
  for (let r = 0; r < 3; r++) {
    const s = ctx.empty([1]), sums = ctx.empty([3]), c = ctx.empty([1]), f = ctx.empty([1]);
    sumSquares(ctx, s, gx);
    dotSums(ctx, sums, gx, gy);
    cosineSimilarity(ctx, c, gx, gy);
    globalNormClip(ctx, f, gy, 1.0);
    runs.push(await ctx.readMany([s, sums, c, f]));
    ctx.release(s, sums, c, f);
  }
  for (let r = 1; r < runs.length; r++) {
    runs[r].forEach((t, j) =>
      assertClose(t, runs[0][j], { atol: 0, rtol: 0, label: `run ${r} output ${j}` })
    );
  }
  ctx.release(...gx, ...gy);
});

gpuTest(
  "packScalars gathers 20 device scalars (with element indices) in one tensor",
  async (ctx) => {
    const sources = Array.from({ length: 20 }, (_, j) => randn(1 + (j % 5), 900 + j));
    const tensors = uploadAll(ctx, sources);
    const refs = tensors.map((t, j) => j % 3 === 0 ? t : { tensor: t, index: j % t.numel });
    const out = ctx.zeros([22]);
    packScalars(ctx, out, refs);
    const [got] = await ctx.readMany([out]);
    const want = new Float32Array(22);
    cpu.packScalars(
      want,
      sources.map((s, j) => j % 3 === 0 ? s : { tensor: s, index: j % s.length }),
    );
    assertClose(got, want, { atol: 0, rtol: 0, label: "packed" });
    ctx.release(...tensors, out);
  },
);

gpuTest("flatTensors: a ChunkedTensor's chunks count as one flat parameter", async (ctx) => {
  const rows = 10, cols = 37;
  const data = randn(rows * cols, 5);
  const chunks = [0, 4, 8].map((r) => {
    const n = Math.min(4, rows - r);
    return {
      tensor: ctx.upload(data.subarray(r * cols, (r + n) * cols), [n, cols]),
      rowStart: r,
      rows: n,
    };
  });
  const chunked = new ChunkedTensor(rows, cols, chunks, "emb");
  const bias = randn(11, 6);
  const gb = ctx.upload(bias);
  const list = flatTensors([chunked, gb]);
  if (list.length !== 4) throw new Error(`expected 4 tensors, got ${list.length}`);
  const s = ctx.empty([1]);
  sumSquares(ctx, s, list);
  const [got] = await ctx.readMany([s]);
  const want = new Float64Array(1);
  cpu.sumSquares(want, [data, bias]);
  assertClose(got, want, { atol: 0, rtol: REL_BOUND, label: "sum over chunks + bias" });
  chunked.release(ctx);
  ctx.release(gb, s);
});
