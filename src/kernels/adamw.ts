import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

const WG = 256;

export interface AdamWDims {
  n: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for the bias corrections. */
  step: number;
  /** (1) multiplier applied to the gradient on the device, e.g. the global-norm clip factor. */
  gradScale?: GpuTensor;
}

/** The f32 uniforms of adamw_step, computed in f64 on the host (PyTorch's order of operations). */
export function adamwConstants(dims: AdamWDims): number[] {
  const { lr, beta1, beta2, eps, weightDecay, step } = dims;
  if (!Number.isInteger(step) || step < 1) throw new Error(`adamwStep: step ${step} is not >= 1`);
  const bias1 = 1 - beta1 ** step;
  const bias2 = 1 - beta2 ** step;
  return [lr * weightDecay, lr / bias1, Math.sqrt(bias2), beta1, beta2, 1 - beta1, 1 - beta2, eps];
}

/**
 * One AdamW step in place (torch.optim.AdamW semantics): p -= lr*wd*p; m = b1 m + (1-b1) g;
 * v = b2 v + (1-b2) g^2; p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps), with
 * g = grad * gradScale[0] when gradScale is given. Per-group lr and wd are separate calls.
 */
export function adamwStep(
  ctx: GpuContext,
  param: GpuTensor, // (n) updated in place
  grad: GpuTensor, // (n)
  m: GpuTensor, // (n) first moment, updated in place
  v: GpuTensor, // (n) second moment, updated in place
  dims: AdamWDims,
): void {
  const { n, gradScale } = dims;
  for (const [name, t] of [["param", param], ["grad", grad], ["m", m], ["v", v]] as const) {
    if (t.numel < n) {
      throw new Error(`adamwStep: ${name} '${t.label}' has ${t.numel} < ${n} values`);
    }
  }
  // param, m and v are written: WebGPU forbids binding a written buffer twice in one dispatch.
  const written = [param.buffer, m.buffer, v.buffer];
  const read = [grad.buffer, gradScale?.buffer];
  if (new Set(written).size < 3 || read.some((b) => b && written.includes(b))) {
    throw new Error("adamwStep: param, m and v must be distinct and different from grad/gradScale");
  }
  ctx.run("adamw_step", {
    buffers: [param, grad, m, v, gradScale ?? grad],
    u32: [n, gradScale ? 1 : 0],
    f32: adamwConstants(dims),
    workgroups: ctx.grid1d(n, WG),
    overrides: { WG },
  });
}
