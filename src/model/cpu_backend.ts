/**
 * The model's operations on the CPU references (src/cpu/). Used by tests to check the composed
 * GPU model; never on a hot path. Tensors are Float32Array (index tensors Uint32Array).
 */
import type { AttnDims, Backend, DropoutDims, LinearDims } from "./backend.ts";
import type { Vec } from "../cpu/types.ts";
import * as attention from "../cpu/attention.ts";
import * as ce from "../cpu/cross_entropy.ts";
import * as dropout from "../cpu/dropout.ts";
import * as embedding from "../cpu/embedding.ts";
import * as gather from "../cpu/gather.ts";
import * as gelu from "../cpu/gelu.ts";
import * as layernorm from "../cpu/layernorm.ts";
import * as linear from "../cpu/linear.ts";
import * as logsoftmax from "../cpu/logsoftmax.ts";
import * as residual from "../cpu/residual.ts";
import * as tanh from "../cpu/tanh.ts";

export type CpuTensor = Float32Array | Uint32Array;

const f = (t: CpuTensor): Vec => t as Float32Array;
const u = (t: CpuTensor): Uint32Array => t as Uint32Array;
const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

type EmbDims = { B: number; T: number; C: number; kind: "bert" | "roberta"; padId: number };

export class CpuBackend implements Backend<CpuTensor, Float32Array> {
  readonly name = "cpu";
  zeros(shape: number[]): CpuTensor {
    return new Float32Array(numel(shape));
  }
  empty(shape: number[]): CpuTensor {
    return new Float32Array(numel(shape)).fill(NaN); // undefined contents must never be read
  }
  uploadU32(data: Uint32Array): CpuTensor {
    return data.slice();
  }
  uploadF32(data: Float32Array): CpuTensor {
    return data.slice();
  }
  release(): void {}
  fill(t: CpuTensor, value: number): void {
    f(t).fill(value);
  }

  embeddingForward(
    out: CpuTensor,
    ids: Uint32Array,
    wte: Float32Array,
    wpe: CpuTensor,
    tte: CpuTensor,
    dims: EmbDims,
  ) {
    const pos = new Uint32Array(ids.length);
    embedding.positionIds(pos, ids, dims);
    embedding.embeddingForward(f(out), ids, pos, wte, f(wpe), f(tte), dims);
  }
  embeddingBackward(
    dwte: Float32Array,
    dwpe: CpuTensor,
    dtte: CpuTensor,
    dout: CpuTensor,
    ids: Uint32Array,
    dims: EmbDims,
  ) {
    const pos = new Uint32Array(ids.length);
    embedding.positionIds(pos, ids, dims);
    embedding.embeddingBackward(dwte, f(dwpe), f(dtte), f(dout), ids, pos, dims);
  }

  linearForward(
    out: CpuTensor,
    inp: CpuTensor,
    w: CpuTensor,
    b: CpuTensor | null,
    dims: LinearDims,
  ) {
    linear.linearForward(f(out), f(inp), f(w), b ? f(b) : null, dims);
  }
  linearBackwardInput(
    dinp: CpuTensor,
    dout: CpuTensor,
    w: CpuTensor,
    dims: LinearDims & { accumulate?: boolean },
  ) {
    linear.linearBackwardInput(f(dinp), f(dout), f(w), dims);
  }
  linearBackwardWeight(
    dw: CpuTensor,
    db: CpuTensor | null,
    dout: CpuTensor,
    inp: CpuTensor,
    dims: LinearDims,
  ) {
    linear.linearBackwardWeight(f(dw), db ? f(db) : null, f(dout), f(inp), dims);
  }
  vocabForward(
    logits: CpuTensor,
    inp: CpuTensor,
    wte: Float32Array,
    bias: CpuTensor,
    d: { M: number; C: number; V: number },
  ) {
    linear.linearForward(f(logits), f(inp), wte, f(bias), { M: d.M, K: d.C, N: d.V });
  }
  vocabBackward(
    dinp: CpuTensor,
    dwte: Float32Array,
    dbias: CpuTensor,
    dlogits: CpuTensor,
    inp: CpuTensor,
    wte: Float32Array,
    d: { M: number; C: number; V: number },
  ) {
    const dims = { M: d.M, K: d.C, N: d.V };
    linear.linearBackwardInput(f(dinp), f(dlogits), wte, dims);
    linear.linearBackwardWeight(dwte, f(dbias), f(dlogits), f(inp), dims);
  }

