/**
 * Reductions over many gradient tensors as one flat vector: sum of squares, cosine, global-norm
 * clipping (the dot-product partials are shared with tests/test_kernels.ts's dotProduct).
 *
 * Scheme (deterministic two-pass, few dispatches): tensors are bound several at a time (15 for
 * sums of squares, 7 pairs for dot products: 16 storage bindings per stage with the partials
 * buffer). Every tensor is cut into chunks of CHUNK elements, one workgroup per chunk; each
 * workgroup writes its partial sum to its own slot of one shared partials buffer (tensor order,
 * then chunk order). One reduce_sum dispatch then folds all slots in a fixed order. With
 * roberta-base's ~200 parameter tensors that is ceil(200 / 15) + 1 = 15 dispatches for a norm,
 * instead of ~200 with one dispatch per tensor, and tiny bias vectors cost no extra dispatch.
 * No atomics anywhere, so the same inputs give bit-identical results. The workgroup shape (64
 * invocations, 256 strided elements each) and the loop selected once per workgroup were tuned on
 * llvmpipe: docs/KERNELS.md.
 */
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";

export const WG = 64;
/** Elements per workgroup in the partials pass: 256 per invocation. */
const CHUNK = WG * 256;
const SUMSQ_PER_DISPATCH = 15;
const DOT_PAIRS_PER_DISPATCH = 7;
/** Guards a cosine against 0 / 0 when a gradient is exactly zero. */
export const COSINE_TINY = 1e-12;

interface Group {
  first: number; // index of the first tensor of the group
  count: number;
  base: number; // first partials slot
  starts: number[]; // first workgroup of each tensor, relative to the group
  totalWg: number;
}

/** Split tensors (by numel) into dispatch groups and lay out their partials slots. */
function planGroups(numels: number[], perDispatch: number): { groups: Group[]; slots: number } {
  const groups: Group[] = [];
  let slots = 0;
  for (let first = 0; first < numels.length; first += perDispatch) {
    const count = Math.min(perDispatch, numels.length - first);
    const starts: number[] = [];
    let totalWg = 0;
    for (let j = 0; j < count; j++) {
      starts.push(totalWg);
      totalWg += Math.max(1, Math.ceil(numels[first + j] / CHUNK));
    }
    groups.push({ first, count, base: slots, starts, totalWg });
    slots += totalWg;
  }
  return { groups, slots };
}

/** u32 params shared by sumsq_partials and dot_partials: header, then n[] and start[] as vec4s. */
function groupParams(g: Group, numels: number[], vec4s: number): number[] {
  const n = new Array(vec4s * 4).fill(0);
  const start = new Array(vec4s * 4).fill(0xffffffff);
  for (let j = 0; j < g.count; j++) {
    n[j] = numels[g.first + j];
    start[j] = g.starts[j];
  }
  return [g.count, g.base, CHUNK, g.totalWg, ...n, ...start];
}

function checkBindings(ctx: GpuContext, op: string): void {
  const have = ctx.maxStorageBuffers;
  if (have < 16) {
    throw new Error(`${op}: needs 16 storage buffers per shader stage, the adapter allows ${have}`);
  }
}

/** out[0] = sum over all tensors of sum x^2 (deterministic two-pass). */
export function sumSquares(
  ctx: GpuContext,
  out: GpuTensor, // (1)
  tensors: GpuTensor[], // each (numel), any shapes
): void {
  checkBindings(ctx, "sumSquares");
  if (tensors.length === 0) {
    ctx.fill(out, 0);
    return;
  }
  const numels = tensors.map((t) => t.numel);
  const { groups, slots } = planGroups(numels, SUMSQ_PER_DISPATCH);
  const partials = ctx.empty([slots], "sumsq-partials");
  for (const g of groups) {
    const bound = tensors.slice(g.first, g.first + g.count);
    while (bound.length < SUMSQ_PER_DISPATCH) bound.push(bound[0]);
    ctx.run("sumsq_partials", {
      buffers: [partials, ...bound],
      u32: groupParams(g, numels, 4),
      workgroups: ctx.grid1d(g.totalWg, 1),
      overrides: { WG },
    });
  }
  ctx.run("reduce_sum", {
    buffers: [out, partials],
    u32: [slots, 1],
    workgroups: [1],
    overrides: { WG },
  });
  ctx.release(partials);
}

