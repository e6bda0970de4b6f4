import * as cpu from "../src/cpu/gelu.ts";
import { geluBackward, geluForward } from "../src/kernels/gelu.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randn } from "./util.ts";

const SHAPES = [
  { name: "tiny", n: 8 },
  { name: "odd", n: 1000 + 37 },
  { name: "bert-base intermediate B=2 T=128 3072", n: 2 * 128 * 3072 },
];

Deno.test("CPU erf/erfc match CPython's math.erf/erfc", () => {
  // [x, math.erf(x), math.erfc(x)] from CPython 3.11.
  const ref: [number, number, number][] = [
    [1e-8, 1.1283791670955126e-8, 0.9999999887162083],
    [0.1, 0.1124629160182849, 0.8875370839817152],
    [0.5, 0.5204998778130465, 0.4795001221869535],
    [1, 0.8427007929497149, 0.15729920705028513],
    [1.5, 0.9661051464753108, 0.033894853524689274],
    [2, 0.9953222650189527, 0.004677734981047265],
    [2.5, 0.999593047982555, 0.0004069520174449589],
    [3, 0.9999779095030014, 2.2090496998585438e-5],
    [4, 0.9999999845827421, 1.541725790028002e-8],
    [5, 0.9999999999984626, 1.5374597944280351e-12],
    [6, 1.0, 2.1519736712498916e-17],
    [10, 1.0, 2.088487583762545e-45],
    [20, 1.0, 5.3958656116079005e-176],
  ];
  const xs = ref.map((r) => r[0]);
  assertClose(xs.map(cpu.erf), ref.map((r) => r[1]), { atol: 0, rtol: 1e-15, label: "erf" });
  assertClose(xs.map(cpu.erfc), ref.map((r) => r[2]), { atol: 0, rtol: 1e-14, label: "erfc" });
  assertClose(xs.map((x) => -cpu.erf(-x)), ref.map((r) => r[1]), {
    atol: 0,
    rtol: 1e-15,
    label: "erf(-x) = -erf(x)",
  });
  assertClose(xs.map((x) => 2 - cpu.erfc(-x)), ref.map((r) => r[2]), {
    atol: 1e-15,
    rtol: 0,
    label: "erfc(-x) = 2 - erfc(x)",
  });
});

for (const { name, n } of SHAPES) {
  gpuTest(`gelu forward/backward GPU vs CPU (${name})`, async (ctx) => {
    const x = randn(n, 1, 3), dout = randn(n, 2);
    const gx = ctx.upload(x), gout = ctx.empty([n]), gdout = ctx.upload(dout);
    const gdinp = ctx.empty([n]);
    geluForward(ctx, gout, gx, n);
    geluBackward(ctx, gdinp, gdout, gx, n);
    const [out, dinp] = await ctx.readMany([gout, gdinp]);
    const eOut = new Float64Array(n), eDinp = new Float64Array(n);
    cpu.geluForward(eOut, x, n);
    cpu.geluBackward(eDinp, dout, x, n);
    assertClose(out, eOut, { atol: 5e-7, rtol: 2e-7, label: "out" });
    assertClose(dinp, eDinp, { atol: 5e-7, rtol: 1e-6, label: "dinp" });
    ctx.release(gx, gout, gdout, gdinp);
  });
}

const grid = Array.from({ length: 24001 }, (_, i) => -12 + i * 1e-3);
const huge = [20, -20, 100, -100, 1e4, -1e4, 1e30, -1e30, 3.4e38, -3.4e38];
const LENGTH = grid.length + huge.length;

// Run at one length with n % 4 == 0 (vec4 entry point) and one without (scalar entry point).
for (const pad of [0, 1]) {
  gpuTest(
    `gelu accuracy on a dense grid over [-12, 12] and at huge |x| (${
      (LENGTH + pad) % 4 === 0 ? "vec4" : "scalar"
    } path)`,
    async (ctx) => {
      const x = Float32Array.from([...grid, ...Array(pad).fill(0.5), ...huge]);
      const n = x.length;
      const gx = ctx.upload(x), gout = ctx.empty([n]), gdinp = ctx.empty([n]);
      const gones = ctx.upload(new Float32Array(n).fill(1));
      geluForward(ctx, gout, gx, n);
      geluBackward(ctx, gdinp, gones, gx, n);
      const [out, dinp] = await ctx.readMany([gout, gdinp]);
      const eOut = new Float64Array(n), eDinp = new Float64Array(n);
      cpu.geluForward(eOut, x, n);
      cpu.geluBackward(eDinp, new Float64Array(n).fill(1), x, n);
      // Phi is accurate to ~1 f32 ulp of 1, so GELU = x Phi is accurate to that times max(1, |x|).
      const scale = (v: ArrayLike<number>) =>
        Array.from(v, (y, i) => y / Math.max(1, Math.abs(x[i])));
      assertClose(scale(out), scale(eOut), { atol: 2e-7, rtol: 0, label: "gelu / max(1, |x|)" });
      assertClose(dinp, eDinp, { atol: 2e-7, rtol: 0, label: "gelu'" });
      const tail = n - huge.length;
      huge.forEach((h, k) => {
        const i = tail + k;
        const want = h > 0 ? [x[i], 1] : [0, 0];
        if (Math.abs(out[i]) !== want[0] || dinp[i] !== want[1]) {
          throw new Error(`x=${x[i]}: gelu ${out[i]}, gelu' ${dinp[i]}; expected ${want}`);
        }
      });
      ctx.release(gx, gout, gdinp, gones);
    },
  );
}

Deno.test("gelu CPU backward matches finite differences", () => {
  const n = 41;
  const x = f64(randn(n, 21, 2));
  x[0] = 0, x[1] = 1e-3, x[2] = -4, x[3] = 5; // both erf branches and the tails
  const w = f64(randn(n, 22));
  const loss = (v: Float64Array) => {
    const out = new Float64Array(n);
    cpu.geluForward(out, v, n);
    return dot(out, w);
  };
  const dinp = new Float64Array(n);
  cpu.geluBackward(dinp, w, x, n);
  checkGradient(loss, x, dinp, { label: "dinp", samples: n });
});
