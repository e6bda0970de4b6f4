import * as cpu from "../src/cpu/linear.ts";
import {
  LINEAR_VARIANTS,
  linearBackwardInput,
  linearBackwardWeight,
  type LinearDims,
  linearForward,
} from "../src/kernels/linear.ts";
import {
  DEV_VARIANTS,
  devLinearBackwardInput,
  devLinearBackwardWeight,
  devLinearForward,
  type DevVariant,
  register as registerDevLinear,
} from "../bench/dev/linear_dev.ts";
import type { GpuContext } from "../src/gpu/context.ts";
import type { GpuTensor } from "../src/gpu/tensor.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randn } from "./util.ts";

interface Case {
  name: string;
  M: number;
  K: number;
  N: number;
  /** Row stride of out / dout and first column of the window. */
  ldo: number;
  col: number;
  /** Variants to run on this case (the expensive naive ones only where cheap). */
  variants?: "all" | "no naive" | "aligned";
}

const SHAPES = [
  { name: "tiny", M: 3, K: 5, N: 7 },
  { name: "odd", M: 37, K: 70, N: 45 },
  { name: "odd rows, K and N multiples of 4", M: 37, K: 72, N: 44 },
  // Many rows, small weight: the tiled backward-weight kernel splits the rows (16 splits of 33).
  { name: "many rows", M: 515, K: 33, N: 30 },
  // K = 4, many outputs: the tiled backward-weight kernel's vec4 grid has fewer threads (N / 8)
  // than the bias gradient's column groups (N / 4): 64 vs 80.
  { name: "K = 4, wide", M: 50, K: 4, N: 320 },
  // K % 8 == 4: the vec4 tiled kernels' last column tile has a clamped upper half; 2 row splits.
  { name: "small K, K % 8 == 4", M: 70, K: 36, N: 20 },
  { name: "bert-base ffn", M: 128, K: 768, N: 3072 },
  { name: "bert-base attn", M: 128, K: 768, N: 768 },
];

const CASES: Case[] = SHAPES.flatMap((s): Case[] => {
  const plain = { ...s, ldo: s.N, col: 0, variants: "all" as const };
  // The largest shape: no windows and no naive kernels (both covered elsewhere; seconds each).
  if (s.name === "bert-base ffn") return [{ ...plain, variants: "no naive" as const }];
  const big = s.M * s.K * s.N > 1e7;
  return [
    plain,
    // A window that is not vec4-aligned (the vocabulary projection's case: ldo = V).
    {
      ...s,
      name: `${s.name}, window ldo=N+13 col=5`,
      ldo: s.N + 13,
      col: 5,
      variants: big ? "aligned" as const : "all" as const,
    },
    // An aligned window (read and written in place by the slab kernels, vec4 loads in tiled).
    ...(s.N % 4 === 0
      ? [{
        ...s,
        name: `${s.name}, window ldo=N+8 col=4`,
        ldo: s.N + 8,
        col: 4,
        variants: "aligned" as const,
      }]
      : []),
  ];
});

/**
 * f32 GPU sums vs f64 CPU sums over a reduction of length R of unit-variance products: rounding
 * grows like sqrt(R) (observed worst: 1e-5 * sqrt(R) for the naive kernels, 3e-6 for slab).
 */
function tol(R: number) {
  return { atol: 3e-5 * Math.sqrt(R), rtol: 1e-4 };
}

/**
 * Variants to run: "default" leaves dims.variant unset (the wrapper's choice for the shape); the
 * product's, and bench/dev/'s kernels, which keep their CPU checks here.
 */
function variantsOf(c: Case, op: keyof typeof LINEAR_VARIANTS): string[] {
  if (c.variants === "aligned") return ["slab", "tile", "tiled"];
  const all = ["default", ...LINEAR_VARIANTS[op], ...DEV_VARIANTS];
  return c.variants === "no naive" ? all.filter((v) => v !== "naive") : all;
}

const pick = (v: string) => (v === "default" ? undefined : v);
const isDev = (v: string): v is DevVariant => (DEV_VARIANTS as readonly string[]).includes(v);

