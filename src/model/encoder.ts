/**
 * The BERT/RoBERTa encoder with its MLM and classification heads, composed from backend ops
 * (GPU kernels or CPU references). Post-LayerNorm, exact GELU, dropout on embeddings, attention
 * probabilities, both sub-layer outputs and the classifier inputs (as Hugging Face does).
 *
 * forward() saves exactly what backward() needs; backward() accumulates parameter gradients into
 * a gradient store (see the gradient rule in params.ts).
 */
import { QUERY_MAX_HS, QUERY_MAX_T } from "../kernels/attention.ts";
import { siteSeed } from "../random/streams.ts";
import type { Backend } from "./backend.ts";
import { headSize, maxSequenceLength, type ModelConfig } from "./config.ts";
import { type ModelNames, modelNames, type ParamSpec, paramSpecs } from "./params.ts";

/** Tensors of every parameter (or gradient) by Hugging Face name; the word embedding apart. */
export interface Store<T, W> {
  wte: W;
  t: Map<string, T>;
}

export interface Batch {
  B: number;
  T: number;
  ids: Uint32Array; // (B, T), already masked for the MLM task
  mask: Uint32Array; // (B, T) 1 real token, 0 padding
}

export interface MlmTargets {
  rows: Uint32Array; // (M) flat positions b*T + t
  targets: Uint32Array; // (M) original token ids
}

export interface ForwardOptions {
  mlm?: MlmTargets;
  labels?: Uint32Array; // (B)
  train: boolean;
  seed: number;
  /**
   * Forward only (scoring, evaluation): layer activations are freed as soon as they are used.
   * When the heads need one row per sequence (see Encoder.keptRows), the last layer computes only
   * those rows and `Pass.hidden` is (B, C): row b is sequence b's kept row.
   */
  inference?: boolean;
}

interface LayerActs<T> {
  inp: T;
  q: T;
  k: T;
  v: T;
  att: T;
  attDrop: T | null;
  ctx: T;
  r1: T;
  mean1: T;
  rstd1: T;
  h1: T;
  f1: T;
  g: T;
  r2: T;
  mean2: T;
  rstd2: T;
}

export interface ClsActs<T> {
  rows: T;
  x: T;
  xDrop: T;
  pre: T;
  pooled: T;
  pooledDrop: T;
  logits: T;
  probs: T;
  losses: T; // (B)
  labels: T;
}

export interface Pass<T> {
  batch: Batch;
  opts: ForwardOptions;
  maskAdd: T;
  emb: T;
  embMean: T;
  embRstd: T;
  layers: LayerActs<T>[];
  hidden: T; // (B, T, C) final hidden states; (B, C) after an inference forward with kept rows
  mlm: null | {
    rows: T;
    targets: T;
    sel: T;
    t: T;
    gt: T;
    mean: T;
    rstd: T;
    tn: T;
    logits: T;
    lse: T;
    logp: T; // (M) log-probability of each target
  };
  cls: ClsActs<T> | null;
}

export class Encoder<T, W> {
  readonly names: ModelNames;
  readonly specs: ParamSpec[];
  readonly C: number;
  readonly HS: number;

  constructor(
    readonly be: Backend<T, W>,
    readonly cfg: ModelConfig,
    readonly params: Store<T, W>,
    readonly heads: { mlm: boolean; classifier: boolean },
  ) {
    this.names = modelNames(cfg);
    this.specs = paramSpecs(cfg, heads);
    this.C = cfg.hidden;
    this.HS = headSize(cfg);
  }

  private p(name: string): T {
    const t = this.params.t.get(name);
    if (!t) throw new Error(`parameter '${name}' is missing`);
    return t;
  }

  private dropout(out: T, inp: T, n: number, p: number, opts: ForwardOptions, site: number): void {
    this.be.dropoutForward(out, inp, {
      n,
      p: opts.train ? p : 0,
      seed: siteSeed(opts.seed, site),
      offset: 0,
    });
  }

