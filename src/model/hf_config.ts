/**
 * Hugging Face `config.json` ↔ l3mask's ModelConfig, and the check that a checkpoint's tensors
 * match the config.
 *
 * Reading follows transformers: the structural fields (sizes, layer and head counts, vocabulary,
 * positions) are required; the fields BertConfig/RobertaConfig give a class default
 * (layer_norm_eps, pad_token_id, type_vocab_size, dropouts, hidden_act) take that default when
 * absent, as transformers does, so old configs such as SciBERT's load. A field that is present
 * but invalid is always an error. `hidden_act` must be exactly "gelu" (exact erf GELU, the only
 * activation l3mask implements).
 */
import { z } from "zod";
import { UserError } from "../errors.ts";
import type { ModelConfig, ModelType } from "./config.ts";
import { prefix } from "./config.ts";
import { modelNames, type ParamSpec, paramSpecs } from "./params.ts";

export const SUPPORTED_MODEL_TYPES: readonly ModelType[] = ["bert", "roberta"];

/** transformers_version written into saved configs (any 4.x loads them). */
export const TRANSFORMERS_VERSION = "4.46.0";

/** The transformers class defaults for the fields l3mask lets a config.json leave out. */
const CLASS_DEFAULTS: Record<ModelType, {
  layer_norm_eps: number;
  pad_token_id: number;
  type_vocab_size: number;
}> = {
  bert: { layer_norm_eps: 1e-12, pad_token_id: 0, type_vocab_size: 2 },
  roberta: { layer_norm_eps: 1e-12, pad_token_id: 1, type_vocab_size: 2 },
};
const DEFAULT_DROPOUT = 0.1;

const posInt = z.number().int().positive();
const prob = z.number().min(0).lt(1);

const configSchema = z.object({
  hidden_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  intermediate_size: posInt,
  max_position_embeddings: posInt,
  vocab_size: posInt,
  type_vocab_size: posInt.optional(),
  layer_norm_eps: z.number().positive().lt(1).optional(),
  pad_token_id: z.number().int().nonnegative().nullable().optional(),
  hidden_dropout_prob: prob.optional(),
  attention_probs_dropout_prob: prob.optional(),
  hidden_act: z.literal("gelu").optional(),
  position_embedding_type: z.literal("absolute").optional(),
  num_labels: z.number().int().nonnegative().optional(),
  id2label: z.record(z.string().regex(/^(0|[1-9][0-9]*)$/), z.string()).optional(),
  label2id: z.record(z.string(), z.number().int().nonnegative()).optional(),
  architectures: z.array(z.string()).nullable().optional(),
});

/** What each field must be, for error messages. */
const EXPECTED: Record<string, string> = {
  hidden_size: "a positive integer",
  num_hidden_layers: "a positive integer",
  num_attention_heads: "a positive integer",
  intermediate_size: "a positive integer",
  max_position_embeddings: "a positive integer",
  vocab_size: "a positive integer",
  type_vocab_size: "a positive integer",
  layer_norm_eps: "a small positive number such as 1e-12",
  pad_token_id: "a non-negative integer",
  hidden_dropout_prob: "a probability in [0, 1)",
  attention_probs_dropout_prob: "a probability in [0, 1)",
  hidden_act: `"gelu" (l3mask implements exact erf GELU only)`,
  position_embedding_type: `"absolute" (l3mask implements learned absolute positions only)`,
  num_labels: "a non-negative integer",
  id2label: `an object mapping "0", "1", … to label strings`,
  label2id: "an object mapping label strings to integer ids",
  architectures: "a list of class names",
};

export interface HfConfigInfo {
  config: ModelConfig;
  /** Class labels in id order (from id2label), when the config has them. */
  labels?: string[];
  architectures: string[];
  /** The parsed JSON, so unknown fields (bos/eos ids, initializer_range…) can be written back. */
  raw: Record<string, unknown>;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `"${v.length > 40 ? v.slice(0, 40) + "…" : v}"`;
  if (typeof v === "object") return "an object";
  return String(v);
}

function inferModelType(raw: Record<string, unknown>, hint?: ModelType): ModelType | undefined {
  const arch = Array.isArray(raw.architectures) ? raw.architectures[0] : undefined;
  if (typeof arch === "string") {
    if (arch.startsWith("Roberta")) return "roberta";
    if (arch.startsWith("Bert")) return "bert";
  }
  return hint;
}

/**
 * Parses config.json text into a ModelConfig. `file` names the file in errors; `modelTypeHint`
 * is used only when the config has neither model_type nor architectures (very old configs, which
 * transformers resolves from the repository name).
 */