// One entry per op for product and dev variants alike.
const forward = (
  ctx: GpuContext,
  variant: string,
  ...a: [GpuTensor, GpuTensor, GpuTensor, GpuTensor | null, LinearDims]
) =>
  isDev(variant)
    ? devLinearForward(ctx, a[0], a[1], a[2], a[3], { ...a[4], variant })
    : linearForward(ctx, a[0], a[1], a[2], a[3], { ...a[4], variant: pick(variant) });
const backwardInput = (
  ctx: GpuContext,
  variant: string,
  ...a: [GpuTensor, GpuTensor, GpuTensor, LinearDims & { accumulate?: boolean }]
) =>
  isDev(variant)
    ? devLinearBackwardInput(ctx, a[0], a[1], a[2], { ...a[3], variant })
    : linearBackwardInput(ctx, a[0], a[1], a[2], { ...a[3], variant: pick(variant) });
const backwardWeight = (
  ctx: GpuContext,
  variant: string,
  ...a: [GpuTensor, GpuTensor | null, GpuTensor, GpuTensor, LinearDims]
) =>
  isDev(variant)
    ? devLinearBackwardWeight(ctx, a[0], a[1], a[2], a[3], { ...a[4], variant })
    : linearBackwardWeight(ctx, a[0], a[1], a[2], a[3], { ...a[4], variant: pick(variant) });

/** Indices of out / dout that lie outside the window. */
function outsideWindow(c: Case): number[] {
  const idx: number[] = [];
  for (let m = 0; m < c.M; m++) {
    for (let j = 0; j < c.ldo; j++) if (j < c.col || j >= c.col + c.N) idx.push(m * c.ldo + j);
  }
  return idx;
}

for (const [ci, c] of CASES.entries()) {
  const seed = 100 * ci;
  const inp = randn(c.M * c.K, seed + 1);
  const w = randn(c.N * c.K, seed + 2);
  const b = randn(c.N, seed + 3);
  const outInit = randn(c.M * c.ldo, seed + 4); // sentinel values outside the window
  const dout = randn(c.M * c.ldo, seed + 5);
  const dinpInit = randn(c.M * c.K, seed + 6);
  const dwInit = randn(c.N * c.K, seed + 7);
  const dbInit = randn(c.N, seed + 8);
  const dims = { M: c.M, K: c.K, N: c.N, ldo: c.ldo, colOffset: c.col };

  // CPU references, shared by every variant of this case.
  const fwd = (bias: boolean) => {
    const e = outInit.slice();
    cpu.linearForward(e, inp, w, bias ? b : null, dims);
    return e;
  };
  const bwdInput = new Float32Array(c.M * c.K);
  cpu.linearBackwardInput(bwdInput, dout, w, dims);
  const dwSum = new Float32Array(c.N * c.K), dbSum = new Float32Array(c.N);
  cpu.linearBackwardWeight(dwSum, dbSum, dout, inp, dims);

  for (const variant of variantsOf(c, "forward")) {
    gpuTest(`linear forward GPU vs CPU (${c.name}, ${variant})`, async (ctx) => {
      const gi = ctx.upload(inp), gw = ctx.upload(w), gb = ctx.upload(b);
      for (const bias of [true, false]) {
        const go = ctx.upload(outInit);
        forward(ctx, variant, go, gi, gw, bias ? gb : null, dims);
        const got = await ctx.read(go);
        const want = fwd(bias);
        assertClose(got, want, { ...tol(c.K), label: `out (${bias ? "bias" : "no bias"})` });
        const outside = outsideWindow(c);
        assertClose(outside.map((i) => got[i]), outside.map((i) => want[i]), {
          atol: 0,
          rtol: 0,
          label: "columns outside the window (untouched)",
        });
        ctx.release(go);
      }
      ctx.release(gi, gw, gb);
    });
  }

  for (const variant of variantsOf(c, "backwardInput")) {
    gpuTest(`linear backward-input GPU vs CPU (${c.name}, ${variant})`, async (ctx) => {
      const gd = ctx.upload(dout), gw = ctx.upload(w);
      for (const accumulate of [false, true]) {
        const gdi = ctx.upload(dinpInit);
        backwardInput(ctx, variant, gdi, gd, gw, { ...dims, accumulate });
        const want = accumulate ? bwdInput.map((v, i) => v + dinpInit[i]) : bwdInput;
        assertClose(await ctx.read(gdi), want, {
          ...tol(c.N),
          label: `dinp (${accumulate ? "accumulated" : "overwritten"})`,
        });
        ctx.release(gdi);
      }
      ctx.release(gd, gw);
    });
  }

  for (const variant of variantsOf(c, "backwardWeight")) {
    gpuTest(`linear backward-weight GPU vs CPU (${c.name}, ${variant})`, async (ctx) => {
      const gd = ctx.upload(dout), gi = ctx.upload(inp);
      const gdw = ctx.upload(dwInit), gdb = ctx.upload(dbInit), gdw2 = ctx.upload(dwInit);
      backwardWeight(ctx, variant, gdw, gdb, gd, gi, dims);
      backwardWeight(ctx, variant, gdw2, null, gd, gi, dims);
      const [dw, db, dw2] = await ctx.readMany([gdw, gdb, gdw2]);
      const wantDw = dwSum.map((v, i) => v + dwInit[i]);
      assertClose(dw, wantDw, { ...tol(c.M), label: "dw (accumulated onto nonzero)" });
      assertClose(db, dbSum.map((v, i) => v + dbInit[i]), {
        ...tol(c.M),
        label: "db (accumulated onto nonzero)",
      });
      assertClose(dw2, wantDw, { ...tol(c.M), label: "dw (db = null)" });
      ctx.release(gd, gi, gdw, gdb, gdw2);
    });
  }
}

