/**
 * The heads on the encoder's hidden states, forward and backward: the MLM head (dense → GELU →
 * LayerNorm → tied decoder, at the target rows only) and the classification head on the
 * <s>/[CLS] vector. Backwards accumulate parameter gradients and add the hidden-state gradient
 * into dh at the rows the head read.
 */
import type { ClsHeadParams, MlmHeadParams } from "./encoder_params.ts";
import type { ClsActs, MlmActs, MlmTargets } from "./encoder_pass.ts";
import { classifierSite, type DropoutDraw, type Ops } from "./encoder_ops.ts";

/** log p(target) at each target row of `hidden` ((rows, C)). */
export function mlmForward<T, W>(
  o: Ops<T, W>,
  p: MlmHeadParams<T>,
  wte: W, // (V, C) the tied decoder
  hidden: T,
  task: MlmTargets,
): MlmActs<T> {
  const { be, cfg, C } = o;
  const M = task.rows.length;
  if (M === 0) throw new Error("the MLM batch selects no positions");
  const V = cfg.vocabSize;
  const rows = be.uploadU32(task.rows, "mlm.rows");
  const targets = be.uploadU32(task.targets, "mlm.targets");
  const sel = be.empty([M, C], "mlm.sel");
  be.gatherRows(sel, hidden, rows, { M, C });
  const t = be.empty([M, C], "mlm.t"), gt = be.empty([M, C], "mlm.gelu");
  be.linearForward(t, sel, p.dense.w, p.dense.b, { M, K: C, N: C });
  be.geluForward(gt, t, M * C);
  const mean = be.empty([M], "mlm.mean"),
    rstd = be.empty([M], "mlm.rstd"),
    tn = be.empty([M, C], "mlm.ln");
  be.layernormForward(tn, mean, rstd, gt, p.ln.w, p.ln.b, { N: M, C, eps: o.eps });
  const logits = be.empty([M, V], "mlm.logits");
  be.vocabForward(logits, tn, wte, p.bias, { M, C, V });
  const lse = be.empty([M], "mlm.lse"), logp = be.empty([M], "mlm.logp");
  be.logsoftmaxGatherForward(logp, lse, logits, targets, { M, V });
  return { rows, targets, sel, t, gt, mean, rstd, tn, logits, lse, logp };
}

/** Backward of weight * (mean over the M targets of -log p); dh (target rows) += dsel. */
export function mlmBackward<T, W>(
  o: Ops<T, W>,
  p: MlmHeadParams<T>,
  g: MlmHeadParams<T>,
  wte: { param: W; grad: W },
  m: MlmActs<T>,
  M: number,
  dh: T,
  weight: number,
): void {
  const { be, cfg, C } = o;
  const V = cfg.vocabSize;
  const dlogp = be.empty([M], "mlm.dlogp");
  be.fill(dlogp, -weight / M);
  const dlogits = be.empty([M, V], "mlm.dlogits");
  be.logsoftmaxGatherBackward(dlogits, dlogp, m.logits, m.lse, m.targets, { M, V });
  be.release(dlogp);
  const dtn = be.empty([M, C], "mlm.dtn");
  be.vocabBackward(dtn, wte.grad, g.bias, dlogits, m.tn, wte.param, { M, C, V });
  be.release(dlogits);
  const stats = { mean: m.mean, rstd: m.rstd, N: M };
  const dgt = o.normBack([M, C], "mlm.dgt", dtn, m.gt, p.ln.w, g.ln, stats);
  const dt = be.empty([M, C], "mlm.dt");
  be.geluBackward(dt, dgt, m.t, M * C);
  be.release(dgt);
  const dsel = be.empty([M, C], "mlm.dsel");
  o.linearBack(dsel, dt, m.sel, p.dense.w, g.dense, { M, K: C, N: C });
  be.release(dt);
  be.gatherRowsBackward(dh, dsel, m.rows, { M, C });
  be.release(dsel);
}