  /**
   * Dropout of `inp` into a new tensor, or `inp` itself when dropout is off (evaluation and
   * scoring): no copy. Callers release the result only when it is not `inp`.
   */
  private dropped(inp: T, shape: number[], p: number, opts: ForwardOptions, site: number): T {
    if (!opts.train || p === 0) return inp;
    const out = this.be.empty(shape, "drop");
    this.dropout(out, inp, shape.reduce((a, b) => a * b, 1), p, opts, site);
    return out;
  }

  private dropoutBack(
    dinp: T,
    dout: T,
    n: number,
    p: number,
    opts: ForwardOptions,
    site: number,
  ): void {
    this.be.dropoutBackward(dinp, dout, {
      n,
      p: opts.train ? p : 0,
      seed: siteSeed(opts.seed, site),
      offset: 0,
    });
  }

  forward(batch: Batch, opts: ForwardOptions): Pass<T> {
    const { be, cfg, C, HS } = this;
    const { B, T } = batch;
    const N = B * T;
    const NH = cfg.heads;
    const n = this.names;
    const kind = cfg.modelType;
    const pHidden = cfg.hiddenDropout;
    if (T > maxSequenceLength(cfg)) {
      throw new Error(`sequence length ${T} exceeds the model's ${cfg.maxPositions} positions`);
    }
    const maskAddHost = new Float32Array(N);
    for (let i = 0; i < N; i++) maskAddHost[i] = batch.mask[i] ? 0 : -1e9;
    const maskAdd = be.uploadF32(maskAddHost, "maskAdd");

    const emb = be.empty([B, T, C], "emb");
    be.embeddingForward(emb, batch.ids, this.params.wte, this.p(n.wpe), this.p(n.tte), {
      B,
      T,
      C,
      kind,
      padId: cfg.padTokenId,
    });
    const embMean = be.empty([N], "emb.mean"), embRstd = be.empty([N], "emb.rstd");
    const embLn = be.empty([B, T, C], "emb.ln");
    be.layernormForward(
      embLn,
      embMean,
      embRstd,
      emb,
      this.p(`${n.embLn}.weight`),
      this.p(`${n.embLn}.bias`),
      {
        N,
        C,
        eps: cfg.layerNormEps,
      },
    );
    let h = this.dropped(embLn, [B, T, C], pHidden, opts, 0);
    if (h !== embLn) be.release(embLn);

    const layers: LayerActs<T>[] = [];
    const ad = { B, T, NH, HS };
    const keep = opts.inference ? this.keptRows(batch, opts) : null;
    n.layers.forEach((ln, i) => {
      const site = 1 + i * 3;
      // With `keep`, the last layer's keys and values cover every row and everything else only
      // the kept row of each sequence: R rows of queries, context, feed-forward and output.
      const pruned = keep !== null && i === n.layers.length - 1;
      const R = pruned ? B : N;
      const rs = pruned ? [B, C] : [B, T, C];
      let keepRows: T | null = null;
      let x = h; // the rows this layer outputs, before it
      if (pruned) {
        keepRows = be.uploadU32(keep, "keep.rows");
        x = be.empty(rs, "keep.h");
        be.gatherRows(x, h, keepRows, { M: B, C });
      }
      const lin = { M: N, K: C, N: C }, linR = { M: R, K: C, N: C };
      const q = be.empty(rs, "q"), k = be.empty([B, T, C], "k"), v = be.empty([B, T, C], "v");
      be.linearForward(q, x, this.p(`${ln.q}.weight`), this.p(`${ln.q}.bias`), linR);
      be.linearForward(k, h, this.p(`${ln.k}.weight`), this.p(`${ln.k}.bias`), lin);
      be.linearForward(v, h, this.p(`${ln.v}.weight`), this.p(`${ln.v}.bias`), lin);
      const ctx = be.empty(rs, "ctx");
      let att: T | null = null, attDrop: T | null = null;
      if (pruned) be.attentionQuery(ctx, q, k, v, maskAdd, ad);
      else {
        att = be.empty([B, NH, T, T], "att");
        be.attentionScores(att, q, k, maskAdd, ad);
        if (opts.train && cfg.attentionDropout > 0) {
          attDrop = be.empty([B, NH, T, T], "att.drop");
          this.dropout(attDrop, att, B * NH * T * T, cfg.attentionDropout, opts, site);
        }
        be.attentionContext(ctx, attDrop ?? att, v, ad);
      }
      const ao = be.empty(rs, "attn.out");
      be.linearForward(ao, ctx, this.p(`${ln.attnOut}.weight`), this.p(`${ln.attnOut}.bias`), linR);
      const aoDrop = this.dropped(ao, rs, pHidden, opts, site + 1);
      // The LayerNorm backward reads the residual sum; an inference forward does not keep it.
      const r1 = opts.inference ? null : be.empty(rs, "r1");
      const mean1 = be.empty([R], "mean1"),
        rstd1 = be.empty([R], "rstd1"),
        h1 = be.empty(rs, "h1");
      be.residualLayernormForward(
        h1,
        mean1,
        rstd1,
        r1,
        aoDrop,
        x,
        this.p(`${ln.attnLn}.weight`),
        this.p(`${ln.attnLn}.bias`),
        {
          N: R,
          C,
          eps: cfg.layerNormEps,
        },
      );
      be.release(ao, aoDrop === ao ? null : aoDrop);
      const I = cfg.intermediate;
      const ri = pruned ? [B, I] : [B, T, I];
      const f1 = be.empty(ri, "f1"), g = be.empty(ri, "gelu");
      be.linearForward(f1, h1, this.p(`${ln.inter}.weight`), this.p(`${ln.inter}.bias`), {
        M: R,
        K: C,
        N: I,
      });
      be.geluForward(g, f1, R * I);
      const f2 = be.empty(rs, "f2");
      be.linearForward(f2, g, this.p(`${ln.out}.weight`), this.p(`${ln.out}.bias`), {
        M: R,
        K: I,
        N: C,
      });
      const f2Drop = this.dropped(f2, rs, pHidden, opts, site + 2);
      const r2 = opts.inference ? null : be.empty(rs, "r2");
      const mean2 = be.empty([R], "mean2"),
        rstd2 = be.empty([R], "rstd2"),
        h2 = be.empty(rs, "h2");
      be.residualLayernormForward(
        h2,
        mean2,
        rstd2,
        r2,
        f2Drop,
        h1,
        this.p(`${ln.outLn}.weight`),
        this.p(`${ln.outLn}.bias`),
        {
          N: R,
          C,
          eps: cfg.layerNormEps,
        },
      );
      be.release(f2, f2Drop === f2 ? null : f2Drop);
      const saved = [q, k, v, ctx, r1, mean1, rstd1, h1, f1, g, r2, mean2, rstd2];
      if (opts.inference) {
        // No backward will run: free the layer's activations now and submit, so the next layer
        // reuses their buffers (the pool hands a buffer out again only after a submit).
        be.release(h, x === h ? null : x, keepRows, att, attDrop, ...saved);
        be.flush?.();
      } else {
        layers.push({
          inp: h,
          q,
          k,
          v,
          att: att!,
          attDrop,
          ctx,
          r1: r1!,
          mean1,
          rstd1,
          h1,
          f1,
          g,
          r2: r2!,
          mean2,
          rstd2,
        });
      }
      h = h2;
    });

    const pass: Pass<T> = {
      batch,
      opts,
      maskAdd,
      emb,
      embMean,
      embRstd,
      layers,
      hidden: h,
      mlm: null,
      cls: null,
    };
    if (opts.mlm) {
      // With kept rows, hidden holds row b of sequence b: the targets are its rows in order.
      const rows = keep ? Uint32Array.from({ length: B }, (_, b) => b) : opts.mlm.rows;
      pass.mlm = this.mlmForward(h, { rows, targets: opts.mlm.targets });
    }
    if (opts.labels) pass.cls = this.clsForward(h, B, keep ? 1 : T, opts);
    return pass;
  }

