import * as cpu from "../src/cpu/tanh.ts";
import { tanhBackward, tanhForward } from "../src/kernels/tanh.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randn } from "./util.ts";

const SHAPES = [
  { name: "tiny", n: 8 },
  { name: "odd", n: 1000 + 37 },
  { name: "bert-base pooler B=2 C=768", n: 2 * 768 },
  { name: "bert-base B=2 T=128 C=768", n: 2 * 128 * 768 },
];

for (const { name, n } of SHAPES) {
  gpuTest(`tanh forward/backward GPU vs CPU (${name})`, async (ctx) => {
    const x = randn(n, 1, 2), dout = randn(n, 2);
    const gx = ctx.upload(x), gout = ctx.empty([n]), gdout = ctx.upload(dout);
    const gdinp = ctx.empty([n]);
    tanhForward(ctx, gout, gx, n);
    tanhBackward(ctx, gdinp, gdout, gout, n);
    const [out, dinp] = await ctx.readMany([gout, gdinp]);
    const eOut = new Float64Array(n), eDinp = new Float64Array(n);
    cpu.tanhForward(eOut, x, n);
    // The backward's input is the GPU's saved output, so its check is independent of the forward.
    cpu.tanhBackward(eDinp, dout, out, n);
    assertClose(out, eOut, { atol: 0, rtol: 5e-7, label: "out" });
    assertClose(dinp, eDinp, { atol: 1e-7, rtol: 1e-6, label: "dinp" });
    ctx.release(gx, gout, gdout, gdinp);
  });
}

const grid = Array.from({ length: 24001 }, (_, i) => -12 + i * 1e-3);
const small = [1e-38, -1e-30, 1e-10, 1e-5, -1e-3, 0.2999, 0.3, -0.30001, 0];
const huge = [20, -20, 100, -100, 1e4, -1e4, 1e30, -1e30, 3.4e38, -3.4e38];
const LENGTH = grid.length + small.length + huge.length;

// Run at one length with n % 4 == 0 (vec4 entry point) and one without (scalar entry point).
for (const pad of [0, 1]) {
  gpuTest(
    `tanh relative accuracy on a dense grid, tiny |x| and huge |x| (${
      (LENGTH + pad) % 4 === 0 ? "vec4" : "scalar"
    } path)`,
    async (ctx) => {
      const x = Float32Array.from([...grid, ...Array(pad).fill(0.5), ...small, ...huge]);
      const n = x.length;
      const gx = ctx.upload(x), gout = ctx.empty([n]), gdinp = ctx.empty([n]);
      const gones = ctx.upload(new Float32Array(n).fill(1));
      tanhForward(ctx, gout, gx, n);
      tanhBackward(ctx, gdinp, gones, gout, n);
      const [out, dinp] = await ctx.readMany([gout, gdinp]);
      const eOut = new Float64Array(n);
      cpu.tanhForward(eOut, x, n);
      assertClose(out, eOut, { atol: 0, rtol: 5e-7, label: "tanh (relative, including near 0)" });
      const tail = n - huge.length;
      huge.forEach((h, k) => {
        const i = tail + k;
        if (out[i] !== Math.sign(h) || dinp[i] !== 0) {
          throw new Error(
            `x=${x[i]}: tanh ${out[i]}, dinp ${dinp[i]}; expected ${Math.sign(h)}, 0`,
          );
        }
      });
      ctx.release(gx, gout, gdinp, gones);
    },
  );
}

Deno.test("tanh CPU backward matches finite differences", () => {
  const n = 29;
  const x = f64(randn(n, 21, 2)), w = f64(randn(n, 22));
  const loss = (v: Float64Array) => {
    const out = new Float64Array(n);
    cpu.tanhForward(out, v, n);
    return dot(out, w);
  };
  const out = new Float64Array(n), dinp = new Float64Array(n);
  cpu.tanhForward(out, x, n);
  cpu.tanhBackward(dinp, w, out, n);
  checkGradient(loss, x, dinp, { label: "dinp" });
});