/**
 * The classification head on features: the row b*T of `hidden` ((B*T, C)) is example b's
 * <s>/[CLS] vector. RoBERTa: dropout → dense → tanh → dropout → out_proj. BERT: dense → tanh
 * (pooler) → dropout → classifier (its input dropout runs at p = 0).
 */
export function clsForward<T, W>(
  o: Ops<T, W>,
  p: ClsHeadParams<T>,
  hidden: T,
  B: number,
  T: number,
  opts: DropoutDraw & { labels?: Uint32Array },
): ClsActs<T> {
  const { be, cfg, C } = o;
  const K = cfg.numLabels;
  const labelsHost = opts.labels!;
  if (labelsHost.length !== B) throw new Error(`${labelsHost.length} labels for a batch of ${B}`);
  const rowsHost = new Uint32Array(B);
  for (let b = 0; b < B; b++) rowsHost[b] = b * T; // the <s>/[CLS] token
  const rows = be.uploadU32(rowsHost, "cls.rows");
  const labels = be.uploadU32(labelsHost, "cls.labels");
  const x = be.empty([B, C], "cls.x");
  be.gatherRows(x, hidden, rows, { M: B, C });
  const site = classifierSite(cfg);
  const roberta = cfg.modelType === "roberta";
  const xDrop = be.empty([B, C], "cls.x.drop");
  o.dropout(xDrop, x, B * C, roberta ? o.pHidden : 0, opts, site);
  const pre = be.empty([B, C], "cls.pre"), pooled = be.empty([B, C], "cls.pooled");
  be.linearForward(pre, xDrop, p.dense.w, p.dense.b, { M: B, K: C, N: C });
  be.tanhForward(pooled, pre, B * C);
  const pooledDrop = be.empty([B, C], "cls.pooled.drop");
  o.dropout(pooledDrop, pooled, B * C, o.pHidden, opts, site + 1);
  const logits = be.empty([B, K], "cls.logits"), probs = be.empty([B, K], "cls.probs");
  be.linearForward(logits, pooledDrop, p.out.w, p.out.b, { M: B, K: C, N: K });
  const losses = be.empty([B], "cls.losses");
  be.crossEntropyForward(losses, probs, logits, labels, { B, K });
  return { rows, x, xDrop, pre, pooled, pooledDrop, logits, probs, losses, labels };
}

/** Backward of weight * mean cross-entropy; dh (rows b*T) += dx. */
export function clsBackward<T, W>(
  o: Ops<T, W>,
  p: ClsHeadParams<T>,
  g: ClsHeadParams<T>,
  c: ClsActs<T>,
  B: number,
  opts: DropoutDraw,
  dh: T,
  weight: number,
): void {
  const { be, cfg, C } = o;
  const K = cfg.numLabels;
  const site = classifierSite(cfg);
  const roberta = cfg.modelType === "roberta";
  const dlogits = be.empty([B, K], "cls.dlogits");
  be.crossEntropyBackward(dlogits, c.probs, c.labels, { B, K, scale: weight / B });
  const dpooledDrop = be.empty([B, C], "cls.dpooled.drop");
  o.linearBack(dpooledDrop, dlogits, c.pooledDrop, p.out.w, g.out, { M: B, K: C, N: K });
  be.release(dlogits);
  const dpooled = be.empty([B, C], "cls.dpooled");
  o.dropoutBack(dpooled, dpooledDrop, B * C, o.pHidden, opts, site + 1);
  be.release(dpooledDrop);
  const dpre = be.empty([B, C], "cls.dpre");
  be.tanhBackward(dpre, dpooled, c.pooled, B * C);
  be.release(dpooled);
  const dxDrop = be.empty([B, C], "cls.dx.drop");
  o.linearBack(dxDrop, dpre, c.xDrop, p.dense.w, g.dense, { M: B, K: C, N: C });
  be.release(dpre);
  const dx = be.empty([B, C], "cls.dx");
  o.dropoutBack(dx, dxDrop, B * C, roberta ? o.pHidden : 0, opts, site);
  be.release(dxDrop);
  be.gatherRowsBackward(dh, dx, c.rows, { M: B, C });
  be.release(dx);
}