  /**
   * The rows of the last layer an inference forward needs, where that is one row per sequence,
   * row b in sequence b: scoring's MLM targets (one masked copy per sequence) or <s>/[CLS] for
   * classification. Null where more is needed (no head, both heads, several targets in a
   * sequence) or the keys or head exceed what attentionQuery holds.
   */
  private keptRows(batch: Batch, opts: ForwardOptions): Uint32Array | null {
    const { B, T } = batch;
    if (T > QUERY_MAX_T || this.HS > QUERY_MAX_HS) return null;
    if (opts.mlm && !opts.labels) {
      const rows = opts.mlm.rows;
      if (rows.length !== B) return null;
      for (let b = 0; b < B; b++) if (Math.floor(rows[b] / T) !== b) return null;
      return rows;
    }
    if (opts.labels && !opts.mlm) return Uint32Array.from({ length: B }, (_, b) => b * T);
    return null;
  }

  private mlmForward(hidden: T, task: MlmTargets): NonNullable<Pass<T>["mlm"]> {
    const { be, cfg, C } = this;
    const n = this.names;
    const M = task.rows.length;
    if (M === 0) throw new Error("the MLM batch selects no positions");
    const V = cfg.vocabSize;
    const rows = be.uploadU32(task.rows, "mlm.rows");
    const targets = be.uploadU32(task.targets, "mlm.targets");
    const sel = be.empty([M, C], "mlm.sel");
    be.gatherRows(sel, hidden, rows, { M, C });
    const t = be.empty([M, C], "mlm.t"), gt = be.empty([M, C], "mlm.gelu");
    be.linearForward(t, sel, this.p(`${n.mlmDense}.weight`), this.p(`${n.mlmDense}.bias`), {
      M,
      K: C,
      N: C,
    });
    be.geluForward(gt, t, M * C);
    const mean = be.empty([M], "mlm.mean"),
      rstd = be.empty([M], "mlm.rstd"),
      tn = be.empty([M, C], "mlm.ln");
    be.layernormForward(
      tn,
      mean,
      rstd,
      gt,
      this.p(`${n.mlmLn}.weight`),
      this.p(`${n.mlmLn}.bias`),
      {
        N: M,
        C,
        eps: cfg.layerNormEps,
      },
    );
    const logits = be.empty([M, V], "mlm.logits");
    be.vocabForward(logits, tn, this.params.wte, this.p(n.mlmBias), { M, C, V });
    const lse = be.empty([M], "mlm.lse"), logp = be.empty([M], "mlm.logp");
    be.logsoftmaxGatherForward(logp, lse, logits, targets, { M, V });
    return { rows, targets, sel, t, gt, mean, rstd, tn, logits, lse, logp };
  }

