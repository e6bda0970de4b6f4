import * as cpu from "../src/cpu/logsoftmax.ts";
import {
  logsoftmaxGatherBackward,
  logsoftmaxGatherForward,
  partialsPerRow,
} from "../src/kernels/logsoftmax.ts";
import type { GpuContext } from "../src/gpu/context.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randInt, randn } from "./util.ts";

const SHAPES = [
  { name: "tiny", M: 2, V: 10, std: 1 },
  { name: "odd", M: 5, V: 1037, std: 3 },
  { name: "roberta-base vocabulary, 3 masked rows", M: 3, V: 50265, std: 4 },
  { name: "large logits (needs the max subtraction)", M: 4, V: 777, std: 80 },
];

async function runGpu(
  ctx: GpuContext,
  logits: Float32Array,
  targets: Uint32Array,
  dlogp: Float32Array,
  M: number,
  V: number,
): Promise<Float32Array[]> {
  const gLogits = ctx.upload(logits, [M, V]), gTargets = ctx.upload(targets);
  const gDlogp = ctx.upload(dlogp), gLogp = ctx.empty([M]), gLse = ctx.empty([M]);
  const gDlogits = ctx.empty([M, V]);
  ctx.fill(gDlogits, NaN); // overwrite, never read
  logsoftmaxGatherForward(ctx, gLogp, gLse, gLogits, gTargets, { M, V });
  logsoftmaxGatherBackward(ctx, gDlogits, gDlogp, gLogits, gLse, gTargets, { M, V });
  const out = await ctx.readMany([gLogp, gLse, gDlogits]);
  ctx.release(gLogits, gTargets, gDlogp, gLogp, gLse, gDlogits);
  return out;
}

for (const { name, M, V, std } of SHAPES) {
  gpuTest(`logsoftmaxGather forward/backward GPU vs CPU (${name})`, async (ctx) => {
    const logits = randn(M * V, 1, std), targets = randInt(M, 2, V), dlogp = randn(M, 3);
    // One row's target is its largest logit, so logp is near 0 there.
    const row0 = logits.subarray(0, V);
    targets[0] = row0.indexOf(row0.reduce((a, b) => Math.max(a, b), -Infinity));
    const [logp, lse, dlogits] = await runGpu(ctx, logits, targets, dlogp, M, V);
    const eLogp = new Float64Array(M), eLse = new Float64Array(M);
    const eDlogits = new Float64Array(M * V);
    const x = f64(logits);
    cpu.logsoftmaxGatherForward(eLogp, eLse, x, targets, { M, V });
    cpu.logsoftmaxGatherBackward(eDlogits, f64(dlogp), x, eLse, targets, { M, V });
    // lse = max + log(sum): f32 sums of V terms (relative error ~1e-6) and the rounding of the
    // largest logit; logp adds the rounding of (logit - max).
    const maxAbs = logits.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const atol = 2e-6 + 2 ** -23 * maxAbs;
    assertClose(lse, eLse, { atol, rtol: 1e-6, label: "lse" });
    assertClose(logp, eLogp, { atol, rtol: 1e-6, label: "logp" });
    // exp(x - lse) with an f32 lse: relative error ~ |x - lse| * 2^-23 + a few ulp.
    assertClose(dlogits, eDlogits, { atol: 1e-7, rtol: 1e-5, label: "dlogits" });
  });
}

gpuTest("logsoftmaxGather is deterministic (bit-identical reruns)", async (ctx) => {
  const M = 3, V = 50265;
  const logits = randn(M * V, 31, 4), targets = randInt(M, 32, V), dlogp = randn(M, 33);
  const a = await runGpu(ctx, logits, targets, dlogp, M, V);
  const b = await runGpu(ctx, logits, targets, dlogp, M, V);
  for (let i = 0; i < a.length; i++) assertClose(a[i], b[i], { atol: 0, rtol: 0, label: `${i}` });
});

Deno.test("partialsPerRow: a multiple of 64, at most 512", () => {
  for (const V of [1, 10, 1037, 30522, 50265]) {
    const S = partialsPerRow(V);
    if (S % 64 !== 0 || S < 64 || S > 512) throw new Error(`V=${V}: S=${S}`);
  }
});

Deno.test("logsoftmaxGather CPU backward matches finite differences", () => {
  const M = 3, V = 17;
  const logits = f64(randn(M * V, 41, 2)), targets = randInt(M, 42, V), w = f64(randn(M, 43));
  const loss = (x: Float64Array) => {
    const logp = new Float64Array(M), lse = new Float64Array(M);
    cpu.logsoftmaxGatherForward(logp, lse, x, targets, { M, V });
    return dot(logp, w);
  };
  const logp = new Float64Array(M), lse = new Float64Array(M);
  cpu.logsoftmaxGatherForward(logp, lse, logits, targets, { M, V });
  const dlogits = new Float64Array(M * V);
  cpu.logsoftmaxGatherBackward(dlogits, w, logits, lse, targets, { M, V });
  checkGradient(loss, logits, dlogits, { label: "dlogits" });
});
