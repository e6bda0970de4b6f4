/**
 * The BERT/RoBERTa encoder with its MLM and classification heads, composed from backend ops
 * (GPU kernels or CPU references). Post-LayerNorm, exact GELU, dropout on embeddings, attention
 * probabilities, both sub-layer outputs and the classifier inputs (as Hugging Face does).
 *
 * Two forwards: one that a backward follows (every activation saved; dropout when opts.train)
 * and an inference forward (activations freed layer by layer; the last layer pruned to one row
 * per sequence where the heads need no more). backward() accumulates parameter gradients into a
 * gradient store (see the gradient rule in params.ts).
 *
 * Parts: encoder_params.ts (typed parameter records), encoder_pass.ts (what a pass saves),
 * encoder_ops.ts (shared dims and dropout), encoder_layer.ts (one layer), encoder_heads.ts.
 */
import { QUERY_MAX_HS, QUERY_MAX_T } from "../kernels/attention.ts";
import type { Backend } from "./backend.ts";
import { maxSequenceLength, type ModelConfig } from "./config.ts";
import { clsBackward, clsForward, mlmBackward, mlmForward } from "./encoder_heads.ts";
import {
  inferenceLayerForward,
  layerBackward,
  prunedLayerForward,
  trainingLayerForward,
} from "./encoder_layer.ts";
import { EMBEDDING_SITE, layerSites, Ops } from "./encoder_ops.ts";
import { type Store, TypedStore } from "./encoder_params.ts";
import type { Batch, ClsActs, ForwardOptions, LayerActs, Pass } from "./encoder_pass.ts";
import { type ModelNames, modelNames, type ParamSpec, paramSpecs } from "./params.ts";

export type { Store } from "./encoder_params.ts";
export type { Batch, ClsActs, ForwardOptions, MlmTargets, Pass } from "./encoder_pass.ts";

/** The start of every forward: the attention mask and the embeddings' saved activations. */
interface Embedded<T> {
  maskAdd: T; // (B, T) 0 for real tokens, -1e9 for padding
  emb: T; // (B, T, C) word + position + token type
  embMean: T;
  embRstd: T;
  h: T; // (B, T, C) drop(LN(emb)), the first layer's input
}

export class Encoder<T, W> {
  readonly names: ModelNames;
  readonly specs: ParamSpec[];
  readonly C: number;
  readonly HS: number;
  private readonly ops: Ops<T, W>;
  private readonly weights: TypedStore<T, W>;
  private readonly gradViews = new WeakMap<Store<T, W>, TypedStore<T, W>>();

  constructor(
    readonly be: Backend<T, W>,
    readonly cfg: ModelConfig,
    readonly params: Store<T, W>,
    readonly heads: { mlm: boolean; classifier: boolean },
  ) {
    this.names = modelNames(cfg);
    this.specs = paramSpecs(cfg, heads);
    this.ops = new Ops(be, cfg);
    this.C = this.ops.C;
    this.HS = this.ops.HS;
    this.weights = new TypedStore(params, this.names, "parameter");
  }

  /** The typed records of a gradient store, resolved on its first backward. */
  private gradsOf(store: Store<T, W>): TypedStore<T, W> {
    let g = this.gradViews.get(store);
    if (!g) this.gradViews.set(store, g = new TypedStore(store, this.names, "gradient"));
    return g;
  }

  forward(batch: Batch, opts: ForwardOptions): Pass<T> {
    return opts.inference ? this.inferenceForward(batch, opts) : this.trainingForward(batch, opts);
  }

  /** A forward that a backward can follow: every layer's activations are saved. */
  private trainingForward(batch: Batch, opts: ForwardOptions): Pass<T> {
    const { h: h0, ...embedded } = this.embed(batch, opts);
    const { ops } = this;
    const { maskAdd } = embedded;
    const layers: LayerActs<T>[] = [];
    let h = h0;
    this.weights.layers.forEach((p, i) => {
      const layer = trainingLayerForward(ops, p, h, maskAdd, batch, opts, layerSites(i));
      layers.push(layer.acts);
      h = layer.out;
    });
    const pass = { batch, opts, ...embedded, layers, hidden: h, mlm: null, cls: null };
    return this.withHeads(pass, null);
  }