  /**
   * The classification head on features: the row b*T of `hidden` ((B*T, C)) is example b's
   * <s>/[CLS] vector. With T = 1, `hidden` is a (B, C) matrix of cached features (the META-TARTAN
   * dev head trains on those).
   */
  clsForward(hidden: T, B: number, T: number, opts: ForwardOptions): ClsActs<T> {
    const { be, cfg, C } = this;
    const n = this.names;
    const K = cfg.numLabels;
    const labelsHost = opts.labels!;
    if (labelsHost.length !== B) throw new Error(`${labelsHost.length} labels for a batch of ${B}`);
    const rowsHost = new Uint32Array(B);
    for (let b = 0; b < B; b++) rowsHost[b] = b * T; // the <s>/[CLS] token
    const rows = be.uploadU32(rowsHost, "cls.rows");
    const labels = be.uploadU32(labelsHost, "cls.labels");
    const x = be.empty([B, C], "cls.x");
    be.gatherRows(x, hidden, rows, { M: B, C });
    const site = 1 + cfg.layers * 3;
    const p = cfg.hiddenDropout;
    // RoBERTa: dropout → dense → tanh → dropout → out_proj. BERT: dense → tanh (pooler) → dropout → classifier.
    const roberta = cfg.modelType === "roberta";
    const xDrop = be.empty([B, C], "cls.x.drop");
    this.dropout(xDrop, x, B * C, roberta ? p : 0, opts, site);
    const pre = be.empty([B, C], "cls.pre"), pooled = be.empty([B, C], "cls.pooled");
    be.linearForward(pre, xDrop, this.p(`${n.clsDense}.weight`), this.p(`${n.clsDense}.bias`), {
      M: B,
      K: C,
      N: C,
    });
    be.tanhForward(pooled, pre, B * C);
    const pooledDrop = be.empty([B, C], "cls.pooled.drop");
    this.dropout(pooledDrop, pooled, B * C, p, opts, site + 1);
    const logits = be.empty([B, K], "cls.logits"), probs = be.empty([B, K], "cls.probs");
    be.linearForward(logits, pooledDrop, this.p(`${n.clsOut}.weight`), this.p(`${n.clsOut}.bias`), {
      M: B,
      K: C,
      N: K,
    });
    const losses = be.empty([B], "cls.losses");
    be.crossEntropyForward(losses, probs, logits, labels, { B, K });
    return { rows, x, xDrop, pre, pooled, pooledDrop, logits, probs, losses, labels };
  }