gpuTest("linear slab kernels are deterministic (bit-identical reruns)", async (ctx) => {
  const M = 300, K = 256, N = 192;
  const inp = ctx.upload(randn(M * K, 1)), w = ctx.upload(randn(N * K, 2));
  const dout = ctx.upload(randn(M * N, 3));
  const runs: Float32Array[][] = [];
  for (let r = 0; r < 2; r++) {
    const out = ctx.empty([M, N]), dinp = ctx.empty([M, K]);
    const dw = ctx.zeros([N, K]), db = ctx.zeros([N]);
    const dims = { M, K, N, variant: "slab" };
    linearForward(ctx, out, inp, w, null, dims);
    linearBackwardInput(ctx, dinp, dout, w, dims);
    linearBackwardWeight(ctx, dw, db, dout, inp, dims);
    runs.push(await ctx.readMany([out, dinp, dw, db]));
    ctx.release(out, dinp, dw, db);
  }
  runs[0].forEach((t, i) => assertClose(runs[1][i], t, { atol: 0, rtol: 0, label: `output ${i}` }));
  ctx.release(inp, w, dout);
});

// Both kernels behind the large-product path must give the same bits: the tuner's choice, or a
// run switching variant midway, never changes a result.
const SAME_ORDER_SHAPES = [
  { M: 3, K: 5, N: 7, ldo: 7, col: 0 },
  { M: 37, K: 70, N: 45, ldo: 58, col: 5 }, // unaligned window: packed temporaries
  { M: 37, K: 72, N: 44, ldo: 52, col: 4 }, // aligned window, in place
  { M: 515, K: 33, N: 30, ldo: 30, col: 0 }, // backward-weight reduction of 3 chunks
  { M: 70, K: 601, N: 300, ldo: 300, col: 0 }, // forward reduction of 3 chunks, K % 4 == 1
  { M: 128, K: 768, N: 3072, ldo: 3072, col: 0 }, // bert-base ffn
];
for (const s of SAME_ORDER_SHAPES) {
  gpuTest(
    `linear slab and tile variants give identical bits (${s.M}x${s.K}x${s.N}, ldo ${s.ldo})`,
    async (ctx) => {
      const inp = ctx.upload(randn(s.M * s.K, 71)), w = ctx.upload(randn(s.N * s.K, 72));
      const b = ctx.upload(randn(s.N, 73)), dout = ctx.upload(randn(s.M * s.ldo, 74));
      const outInit = randn(s.M * s.ldo, 75), dinpInit = randn(s.M * s.K, 76);
      const dwInit = randn(s.N * s.K, 77), dbInit = randn(s.N, 78);
      const results: Uint32Array[][] = [];
      for (const variant of ["slab", "tile"]) {
        const dims = { M: s.M, K: s.K, N: s.N, ldo: s.ldo, colOffset: s.col, variant };
        const out = ctx.upload(outInit), dinp = ctx.empty([s.M, s.K]);
        const dinpAcc = ctx.upload(dinpInit), dw = ctx.upload(dwInit), db = ctx.upload(dbInit);
        linearForward(ctx, out, inp, w, b, dims);
        linearBackwardInput(ctx, dinp, dout, w, dims);
        linearBackwardInput(ctx, dinpAcc, dout, w, { ...dims, accumulate: true });
        linearBackwardWeight(ctx, dw, db, dout, inp, dims);
        const got = await ctx.readMany([out, dinp, dinpAcc, dw, db]);
        results.push(got.map((t) => new Uint32Array(t.buffer)));
        ctx.release(out, dinp, dinpAcc, dw, db);
      }
      ["out", "dinp", "dinp (accumulated)", "dw", "db"].forEach((name, i) => {
        const [a, v] = [results[0][i], results[1][i]];
        const bad = a.findIndex((x, j) => x !== v[j]);
        if (bad >= 0) throw new Error(`${name}: element ${bad} differs (${a[bad]} vs ${v[bad]})`);
      });
      ctx.release(inp, w, b, dout);
    },
  );
}

