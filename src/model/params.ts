/**
 * The parameter table: every weight of the encoder, the MLM head and the classification head,
 * under its Hugging Face name, with its shape. The same table drives the GPU model, the CPU
 * reference model, checkpoint loading/saving and the optimizer's parameter groups.
 *
 * Gradient rule (for the whole model): parameter gradients accumulate (+=) and are cleared by
 * zeroGrad; activation gradients overwrite, except on the residual stream, where the gradient of
 * a sub-layer's input accumulates onto the gradient that skipped it.
 */
import { type ModelConfig, prefix } from "./config.ts";

export type ParamGroup = "encoder" | "head";

export interface ParamSpec {
  name: string;
  shape: number[];
  group: ParamGroup;
  /** AdamW weight decay applies (SPEC §5: not to biases and LayerNorm weights). */
  decay: boolean;
  init: "normal" | "zeros" | "ones";
}

export interface LayerNames {
  q: string;
  k: string;
  v: string;
  attnOut: string;
  attnLn: string;
  inter: string;
  out: string;
  outLn: string;
}

export interface ModelNames {
  wte: string;
  wpe: string;
  tte: string;
  embLn: string;
  layers: LayerNames[];
  mlmDense: string;
  mlmLn: string;
  mlmBias: string;
  /** BERT: bert.pooler.dense; RoBERTa: classifier.dense. */
  clsDense: string;
  /** BERT: classifier; RoBERTa: classifier.out_proj. */
  clsOut: string;
}

export function modelNames(cfg: ModelConfig): ModelNames {
  const p = prefix(cfg);
  const layers: LayerNames[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const l = `${p}.encoder.layer.${i}`;
    layers.push({
      q: `${l}.attention.self.query`,
      k: `${l}.attention.self.key`,
      v: `${l}.attention.self.value`,
      attnOut: `${l}.attention.output.dense`,
      attnLn: `${l}.attention.output.LayerNorm`,
      inter: `${l}.intermediate.dense`,
      out: `${l}.output.dense`,
      outLn: `${l}.output.LayerNorm`,
    });
  }
  const bert = cfg.modelType === "bert";
  return {
    wte: `${p}.embeddings.word_embeddings.weight`,
    wpe: `${p}.embeddings.position_embeddings.weight`,
    tte: `${p}.embeddings.token_type_embeddings.weight`,
    embLn: `${p}.embeddings.LayerNorm`,
    layers,
    mlmDense: bert ? "cls.predictions.transform.dense" : "lm_head.dense",
    mlmLn: bert ? "cls.predictions.transform.LayerNorm" : "lm_head.layer_norm",
    mlmBias: bert ? "cls.predictions.bias" : "lm_head.bias",
    clsDense: bert ? `${p}.pooler.dense` : "classifier.dense",
    clsOut: bert ? "classifier" : "classifier.out_proj",
  };
}

/** Every parameter of the model, in a fixed order. */
export function paramSpecs(
  cfg: ModelConfig,
  opts: { mlm: boolean; classifier: boolean },
): ParamSpec[] {
  const n = modelNames(cfg);
  const C = cfg.hidden;
  const specs: ParamSpec[] = [];
  const linear = (name: string, out: number, inp: number, group: ParamGroup) => {
    specs.push({ name: `${name}.weight`, shape: [out, inp], group, decay: true, init: "normal" });
    specs.push({ name: `${name}.bias`, shape: [out], group, decay: false, init: "zeros" });
  };
  const norm = (name: string, group: ParamGroup) => {
    specs.push({ name: `${name}.weight`, shape: [C], group, decay: false, init: "ones" });
    specs.push({ name: `${name}.bias`, shape: [C], group, decay: false, init: "zeros" });
  };
  specs.push({
    name: n.wte,
    shape: [cfg.vocabSize, C],
    group: "encoder",
    decay: true,
    init: "normal",
  });
  specs.push({
    name: n.wpe,
    shape: [cfg.maxPositions, C],
    group: "encoder",
    decay: true,
    init: "normal",
  });
  specs.push({
    name: n.tte,
    shape: [cfg.typeVocabSize, C],
    group: "encoder",
    decay: true,
    init: "normal",
  });
  norm(n.embLn, "encoder");
  for (const l of n.layers) {
    linear(l.q, C, C, "encoder");
    linear(l.k, C, C, "encoder");
    linear(l.v, C, C, "encoder");
    linear(l.attnOut, C, C, "encoder");
    norm(l.attnLn, "encoder");
    linear(l.inter, cfg.intermediate, C, "encoder");
    linear(l.out, C, cfg.intermediate, "encoder");
    norm(l.outLn, "encoder");
  }
  if (opts.mlm) {
    // The MLM head trains with the encoder (its decoder is the tied word embedding).
    linear(n.mlmDense, C, C, "encoder");
    norm(n.mlmLn, "encoder");
    specs.push({
      name: n.mlmBias,
      shape: [cfg.vocabSize],
      group: "encoder",
      decay: false,
      init: "zeros",
    });
  }
  if (opts.classifier) {
    if (cfg.numLabels < 2) {
      throw new Error(`a classifier needs at least 2 labels, got ${cfg.numLabels}`);
    }
    linear(n.clsDense, C, C, "head");
    linear(n.clsOut, cfg.numLabels, C, "head");
  }
  return specs;
}
