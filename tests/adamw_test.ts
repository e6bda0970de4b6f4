import * as cpu from "../src/cpu/adamw.ts";
import * as cpuNorm from "../src/cpu/norm.ts";
import type { GpuTensor } from "../src/gpu/tensor.ts";
import { ADAMW_MULTI_MAX_NUMEL, adamwMany, adamwSlots, adamwStep } from "../src/kernels/adamw.ts";
import { createContext, FILL_MULTI_MAX_NUMEL, type GpuContext } from "../src/gpu/context.ts";
import { globalNormClip } from "../src/kernels/norm.ts";
import { assertClose, f64, gpuTest, randn } from "./util.ts";

/** One tensor per size, as in a model: a bias, an odd vector and a BERT-base FFN matrix. */
const SIZES = [
  { name: "tiny", n: 8 },
  { name: "odd", n: 1000 + 37 },
  { name: "bert-base FFN 768x3072", n: 768 * 3072 },
];
/** Gradient scales per tensor: 1e-6 puts |g| near eps, where eps matters to the update. */
const GRAD_STD = [1, 1e-6, 1e-2];
const STEPS = 5;

const CONFIGS = [
  { name: "torch defaults, wd 0", lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
  {
    name: "encoder (SPEC §5), wd 0.01",
    lr: 1e-4,
    beta1: 0.9,
    beta2: 0.98,
    eps: 1e-6,
    weightDecay: 0.01,
  },
  { name: "head, wd 0.1", lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 },
];

/** Seeded inputs, generated once and shared by the GPU and CPU runs (randn is slow in JS). */
const cache = new Map<string, Float32Array>();
function input(n: number, seed: number, std = 1): Float32Array {
  const key = `${n}/${seed}/${std}`;
  let x = cache.get(key);
  if (!x) cache.set(key, x = randn(n, seed, std));
  return x;
}
const initParam = (k: number) => input(SIZES[k].n, 100 + k);
const gradAt = (step: number, k: number) => input(SIZES[k].n, 1000 * step + k, GRAD_STD[k]);

interface State {
  p: GpuTensor;
  m: GpuTensor;
  v: GpuTensor;
}

/** Run STEPS steps on the GPU over every size; returns the final (param, m, v) per tensor. */
async function runGpu(
  ctx: GpuContext,
  cfg: (typeof CONFIGS)[number],
  clipTo?: number,
): Promise<Float32Array[][]> {
  const states: State[] = SIZES.map(({ n }, k) => ({
    p: ctx.upload(initParam(k)),
    m: ctx.zeros([n]),
    v: ctx.zeros([n]),
  }));
  const factor = ctx.empty([1], "clip-factor");
  for (let step = 1; step <= STEPS; step++) {
    const grads = SIZES.map((_, k) => ctx.upload(gradAt(step, k)));
    if (clipTo !== undefined) globalNormClip(ctx, factor, grads, clipTo);
    SIZES.forEach(({ n }, k) => {
      const { p, m, v } = states[k];
      adamwStep(ctx, p, grads[k], m, v, {
        n,
        ...cfg,
        step,
        gradScale: clipTo !== undefined ? factor : undefined,
      });
    });
    ctx.release(...grads);
  }
  const flat = await ctx.readMany(states.flatMap((s) => [s.p, s.m, s.v]));
  for (const s of states) ctx.release(s.p, s.m, s.v);
  ctx.release(factor);
  return SIZES.map((_, k) => flat.slice(3 * k, 3 * k + 3));
}

/** The same steps in f64 with the CPU reference. */
function runCpu(cfg: (typeof CONFIGS)[number], clipTo?: number): Float64Array[][] {
  const states = SIZES.map((
    { n },
    k,
  ) => [f64(initParam(k)), new Float64Array(n), new Float64Array(n)]);
  for (let step = 1; step <= STEPS; step++) {
    const grads = SIZES.map((_, k) => f64(gradAt(step, k)));
    const factor = new Float64Array([1]);
    if (clipTo !== undefined) cpuNorm.globalNormClip(factor, grads, clipTo);
    SIZES.forEach(({ n }, k) => {
      const [p, m, v] = states[k];
      cpu.adamwStep(p, grads[k], m, v, {
        n,
        ...cfg,
        step,
        gradScale: clipTo !== undefined ? factor : undefined,
      });
    });
  }
  return states;
}

/**
 * Tolerances from f32 rounding: param loses ~2 half-ulps a step (decay, update), so 5 steps stay
 * within 1e-6 relative; the update itself is ~lr with a relative error of a few ulps (absolute
 * ~1e-9 even after division by 1 - beta1). m is a sum of terms ~|g| that can cancel, so its error
 * is absolute, ~1e-7 |g|; v has only positive terms, so its error is relative.
 */
function compare(got: Float32Array[][], want: Float64Array[][], label: string): void {
  SIZES.forEach(({ name }, k) => {
    const [p, m, v] = got[k];
    const [ep, em, ev] = want[k];
    const g = GRAD_STD[k];
    assertClose(p, ep, { atol: 1e-8, rtol: 1e-6, label: `${label} ${name} param` });
    assertClose(m, em, { atol: 1e-6 * g, rtol: 1e-6, label: `${label} ${name} m` });
    assertClose(v, ev, { atol: 1e-12 * g * g, rtol: 2e-6, label: `${label} ${name} v` });
  });
}

for (const cfg of CONFIGS) {
  gpuTest(`adamw GPU vs CPU over ${STEPS} steps (${cfg.name})`, async (ctx) => {
    compare(await runGpu(ctx, cfg), runCpu(cfg), cfg.name);
  });
}

gpuTest("adamw with a device clip factor as gradScale, GPU vs CPU", async (ctx) => {
  // Norms of the three gradients: ~2.9 (tiny), ~3e-5, ~15; clipping to 1 scales every step.
  const cfg = CONFIGS[1];
  compare(await runGpu(ctx, cfg, 1.0), runCpu(cfg, 1.0), "clipped");
  // Clipping changes the result (or this test would prove nothing): eps is not negligible.
  const unclipped = runCpu(cfg);
  const clipped = runCpu(cfg, 1.0);
  const diff = Math.abs(unclipped[1][0][0] - clipped[1][0][0]);
  if (!(diff > 1e-7)) throw new Error(`clipping did not change the odd tensor's update (${diff})`);
});

gpuTest("adamw deterministic: two runs give bit-identical params and moments", async (ctx) => {
  const a = await runGpu(ctx, CONFIGS[1], 1.0);
  const b = await runGpu(ctx, CONFIGS[1], 1.0);
  a.forEach((tensors, k) =>
    tensors.forEach((t, j) =>
      assertClose(t, b[k][j], { atol: 0, rtol: 0, label: `run 2 vs run 1, tensor ${k}.${j}` })
    )
  );
});

gpuTest("adamw on a folded grid (n > 65535 workgroups of 256)", async (ctx) => {
  const n = 65535 * 256 + 1001;
  const p0 = randn(n, 1), g = randn(n, 2), m0 = randn(n, 3, 0.1), v0 = randn(n, 4, 0.1);
  for (let i = 0; i < n; i++) v0[i] = v0[i] * v0[i];
  const p = ctx.upload(p0), gg = ctx.upload(g), m = ctx.upload(m0), v = ctx.upload(v0);
  const dims = { n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 };
  adamwStep(ctx, p, gg, m, v, dims);
  const [gp, gm, gv] = await ctx.readMany([p, m, v]);
  const ep = f64(p0), em = f64(m0), ev = f64(v0);
  cpu.adamwStep(ep, g, em, ev, dims);
  assertClose(gp, ep, { atol: 1e-8, rtol: 1e-6, label: "param" });
  assertClose(gm, em, { atol: 1e-7, rtol: 1e-6, label: "m" });
  assertClose(gv, ev, { atol: 1e-12, rtol: 2e-6, label: "v" });
  ctx.release(p, gg, m, v);
});

Deno.test("adamw CPU reference: constant gradient moves each step by lr * g / (|g| + eps)", () => {
  // With a constant g the bias-corrected moments are exactly g and g^2 at every step, so the
  // update is the closed form below; this pins the bias corrections and the decay order.
  const g = new Float64Array([0.5, -2, 1e-8, 0]);
  const p = new Float64Array([1, -1, 0.25, 3]);
  const m = new Float64Array(4), v = new Float64Array(4);
  const lr = 1e-2, eps = 1e-8, wd = 0.1;
  const want = Float64Array.from(p);
  for (let step = 1; step <= 4; step++) {
    cpu.adamwStep(p, g, m, v, { n: 4, lr, beta1: 0.9, beta2: 0.999, eps, weightDecay: wd, step });
    for (let i = 0; i < 4; i++) {
      want[i] = want[i] * (1 - lr * wd) - lr * g[i] / (Math.abs(g[i]) + eps);
    }
    assertClose(p, want, { atol: 1e-15, rtol: 1e-12, label: `param after step ${step}` });
  }
});

Deno.test("adamw CPU reference: one step from PyTorch's update rule by hand", () => {
  // torch.optim.AdamW(lr=0.1, betas=(0.5, 0.75), eps=0.01, weight_decay=0.2), p=2, g=1 then g=3.
  const p = new Float64Array([2]), m = new Float64Array(1), v = new Float64Array(1);
  const hp = { n: 1, lr: 0.1, beta1: 0.5, beta2: 0.75, eps: 0.01, weightDecay: 0.2 };
  cpu.adamwStep(p, new Float64Array([1]), m, v, { ...hp, step: 1 });
  // p = 2 * 0.98 = 1.96; m = 0.5, v = 0.25; m_hat = 1, v_hat = 1; p = 1.96 - 0.1 / 1.01
  assertClose(p, [1.96 - 0.1 / 1.01], { atol: 1e-15, rtol: 1e-14, label: "step 1" });
  cpu.adamwStep(p, new Float64Array([3]), m, v, { ...hp, step: 2 });
  // m = 0.25 + 1.5 = 1.75, m_hat = 1.75 / 0.75; v = 0.1875 + 2.25 = 2.4375, v_hat = 2.4375 / 0.4375
  const p1 = 1.96 - 0.1 / 1.01;
  const want = p1 * 0.98 - 0.1 * (1.75 / 0.75) / (Math.sqrt(2.4375 / 0.4375) + 0.01);
  assertClose(p, [want], { atol: 1e-15, rtol: 1e-14, label: "step 2" });
  assertClose(m, [1.75], { atol: 0, rtol: 1e-15, label: "m" });
  assertClose(v, [2.4375], { atol: 0, rtol: 1e-15, label: "v" });
});

gpuTest("adamwStep rejects aliased buffers", (ctx) => {
  const a = ctx.zeros([4]), b = ctx.zeros([4]), c = ctx.zeros([4]);
  const dims = { n: 4, lr: 1, beta1: 0.9, beta2: 0.9, eps: 1, weightDecay: 0, step: 1 };
  let threw = false;
  try {
    adamwStep(ctx, a, a, b, c, dims);
  } catch {
    threw = true;
  }
  ctx.release(a, b, c);
  if (!threw) throw new Error("param === grad was accepted");
});

/**
 * adamwMany on 14 tensors equals one adamwStep each, bit for bit: the 13 small ones in
 * ceil(13 / slots) dispatches for the slots `ctx` allows (a partial one included) and the large
 * one alone, or 14 single steps without slots.
 */
async function checkAdamwMany(ctx: GpuContext): Promise<void> {
  // Sizes around the 256-element workgroups, mixed decay, a device clip factor, 3 steps; one
  // tensor past ADAMW_MULTI_MAX_NUMEL (its own adamw_step dispatch).
  const sizes = [1, 255, 256, 257, 3000, 7, 512, 1023, 64, 100000, 5, 9, 300, 65536];
  const slots = adamwSlots(ctx);
  const big = sizes.filter((n) => n > ADAMW_MULTI_MAX_NUMEL).length;
  if (big !== 1 || (slots && (sizes.length - big) % slots === 0)) {
    throw new Error("the test must span a partial dispatch and one large tensor");
  }
  const decay = sizes.map((_, i) => (i % 3 === 0 ? 0 : 0.01 * (i + 1)));
  const init = sizes.map((n, i) => {
    const v = randn(n, 40 + i, 0.1);
    return {
      p: randn(n, i),
      g: randn(n, 20 + i),
      m: randn(n, 30 + i, 0.1),
      v: v.map((x) => x * x),
    };
  });
  const scale = ctx.upload(new Float32Array([0.37]));
  const make = () =>
    init.map((x, i) => ({
      param: ctx.upload(x.p),
      grad: ctx.upload(x.g),
      m: ctx.upload(x.m),
      v: ctx.upload(x.v),
      weightDecay: decay[i],
    }));
  const many = make(), one = make();
  const dims = { lr: 1e-3, beta1: 0.9, beta2: 0.98, eps: 1e-6, gradScale: scale };
  const want = slots ? big + Math.ceil((sizes.length - big) / slots) : sizes.length;
  for (let step = 1; step <= 3; step++) {
    const before = ctx.dispatchCount;
    adamwMany(ctx, many, { ...dims, step });
    if (ctx.dispatchCount - before !== want) {
      throw new Error(
        `adamwMany used ${ctx.dispatchCount - before} dispatches, want ${want} ` +
          `(${slots} slots for ${ctx.maxStorageBuffers} storage buffers)`,
      );
    }
    for (const t of one) {
      adamwStep(ctx, t.param, t.grad, t.m, t.v, {
        ...dims,
        step,
        n: t.param.numel,
        weightDecay: t.weightDecay,
      });
    }
  }
  const got = await ctx.readMany(many.flatMap((t) => [t.param, t.m, t.v]));
  const expected = await ctx.readMany(one.flatMap((t) => [t.param, t.m, t.v]));
  got.forEach((g, k) =>
    assertClose(g, expected[k], {
      atol: 0,
      rtol: 0,
      label: `${slots} slots: tensor ${Math.floor(k / 3)}.${k % 3}`,
    })
  );
  // And every tensor moved (a slot left untouched would also differ from its start).
  const p0 = await ctx.readMany(many.map((t) => t.param));
  p0.forEach((p, i) => {
    if (p.every((x, j) => x === init[i].p[j])) throw new Error(`tensor ${i} was not updated`);
  });
}

gpuTest(
  "adamwMany on this adapter: its slots per dispatch, bit-identical to adamwStep",
  (ctx) => checkAdamwMany(ctx),
);

for (const buffers of [16, 12]) {
  Deno.test({
    name: `adamwMany with ${buffers} storage buffers (${
      buffers >= 13 ? "3-slot main3" : "one step per tensor"
    }), bit-identical to adamwStep`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const ctx = await createContext({ maxStorageBuffers: buffers });
      try {
        if (adamwSlots(ctx) !== (buffers >= 13 ? 3 : 0)) throw new Error("wrong slot count");
        await checkAdamwMany(ctx);
      } finally {
        ctx.destroy();
      }
    },
  });
}

