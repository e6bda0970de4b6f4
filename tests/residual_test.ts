import * as cpu from "../src/cpu/residual.ts";
import * as cpuScale from "../src/cpu/scale.ts";
import { residualForward } from "../src/kernels/residual.ts";
import { scaleAccumulate } from "../src/kernels/scale.ts";
import { residualBackward } from "./test_kernels.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randn } from "./util.ts";

const SHAPES = [
  { name: "tiny", n: 8 },
  { name: "odd", n: 1000 + 37 },
  { name: "bert-base B=2 T=128 C=768", n: 2 * 128 * 768 },
];

for (const { name, n } of SHAPES) {
  gpuTest(`residual forward/backward GPU vs CPU (${name})`, async (ctx) => {
    const a = randn(n, 1), b = randn(n, 2), dout = randn(n, 3);
    const da0 = randn(n, 4), db0 = randn(n, 5);
    const ga = ctx.upload(a), gb = ctx.upload(b), gout = ctx.empty([n]);
    const gda = ctx.upload(da0), gdb = ctx.upload(db0), gdout = ctx.upload(dout);
    residualForward(ctx, gout, ga, gb, n);
    residualBackward(ctx, gda, gdb, gdout, n);
    const [out, da, db] = await ctx.readMany([gout, gda, gdb]);
    const eOut = new Float32Array(n), eDa = da0.slice(), eDb = db0.slice();
    cpu.residualForward(eOut, a, b, n);
    cpu.residualBackward(eDa, eDb, dout, n);
    assertClose(out, eOut, { atol: 0, rtol: 0, label: "out" });
    assertClose(da, eDa, { atol: 0, rtol: 0, label: "da (accumulated)" });
    assertClose(db, eDb, { atol: 0, rtol: 0, label: "db (accumulated)" });
    ctx.release(ga, gb, gout, gda, gdb, gdout);
  });

  gpuTest(`scaleAccumulate GPU vs CPU (${name})`, async (ctx) => {
    const x = randn(n, 11), y0 = randn(n, 12);
    for (const [alpha, beta] of [[0.5, 1], [2, 0], [-1.5, 0.25]]) {
      const gx = ctx.upload(x), gy = ctx.upload(y0);
      scaleAccumulate(ctx, gy, gx, alpha, beta, n);
      const got = await ctx.read(gy);
      const want = y0.slice();
      cpuScale.scaleAccumulate(want, x, alpha, beta, n);
      assertClose(got, want, { atol: 1e-6, rtol: 1e-6, label: `y (alpha=${alpha}, beta=${beta})` });
      ctx.release(gx, gy);
    }
  });
}

Deno.test("residual CPU backward matches finite differences", () => {
  const n = 13;
  const a = f64(randn(n, 21)), b = f64(randn(n, 22)), w = f64(randn(n, 23));
  const loss = (x: Float64Array) => {
    const out = new Float64Array(n);
    cpu.residualForward(out, x, b, n);
    return dot(out, w);
  };
  const da = new Float64Array(n), db = new Float64Array(n);
  cpu.residualBackward(da, db, w, n);
  checkGradient(loss, a, da, { label: "da" });
});
