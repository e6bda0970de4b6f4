import * as cpu from "../src/cpu/cross_entropy.ts";
import { crossEntropyBackward, crossEntropyForward } from "../src/kernels/cross_entropy.ts";
import { assertClose, checkGradient, f64, gpuTest, randInt, randn } from "./util.ts";

const SHAPES = [
  { name: "tiny", B: 2, K: 3, std: 1 },
  { name: "odd (B over one workgroup)", B: 67, K: 7, std: 2 },
  { name: "bert-base batch 64, 6 labels", B: 64, K: 6, std: 1 },
  { name: "large logits (needs the max subtraction)", B: 5, K: 4, std: 60 },
];

for (const { name, B, K, std } of SHAPES) {
  gpuTest(`crossEntropy forward/backward GPU vs CPU (${name})`, async (ctx) => {
    const logits = randn(B * K, 1, std), labels = randInt(B, 2, K);
    const scale = 1 / B;
    const gLogits = ctx.upload(logits), gLabels = ctx.upload(labels);
    const gLosses = ctx.empty([B]), gProbs = ctx.empty([B, K]), gDlogits = ctx.empty([B, K]);
    crossEntropyForward(ctx, gLosses, gProbs, gLogits, gLabels, { B, K });
    crossEntropyBackward(ctx, gDlogits, gProbs, gLabels, { B, K, scale });
    const [losses, probs, dlogits] = await ctx.readMany([gLosses, gProbs, gDlogits]);
    const eLosses = new Float64Array(B), eProbs = new Float64Array(B * K);
    const eDlogits = new Float64Array(B * K);
    cpu.crossEntropyForward(eLosses, eProbs, f64(logits), labels, { B, K });
    cpu.crossEntropyBackward(eDlogits, eProbs, labels, { B, K, scale });
    // f32 exp/log are accurate to a few ulp; the shifted logit (x - max) carries one rounding of
    // the logits' size, so the absolute error scales with the largest logit.
    const maxAbs = logits.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    const atol = 1e-6 + 2 ** -23 * maxAbs;
    assertClose(losses, eLosses, { atol, rtol: 1e-5, label: "losses" });
    assertClose(probs, eProbs, { atol: 1e-6, rtol: 1e-5, label: "probs" });
    assertClose(dlogits, eDlogits, { atol: 1e-6 * scale, rtol: 1e-5, label: "dlogits" });
    ctx.release(gLogits, gLabels, gLosses, gProbs, gDlogits);
  });
}

Deno.test("crossEntropy CPU backward matches finite differences (mean loss)", () => {
  const B = 4, K = 5;
  const logits = f64(randn(B * K, 21, 2)), labels = randInt(B, 22, K);
  const scale = 1 / B;
  const loss = (x: Float64Array) => {
    const losses = new Float64Array(B), probs = new Float64Array(B * K);
    cpu.crossEntropyForward(losses, probs, x, labels, { B, K });
    return losses.reduce((a, b) => a + b, 0) * scale;
  };
  const losses = new Float64Array(B), probs = new Float64Array(B * K);
  cpu.crossEntropyForward(losses, probs, logits, labels, { B, K });
  const dlogits = new Float64Array(B * K);
  cpu.crossEntropyBackward(dlogits, probs, labels, { B, K, scale });
  checkGradient(loss, logits, dlogits, { label: "dlogits" });
});
