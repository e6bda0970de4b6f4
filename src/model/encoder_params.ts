/**
 * Typed views of a parameter (or gradient) store. A store holds tensors by Hugging Face name
 * (params.ts); the encoder reads them through these records, resolved once per store, so the
 * forward and backward never look a tensor up by name. Gradients have the parameters' shapes and
 * names, so one record type serves both.
 */
import type { LayerNames, ModelNames } from "./params.ts";

/** Tensors of every parameter (or gradient) by Hugging Face name; the word embedding apart. */
export interface Store<T, W> {
  wte: W;
  t: Map<string, T>;
}

/** A dense layer: weight (out, in) and bias (out). */
export interface LinearParams<T> {
  w: T;
  b: T;
}

/** A LayerNorm: scale (C) and shift (C). */
export interface NormParams<T> {
  w: T;
  b: T;
}

export interface EmbeddingParams<T, W> {
  word: W; // (V, C), row-split on the GPU
  position: T; // (P, C)
  tokenType: T; // (types, C)
  ln: NormParams<T>;
}

/** One post-LayerNorm encoder layer (Hugging Face names in params.ts LayerNames). */
export interface LayerParams<T> {
  q: LinearParams<T>;
  k: LinearParams<T>;
  v: LinearParams<T>;
  attnOut: LinearParams<T>;
  attnLn: NormParams<T>;
  inter: LinearParams<T>; // C → I
  out: LinearParams<T>; // I → C
  outLn: NormParams<T>;
}

/** The MLM head; its decoder is the tied word embedding. */
export interface MlmHeadParams<T> {
  dense: LinearParams<T>;
  ln: NormParams<T>;
  bias: T; // (V)
}

/** BERT: pooler dense + classifier; RoBERTa: classifier.dense + classifier.out_proj. */
export interface ClsHeadParams<T> {
  dense: LinearParams<T>;
  out: LinearParams<T>;
}

/**
 * The records of one store. Each part is resolved on first use and kept, so a store without a
 * head (an STL gradient store has no MLM head) is only an error when that head is used.
 */
export class TypedStore<T, W> {
  private readonly resolved: {
    embeddings?: EmbeddingParams<T, W>;
    layers?: LayerParams<T>[];
    mlm?: MlmHeadParams<T>;
    cls?: ClsHeadParams<T>;
  } = {};

  constructor(
    readonly store: Store<T, W>,
    readonly names: ModelNames,
    readonly what: "parameter" | "gradient",
  ) {}

  get embeddings(): EmbeddingParams<T, W> {
    const n = this.names;
    return this.resolved.embeddings ??= {
      word: this.store.wte,
      position: this.tensor(n.wpe),
      tokenType: this.tensor(n.tte),
      ln: this.pair(n.embLn),
    };
  }

  get layers(): LayerParams<T>[] {
    return this.resolved.layers ??= this.names.layers.map((l) => this.layer(l));
  }

  get mlm(): MlmHeadParams<T> {
    const n = this.names;
    return this.resolved.mlm ??= {
      dense: this.pair(n.mlmDense),
      ln: this.pair(n.mlmLn),
      bias: this.tensor(n.mlmBias),
    };
  }

  get cls(): ClsHeadParams<T> {
    const n = this.names;
    return this.resolved.cls ??= { dense: this.pair(n.clsDense), out: this.pair(n.clsOut) };
  }

  private layer(l: LayerNames): LayerParams<T> {
    return {
      q: this.pair(l.q),
      k: this.pair(l.k),
      v: this.pair(l.v),
      attnOut: this.pair(l.attnOut),
      attnLn: this.pair(l.attnLn),
      inter: this.pair(l.inter),
      out: this.pair(l.out),
      outLn: this.pair(l.outLn),
    };
  }

  private pair(name: string): { w: T; b: T } {
    return { w: this.tensor(`${name}.weight`), b: this.tensor(`${name}.bias`) };
  }

  private tensor(name: string): T {
    const t = this.store.t.get(name);
    if (!t) throw new Error(`${this.what} '${name}' is missing`);
    return t;
  }
}
