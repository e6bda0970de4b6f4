/**
 * The operations the model is composed of, with the argument order of the GPU kernel wrappers
 * (outputs, upstream gradient, saved tensors, dims). Two implementations: the GPU one
 * (src/model/gpu_backend.ts, WGSL kernels) and the CPU one (src/model/cpu_backend.ts, the plain
 * references), so one composition (src/model/encoder.ts) runs on both and the test of the
 * composed model compares kernels, not two hand-written copies of the wiring.
 *
 * T is the backend's tensor; W its word-embedding matrix (row-split on the GPU when it exceeds
 * one storage binding).
 */
export interface LinearDims {
  M: number;
  K: number;
  N: number;
}

export interface AttnDims {
  B: number;
  T: number;
  NH: number;
  HS: number;
}

export interface DropoutDims {
  n: number;
  p: number;
  seed: number;
  offset: number;
}

export interface Backend<T, W> {
  readonly name: string;
  /** Submit recorded work (lets released buffers be reused); optional. */
  flush?(): void;
  zeros(shape: number[], label: string): T;
  empty(shape: number[], label: string): T;
  uploadU32(data: Uint32Array, label: string): T;
  uploadF32(data: Float32Array, label: string): T;
  release(...ts: (T | null | undefined)[]): void;
  fill(t: T, value: number): void;

  embeddingForward(
    out: T, // (B, T, C)
    ids: Uint32Array, // (B, T) host ids
    wte: W, // (V, C)
    wpe: T, // (P, C)
    tte: T, // (types, C)
    dims: { B: number; T: number; C: number; kind: "bert" | "roberta"; padId: number },
  ): void;
  embeddingBackward(
    dwte: W,
    dwpe: T,
    dtte: T,
    dout: T, // (B, T, C)
    ids: Uint32Array,
    dims: { B: number; T: number; C: number; kind: "bert" | "roberta"; padId: number },
  ): void;

  linearForward(out: T, inp: T, w: T, b: T | null, dims: LinearDims): void;
  linearBackwardInput(dinp: T, dout: T, w: T, dims: LinearDims & { accumulate?: boolean }): void;
  linearBackwardWeight(dw: T, db: T | null, dout: T, inp: T, dims: LinearDims): void;
  /** logits (M, V) = inp (M, C) · wteᵀ + bias, the tied decoder. */
  vocabForward(logits: T, inp: T, wte: W, bias: T, dims: { M: number; C: number; V: number }): void;
  /** dinp = dlogits · wte (overwrite); dwte += dlogitsᵀ · inp; dbias += Σ dlogits. */
  vocabBackward(
    dinp: T,
    dwte: W,
    dbias: T,
    dlogits: T,
    inp: T,
    wte: W,
    dims: { M: number; C: number; V: number },
  ): void;

  layernormForward(
    out: T,
    mean: T,
    rstd: T,
    inp: T,
    w: T,
    b: T,
    dims: { N: number; C: number; eps: number },
  ): void;
  /** out = LayerNorm(a + r); the sum a + r is written to `sum` when given (for the backward). */
  residualLayernormForward(
    out: T,
    mean: T,
    rstd: T,
    sum: T | null,
    a: T,
    r: T,
    w: T,
    b: T,
    dims: { N: number; C: number; eps: number },
  ): void;
  layernormBackward(
    dinp: T,
    dw: T,
    db: T,
    dout: T,
    inp: T,
    w: T,
    mean: T,
    rstd: T,
    dims: { N: number; C: number },
  ): void;
  geluForward(out: T, inp: T, n: number): void;
  geluBackward(dinp: T, dout: T, inp: T, n: number): void;
  tanhForward(out: T, inp: T, n: number): void;
  tanhBackward(dinp: T, dout: T, out: T, n: number): void;
  dropoutForward(out: T, inp: T, dims: DropoutDims): void;
  dropoutBackward(dinp: T, dout: T, dims: DropoutDims): void;

  attentionScores(att: T, q: T, k: T, maskAdd: T, dims: AttnDims): void;
  attentionContext(out: T, att: T, v: T, dims: AttnDims): void;
  /** One query row per sequence, forward only: out, q (B, C); k, v (B, T, C). */
  /** Query rows of sequences `seq` ((R) u32, uploadU32) against every key of their sequence. */
  attentionQuery(out: T, q: T, k: T, v: T, maskAdd: T, seq: T, dims: AttnDims): void;
  attentionContextBackward(datt: T, dv: T, dout: T, att: T, v: T, dims: AttnDims): void;
  /**
   * With `drop`, datt is the gradient of the dropped probabilities `drop.dropped` and the
   * dropout's backward is folded in (the element kept where dropped is nonzero).
   */
  attentionScoresBackward(
    dq: T,
    dk: T,
    datt: T,
    att: T,
    q: T,
    k: T,
    dims: AttnDims,
    drop?: { dropped: T; p: number } | null,
  ): void;

  gatherRows(out: T, inp: T, rows: T, dims: { M: number; C: number }): void;
  gatherRowsBackward(dinp: T, dout: T, rows: T, dims: { M: number; C: number }): void;
  logsoftmaxGatherForward(
    logp: T,
    lse: T,
    logits: T,
    targets: T,
    dims: { M: number; V: number },
  ): void;
  logsoftmaxGatherBackward(
    dlogits: T,
    dlogp: T,
    logits: T,
    lse: T,
    targets: T,
    dims: { M: number; V: number },
  ): void;
  crossEntropyForward(
    losses: T,
    probs: T,
    logits: T,
    labels: T,
    dims: { B: number; K: number },
  ): void;
  crossEntropyBackward(
    dlogits: T,
    probs: T,
    labels: T,
    dims: { B: number; K: number; scale: number },
  ): void;
}