/**
 * The first pass of a dot product: partials (slots, 3) of (a.b, a.a, b.b) per workgroup, for
 * reduce_sum with stride 3. Returns the scratch (release it after recording) and its slot count.
 */
export function dotPartials(
  ctx: GpuContext,
  a: GpuTensor[], // each (numel)
  b: GpuTensor[], // each (numel), paired with a
): { partials: GpuTensor; slots: number } {
  checkBindings(ctx, "dot");
  if (a.length !== b.length) throw new Error(`dot: ${a.length} tensors vs ${b.length}`);
  const numels = a.map((t, i) => {
    if (t.numel !== b[i].numel) {
      throw new Error(`dot: '${t.label}' has ${t.numel} values, '${b[i].label}' ${b[i].numel}`);
    }
    return t.numel;
  });
  const { groups, slots } = planGroups(numels, DOT_PAIRS_PER_DISPATCH);
  const partials = ctx.empty([Math.max(1, slots) * 3], "dot-partials");
  if (slots === 0) ctx.fill(partials, 0);
  for (const g of groups) {
    const as = a.slice(g.first, g.first + g.count);
    const bs = b.slice(g.first, g.first + g.count);
    while (as.length < DOT_PAIRS_PER_DISPATCH) {
      as.push(as[0]);
      bs.push(bs[0]);
    }
    ctx.run("dot_partials", {
      buffers: [partials, ...as, ...bs],
      u32: groupParams(g, numels, 2),
      workgroups: ctx.grid1d(g.totalWg, 1),
      overrides: { WG },
    });
  }
  return { partials, slots: Math.max(1, slots) };
}

/** sums = (a.b, a.a, b.b), each summed over all pairs of tensors as one flat vector. */
export function dotSums(
  ctx: GpuContext,
  sums: GpuTensor, // (3)
  a: GpuTensor[], // each (numel)
  b: GpuTensor[], // each (numel), paired with a
): void {
  const { partials, slots } = dotPartials(ctx, a, b);
  ctx.run("reduce_sum", {
    buffers: [sums, partials],
    u32: [slots, 3],
    workgroups: [3],
    overrides: { WG },
  });
  ctx.release(partials);
}

/** out[0] = a.b / (|a| |b| + tiny), with a and b each one flat vector over its tensors. */
export function cosineSimilarity(
  ctx: GpuContext,
  out: GpuTensor, // (1)
  a: GpuTensor[], // each (numel)
  b: GpuTensor[], // each (numel), paired with a
  tiny = COSINE_TINY,
): void {
  const sums = ctx.empty([3], "cosine-sums");
  dotSums(ctx, sums, a, b);
  ctx.run("dot_cosine", { buffers: [out, sums], f32: [tiny], workgroups: [1] });
  ctx.release(sums);
}

/**
 * factor[0] = min(1, maxNorm / (sqrt(sumsq[0]) + 1e-6)) (torch.nn.utils.clip_grad_norm_);
 * norm[0] = sqrt(sumsq[0]) when a norm tensor is given.
 */
export function clipFactor(
  ctx: GpuContext,
  factor: GpuTensor, // (1)
  sumsq: GpuTensor, // (1)
  maxNorm: number,
  norm?: GpuTensor, // (1) optional: receives the total norm before clipping
): void {
  const normOut = norm ?? ctx.empty([1], "clip-norm");
  ctx.run("clip_factor", {
    buffers: [factor, normOut, sumsq],
    f32: [maxNorm],
    workgroups: [1],
  });
  if (!norm) ctx.release(normOut);
}

/**
 * The clip factor of a gradient list's global L2 norm, left on the device for adamwStep's
 * gradScale (or scaleByScalar). Optionally also the total norm, for logging.
 */
export function globalNormClip(
  ctx: GpuContext,
  factor: GpuTensor, // (1)
  grads: GpuTensor[], // each (numel)
  maxNorm: number,
  norm?: GpuTensor, // (1) optional: receives the total norm before clipping
): void {
  const sumsq = ctx.empty([1], "clip-sumsq");
  sumSquares(ctx, sumsq, grads);
  clipFactor(ctx, factor, sumsq, maxNorm, norm);
  ctx.release(sumsq);
}