  /**
   * Forward only: each layer's activations are freed as it ends. Where the heads need only some
   * rows (keptRows), the last layer computes only those and `hidden` is (R, C).
   */
  private inferenceForward(batch: Batch, opts: ForwardOptions): Pass<T> {
    const { h: h0, ...embedded } = this.embed(batch, opts);
    const keep = this.keptRows(batch, opts);
    const { ops } = this;
    const { maskAdd } = embedded;
    const last = this.weights.layers.length - 1;
    let h = h0;
    this.weights.layers.forEach((p, i) => {
      const sites = layerSites(i);
      h = keep !== null && i === last
        ? prunedLayerForward(ops, p, h, keep, maskAdd, batch, opts, sites)
        : inferenceLayerForward(ops, p, h, maskAdd, batch, opts, sites);
    });
    const pass = { batch, opts, ...embedded, layers: [], hidden: h, mlm: null, cls: null };
    return this.withHeads(pass, keep);
  }

  /** h0 = drop(LN(word + position + token type)), and the attention mask. */
  private embed(batch: Batch, opts: ForwardOptions): Embedded<T> {
    const { be, cfg, C } = this;
    const { B, T } = batch;
    const N = B * T;
    if (T > maxSequenceLength(cfg)) {
      throw new Error(`sequence length ${T} exceeds the model's ${cfg.maxPositions} positions`);
    }
    const maskAddHost = new Float32Array(N);
    for (let i = 0; i < N; i++) maskAddHost[i] = batch.mask[i] ? 0 : -1e9;
    const maskAdd = be.uploadF32(maskAddHost, "maskAdd");
    const p = this.weights.embeddings;
    const emb = be.empty([B, T, C], "emb");
    be.embeddingForward(emb, batch.ids, p.word, p.position, p.tokenType, {
      B,
      T,
      C,
      kind: cfg.modelType,
      padId: cfg.padTokenId,
    });
    const embMean = be.empty([N], "emb.mean"), embRstd = be.empty([N], "emb.rstd");
    const embLn = be.empty([B, T, C], "emb.ln");
    be.layernormForward(embLn, embMean, embRstd, emb, p.ln.w, p.ln.b, {
      N,
      C,
      eps: cfg.layerNormEps,
    });
    const h = this.ops.dropped(embLn, [B, T, C], cfg.hiddenDropout, opts, EMBEDDING_SITE);
    if (h !== embLn) be.release(embLn);
    return { maskAdd, emb, embMean, embRstd, h };
  }

  /** The heads the options ask for, on `pass.hidden` (at the kept rows when `keep` is given). */
  private withHeads(pass: Pass<T>, keep: Uint32Array | null): Pass<T> {
    const { opts, hidden } = pass;
    const { B, T } = pass.batch;
    if (opts.mlm) {
      // With kept rows, hidden holds the target rows in order.
      const rows = keep ? Uint32Array.from(keep, (_, r) => r) : opts.mlm.rows;
      const task = { rows, targets: opts.mlm.targets };
      pass.mlm = mlmForward(this.ops, this.weights.mlm, this.params.wte, hidden, task);
    }
    if (opts.labels) pass.cls = this.clsForward(hidden, B, keep ? 1 : T, opts);
    return pass;
  }