export function parseHfConfig(
  text: string,
  file = "config.json",
  opts: { modelTypeHint?: ModelType } = {},
): HfConfigInfo {
  const fail = (msg: string) => new UserError(`${file}: ${msg}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw fail(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw fail(`must be a JSON object, got ${describe(json)}`);
  }
  const raw = json as Record<string, unknown>;
  const supported = SUPPORTED_MODEL_TYPES.join(", ");

  let modelType: ModelType;
  if (raw.model_type === undefined) {
    const inferred = inferModelType(raw, opts.modelTypeHint);
    if (!inferred) {
      throw fail(
        `field 'model_type' is missing and cannot be inferred from 'architectures'; ` +
          `add "model_type": "bert" or "roberta" (l3mask supports: ${supported})`,
      );
    }
    modelType = inferred;
  } else if (
    typeof raw.model_type === "string" &&
    (SUPPORTED_MODEL_TYPES as readonly string[]).includes(raw.model_type)
  ) {
    modelType = raw.model_type as ModelType;
  } else {
    throw fail(
      `model_type ${describe(raw.model_type)} is not supported (l3mask supports: ${supported})`,
    );
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue.path[0] ?? "");
    const value = raw[field];
    const expected = EXPECTED[field] ?? "valid";
    if (value === undefined) throw fail(`field '${field}' is missing (expected ${expected})`);
    const inner = issue.path.length > 1 ? ` (at ${issue.path.map(String).join(".")})` : "";
    throw fail(`field '${field}' must be ${expected}, got ${describe(value)}${inner}`);
  }
  const c = parsed.data;
  const defaults = CLASS_DEFAULTS[modelType];

  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw fail(
      `hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`,
    );
  }
  const padTokenId = c.pad_token_id ?? defaults.pad_token_id;
  if (padTokenId >= c.vocab_size) {
    throw fail(`pad_token_id ${padTokenId} is outside the vocabulary (vocab_size ${c.vocab_size})`);
  }
  if (modelType === "roberta" && c.max_position_embeddings <= padTokenId + 1) {
    throw fail(
      `max_position_embeddings ${c.max_position_embeddings} leaves no positions: RoBERTa ` +
        `positions start at pad_token_id + 1 = ${padTokenId + 1}`,
    );
  }

  let labels: string[] | undefined;
  if (c.id2label) {
    const n = Object.keys(c.id2label).length;
    labels = [];
    for (let i = 0; i < n; i++) {
      const label = c.id2label[String(i)];
      if (label === undefined) {
        throw fail(`field 'id2label' must have the keys "0".."${n - 1}", but "${i}" is missing`);
      }
      labels.push(label);
    }
    if (new Set(labels).size !== n) throw fail(`field 'id2label' repeats a label`);
    if (c.label2id) {
      for (const [i, label] of labels.entries()) {
        const id = c.label2id[label];
        if (id !== undefined && id !== i) {
          throw fail(`label2id says '${label}' is ${id} but id2label says it is ${i}`);
        }
      }
    }
    if (c.num_labels !== undefined && c.num_labels !== n) {
      throw fail(`num_labels is ${c.num_labels} but id2label has ${n} labels`);
    }
  }
  const numLabels = labels?.length ?? c.num_labels ?? 0;

  const config: ModelConfig = {
    modelType,
    vocabSize: c.vocab_size,
    hidden: c.hidden_size,
    layers: c.num_hidden_layers,
    heads: c.num_attention_heads,
    intermediate: c.intermediate_size,
    maxPositions: c.max_position_embeddings,
    typeVocabSize: c.type_vocab_size ?? defaults.type_vocab_size,
    layerNormEps: c.layer_norm_eps ?? defaults.layer_norm_eps,
    padTokenId,
    hiddenDropout: c.hidden_dropout_prob ?? DEFAULT_DROPOUT,
    attentionDropout: c.attention_probs_dropout_prob ?? DEFAULT_DROPOUT,
    numLabels,
  };
  return { config, labels, architectures: c.architectures ?? [], raw };
}

/** Reads and parses a config.json file. */
export async function readHfConfig(
  path: string,
  opts: { modelTypeHint?: ModelType } = {},
): Promise<HfConfigInfo> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new UserError(`${path}: file not found`);
    if (err instanceof TypeError) throw new UserError(`${path}: not valid UTF-8 text`);
    throw err;
  }
  return parseHfConfig(text, path, opts);
}

export type HfHead = "classification" | "mlm" | "base";

export interface HfConfigExtras {
  /** Which model class the saved weights are for (sets `architectures`). */
  head: HfHead;
  /** Classification labels in id order; default LABEL_0..LABEL_{n-1}. */
  labels?: readonly string[];
  /** The config.json the model came from: its other fields (bos/eos ids, …) are kept. */
  original?: Record<string, unknown>;
  transformersVersion?: string;
}

const ARCHITECTURES: Record<ModelType, Record<HfHead, string>> = {
  bert: {
    classification: "BertForSequenceClassification",
    mlm: "BertForMaskedLM",
    base: "BertModel",
  },
  roberta: {
    classification: "RobertaForSequenceClassification",
    mlm: "RobertaForMaskedLM",
    base: "RobertaModel",
  },
};

/** A config.json object that transformers' AutoConfig/AutoModelFor* load. */
export function toHfConfig(cfg: ModelConfig, extras: HfConfigExtras): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(extras.original ?? {}) };
  for (const k of ["id2label", "label2id", "num_labels", "problem_type", "_name_or_path"]) {
    delete out[k];
  }
  Object.assign(out, {
    model_type: cfg.modelType,
    architectures: [ARCHITECTURES[cfg.modelType][extras.head]],
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hidden,
    num_hidden_layers: cfg.layers,
    num_attention_heads: cfg.heads,
    intermediate_size: cfg.intermediate,
    hidden_act: "gelu",
    hidden_dropout_prob: cfg.hiddenDropout,
    attention_probs_dropout_prob: cfg.attentionDropout,
    max_position_embeddings: cfg.maxPositions,
    type_vocab_size: cfg.typeVocabSize,
    layer_norm_eps: cfg.layerNormEps,
    pad_token_id: cfg.padTokenId,
    position_embedding_type: "absolute",
    initializer_range: typeof out.initializer_range === "number" ? out.initializer_range : 0.02,
    torch_dtype: "float32",
    transformers_version: extras.transformersVersion ?? TRANSFORMERS_VERSION,
  });
  if (cfg.modelType === "roberta") {
    if (typeof out.bos_token_id !== "number") out.bos_token_id = 0;
    if (typeof out.eos_token_id !== "number") out.eos_token_id = 2;
  }
  if (extras.head === "classification") {
    const labels = extras.labels ?? Array.from({ length: cfg.numLabels }, (_, i) => `LABEL_${i}`);
    if (labels.length !== cfg.numLabels || labels.length < 2) {
      throw new Error(`toHfConfig: ${labels.length} labels for a ${cfg.numLabels}-class config`);
    }
    out.id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
    out.label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
    out.problem_type = "single_label_classification";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checkpoint ↔ config

/** What matchCheckpoint needs to know about a tensor in the file (a safetensors TensorEntry). */
export interface CheckpointTensor {
  name: string;
  shape: readonly number[];
  dtype: string;
}

export type HeadRequest = boolean | "optional";

export interface CheckpointMatch {
  /** l3mask (Hugging Face) parameter name → the tensor's name in the file. */
  names: Map<string, string>;
  /** Parameters of an "optional" head that the file lacks: the caller initializes them. */
  missing: ParamSpec[];
  /** Tensors in the file that l3mask does not use (position_ids, NSP head, unused pooler…). */
  unused: string[];
  /** An explicit MLM decoder matrix in the file; l3mask ties the decoder to the word embeddings. */
  decoder?: string;
}

const FLOAT_DTYPES = new Set(["F32", "F16", "BF16", "F64"]);

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** The Hugging Face name a tensor name stands for (old LayerNorm names, missing prefix). */
function canonicalName(name: string, p: string): string {
  let n = name.replace(/\.(LayerNorm|layer_norm)\.gamma$/, ".$1.weight")
    .replace(/\.(LayerNorm|layer_norm)\.beta$/, ".$1.bias");
  if (/^(embeddings|encoder|pooler)\./.test(n)) n = `${p}.${n}`;
  return n;
}

/**
 * Checks that the tensors of `file` hold every parameter l3mask needs for `cfg` with the right
 * shape, and maps each parameter to its tensor. Accepted quirks of real checkpoints:
 * `*.embeddings.position_ids` buffers (ignored), no explicit decoder matrix (tied to the word
 * embeddings), `LayerNorm.gamma/beta` (read as weight/bias), `lm_head.decoder.bias` or
 * `cls.predictions.decoder.bias` standing in for the MLM bias, and base-model checkpoints saved
 * without the `bert.`/`roberta.` prefix. A head requested as "optional" may be absent, wholly or
 * in part (e.g. BERT's pretrained pooler without the classifier): its absent parameters are
 * returned in `missing`.
 */
export function matchCheckpoint(
  file: string,
  tensors: Iterable<CheckpointTensor>,
  cfg: ModelConfig,
  opts: { mlm: HeadRequest; classifier: HeadRequest },
  configFile = "config.json",
): CheckpointMatch {
  const fail = (msg: string) => new UserError(`${file}: ${msg}`);
  const p = prefix(cfg);
  const byName = new Map<string, CheckpointTensor>();
  for (const t of tensors) byName.set(t.name, t);

  // canonical name → file name; a tensor saved under its exact name wins over an alias.
  const canon = new Map<string, string>();
  for (const name of byName.keys()) {
    const c = canonicalName(name, p);
    if (c === name || !canon.has(c)) canon.set(c, name);
  }
  const names = modelNames(cfg);
  const decoderBias = cfg.modelType === "bert"
    ? "cls.predictions.decoder.bias"
    : "lm_head.decoder.bias";
  if (!canon.has(names.mlmBias) && byName.has(decoderBias)) canon.set(names.mlmBias, decoderBias);

  if (opts.classifier === true && cfg.numLabels < 2) {
    throw new UserError(
      `${configFile}: a classification head needs at least 2 labels (id2label or num_labels), ` +
        `got ${cfg.numLabels}`,
    );
  }
  const wantCls = opts.classifier !== false && cfg.numLabels >= 2;
  const base = paramSpecs(cfg, { mlm: false, classifier: false });
  const baseNames = new Set(base.map((s) => s.name));
  const mlmSpecs = opts.mlm === false
    ? []
    : paramSpecs(cfg, { mlm: true, classifier: false }).filter((s) => !baseNames.has(s.name));
  const clsSpecs = wantCls
    ? paramSpecs(cfg, { mlm: false, classifier: true }).filter((s) => !baseNames.has(s.name))
    : [];

  const mapped = new Map<string, string>();
  const missingRequired: string[] = [];
  const missingOptional: ParamSpec[] = [];
  const groups: [ParamSpec[], HeadRequest][] = [
    [base, true],
    [mlmSpecs, opts.mlm],
    [clsSpecs, opts.classifier],
  ];
  for (const [specs, req] of groups) {
    for (const spec of specs) {
      const fileName = canon.get(spec.name);
      if (fileName === undefined) {
        if (req === "optional") missingOptional.push(spec);
        else missingRequired.push(spec.name);
        continue;
      }
      const t = byName.get(fileName)!;
      if (!FLOAT_DTYPES.has(t.dtype)) {
        throw fail(
          `tensor '${fileName}' has dtype ${t.dtype}; l3mask needs floating-point weights ` +
            `(F32, F16 or BF16)`,
        );
      }
      if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
        throw fail(
          `tensor '${fileName}' has shape ${fmtShape(t.shape)} but ${configFile} implies ` +
            `${fmtShape(spec.shape)}`,
        );
      }
      mapped.set(spec.name, fileName);
    }
  }

  const used = new Set(mapped.values());
  let decoder: string | undefined;
  const decoderName = cfg.modelType === "bert"
    ? "cls.predictions.decoder.weight"
    : "lm_head.decoder.weight";
  const dec = byName.get(decoderName);
  if (dec && opts.mlm !== false) {
    const want = [cfg.vocabSize, cfg.hidden];
    if (dec.shape.length !== 2 || dec.shape[0] !== want[0] || dec.shape[1] !== want[1]) {
      throw fail(
        `tensor '${decoderName}' has shape ${fmtShape(dec.shape)} but ${configFile} implies ` +
          `${fmtShape(want)}`,
      );
    }
    decoder = decoderName;
    used.add(decoderName);
  }
  const unused = [...byName.keys()].filter((n) => !used.has(n));

  // More layers in the file than the config says is a config/checkpoint mismatch, not a quirk.
  let maxLayer = -1;
  for (const name of byName.keys()) {
    const m = /^(?:[a-z]+\.)?encoder\.layer\.(\d+)\./.exec(name);
    if (m) maxLayer = Math.max(maxLayer, Number(m[1]));
  }
  if (maxLayer >= cfg.layers) {
    throw fail(
      `has encoder layers 0..${maxLayer} but ${configFile} says num_hidden_layers ${cfg.layers}`,
    );
  }

  if (missingRequired.length > 0) {
    const first = missingRequired[0];
    const more = missingRequired.length > 1
      ? ` and ${missingRequired.length - 1} more tensors are`
      : " is";
    const other = cfg.modelType === "bert" ? "roberta" : "bert";
    let hint = "";
    if (
      ![...byName.keys()].some((n) => n.startsWith(`${p}.`) || /^(embeddings|encoder)\./.test(n))
    ) {
      hint = [...byName.keys()].some((n) => n.startsWith(`${other}.`))
        ? ` (the file holds '${other}.' weights but ${configFile} says model_type '${cfg.modelType}')`
        : ` (the file has no '${p}.' encoder weights; is it the right checkpoint?)`;
    } else if (mlmSpecs.some((s) => s.name === first)) {
      hint = " (the checkpoint has no MLM head; use a pretrained masked-LM checkpoint)";
    } else if (clsSpecs.some((s) => s.name === first)) {
      hint = " (the checkpoint has no classification head)";
    }
    throw fail(`tensor '${first}'${more} missing (needed by ${configFile})${hint}`);
  }

  return { names: mapped, missing: missingOptional, unused, decoder };
}