  /**
   * Accumulate into `grads` the gradient of mlmWeight * mean MLM loss + clsWeight * mean
   * classification loss (either weight may be 0 or its task absent).
   */
  backward(pass: Pass<T>, grads: Store<T, W>, w: { mlm: number; cls: number }): void {
    if (pass.opts.inference) throw new Error("backward of an inference-only forward");
    const { be, cfg, C, HS } = this;
    const { B, T } = pass.batch;
    const N = B * T;
    const NH = cfg.heads;
    const n = this.names;
    const opts = pass.opts;
    const g = (name: string) => {
      const t = grads.t.get(name);
      if (!t) throw new Error(`gradient '${name}' is missing`);
      return t;
    };
    let dh = be.zeros([B, T, C], "dh");
    if (pass.mlm && w.mlm !== 0) this.mlmBackward(pass, dh, grads, g, w.mlm);
    if (pass.cls && w.cls !== 0) this.clsBackward(pass.cls, B, opts, dh, grads, w.cls);

    const ad = { B, T, NH, HS };
    const lin = { M: N, K: C, N: C };
    const pHidden = cfg.hiddenDropout;
    for (let i = cfg.layers - 1; i >= 0; i--) {
      const a = pass.layers[i];
      const ln = n.layers[i];
      const site = 1 + i * 3;
      const I = cfg.intermediate;
      // h2 = LN2(r2), r2 = drop(f2) + h1.
      const dr2 = be.empty([B, T, C], "dr2");
      be.layernormBackward(
        dr2,
        g(`${ln.outLn}.weight`),
        g(`${ln.outLn}.bias`),
        dh,
        a.r2,
        this.p(`${ln.outLn}.weight`),
        a.mean2,
        a.rstd2,
        { N, C },
      );
      be.release(dh);
      const df2 = be.empty([B, T, C], "df2");
      this.dropoutBack(df2, dr2, N * C, pHidden, opts, site + 2);
      const dgelu = be.empty([B, T, I], "dgelu");
      be.linearBackwardInput(dgelu, df2, this.p(`${ln.out}.weight`), { M: N, K: I, N: C });
      be.linearBackwardWeight(g(`${ln.out}.weight`), g(`${ln.out}.bias`), df2, a.g, {
        M: N,
        K: I,
        N: C,
      });
      be.release(df2);
      const df1 = be.empty([B, T, I], "df1");
      be.geluBackward(df1, dgelu, a.f1, N * I);
      be.release(dgelu);
      // The residual: dh1 = dr2 + (FFN input gradient), accumulated in place in dr2's buffer.
      const dh1 = dr2;
      be.linearBackwardInput(dh1, df1, this.p(`${ln.inter}.weight`), {
        M: N,
        K: C,
        N: I,
        accumulate: true,
      });
      be.linearBackwardWeight(g(`${ln.inter}.weight`), g(`${ln.inter}.bias`), df1, a.h1, {
        M: N,
        K: C,
        N: I,
      });
      be.release(df1);
      // h1 = LN1(r1), r1 = drop(attnOut(ctx)) + h.
      const dr1 = be.empty([B, T, C], "dr1");
      be.layernormBackward(
        dr1,
        g(`${ln.attnLn}.weight`),
        g(`${ln.attnLn}.bias`),
        dh1,
        a.r1,
        this.p(`${ln.attnLn}.weight`),
        a.mean1,
        a.rstd1,
        { N, C },
      );
      be.release(dh1);
      const dao = be.empty([B, T, C], "dao");
      this.dropoutBack(dao, dr1, N * C, pHidden, opts, site + 1);
      const dctx = be.empty([B, T, C], "dctx");
      be.linearBackwardInput(dctx, dao, this.p(`${ln.attnOut}.weight`), lin);
      be.linearBackwardWeight(g(`${ln.attnOut}.weight`), g(`${ln.attnOut}.bias`), dao, a.ctx, lin);
      be.release(dao);
      const datt = be.empty([B, NH, T, T], "datt"), dv = be.empty([B, T, C], "dv");
      be.attentionContextBackward(datt, dv, dctx, a.attDrop ?? a.att, a.v, ad);
      be.release(dctx);
      // With attention dropout, datt is the gradient of the dropped probabilities; the softmax
      // backward folds the dropout's backward in (kept where a.attDrop is nonzero).
      const drop = a.attDrop ? { dropped: a.attDrop, p: cfg.attentionDropout } : null;
      this.scoresBackward(datt, a, ad, dr1, g, ln, lin, dv, drop);
      dh = dr1; // the gradient of this layer's input (residual + q/k/v paths)
    }
    // h0 = drop(LN(emb)).
    const dln = be.empty([B, T, C], "demb.ln");
    this.dropoutBack(dln, dh, N * C, pHidden, opts, 0);
    be.release(dh);
    const demb = be.empty([B, T, C], "demb");
    be.layernormBackward(
      demb,
      g(`${n.embLn}.weight`),
      g(`${n.embLn}.bias`),
      dln,
      pass.emb,
      this.p(`${n.embLn}.weight`),
      pass.embMean,
      pass.embRstd,
      { N, C },
    );
    be.release(dln);
    be.embeddingBackward(grads.wte, g(n.wpe), g(n.tte), demb, pass.batch.ids, {
      B,
      T,
      C,
      kind: cfg.modelType,
      padId: cfg.padTokenId,
    });
    be.release(demb);
  }