gpuTest(
  "linear tiled kernels: vec4 entry points are bit-identical to the scalar ones",
  async (ctx) => {
    // An aligned window (ldo = N + 8, col = 4) and K % 8 == 4 (a clamped upper half in the last
    // column tile): every entry point is dispatched directly, scalar and vec4, on the same inputs.
    const M = 70, K = 36, N = 20, ldo = N + 8, col = 4;
    const inp = ctx.upload(randn(M * K, 61)), w = ctx.upload(randn(N * K, 62));
    const b = ctx.upload(randn(N, 63)), dout = ctx.upload(randn(M * ldo, 64));
    const outInit = randn(M * ldo, 65), dinpInit = randn(M * K, 66), dwInit = randn(N * K, 67);
    const dbInit = randn(N, 68);
    registerDevLinear(ctx);
    const results: Uint32Array[][] = [];
    for (const entryPoint of ["main", "main_vec4"]) {
      const out = ctx.upload(outInit), dinp = ctx.upload(dinpInit), dw = ctx.upload(dwInit);
      ctx.run("dev/linear_forward_v2_tiled", {
        entryPoint,
        buffers: [out, inp, w, b],
        u32: [M, K / 4, N, ldo, col, 1],
        workgroups: entryPoint === "main_vec4"
          ? [Math.ceil(N / 64), Math.ceil(M / 64)]
          : [Math.ceil(N / 32), Math.ceil(M / 32)],
      });
      ctx.run("dev/linear_backward_input_tiled", {
        entryPoint,
        buffers: [dinp, dout, w],
        u32: [M, K, N, ldo, col, 1],
        workgroups: ctx.grid1d(
          Math.ceil(M / (entryPoint === "main_vec4" ? 8 : 4)) * Math.ceil(K / 8),
          64,
        ),
      });
      // The bias gradient: linear_bias_grad beside `main`, main_vec4's extra first z layer.
      const db = ctx.upload(dbInit);
      const vec4 = entryPoint === "main_vec4";
      const [x, y] = ctx.grid1d(Math.ceil(N / (vec4 ? 8 : 4)) * Math.ceil(K / 8), 64);
      ctx.run("dev/linear_backward_weight_tiled", {
        entryPoint,
        buffers: vec4 ? [dw, dout, inp, db] : [dw, dout, inp],
        u32: [M, K, N, ldo, col, M, 1, vec4 ? 1 : 0],
        workgroups: [x, y, vec4 ? 2 : 1],
      });
      if (!vec4) {
        ctx.run("dev/linear_bias_grad", {
          buffers: [db, dout],
          u32: [M, N, ldo, col],
          workgroups: ctx.grid1d(N, 64),
        });
      }
      const got = await ctx.readMany([out, dinp, dw, db]);
      results.push(got.map((t) => new Uint32Array(t.buffer)));
      ctx.release(out, dinp, dw, db);
    }
    ["out", "dinp (accumulated)", "dw (accumulated)", "db (accumulated)"].forEach((name, i) => {
      const [a, v] = [results[0][i], results[1][i]];
      const bad = a.findIndex((x, j) => x !== v[j]);
      if (bad >= 0) throw new Error(`${name}: element ${bad} differs (${a[bad]} vs ${v[bad]})`);
    });
    // The scalar forward leaves columns outside the window alone; so must the vec4 one.
    assertClose(new Float32Array(results[1][0].buffer).subarray(0, col), outInit.subarray(0, col), {
      atol: 0,
      label: "out outside the window",
    });
    ctx.release(inp, w, b, dout);
  },
);

