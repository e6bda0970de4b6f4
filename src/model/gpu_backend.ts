/** The model's operations as WGSL kernels (src/kernels/); every call only records dispatches. */
import type { AttnDims, Backend, DropoutDims, LinearDims } from "./backend.ts";
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import type { ChunkedTensor } from "../gpu/chunked.ts";
import * as attention from "../kernels/attention.ts";
import * as ce from "../kernels/cross_entropy.ts";
import * as dropout from "../kernels/dropout.ts";
import * as embedding from "../kernels/embedding.ts";
import * as gather from "../kernels/gather.ts";
import * as gelu from "../kernels/gelu.ts";
import * as layernorm from "../kernels/layernorm.ts";
import * as linear from "../kernels/linear.ts";
import * as logsoftmax from "../kernels/logsoftmax.ts";
import * as tanh from "../kernels/tanh.ts";

type EmbDims = { B: number; T: number; C: number; kind: "bert" | "roberta"; padId: number };

export class GpuBackend implements Backend<GpuTensor, ChunkedTensor> {
  readonly name = "gpu";
  constructor(readonly ctx: GpuContext) {}

  zeros(shape: number[], label: string): GpuTensor {
    return this.ctx.zeros(shape, label);
  }
  empty(shape: number[], label: string): GpuTensor {
    return this.ctx.empty(shape, label);
  }
  uploadU32(data: Uint32Array, label: string): GpuTensor {
    return this.ctx.upload(data, [data.length], label);
  }
  uploadF32(data: Float32Array, label: string): GpuTensor {
    return this.ctx.upload(data, [data.length], label);
  }
  release(...ts: (GpuTensor | null | undefined)[]): void {
    this.ctx.release(...ts);
  }
  fill(t: GpuTensor, value: number): void {
    this.ctx.fill(t, value);
  }
  flush(): void {
    this.ctx.flush();
  }

  embeddingForward(
    out: GpuTensor,
    ids: Uint32Array,
    wte: ChunkedTensor,
    wpe: GpuTensor,
    tte: GpuTensor,
    dims: EmbDims,
  ) {
    const gids = this.ctx.upload(ids, [ids.length], "ids");
    const pos = this.ctx.upload(embedding.positionIdsHost(ids, dims), [ids.length], "pos");
    embedding.embeddingForward(this.ctx, out, gids, pos, wte, wpe, tte, dims);
    this.ctx.release(gids, pos);
  }
  embeddingBackward(
    dwte: ChunkedTensor,
    dwpe: GpuTensor,
    dtte: GpuTensor,
    dout: GpuTensor,
    ids: Uint32Array,
    dims: EmbDims,
  ) {
    const buckets = embedding.makeEmbeddingBuckets(
      this.ctx,
      ids,
      embedding.positionIdsHost(ids, dims),
    );
    embedding.embeddingBackward(this.ctx, dwte, dwpe, dtte, dout, buckets, dims);
    buckets.release(this.ctx);
  }

  linearForward(
    out: GpuTensor,
    inp: GpuTensor,
    w: GpuTensor,
    b: GpuTensor | null,
    dims: LinearDims,
  ) {
    linear.linearForward(this.ctx, out, inp, w, b, dims);
  }
  linearBackwardInput(
    dinp: GpuTensor,
    dout: GpuTensor,
    w: GpuTensor,
    dims: LinearDims & { accumulate?: boolean },
  ) {
    linear.linearBackwardInput(this.ctx, dinp, dout, w, dims);
  }
  linearBackwardWeight(
    dw: GpuTensor,
    db: GpuTensor | null,
    dout: GpuTensor,
    inp: GpuTensor,
    dims: LinearDims,
  ) {
    linear.linearBackwardWeight(this.ctx, dw, db, dout, inp, dims);
  }
  /** Column window per word-embedding chunk; the bias is bound as a view at the chunk's rows. */
  vocabForward(
    logits: GpuTensor,
    inp: GpuTensor,
    wte: ChunkedTensor,
    bias: GpuTensor,
    d: { M: number; C: number; V: number },
  ) {
    for (const c of wte.chunks) {
      linear.linearForward(this.ctx, logits, inp, c.tensor, bias.view(c.rowStart, [c.rows]), {
        M: d.M,
        K: d.C,
        N: c.rows,
        ldo: d.V,
        colOffset: c.rowStart,
      });
    }
  }
  vocabBackward(
    dinp: GpuTensor,
    dwte: ChunkedTensor,
    dbias: GpuTensor,
    dlogits: GpuTensor,
    inp: GpuTensor,
    wte: ChunkedTensor,
    d: { M: number; C: number; V: number },
  ) {
    wte.chunks.forEach((c, i) => {
      const dims = { M: d.M, K: d.C, N: c.rows, ldo: d.V, colOffset: c.rowStart };
      linear.linearBackwardInput(this.ctx, dinp, dlogits, c.tensor, { ...dims, accumulate: i > 0 });
      const dc = dwte.chunks[i];
      linear.linearBackwardWeight(
        this.ctx,
        dc.tensor,
        dbias.view(c.rowStart, [c.rows]),
        dlogits,
        inp,
        dims,
      );
    });
  }

