import * as cpu from "../src/cpu/layernorm.ts";
import {
  layernormBackward,
  layernormForward,
  residualLayernormForward,
} from "../src/kernels/layernorm.ts";
import { residualForward } from "../src/kernels/residual.ts";
import * as cpuResidual from "../src/cpu/residual.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randn } from "./util.ts";

const SHAPES = [
  { name: "tiny", N: 2, C: 8 },
  { name: "odd N, vec4 C", N: 37, C: 100 },
  { name: "odd N and C (scalar path, 2 row blocks)", N: 67, C: 77 },
  { name: "bert-base B=2 T=128 C=768", N: 2 * 128, C: 768 },
];
const EPS = [
  { name: "BERT eps=1e-12", eps: 1e-12 },
  { name: "RoBERTa eps=1e-5", eps: 1e-5 },
];

/** Hidden-state-like rows (offset 3, std 2); row 1 is constant, so only eps keeps rstd finite. */
function inputs(N: number, C: number) {
  const inp = randn(N * C, 1, 2).map((v) => v + 3);
  if (N > 1) inp.fill(0.5, C, 2 * C); // 0.5 * C is exact, so mean = 0.5 and x - mean = 0
  const w = randn(C, 2, 0.1).map((v) => v + 1);
  const b = randn(C, 3, 0.1);
  const dout = randn(N * C, 4);
  const dw0 = randn(C, 5), db0 = randn(C, 6);
  return { inp, w, b, dout, dw0, db0 };
}

for (const { name, N, C } of SHAPES) {
  for (const { name: epsName, eps } of EPS) {
    gpuTest(`layernorm forward/backward GPU vs CPU (${name}, ${epsName})`, async (ctx) => {
      const { inp, w, b, dout, dw0, db0 } = inputs(N, C);
      const gInp = ctx.upload(inp, [N, C]), gW = ctx.upload(w), gB = ctx.upload(b);
      const gOut = ctx.empty([N, C]), gMean = ctx.empty([N]), gRstd = ctx.empty([N]);
      const gDout = ctx.upload(dout, [N, C]), gDinp = ctx.empty([N, C]);
      const gDw = ctx.upload(dw0), gDb = ctx.upload(db0);
      layernormForward(ctx, gOut, gMean, gRstd, gInp, gW, gB, { N, C, eps });
      layernormBackward(ctx, gDinp, gDw, gDb, gDout, gInp, gW, gMean, gRstd, { N, C });
      const [out, mean, rstd, dinp, dw, db] = await ctx.readMany([
        gOut,
        gMean,
        gRstd,
        gDinp,
        gDw,
        gDb,
      ]);

      const eOut = new Float64Array(N * C), eMean = new Float64Array(N);
      const eRstd = new Float64Array(N), eDinp = new Float64Array(N * C);
      const eDw = f64(dw0), eDb = f64(db0);
      cpu.layernormForward(eOut, eMean, eRstd, inp, w, b, { N, C, eps });
      cpu.layernormBackward(eDinp, eDw, eDb, dout, inp, w, eMean, eRstd, { N, C });
      assertClose(mean, eMean, { atol: 1e-6, rtol: 1e-6, label: "mean" });
      assertClose(rstd, eRstd, { atol: 0, rtol: 1e-6, label: "rstd" });
      assertClose(out, eOut, { atol: 1e-5, rtol: 1e-5, label: "out" });
      // The constant row has rstd = 1/sqrt(eps), up to 1e6: dinp scales with it.
      assertClose(dinp, eDinp, { atol: 1e-5, rtol: 1e-4, label: "dinp" });
      assertClose(dw, eDw, { atol: 1e-4, rtol: 1e-4, label: "dw (accumulated)" });
      assertClose(db, eDb, { atol: 1e-4, rtol: 1e-4, label: "db (accumulated)" });
      ctx.release(gInp, gW, gB, gOut, gMean, gRstd, gDout, gDinp, gDw, gDb);
    });
  }
}