  /**
   * The rows of the last layer an inference forward needs: scoring's MLM targets (any number per
   * sequence) or, for classification, <s>/[CLS] (row b*T of sequence b). Null where more is
   * needed (no head, both heads) or the keys or head exceed what attentionQuery holds.
   */
  private keptRows(batch: Batch, opts: ForwardOptions): Uint32Array | null {
    const { B, T } = batch;
    if (T > QUERY_MAX_T || this.HS > QUERY_MAX_HS) return null;
    if (opts.mlm && !opts.labels) return opts.mlm.rows;
    if (opts.labels && !opts.mlm) return Uint32Array.from({ length: B }, (_, b) => b * T);
    return null;
  }

  /**
   * The classification head on features: the row b*T of `hidden` ((B*T, C)) is example b's
   * <s>/[CLS] vector. With T = 1, `hidden` is a (B, C) matrix of cached features (the META-TARTAN
   * dev head trains on those).
   */
  clsForward(hidden: T, B: number, T: number, opts: ForwardOptions): ClsActs<T> {
    return clsForward(this.ops, this.weights.cls, hidden, B, T, opts);
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
    clsBackward(this.ops, this.weights.cls, this.gradsOf(grads).cls, c, B, opts, dh, weight);
  }

  /**
   * Accumulate into `grads` the gradient of mlmWeight * mean MLM loss + clsWeight * mean
   * classification loss (either weight may be 0 or its task absent).
   */
  backward(pass: Pass<T>, grads: Store<T, W>, w: { mlm: number; cls: number }): void {
    if (pass.opts.inference) throw new Error("backward of an inference-only forward");
    const { be, C, ops, weights } = this;
    const { batch, opts } = pass;
    const g = this.gradsOf(grads);
    let dh = be.zeros([batch.B, batch.T, C], "dh");
    if (pass.mlm && w.mlm !== 0) {
      const wte = { param: this.params.wte, grad: grads.wte };
      const M = opts.mlm!.rows.length;
      mlmBackward(ops, weights.mlm, g.mlm, wte, pass.mlm, M, dh, w.mlm);
    }
    if (pass.cls && w.cls !== 0) this.clsBackward(pass.cls, batch.B, opts, dh, grads, w.cls);
    for (let i = this.cfg.layers - 1; i >= 0; i--) {
      const [p, gl, a] = [weights.layers[i], g.layers[i], pass.layers[i]];
      dh = layerBackward(ops, p, gl, a, dh, batch, opts, layerSites(i));
    }
    this.embeddingBackward(pass, g, dh);
  }

  /** h0 = drop(LN(emb)): consumes dh (the gradient of h0). */
  private embeddingBackward(pass: Pass<T>, g: TypedStore<T, W>, dh: T): void {
    const { be, cfg, C } = this;
    const { B, T } = pass.batch;
    const N = B * T;
    const p = this.weights.embeddings, ge = g.embeddings;
    const dln = be.empty([B, T, C], "demb.ln");
    this.ops.dropoutBack(dln, dh, N * C, cfg.hiddenDropout, pass.opts, EMBEDDING_SITE);
    be.release(dh);
    const stats = { mean: pass.embMean, rstd: pass.embRstd, N };
    const demb = this.ops.normBack([B, T, C], "demb", dln, pass.emb, p.ln.w, ge.ln, stats);
    be.embeddingBackward(ge.word, ge.position, ge.tokenType, demb, pass.batch.ids, {
      B,
      T,
      C,
      kind: cfg.modelType,
      padId: cfg.padTokenId,
    });
    be.release(demb);
  }

  /** Free every saved activation of a pass. */
  releasePass(pass: Pass<T>): void {
    const be = this.be;
    be.release(pass.maskAdd, pass.emb, pass.embMean, pass.embRstd, pass.hidden);
    for (const a of pass.layers) {
      be.release(a.inp, a.q, a.k, a.v, a.att, a.attDrop, a.ctx, a.r1, a.mean1, a.rstd1, a.h1);
      be.release(a.f1, a.g, a.r2, a.mean2, a.rstd2);
    }
    if (pass.mlm) be.release(...Object.values(pass.mlm));
    if (pass.cls) be.release(...Object.values(pass.cls));
  }
}