  layernormForward(
    out: GpuTensor,
    mean: GpuTensor,
    rstd: GpuTensor,
    inp: GpuTensor,
    w: GpuTensor,
    b: GpuTensor,
    dims: { N: number; C: number; eps: number },
  ) {
    layernorm.layernormForward(this.ctx, out, mean, rstd, inp, w, b, dims);
  }
  residualLayernormForward(
    out: GpuTensor,
    mean: GpuTensor,
    rstd: GpuTensor,
    sum: GpuTensor | null,
    a: GpuTensor,
    r: GpuTensor,
    w: GpuTensor,
    b: GpuTensor,
    dims: { N: number; C: number; eps: number },
  ) {
    layernorm.residualLayernormForward(this.ctx, out, mean, rstd, sum, a, r, w, b, dims);
  }
  layernormBackward(
    dinp: GpuTensor,
    dw: GpuTensor,
    db: GpuTensor,
    dout: GpuTensor,
    inp: GpuTensor,
    w: GpuTensor,
    mean: GpuTensor,
    rstd: GpuTensor,
    dims: { N: number; C: number },
  ) {
    layernorm.layernormBackward(this.ctx, dinp, dw, db, dout, inp, w, mean, rstd, dims);
  }
  geluForward(out: GpuTensor, inp: GpuTensor, n: number) {
    gelu.geluForward(this.ctx, out, inp, n);
  }
  geluBackward(dinp: GpuTensor, dout: GpuTensor, inp: GpuTensor, n: number) {
    gelu.geluBackward(this.ctx, dinp, dout, inp, n);
  }
  tanhForward(out: GpuTensor, inp: GpuTensor, n: number) {
    tanh.tanhForward(this.ctx, out, inp, n);
  }
  tanhBackward(dinp: GpuTensor, dout: GpuTensor, out: GpuTensor, n: number) {
    tanh.tanhBackward(this.ctx, dinp, dout, out, n);
  }
  dropoutForward(out: GpuTensor, inp: GpuTensor, dims: DropoutDims) {
    dropout.dropoutForward(this.ctx, out, inp, dims);
  }
  dropoutBackward(dinp: GpuTensor, dout: GpuTensor, dims: DropoutDims) {
    dropout.dropoutBackward(this.ctx, dinp, dout, dims);
  }

  attentionScores(att: GpuTensor, q: GpuTensor, k: GpuTensor, maskAdd: GpuTensor, dims: AttnDims) {
    attention.attentionScores(this.ctx, att, q, k, maskAdd, dims);
  }
  attentionContext(out: GpuTensor, att: GpuTensor, v: GpuTensor, dims: AttnDims) {
    attention.attentionContext(this.ctx, out, att, v, dims);
  }
  attentionQuery(
    out: GpuTensor,
    q: GpuTensor,
    k: GpuTensor,
    v: GpuTensor,
    maskAdd: GpuTensor,
    seq: GpuTensor,
    dims: AttnDims,
  ) {
    attention.attentionQuery(this.ctx, out, q, k, v, maskAdd, seq, dims);
  }
  attentionContextBackward(
    datt: GpuTensor,
    dv: GpuTensor,
    dout: GpuTensor,
    att: GpuTensor,
    v: GpuTensor,
    dims: AttnDims,
  ) {
    attention.attentionContextBackward(this.ctx, datt, dv, dout, att, v, dims);
  }
  attentionScoresBackward(
    dq: GpuTensor,
    dk: GpuTensor,
    datt: GpuTensor,
    att: GpuTensor,
    q: GpuTensor,
    k: GpuTensor,
    dims: AttnDims,
    drop: { dropped: GpuTensor; p: number } | null = null,
  ) {
    attention.attentionScoresBackward(this.ctx, dq, dk, datt, att, q, k, dims, drop);
  }

  gatherRows(out: GpuTensor, inp: GpuTensor, rows: GpuTensor, dims: { M: number; C: number }) {
    gather.gatherRows(this.ctx, out, inp, rows, dims);
  }
  gatherRowsBackward(
    dinp: GpuTensor,
    dout: GpuTensor,
    rows: GpuTensor,
    dims: { M: number; C: number },
  ) {
    gather.gatherRowsBackward(this.ctx, dinp, dout, rows, dims);
  }
  logsoftmaxGatherForward(
    logp: GpuTensor,
    lse: GpuTensor,
    logits: GpuTensor,
    targets: GpuTensor,
    dims: { M: number; V: number },
  ) {
    logsoftmax.logsoftmaxGatherForward(this.ctx, logp, lse, logits, targets, dims);
  }
  logsoftmaxGatherBackward(
    dlogits: GpuTensor,
    dlogp: GpuTensor,
    logits: GpuTensor,
    lse: GpuTensor,
    targets: GpuTensor,
    dims: { M: number; V: number },
  ) {
    logsoftmax.logsoftmaxGatherBackward(this.ctx, dlogits, dlogp, logits, lse, targets, dims);
  }
  crossEntropyForward(
    losses: GpuTensor,
    probs: GpuTensor,
    logits: GpuTensor,
    labels: GpuTensor,
    dims: { B: number; K: number },
  ) {
    ce.crossEntropyForward(this.ctx, losses, probs, logits, labels, dims);
  }
  crossEntropyBackward(
    dlogits: GpuTensor,
    probs: GpuTensor,
    labels: GpuTensor,
    dims: { B: number; K: number; scale: number },
  ) {
    ce.crossEntropyBackward(this.ctx, dlogits, probs, labels, dims);
  }
}
