/**
 * What a forward pass takes and what it saves. A forward that a backward follows saves exactly
 * what the backward needs (LayerActs per layer, the heads' activations); an inference forward
 * saves no layer activations.
 */

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

/** One layer's saved activations (full rows: every tensor is (B, T, ·) or (B, T)). */
export interface LayerActs<T> {
  inp: T; // (B, T, C) the layer's input
  q: T;
  k: T;
  v: T;
  att: T; // (B, NH, T, T) attention probabilities
  attDrop: T | null; // the dropped probabilities, when attention dropout is on
  ctx: T;
  r1: T; // residual sum before the attention LayerNorm
  mean1: T; // (B, T)
  rstd1: T; // (B, T)
  h1: T;
  f1: T; // (B, T, I) before GELU
  g: T; // (B, T, I) after GELU
  r2: T; // residual sum before the output LayerNorm
  mean2: T;
  rstd2: T;
}

export interface MlmActs<T> {
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
  mlm: MlmActs<T> | null;
  cls: ClsActs<T> | null;
}