  /** dq, dk from the softmax; then dh (= dr1, the residual gradient) += q/k/v input gradients. */
  private scoresBackward(
    datt: T,
    a: LayerActs<T>,
    ad: { B: number; T: number; NH: number; HS: number },
    dh: T,
    g: (name: string) => T,
    ln: ModelNames["layers"][number],
    lin: { M: number; K: number; N: number },
    dv: T,
    drop: { dropped: T; p: number } | null,
  ): void {
    const be = this.be;
    const { B, T } = ad;
    const dq = be.empty([B, T, this.C], "dq"), dk = be.empty([B, T, this.C], "dk");
    be.attentionScoresBackward(dq, dk, datt, a.att, a.q, a.k, ad, drop);
    be.release(datt);
    for (const [d, name] of [[dq, ln.q], [dk, ln.k], [dv, ln.v]] as const) {
      be.linearBackwardInput(dh, d, this.p(`${name}.weight`), { ...lin, accumulate: true });
      be.linearBackwardWeight(g(`${name}.weight`), g(`${name}.bias`), d, a.inp, lin);
      be.release(d);
    }
  }

  private mlmBackward(
    pass: Pass<T>,
    dh: T,
    grads: Store<T, W>,
    g: (name: string) => T,
    weight: number,
  ): void {
    const { be, cfg, C } = this;
    const n = this.names;
    const m = pass.mlm!;
    const rowsCount = pass.opts.mlm!.rows.length;
    const V = cfg.vocabSize;
    const dlogp = be.empty([rowsCount], "mlm.dlogp");
    be.fill(dlogp, -weight / rowsCount);
    const dlogits = be.empty([rowsCount, V], "mlm.dlogits");
    be.logsoftmaxGatherBackward(dlogits, dlogp, m.logits, m.lse, m.targets, { M: rowsCount, V });
    be.release(dlogp);
    const dtn = be.empty([rowsCount, C], "mlm.dtn");
    be.vocabBackward(dtn, grads.wte, g(n.mlmBias), dlogits, m.tn, this.params.wte, {
      M: rowsCount,
      C,
      V,
    });
    be.release(dlogits);
    const dgt = be.empty([rowsCount, C], "mlm.dgt");
    be.layernormBackward(
      dgt,
      g(`${n.mlmLn}.weight`),
      g(`${n.mlmLn}.bias`),
      dtn,
      m.gt,
      this.p(`${n.mlmLn}.weight`),
      m.mean,
      m.rstd,
      {
        N: rowsCount,
        C,
      },
    );
    be.release(dtn);
    const dt = be.empty([rowsCount, C], "mlm.dt");
    be.geluBackward(dt, dgt, m.t, rowsCount * C);
    be.release(dgt);
    const dsel = be.empty([rowsCount, C], "mlm.dsel");
    be.linearBackwardInput(dsel, dt, this.p(`${n.mlmDense}.weight`), { M: rowsCount, K: C, N: C });
    be.linearBackwardWeight(g(`${n.mlmDense}.weight`), g(`${n.mlmDense}.bias`), dt, m.sel, {
      M: rowsCount,
      K: C,
      N: C,
    });
    be.release(dt);
    be.gatherRowsBackward(dh, dsel, m.rows, { M: rowsCount, C });
    be.release(dsel);
  }

