/**
 * Multi-head self-attention with an additive key mask, split into composable pieces so attention
 * dropout (a separate kernel) can sit between the softmax and the weighted sum:
 *
 *   forward:  attentionScores -> [dropout(att)] -> attentionContext
 *   backward: attentionContextBackward (with the dropped att) -> [dropoutBackward(datt)]
 *             -> attentionScoresBackward (with the un-dropped att)
 *
 * q, k, v and out are (B, T, C) with C = NH * HS, head h in columns h*HS..(h+1)*HS (what separate
 * query/key/value Linear layers produce). HS must be a multiple of 4 (vec4 loads). Every output
 * here is overwritten, none accumulated.
 *
 * Speed: the products run in 16-wide register tiles, so T a multiple of 16 wastes nothing; with
 * T % 4 == 0 the (T, T) tensors also move as vec4 (faster; figures in docs/KERNELS.md).
 * Callers that pad batches should pad T to a multiple of 16 (masked keys cost nothing extra).
 */
import type { AttentionDims } from "../cpu/attention.ts";
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { dropoutScale } from "./dropout.ts";

export type { AttentionDims };

// Register tiles, as spelled out in the shaders.
const SCORES_ROWS = 16; // attention_scores: query rows per thread
const QK_TILE = 16; // attention_qk: 16 x 16 tile
const PV_ROWS = 16; // attention_pv: 16 rows
const PV_VEC4 = 8; // attention_pv: 8 vec4 columns
const WG = 8;
const SOFTMAX_BWD_WG = 64;