for (const { name, N, C } of SHAPES) {
  gpuTest(
    `residual + layernorm fused forward: bit-identical to the two kernels (${name})`,
    async (ctx) => {
      const { inp: a, w, b } = inputs(N, C);
      const r = randn(N * C, 7, 0.5);
      if (N > 1) r.fill(0, C, 2 * C); // row 1 stays constant: x - mean = 0 exactly
      const ga = ctx.upload(a), gr = ctx.upload(r), gw = ctx.upload(w), gb = ctx.upload(b);
      const sum = ctx.empty([N * C]), out = ctx.empty([N * C]);
      const mean = ctx.empty([N]), rstd = ctx.empty([N]);
      residualForward(ctx, sum, ga, gr, N * C);
      layernormForward(ctx, out, mean, rstd, sum, gw, gb, { N, C, eps: 1e-5 });
      const fsum = ctx.empty([N * C]), fout = ctx.empty([N * C]), fout2 = ctx.empty([N * C]);
      const fmean = ctx.empty([N]), frstd = ctx.empty([N]), fmean2 = ctx.empty([N]);
      const frstd2 = ctx.empty([N]);
      residualLayernormForward(ctx, fout, fmean, frstd, fsum, ga, gr, gw, gb, { N, C, eps: 1e-5 });
      residualLayernormForward(ctx, fout2, fmean2, frstd2, null, ga, gr, gw, gb, {
        N,
        C,
        eps: 1e-5,
      });
      const got = await ctx.readMany([
        sum,
        out,
        mean,
        rstd,
        fsum,
        fout,
        fmean,
        frstd,
        fout2,
        fmean2,
        frstd2,
      ]);
      const [eSum, eOut, eMean, eRstd] = got.slice(0, 4);
      const exact = { atol: 0, rtol: 0 };
      assertClose(got[4], eSum, { ...exact, label: "sum" });
      assertClose(got[5], eOut, { ...exact, label: "out" });
      assertClose(got[6], eMean, { ...exact, label: "mean" });
      assertClose(got[7], eRstd, { ...exact, label: "rstd" });
      assertClose(got[8], eOut, { ...exact, label: "out (sum not saved)" });
      assertClose(got[9], eMean, { ...exact, label: "mean (sum not saved)" });
      assertClose(got[10], eRstd, { ...exact, label: "rstd (sum not saved)" });
      // And the CPU reference of the composition.
      const x = new Float64Array(N * C), cOut = new Float64Array(N * C);
      const cMean = new Float64Array(N), cRstd = new Float64Array(N);
      cpuResidual.residualForward(x, a, r, N * C);
      cpu.layernormForward(cOut, cMean, cRstd, x, w, b, { N, C, eps: 1e-5 });
      assertClose(got[5], cOut, { atol: 1e-5, rtol: 1e-5, label: "out vs CPU" });
      ctx.release(ga, gr, gw, gb, sum, out, mean, rstd, fsum, fout, fout2, fmean, frstd, fmean2);
      ctx.release(frstd2);
    },
  );
}

gpuTest("layernorm backward is deterministic (bit-identical dinp, dw, db)", async (ctx) => {
  const N = 8 * 128 + 3, C = 768;
  const { inp, w, b, dout } = inputs(N, C);
  const gInp = ctx.upload(inp, [N, C]), gW = ctx.upload(w), gB = ctx.upload(b);
  const gOut = ctx.empty([N, C]), gMean = ctx.empty([N]), gRstd = ctx.empty([N]);
  const gDout = ctx.upload(dout, [N, C]);
  const runs: Float32Array[][] = [];
  for (let r = 0; r < 2; r++) {
    const gDinp = ctx.empty([N, C]), gDw = ctx.zeros([C]), gDb = ctx.zeros([C]);
    layernormForward(ctx, gOut, gMean, gRstd, gInp, gW, gB, { N, C, eps: 1e-12 });
    layernormBackward(ctx, gDinp, gDw, gDb, gDout, gInp, gW, gMean, gRstd, { N, C });
    runs.push(await ctx.readMany([gOut, gDinp, gDw, gDb]));
    ctx.release(gDinp, gDw, gDb);
  }
  ["out", "dinp", "dw", "db"].forEach((label, i) =>
    assertClose(runs[1][i], runs[0][i], { atol: 0, rtol: 0, label: `${label} run 2 vs run 1` })
  );
  ctx.release(gInp, gW, gB, gOut, gMean, gRstd, gDout);
});

for (const { name: epsName, eps } of EPS) {
  Deno.test(`layernorm CPU backward matches finite differences (${epsName})`, () => {
    const N = 3, C = 7;
    const inp = f64(randn(N * C, 31, 2)), w = f64(randn(C, 32)), b = f64(randn(C, 33));
    const weights = f64(randn(N * C, 34));
    const loss = (x: Float64Array, ww: Float64Array, bb: Float64Array) => {
      const out = new Float64Array(N * C);
      cpu.layernormForward(out, new Float64Array(N), new Float64Array(N), x, ww, bb, {
        N,
        C,
        eps,
      });
      return dot(out, weights);
    };
    const mean = new Float64Array(N), rstd = new Float64Array(N);
    cpu.layernormForward(new Float64Array(N * C), mean, rstd, inp, w, b, { N, C, eps });
    const dinp = new Float64Array(N * C), dw = new Float64Array(C), db = new Float64Array(C);
    cpu.layernormBackward(dinp, dw, db, weights, inp, w, mean, rstd, { N, C });
    checkGradient((x) => loss(x, w, b), inp, dinp, { label: "dinp" });
    checkGradient((ww) => loss(inp, ww, b), w, dw, { label: "dw" });
    checkGradient((bb) => loss(inp, w, bb), b, db, { label: "db" });
  });
}