  /** Backward of clsForward: head gradients accumulate into `grads`, dh (rows b*T) += dx. */
  clsBackward(
    c: ClsActs<T>,
    B: number,
    opts: ForwardOptions,
    dh: T,
    grads: Store<T, W>,
    weight: number,
  ): void {
    const { be, cfg, C } = this;
    const n = this.names;
    const K = cfg.numLabels;
    const g = (name: string) => {
      const t = grads.t.get(name);
      if (!t) throw new Error(`gradient '${name}' is missing`);
      return t;
    };
    const site = 1 + cfg.layers * 3;
    const roberta = cfg.modelType === "roberta";
    const dlogits = be.empty([B, K], "cls.dlogits");
    be.crossEntropyBackward(dlogits, c.probs, c.labels, { B, K, scale: weight / B });
    const dpooledDrop = be.empty([B, C], "cls.dpooled.drop");
    be.linearBackwardInput(dpooledDrop, dlogits, this.p(`${n.clsOut}.weight`), {
      M: B,
      K: C,
      N: K,
    });
    be.linearBackwardWeight(g(`${n.clsOut}.weight`), g(`${n.clsOut}.bias`), dlogits, c.pooledDrop, {
      M: B,
      K: C,
      N: K,
    });
    be.release(dlogits);
    const dpooled = be.empty([B, C], "cls.dpooled");
    this.dropoutBack(dpooled, dpooledDrop, B * C, cfg.hiddenDropout, opts, site + 1);
    be.release(dpooledDrop);
    const dpre = be.empty([B, C], "cls.dpre");
    be.tanhBackward(dpre, dpooled, c.pooled, B * C);
    be.release(dpooled);
    const dxDrop = be.empty([B, C], "cls.dx.drop");
    be.linearBackwardInput(dxDrop, dpre, this.p(`${n.clsDense}.weight`), { M: B, K: C, N: C });
    be.linearBackwardWeight(g(`${n.clsDense}.weight`), g(`${n.clsDense}.bias`), dpre, c.xDrop, {
      M: B,
      K: C,
      N: C,
    });
    be.release(dpre);
    const dx = be.empty([B, C], "cls.dx");
    this.dropoutBack(dx, dxDrop, B * C, roberta ? cfg.hiddenDropout : 0, opts, site);
    be.release(dxDrop);
    be.gatherRowsBackward(dh, dx, c.rows, { M: B, C });
    be.release(dx);
  }

  /** Free every saved activation of a pass. */
  releasePass(pass: Pass<T>): void {
    const be = this.be;
    be.release(pass.maskAdd, pass.emb, pass.embMean, pass.embRstd, pass.hidden);
    for (const a of pass.layers) {
      be.release(
        a.inp,
        a.q,
        a.k,
        a.v,
        a.att,
        a.attDrop,
        a.ctx,
        a.r1,
        a.mean1,
        a.rstd1,
        a.h1,
        a.f1,
        a.g,
        a.r2,
        a.mean2,
        a.rstd2,
      );
    }
    if (pass.mlm) be.release(...Object.values(pass.mlm));
    if (pass.cls) be.release(...Object.values(pass.cls));
  }
}