gpuTest("linear slab splits padded temporaries that exceed one storage binding", async (ctx) => {
  // The same device and pipelines, with a 64 KiB binding limit: the padded copies (K = 6 -> 8,
  // N = 442 -> 444 columns, M = 37 -> 40 rows of doutT) no longer fit and go in column blocks.
  // (A view of the shared context; nothing else is recorded on it meanwhile.)
  const small = Object.create(ctx, { maxBindingBytes: { value: 1 << 16 } }) as typeof ctx;
  const M = 37, K = 6, N = 442;
  const dims = { M, K, N, variant: "slab" };
  const inp = randn(M * K, 51), w = randn(N * K, 52), b = randn(N, 53), dout = randn(M * N, 54);
  const gi = small.upload(inp), gw = small.upload(w), gb = small.upload(b);
  const gd = small.upload(dout), go = small.empty([M, N]), gdi = small.empty([M, K]);
  const gdw = small.zeros([N, K]), gdb = small.zeros([N]);
  linearForward(small, go, gi, gw, gb, dims);
  linearBackwardInput(small, gdi, gd, gw, dims);
  linearBackwardWeight(small, gdw, gdb, gd, gi, dims);
  const [out, dinp, dw, db] = await small.readMany([go, gdi, gdw, gdb]);
  const eOut = new Float32Array(M * N), eDinp = new Float32Array(M * K);
  const eDw = new Float32Array(N * K), eDb = new Float32Array(N);
  cpu.linearForward(eOut, inp, w, b, dims);
  cpu.linearBackwardInput(eDinp, dout, w, dims);
  cpu.linearBackwardWeight(eDw, eDb, dout, inp, dims);
  assertClose(out, eOut, { ...tol(K), label: "out" });
  assertClose(dinp, eDinp, { ...tol(N), label: "dinp" });
  assertClose(dw, eDw, { ...tol(M), label: "dw" });
  assertClose(db, eDb, { ...tol(M), label: "db" });
  small.release(gi, gw, gb, gd, go, gdi, gdw, gdb);
});

gpuTest("linear rejects unknown variants and windows that do not fit", (ctx) => {
  const t = ctx.zeros([64]);
  const throws = (fn: () => void, what: RegExp) => {
    try {
      fn();
    } catch (e) {
      if (what.test((e as Error).message)) return;
      throw e;
    }
    throw new Error(`expected an error matching ${what}`);
  };
  throws(() => linearForward(ctx, t, t, t, null, { M: 2, K: 2, N: 2, variant: "x" }), /variant/);
  throws(
    () => linearForward(ctx, t, t, t, null, { M: 2, K: 2, N: 4, ldo: 5, colOffset: 2 }),
    /window/,
  );
  throws(() => linearForward(ctx, t, t, t, null, { M: 9, K: 9, N: 9 }), /needs at least/);
  ctx.release(t);
});

Deno.test("linear CPU backward matches central finite differences (window, bias)", () => {
  const M = 3, K = 5, N = 7, ldo = 10, col = 2;
  const dims = { M, K, N, ldo, colOffset: col };
  const inp = f64(randn(M * K, 31)), w = f64(randn(N * K, 32)), b = f64(randn(N, 33));
  const g = f64(randn(M * ldo, 34)); // dL/dout, including columns outside the window
  const loss = (x: Float64Array, ww: Float64Array, bb: Float64Array) => {
    const out = new Float64Array(M * ldo);
    cpu.linearForward(out, x, ww, bb, dims);
    return dot(out, g);
  };
  const dinp = new Float64Array(M * K);
  cpu.linearBackwardInput(dinp, g, w, dims);
  const dw = new Float64Array(N * K), db = new Float64Array(N);
  cpu.linearBackwardWeight(dw, db, g, inp, dims);
  checkGradient((x) => loss(x, w, b), inp, dinp, { label: "dinp" });
  checkGradient((x) => loss(inp, x, b), w, dw, { label: "dw" });
  checkGradient((x) => loss(inp, w, x), b, db, { label: "db" });
});
