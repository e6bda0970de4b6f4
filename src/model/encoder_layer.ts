/**
 * One post-LayerNorm encoder layer, forward and backward:
 *
 *   h1 = LN1(drop(attnOut(attention(q(x), k(h), v(h)))) + x)
 *   h2 = LN2(drop(out(gelu(inter(h1)))) + h1)
 *
 * where h is the layer's input (B*T rows) and x the rows it outputs: h itself, or (the pruned last
 * layer of an inference forward) one kept row per sequence. Three forwards share the blocks:
 * training (every activation saved for layerBackward), inference (activations freed as the layer
 * ends) and pruned (inference at kept rows only).
 */
import type { AttnDims, LinearDims } from "./backend.ts";
import type { LayerParams, LinearParams, NormParams } from "./encoder_params.ts";
import type { Batch, LayerActs } from "./encoder_pass.ts";
import type { DropoutDraw, LayerSites, Ops } from "./encoder_ops.ts";

type Dims = Pick<Batch, "B" | "T">;

/** The rows a block computes: R of them, as a tensor of shape `rs` ((B, T, C) or (B, C)). */
interface Rows {
  R: number;
  rs: number[];
  ri: number[]; // the FFN's intermediate shape, (R, I)
}

function allRows<T, W>(o: Ops<T, W>, { B, T }: Dims): Rows {
  return { R: B * T, rs: [B, T, o.C], ri: [B, T, o.I] };
}

function keptRows<T, W>(o: Ops<T, W>, R: number): Rows {
  return { R, rs: [R, o.C], ri: [R, o.I] };
}

function attnDims<T, W>(o: Ops<T, W>, { B, T }: Dims): AttnDims {
  return { B, T, NH: o.NH, HS: o.HS };
}

/** q from the output rows x; k and v from every row of the input h. */
function qkvForward<T, W>(o: Ops<T, W>, p: LayerParams<T>, x: T, h: T, d: Dims, rows: Rows) {
  const { be, C } = o;
  const { B, T } = d;
  const q = be.empty(rows.rs, "q"), k = be.empty([B, T, C], "k"), v = be.empty([B, T, C], "v");
  be.linearForward(q, x, p.q.w, p.q.b, { M: rows.R, K: C, N: C });
  be.linearForward(k, h, p.k.w, p.k.b, { M: B * T, K: C, N: C });
  be.linearForward(v, h, p.v.w, p.v.b, { M: B * T, K: C, N: C });
  return { q, k, v };
}

/** Attention over every query row; the probabilities are kept (and dropped, in training). */
function fullAttention<T, W>(
  o: Ops<T, W>,
  qkv: { q: T; k: T; v: T },
  maskAdd: T,
  d: Dims,
  opts: DropoutDraw,
  site: number,
) {
  const { be, cfg, C, NH } = o;
  const { B, T } = d;
  const ad = attnDims(o, d);
  const ctx = be.empty([B, T, C], "ctx");
  const att = be.empty([B, NH, T, T], "att");
  be.attentionScores(att, qkv.q, qkv.k, maskAdd, ad);
  let attDrop: T | null = null;
  if (opts.train && cfg.attentionDropout > 0) {
    attDrop = be.empty([B, NH, T, T], "att.drop");
    o.dropout(attDrop, att, B * NH * T * T, cfg.attentionDropout, opts, site);
  }
  be.attentionContext(ctx, attDrop ?? att, qkv.v, ad);
  return { ctx, att, attDrop };
}

/** Buffer labels of a dense → dropout → residual LayerNorm block. */
interface AddNormLabels {
  dense: string;
  sum: string;
  mean: string;
  rstd: string;
  out: string;
}
const ATTN_OUT: AddNormLabels = {
  dense: "attn.out",
  sum: "r1",
  mean: "mean1",
  rstd: "rstd1",
  out: "h1",
};
const FFN_OUT: AddNormLabels = { dense: "f2", sum: "r2", mean: "mean2", rstd: "rstd2", out: "h2" };

/**
 * out = LN(drop(dense(inp)) + resid) over `rows`. The sum is kept only with `keepSum` (the
 * LayerNorm backward reads it; an inference forward does not).
 */
function denseAddNorm<T, W>(
  o: Ops<T, W>,
  dense: LinearParams<T>,
  norm: NormParams<T>,
  inp: T,
  resid: T,
  K: number,
  rows: Rows,
  labels: AddNormLabels,
  keepSum: boolean,
  drop: { opts: DropoutDraw; site: number },
) {
  const { be, C } = o;
  const { R, rs } = rows;
  const y = be.empty(rs, labels.dense);
  be.linearForward(y, inp, dense.w, dense.b, { M: R, K, N: C });
  const yDrop = o.dropped(y, rs, o.pHidden, drop.opts, drop.site);
  const sum = keepSum ? be.empty(rs, labels.sum) : null;
  const mean = be.empty([R], labels.mean),
    rstd = be.empty([R], labels.rstd),
    out = be.empty(rs, labels.out);
  be.residualLayernormForward(out, mean, rstd, sum, yDrop, resid, norm.w, norm.b, {
    N: R,
    C,
    eps: o.eps,
  });
  be.release(y, yDrop === y ? null : yDrop);
  return { sum, mean, rstd, out };
}

