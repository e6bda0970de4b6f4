/**
 * The classifier's inference path: encoder forward with dropout off (inference mode: only the
 * [CLS] rows go through the last layer's feed-forward), the classification head, softmax. Training
 * evaluates dev and test through `predictProbs` with its own encoder; `eval` builds a `Classifier`
 * from a checkpoint. Both give the same bits for the same parameters and batches.
 */
import type { GpuContext } from "../gpu/context.ts";
import type { ChunkedTensor } from "../gpu/chunked.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { type Example, padBatch } from "../data/examples.ts";
import type { ModelConfig } from "../model/config.ts";
import { Encoder } from "../model/encoder.ts";
import { GpuBackend } from "../model/gpu_backend.ts";
import { paramSpecs } from "../model/params.ts";
import { gpuStore, type HostParams, releaseGpuStore } from "../model/weights.ts";

type GpuEncoder = Encoder<GpuTensor, ChunkedTensor>;

/** Class probabilities (N, K) of `examples`, in batches of `batchSize` (N = examples.length). */
export async function predictProbs(
  ctx: GpuContext,
  model: GpuEncoder,
  numLabels: number,
  padId: number,
  examples: readonly Example[],
  batchSize: number,
): Promise<Float32Array> {
  const K = numLabels;
  const out = new Float32Array(examples.length * K);
  for (let i = 0; i < examples.length; i += batchSize) {
    const mb = examples.slice(i, i + batchSize);
    const pass = model.forward(padBatch(mb, padId), {
      labels: new Uint32Array(mb.length),
      train: false,
      seed: 0,
      inference: true,
    });
    const probs = await ctx.read(pass.cls!.probs);
    out.set(probs.subarray(0, mb.length * K), i * K);
    model.releasePass(pass);
  }
  return out;
}

/** A classifier on the device for inference only: encoder and classification head, no MLM head. */
export class Classifier {
  private readonly model: GpuEncoder;
  private readonly params;

  /** `host` holds at least the encoder and classifier parameters of `cfg` (numLabels set). */
  constructor(readonly ctx: GpuContext, readonly cfg: ModelConfig, host: HostParams) {
    const heads = { mlm: false, classifier: true };
    const used = new Map(paramSpecs(cfg, heads).map((p) => [p.name, host.get(p.name)!]));
    this.params = gpuStore(ctx, cfg, used);
    this.model = new Encoder(new GpuBackend(ctx), cfg, this.params, heads);
  }

  predict(examples: readonly Example[], padId: number, batchSize: number): Promise<Float32Array> {
    return predictProbs(this.ctx, this.model, this.cfg.numLabels, padId, examples, batchSize);
  }

  release(): void {
    releaseGpuStore(this.ctx, this.params);
  }
}