function check(name: string, d: AttentionDims, ts: [GpuTensor, number][]): void {
  const { B, T, NH, HS } = d;
  for (const [n, v] of Object.entries(d)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: ${n} = ${v} must be >= 1`);
  }
  if (HS % 4 !== 0) throw new Error(`${name}: head size ${HS} must be a multiple of 4`);
  for (const [t, numel] of ts) {
    if (t.numel !== numel) {
      throw new Error(
        `${name}: '${t.label}' has ${t.numel} values, expected ${numel} for B=${B} T=${T} NH=${NH} HS=${HS}`,
      );
    }
  }
}

/**
 * A writable (T, T)-row tensor is bound twice, as f32 and as vec4; the shader's VEC4 override
 * (rows 16-byte aligned: T % 4 == 0) picks one, and the other binding gets a small dummy.
 */
function attViews(
  ctx: GpuContext,
  t: GpuTensor,
  vec4: boolean,
): [GpuTensor, GpuTensor, GpuTensor] {
  const dummy = ctx.empty([4], "attention unused view");
  return vec4 ? [dummy, t, dummy] : [t, dummy, dummy];
}

/**
 * The scores kernel's vec4 path: whenever rows are 16-byte aligned. Results are bit-identical to
 * the scalar path's (measurements: docs/KERNELS.md).
 */
function scoresVec4(T: number): boolean {
  return T % 4 === 0;
}

/** att[b,h,i,j] = softmax_j(q_i . k_j / sqrt(HS) + maskAdd[b,j]) per head; overwrites att. */
export function attentionScores(
  ctx: GpuContext,
  att: GpuTensor, // (B, NH, T, T)
  q: GpuTensor, // (B, T, C)
  k: GpuTensor, // (B, T, C)
  maskAdd: GpuTensor, // (B, T): 0 for real tokens, large negative (-1e9) for padding keys
  dims: AttentionDims,
): void {
  const { B, T, NH, HS } = dims;
  const btc = B * T * NH * HS;
  check("attentionScores", dims, [[att, B * NH * T * T], [q, btc], [k, btc], [maskAdd, B * T]]);
  const vec4 = scoresVec4(T);
  const [f32View, vec4View, dummy] = attViews(ctx, att, vec4);
  ctx.run("attention_scores", {
    buffers: [f32View, q, k, maskAdd, vec4View],
    u32: [T, NH, HS, B],
    f32: [1 / Math.sqrt(HS)],
    workgroups: ctx.grid1d(B * NH * Math.ceil(T / SCORES_ROWS), WG),
    overrides: { WG, VEC4: vec4 ? 1 : 0 },
  });
  ctx.release(dummy);
}

/** Longest key sequence and largest head size attention_query holds in its private arrays. */
export const QUERY_MAX_T = 512;
export const QUERY_MAX_HS = 128;

/**
 * Attention of R query rows (inference only), row r a row of sequence seq[r]: out[r, h*HS+d] =
 * sum_j softmax_j(q_r . k_(b,j) / sqrt(HS) + maskAdd[b,j]) v[b,j,h*HS+d], b = seq[r]. What
 * attentionScores followed by attentionContext give at those rows, without the (B, NH, T, T)
 * tensor; the last layer of a scoring or evaluation forward needs no other row. Needs
 * T <= QUERY_MAX_T and HS <= QUERY_MAX_HS; overwrites out.
 */
export function attentionQuery(
  ctx: GpuContext,
  out: GpuTensor, // (R, C)
  q: GpuTensor, // (R, C): the query rows
  k: GpuTensor, // (B, T, C)
  v: GpuTensor, // (B, T, C)
  maskAdd: GpuTensor, // (B, T)
  seq: GpuTensor, // (R) u32: each row's sequence, < B
  dims: AttentionDims,
): void {
  const { B, T, NH, HS } = dims;
  const R = seq.numel;
  const btc = B * T * NH * HS, rc = R * NH * HS;
  check("attentionQuery", dims, [[out, rc], [q, rc], [k, btc], [v, btc], [maskAdd, B * T]]);
  if (T > QUERY_MAX_T || HS > QUERY_MAX_HS) {
    throw new Error(
      `attentionQuery: T = ${T} and HS = ${HS} must be <= ${QUERY_MAX_T} and ${QUERY_MAX_HS}`,
    );
  }
  ctx.run("attention_query", {
    buffers: [out, q, k, v, maskAdd, seq],
    u32: [T, NH, HS, R],
    f32: [1 / Math.sqrt(HS)],
    workgroups: ctx.grid1d(R * NH, WG),
    overrides: { WG },
  });
}

/** out[b,i,h*HS+d] = alpha * sum_s w(b,h,i,s) y[b,s,h*HS+d], w untransposed or transposed. */
function weightedSum(
  ctx: GpuContext,
  out: GpuTensor, // (B, T, C)
  w: GpuTensor, // (B, NH, T, T)
  y: GpuTensor, // (B, T, C)
  transposed: boolean,
  alpha: number,
  dims: AttentionDims,
): void {
  const { B, T, NH, HS } = dims;
  // Heads of at most 16 values take the narrow tile (4 vec4 columns, none of them clamped copies).
  const wide = HS / 4 > PV_VEC4 / 2;
  const threads = Math.ceil(T / PV_ROWS) * Math.ceil(HS / 4 / (wide ? PV_VEC4 : PV_VEC4 / 2));
  const vec4 = T % 4 === 0;
  ctx.run("attention_pv", {
    buffers: [out, w, y, w],
    u32: [T, NH, HS, transposed ? 1 : T, transposed ? T : 1, B],
    f32: [alpha],
    workgroups: ctx.grid1d(B * NH * threads, WG),
    overrides: {
      WG,
      VEC4: vec4 ? 1 : 0,
      TRANSPOSED: vec4 && transposed ? 1 : 0,
      WIDE: wide ? 1 : 0,
    },
  });
}

/** out[b,i,h*HS+d] = sum_j att[b,h,i,j] v[b,j,h*HS+d]; att may be any weights; overwrites out. */
export function attentionContext(
  ctx: GpuContext,
  out: GpuTensor, // (B, T, C)
  att: GpuTensor, // (B, NH, T, T)
  v: GpuTensor, // (B, T, C)
  dims: AttentionDims,
): void {
  const { B, T, NH, HS } = dims;
  const btc = B * T * NH * HS;
  check("attentionContext", dims, [[out, btc], [att, B * NH * T * T], [v, btc]]);
  weightedSum(ctx, out, att, v, false, 1, dims);
}

/** datt = dout vᵀ and dv = attᵀ dout per head; overwrites both. */
export function attentionContextBackward(
  ctx: GpuContext,
  datt: GpuTensor, // (B, NH, T, T)
  dv: GpuTensor, // (B, T, C)
  dout: GpuTensor, // (B, T, C)
  att: GpuTensor, // (B, NH, T, T): the weights the forward used (after dropout, if any)
  v: GpuTensor, // (B, T, C)
  dims: AttentionDims,
): void {
  const { B, T, NH, HS } = dims;
  const btc = B * T * NH * HS;
  const btt = B * NH * T * T;
  check("attentionContextBackward", dims, [[datt, btt], [dv, btc], [dout, btc], [att, btt], [
    v,
    btc,
  ]]);
  const tiles = Math.ceil(T / QK_TILE) ** 2;
  const [dattF32, dattVec4, dummy] = attViews(ctx, datt, T % 4 === 0);
  ctx.run("attention_qk", {
    buffers: [dattF32, dout, v, dattVec4],
    u32: [T, NH, HS, B],
    workgroups: ctx.grid1d(B * NH * tiles, WG),
    overrides: { WG, VEC4: T % 4 === 0 ? 1 : 0 },
  });
  ctx.release(dummy);
  weightedSum(ctx, dv, att, dout, true, 1, dims);
}

/**
 * The attention-probability dropout a backward folds in: `dropped` = dropout(att) as the forward
 * computed it (its zeros are the dropped elements), `p` its probability.
 */
export interface AttentionDrop<T> {
  dropped: T;
  p: number;
}

/**
 * Softmax backward dS = att * (g - sum_j g * att), then dq = dS k / sqrt(HS) and
 * dk = dSᵀ q / sqrt(HS); overwrites dq and dk. g = datt, or with `drop` the dropout's backward of
 * datt (the gradient of the dropped probabilities): datt / (1 - p) where `drop.dropped` is nonzero,
 * else 0, fused into the softmax backward. A scratch dS is taken from the pool and released.
 */
export function attentionScoresBackward(
  ctx: GpuContext,
  dq: GpuTensor, // (B, T, C)
  dk: GpuTensor, // (B, T, C)
  datt: GpuTensor, // (B, NH, T, T)
  att: GpuTensor, // (B, NH, T, T): the softmax output (before dropout)
  q: GpuTensor, // (B, T, C)
  k: GpuTensor, // (B, T, C)
  dims: AttentionDims,
  drop: AttentionDrop<GpuTensor> | null = null,
): void {
  const { B, T, NH, HS } = dims;
  const btc = B * T * NH * HS;
  const btt = B * NH * T * T;
  check("attentionScoresBackward", dims, [
    [dq, btc],
    [dk, btc],
    [datt, btt],
    [att, btt],
    [q, btc],
    [k, btc],
    ...(drop ? [[drop.dropped, btt] as [GpuTensor, number]] : []),
  ]);
  if (drop && !(drop.p >= 0 && drop.p <= 1)) {
    throw new Error(`attentionScoresBackward: dropout p must be in [0, 1], got ${drop.p}`);
  }
  const ds = ctx.empty([B, NH, T, T], "attention dS");
  const rows = B * NH * T;
  const [dsF32, dsVec4, dummy] = attViews(ctx, ds, T % 4 === 0);
  const dropped = drop?.dropped ?? att;
  ctx.run("attention_softmax_backward", {
    buffers: [dsF32, datt, att, dsVec4, datt, att, dropped, dropped],
    u32: [rows, T],
    f32: [drop ? dropoutScale(drop.p) : 1],
    workgroups: ctx.grid1d(rows, SOFTMAX_BWD_WG),
    overrides: { WG: SOFTMAX_BWD_WG, VEC4: T % 4 === 0 ? 1 : 0, DROP: drop ? 1 : 0 },
  });
  ctx.release(dummy);
  const scale = 1 / Math.sqrt(HS);
  weightedSum(ctx, dq, ds, k, false, scale, dims);
  weightedSum(ctx, dk, ds, q, true, scale, dims);
  ctx.release(ds);
}