/** h2 = LN2(drop(out(gelu(inter(h1)))) + h1). */
function ffnBlock<T, W>(
  o: Ops<T, W>,
  p: LayerParams<T>,
  h1: T,
  rows: Rows,
  keepSum: boolean,
  drop: { opts: DropoutDraw; site: number },
) {
  const { be, C, I } = o;
  const f1 = be.empty(rows.ri, "f1"), g = be.empty(rows.ri, "gelu");
  be.linearForward(f1, h1, p.inter.w, p.inter.b, { M: rows.R, K: C, N: I });
  be.geluForward(g, f1, rows.R * I);
  const n = denseAddNorm(o, p.out, p.outLn, g, h1, I, rows, FFN_OUT, keepSum, drop);
  return { f1, g, r2: n.sum, mean2: n.mean, rstd2: n.rstd, h2: n.out };
}

/** A layer over every row; the sums r1, r2 are kept only with `keepSums`. */
function fullLayer<T, W>(
  o: Ops<T, W>,
  p: LayerParams<T>,
  h: T,
  maskAdd: T,
  d: Dims,
  opts: DropoutDraw,
  sites: LayerSites,
  keepSums: boolean,
) {
  const rows = allRows(o, d);
  const { q, k, v } = qkvForward(o, p, h, h, d, rows);
  const { ctx, att, attDrop } = fullAttention(o, { q, k, v }, maskAdd, d, opts, sites.probs);
  const drop1 = { opts, site: sites.attnOut };
  const a = denseAddNorm(o, p.attnOut, p.attnLn, ctx, h, o.C, rows, ATTN_OUT, keepSums, drop1);
  const f = ffnBlock(o, p, a.out, rows, keepSums, { opts, site: sites.ffnOut });
  const { f1, g, r2, mean2, rstd2 } = f;
  const attn = { r1: a.sum, mean1: a.mean, rstd1: a.rstd, h1: a.out };
  return {
    out: f.h2,
    acts: { inp: h, q, k, v, att, attDrop, ctx, ...attn, f1, g, r2, mean2, rstd2 },
  };
}

/** A layer of a forward that a backward follows: returns its output and saved activations. */
export function trainingLayerForward<T, W>(
  o: Ops<T, W>,
  p: LayerParams<T>,
  h: T, // (B, T, C)
  maskAdd: T, // (B, T)
  d: Dims,
  opts: DropoutDraw,
  sites: LayerSites,
): { out: T; acts: LayerActs<T> } {
  const { acts, out } = fullLayer(o, p, h, maskAdd, d, opts, sites, true);
  return { out, acts: { ...acts, r1: acts.r1!, r2: acts.r2! } };
}

/**
 * A layer of an inference forward: its input and activations are freed and the work submitted,
 * so the next layer reuses their buffers (the pool hands a buffer out again only after a submit).
 */
export function inferenceLayerForward<T, W>(
  o: Ops<T, W>,
  p: LayerParams<T>,
  h: T, // (B, T, C)
  maskAdd: T, // (B, T)
  d: Dims,
  opts: DropoutDraw,
  sites: LayerSites,
): T {
  const { acts: a, out } = fullLayer(o, p, h, maskAdd, d, opts, sites, false);
  o.be.release(a.inp, a.att, a.attDrop, a.q, a.k, a.v, a.ctx, a.mean1, a.rstd1, a.h1);
  o.be.release(a.f1, a.g, a.mean2, a.rstd2);
  o.be.flush?.();
  return out;
}

/**
 * The last layer of an inference forward at the kept rows only (`keep[r]`, a row index into
 * (B*T), any number per sequence): keys and values cover every row, everything else only the
 * kept rows, and each kept row's result depends on its own sequence alone. Returns (R, C); frees
 * the rest like inferenceLayerForward.
 */
export function prunedLayerForward<T, W>(
  o: Ops<T, W>,
  p: LayerParams<T>,
  h: T, // (B, T, C)
  keep: Uint32Array, // (R)
  maskAdd: T, // (B, T)
  d: Dims,
  opts: DropoutDraw,
  sites: LayerSites,
): T {
  const { be, C } = o;
  const rows = keptRows(o, keep.length);
  const keepRows = be.uploadU32(keep, "keep.rows");
  const seq = be.uploadU32(keep.map((row) => Math.floor(row / d.T)), "keep.seq");
  const x = be.empty(rows.rs, "keep.h");
  be.gatherRows(x, h, keepRows, { M: rows.R, C });
  const { q, k, v } = qkvForward(o, p, x, h, d, rows);
  const ctx = be.empty(rows.rs, "ctx");
  be.attentionQuery(ctx, q, k, v, maskAdd, seq, attnDims(o, d));
  const drop1 = { opts, site: sites.attnOut };
  const a = denseAddNorm(o, p.attnOut, p.attnLn, ctx, x, C, rows, ATTN_OUT, false, drop1);
  const f = ffnBlock(o, p, a.out, rows, false, { opts, site: sites.ffnOut });
  be.release(h, x, keepRows, seq, q, k, v, ctx, a.mean, a.rstd, a.out, f.f1, f.g, f.mean2);
  be.release(f.rstd2);
  be.flush?.();
  return f.h2;
}

