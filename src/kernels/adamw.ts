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
 * Tensors of more elements than this get an adamw_step dispatch of their own: the multi-tensor
 * kernel's loads and stores, inside its switch over slots, cost more than adamw_step's, and for
 * large tensors that outweighs a dispatch (docs/KERNELS.md). Results are the same either way.
 */
export const ADAMW_MULTI_MAX_NUMEL = 1 << 16;

/** Tensors per adamw_multi dispatch at most (4 bindings each, plus the scale). */
const ADAMW_SLOTS = 6;

/**
 * Tensors per adamw_multi dispatch on this adapter: 6 (entry point `main`, 25 storage bindings)
 * where it allows them, 3 (`main3`, 13 bindings: GL llvmpipe has 16), else 0 (one adamwStep per
 * tensor).
 */
export function adamwSlots(ctx: GpuContext): 0 | 3 | 6 {
  const have = ctx.maxStorageBuffers;
  if (have >= 4 * ADAMW_SLOTS + 1) return 6;
  if (have >= 4 * (ADAMW_SLOTS / 2) + 1) return 3;
  return 0;
}

/** One tensor of a multi-tensor AdamW step: its own decoupled weight decay. */
export interface AdamWTensor {
  param: GpuTensor;
  grad: GpuTensor;
  m: GpuTensor;
  v: GpuTensor;
  weightDecay: number;
}

/**
 * adamwStep on many tensors with the same lr, betas, eps, step and gradScale (a parameter
 * group): tensors of up to ADAMW_MULTI_MAX_NUMEL elements through shaders/adamw_multi.wgsl,
 * adamwSlots(ctx) per dispatch, larger ones (and all where the adapter has too few bindings) one
 * adamwStep each; results identical to one adamwStep per tensor.
 */
export function adamwMany(
  ctx: GpuContext,
  items: AdamWTensor[],
  dims: Omit<AdamWDims, "n" | "weightDecay">,
): void {
  const slots = adamwSlots(ctx);
  const single = slots === 0 ? items : items.filter((it) => it.param.numel > ADAMW_MULTI_MAX_NUMEL);
  for (const it of single) {
    adamwStep(ctx, it.param, it.grad, it.m, it.v, {
      ...dims,
      n: it.param.numel,
      weightDecay: it.weightDecay,
    });
  }
  if (slots === 0) return;
  const grouped = items.filter((it) => it.param.numel <= ADAMW_MULTI_MAX_NUMEL);
  if (grouped.length === 0) return;
  const dummies = ctx.dummyTensors(3 * slots + 1);
  const [, ...shared] = adamwConstants({ ...dims, n: 0, weightDecay: 0 });
  for (let first = 0; first < grouped.length; first += slots) {
    const group = grouped.slice(first, first + slots);
    const buffers: GpuTensor[] = [dims.gradScale ?? group[0].grad];
    const starts = [0];
    group.forEach((it) => {
      checkAdamW(it.param, it.grad, it.m, it.v, it.param.numel, dims.gradScale);
      buffers.push(it.param, it.grad, it.m, it.v);
      starts.push(starts[starts.length - 1] + Math.ceil(it.param.numel / WG));
    });
    for (let j = group.length; j < slots; j++) {
      const d = 3 * j;
      buffers.push(dummies[d], dummies[3 * slots], dummies[d + 1], dummies[d + 2]);
    }
    const pad = (xs: number[], n: number, v = 0) => [...xs, ...new Array(n - xs.length).fill(v)];
    ctx.run("adamw_multi", {
      buffers,
      u32: [
        group.length,
        dims.gradScale ? 1 : 0,
        0,
        0,
        ...pad(starts, 8, 0xffffffff),
        ...pad(group.map((it) => it.param.numel), 8, 0),
      ],
      f32: [...pad(group.map((it) => dims.lr * it.weightDecay), 8), ...shared],
      workgroups: ctx.grid1d(starts[group.length], 1),
      overrides: { WG },
      entryPoint: slots === 6 ? "main" : "main3",
    });
  }
}

function checkAdamW(
  param: GpuTensor,
  grad: GpuTensor,
  m: GpuTensor,
  v: GpuTensor,
  n: number,
  gradScale: GpuTensor | undefined,
): void {
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
  checkAdamW(param, grad, m, v, n, gradScale);
  ctx.run("adamw_step", {
    buffers: [param, grad, m, v, gradScale ?? grad],
    u32: [n, gradScale ? 1 : 0],
    f32: adamwConstants(dims),
    workgroups: ctx.grid1d(n, WG),
    overrides: { WG },
  });
}
