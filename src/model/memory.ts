/**
 * Device-memory estimates (bytes, f32) for a model: parameters, training state and the
 * activations the encoder saves for backward (see Pass in encoder_pass.ts).
 */
import type { ModelConfig } from "./config.ts";
import { paramSpecs } from "./params.ts";

export interface MemoryEstimate {
  params: number;
  paramBytes: number;
  /** Activations saved by one forward pass of B x T tokens (training: dropout copies included). */
  activationBytes: number;
  /** Scoring: parameters + activations of one forward. */
  inferenceBytes: number;
  /** Training: parameters, gradients, two AdamW moments, activations of one micro-batch. */
  trainingBytes: number;
}

export function estimateMemory(
  cfg: ModelConfig,
  batch: { B: number; T: number; mlmRows: number },
  heads = { mlm: true, classifier: cfg.numLabels >= 2 },
): MemoryEstimate {
  const params = paramSpecs(cfg, heads).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const { B, T, mlmRows } = batch;
  const C = cfg.hidden, I = cfg.intermediate, NH = cfg.heads;
  const perLayer = 8 * B * T * C + 2 * B * NH * T * T + 2 * B * T * I + 4 * B * T;
  const mlm = mlmRows * (5 * C + cfg.vocabSize);
  const act = 4 * (cfg.layers * perLayer + 3 * B * T * C + mlm);
  return {
    params,
    paramBytes: 4 * params,
    activationBytes: act,
    inferenceBytes: 4 * params + act,
    trainingBytes: 16 * params + act,
  };
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