  layernormForward(
    out: CpuTensor,
    mean: CpuTensor,
    rstd: CpuTensor,
    inp: CpuTensor,
    w: CpuTensor,
    b: CpuTensor,
    dims: { N: number; C: number; eps: number },
  ) {
    layernorm.layernormForward(f(out), f(mean), f(rstd), f(inp), f(w), f(b), dims);
  }
  residualLayernormForward(
    out: CpuTensor,
    mean: CpuTensor,
    rstd: CpuTensor,
    sum: CpuTensor | null,
    a: CpuTensor,
    r: CpuTensor,
    w: CpuTensor,
    b: CpuTensor,
    dims: { N: number; C: number; eps: number },
  ) {
    const x = sum ? f(sum) : new Float32Array(dims.N * dims.C);
    residual.residualForward(x, f(a), f(r), dims.N * dims.C);
    layernorm.layernormForward(f(out), f(mean), f(rstd), x, f(w), f(b), dims);
  }
  layernormBackward(
    dinp: CpuTensor,
    dw: CpuTensor,
    db: CpuTensor,
    dout: CpuTensor,
    inp: CpuTensor,
    w: CpuTensor,
    mean: CpuTensor,
    rstd: CpuTensor,
    dims: { N: number; C: number },
  ) {
    layernorm.layernormBackward(
      f(dinp),
      f(dw),
      f(db),
      f(dout),
      f(inp),
      f(w),
      f(mean),
      f(rstd),
      dims,
    );
  }
  geluForward(out: CpuTensor, inp: CpuTensor, n: number) {
    gelu.geluForward(f(out), f(inp), n);
  }
  geluBackward(dinp: CpuTensor, dout: CpuTensor, inp: CpuTensor, n: number) {
    gelu.geluBackward(f(dinp), f(dout), f(inp), n);
  }
  tanhForward(out: CpuTensor, inp: CpuTensor, n: number) {
    tanh.tanhForward(f(out), f(inp), n);
  }
  tanhBackward(dinp: CpuTensor, dout: CpuTensor, out: CpuTensor, n: number) {
    tanh.tanhBackward(f(dinp), f(dout), f(out), n);
  }
  dropoutForward(out: CpuTensor, inp: CpuTensor, dims: DropoutDims) {
    dropout.dropoutForward(f(out), f(inp), dims);
  }
  dropoutBackward(dinp: CpuTensor, dout: CpuTensor, dims: DropoutDims) {
    dropout.dropoutBackward(f(dinp), f(dout), dims);
  }

  attentionScores(att: CpuTensor, q: CpuTensor, k: CpuTensor, maskAdd: CpuTensor, dims: AttnDims) {
    attention.attentionScores(f(att), f(q), f(k), f(maskAdd), dims);
  }
  attentionContext(out: CpuTensor, att: CpuTensor, v: CpuTensor, dims: AttnDims) {
    attention.attentionContext(f(out), f(att), f(v), dims);
  }
  attentionQuery(
    out: CpuTensor,
    q: CpuTensor,
    k: CpuTensor,
    v: CpuTensor,
    maskAdd: CpuTensor,
    seq: CpuTensor,
    dims: AttnDims,
  ) {
    attention.attentionQuery(f(out), f(q), f(k), f(v), f(maskAdd), u(seq), dims);
  }
  attentionContextBackward(
    datt: CpuTensor,
    dv: CpuTensor,
    dout: CpuTensor,
    att: CpuTensor,
    v: CpuTensor,
    dims: AttnDims,
  ) {
    attention.attentionContextBackward(f(datt), f(dv), f(dout), f(att), f(v), dims);
  }
  attentionScoresBackward(
    dq: CpuTensor,
    dk: CpuTensor,
    datt: CpuTensor,
    att: CpuTensor,
    q: CpuTensor,
    k: CpuTensor,
    dims: AttnDims,
    drop: { dropped: CpuTensor; p: number } | null = null,
  ) {
    attention.attentionScoresBackward(
      f(dq),
      f(dk),
      f(datt),
      f(att),
      f(q),
      f(k),
      dims,
      drop ? { dropped: f(drop.dropped), p: drop.p } : null,
    );
  }

  gatherRows(out: CpuTensor, inp: CpuTensor, rows: CpuTensor, dims: { M: number; C: number }) {
    gather.gatherRows(f(out), f(inp), u(rows), dims);
  }
  gatherRowsBackward(
    dinp: CpuTensor,
    dout: CpuTensor,
    rows: CpuTensor,
    dims: { M: number; C: number },
  ) {
    gather.gatherRowsBackward(f(dinp), f(dout), u(rows), dims);
  }
  logsoftmaxGatherForward(
    logp: CpuTensor,
    lse: CpuTensor,
    logits: CpuTensor,
    targets: CpuTensor,
    dims: { M: number; V: number },
  ) {
    logsoftmax.logsoftmaxGatherForward(f(logp), f(lse), f(logits), u(targets), dims);
  }
  logsoftmaxGatherBackward(
    dlogits: CpuTensor,
    dlogp: CpuTensor,
    logits: CpuTensor,
    lse: CpuTensor,
    targets: CpuTensor,
    dims: { M: number; V: number },
  ) {
    logsoftmax.logsoftmaxGatherBackward(f(dlogits), f(dlogp), f(logits), f(lse), u(targets), dims);
  }
  crossEntropyForward(
    losses: CpuTensor,
    probs: CpuTensor,
    logits: CpuTensor,
    labels: CpuTensor,
    dims: { B: number; K: number },
  ) {
    ce.crossEntropyForward(f(losses), f(probs), f(logits), u(labels), dims);
  }
  crossEntropyBackward(
    dlogits: CpuTensor,
    probs: CpuTensor,
    labels: CpuTensor,
    dims: { B: number; K: number; scale: number },
  ) {
    ce.crossEntropyBackward(f(dlogits), f(probs), u(labels), dims);
  }
}
