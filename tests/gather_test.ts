import * as cpu from "../src/cpu/gather.ts";
import { gatherRows, gatherRowsBackward } from "../src/kernels/gather.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randn, rng } from "./util.ts";

/** M distinct row indices out of N (a seeded partial Fisher-Yates shuffle). */
function distinctRows(M: number, N: number, seed: number): Uint32Array {
  const r = rng(seed);
  const all = Array.from({ length: N }, (_, i) => i);
  for (let i = 0; i < M; i++) {
    const j = i + Math.floor(r() * (N - i));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return Uint32Array.from(all.slice(0, M));
}

const SHAPES = [
  { name: "tiny", N: 5, M: 3, C: 4 },
  { name: "odd", N: 301, M: 37, C: 99 },
  { name: "bert-base B=2 T=128 C=768, 15% of rows", N: 256, M: 38, C: 768 },
];

for (const { name, N, M, C } of SHAPES) {
  gpuTest(`gatherRows forward/backward GPU vs CPU (${name})`, async (ctx) => {
    const inp = randn(N * C, 1), dout = randn(M * C, 2), dinp0 = randn(N * C, 3);
    const rows = distinctRows(M, N, 4);
    const gInp = ctx.upload(inp), gRows = ctx.upload(rows), gOut = ctx.empty([M, C]);
    const gDout = ctx.upload(dout), gDinp = ctx.upload(dinp0);
    gatherRows(ctx, gOut, gInp, gRows, { M, C });
    gatherRowsBackward(ctx, gDinp, gDout, gRows, { M, C });
    const [out, dinp] = await ctx.readMany([gOut, gDinp]);
    const eOut = new Float32Array(M * C), eDinp = dinp0.slice();
    cpu.gatherRows(eOut, inp, rows, { M, C });
    cpu.gatherRowsBackward(eDinp, dout, rows, { M, C });
    // A copy and one f32 addition per element: exact.
    assertClose(out, eOut, { atol: 0, rtol: 0, label: "out" });
    assertClose(dinp, eDinp, { atol: 0, rtol: 0, label: "dinp (accumulated)" });
    ctx.release(gInp, gRows, gOut, gDout, gDinp);
  });
}

Deno.test("gatherRows CPU backward matches finite differences", () => {
  const N = 9, M = 4, C = 3;
  const inp = f64(randn(N * C, 11)), w = f64(randn(M * C, 12));
  const rows = distinctRows(M, N, 13);
  const loss = (x: Float64Array) => {
    const out = new Float64Array(M * C);
    cpu.gatherRows(out, x, rows, { M, C });
    return dot(out, w);
  };
  const dinp = new Float64Array(N * C);
  cpu.gatherRowsBackward(dinp, w, rows, { M, C });
  checkGradient(loss, inp, dinp, { label: "dinp" });
});