gpuTest(
  "fillMany sets every element of 12 tensors (one alone, eleven in two dispatches) and nothing else",
  async (ctx) => {
    // 2049..5000: several 2048-element workgroups with a partial one; 70000: its own `fill`.
    const sizes = [1, 256, 257, 5000, 3, 70000, 12, 9, 255, 1024, 31, 2049];
    const big = sizes.filter((n) => n > FILL_MULTI_MAX_NUMEL).length;
    const ts = sizes.map((n, i) => ctx.upload(randn(n, i)));
    const other = ctx.upload(randn(100, 99));
    const before = ctx.dispatchCount;
    ctx.fillMany(ts, -2.5);
    const want = ctx.maxStorageBuffers >= 8 ? big + Math.ceil((sizes.length - big) / 8) : 12;
    if (big !== 1 || ctx.dispatchCount - before !== want) {
      throw new Error(`${ctx.dispatchCount - before} dispatches, want ${want}`);
    }
    const got = await ctx.readMany([...ts, other]);
    got.slice(0, sizes.length).forEach((g, i) => {
      if (g.length !== sizes[i] || g.some((x) => x !== -2.5)) {
        throw new Error(`tensor ${i} not filled`);
      }
    });
    assertClose(got[sizes.length], randn(100, 99), { atol: 0, rtol: 0, label: "untouched tensor" });
  },
);