/**
 * Backward of a training layer. Consumes `dh` (the gradient of the layer's output) and returns
 * the gradient of its input; parameter gradients accumulate into `g`.
 */
export function layerBackward<T, W>(
  o: Ops<T, W>,
  p: LayerParams<T>,
  g: LayerParams<T>,
  a: LayerActs<T>,
  dh: T, // (B, T, C)
  d: Dims,
  opts: DropoutDraw,
  sites: LayerSites,
): T {
  const { B, T } = d;
  const N = B * T, shape = [B, T, o.C];
  // h2 = LN2(r2), r2 = drop(f2) + h1.
  const stats2 = { mean: a.mean2, rstd: a.rstd2, N };
  const dr2 = o.normBack(shape, "dr2", dh, a.r2, p.outLn.w, g.outLn, stats2);
  const dh1 = ffnBackward(o, p, g, a, dr2, d, opts, sites.ffnOut);
  // h1 = LN1(r1), r1 = drop(attnOut(ctx)) + h.
  const stats1 = { mean: a.mean1, rstd: a.rstd1, N };
  const dr1 = o.normBack(shape, "dr1", dh1, a.r1, p.attnLn.w, g.attnLn, stats1);
  const dao = o.be.empty(shape, "dao");
  o.dropoutBack(dao, dr1, N * o.C, o.pHidden, opts, sites.attnOut);
  const dctx = o.be.empty(shape, "dctx");
  o.linearBack(dctx, dao, a.ctx, p.attnOut.w, g.attnOut, { M: N, K: o.C, N: o.C });
  o.be.release(dao);
  attentionBackward(o, p, g, a, dctx, dr1, d);
  return dr1; // the residual plus the q/k/v paths
}

/**
 * Backward of the FFN of h2's residual sum r2 = drop(f2) + h1, given dr2: returns dh1, which is
 * dr2 with the FFN input gradient accumulated in place (the residual).
 */
function ffnBackward<T, W>(
  o: Ops<T, W>,
  p: LayerParams<T>,
  g: LayerParams<T>,
  a: LayerActs<T>,
  dr2: T,
  d: Dims,
  opts: DropoutDraw,
  site: number,
): T {
  const { be, C, I } = o;
  const { B, T } = d;
  const N = B * T;
  const df2 = be.empty([B, T, C], "df2");
  o.dropoutBack(df2, dr2, N * C, o.pHidden, opts, site);
  const dgelu = be.empty([B, T, I], "dgelu");
  o.linearBack(dgelu, df2, a.g, p.out.w, g.out, { M: N, K: I, N: C });
  be.release(df2);
  const df1 = be.empty([B, T, I], "df1");
  be.geluBackward(df1, dgelu, a.f1, N * I);
  be.release(dgelu);
  const dh1 = dr2;
  o.linearBack(dh1, df1, a.h1, p.inter.w, g.inter, { M: N, K: C, N: I }, true);
  be.release(df1);
  return dh1;
}

/**
 * Backward of attention given dctx (consumed): dq, dk from the softmax (with attention dropout,
 * its backward folded in, kept where a.attDrop is nonzero), dv from the context; then
 * dh += the q/k/v input gradients.
 */
function attentionBackward<T, W>(
  o: Ops<T, W>,
  p: LayerParams<T>,
  g: LayerParams<T>,
  a: LayerActs<T>,
  dctx: T,
  dh: T,
  d: Dims,
): void {
  const { be, C, NH } = o;
  const { B, T } = d;
  const ad = attnDims(o, d);
  const datt = be.empty([B, NH, T, T], "datt"), dv = be.empty([B, T, C], "dv");
  be.attentionContextBackward(datt, dv, dctx, a.attDrop ?? a.att, a.v, ad);
  be.release(dctx);
  const drop = a.attDrop ? { dropped: a.attDrop, p: o.cfg.attentionDropout } : null;
  const dq = be.empty([B, T, C], "dq"), dk = be.empty([B, T, C], "dk");
  be.attentionScoresBackward(dq, dk, datt, a.att, a.q, a.k, ad, drop);
  be.release(datt);
  const lin: LinearDims = { M: B * T, K: C, N: C };
  const paths: [T, LinearParams<T>, LinearParams<T>][] = [
    [dq, p.q, g.q],
    [dk, p.k, g.k],
    [dv, p.v, g.v],
  ];
  for (const [dy, w, gw] of paths) {
    o.linearBack(dh, dy, a.inp, w.w, gw, lin, true);
    be.release(dy);
  }
}
