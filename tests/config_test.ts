/** config.json parsing/writing and the checkpoint ↔ config check. */
import { join } from "node:path";
import { UserError } from "../src/errors.ts";
import {
  type CheckpointTensor,
  matchCheckpoint,
  parseHfConfig,
  readHfConfig,
  toHfConfig,
} from "../src/model/hf_config.ts";
import { readSafetensorsHeader, writeSafetensors } from "../src/io/safetensors.ts";
import type { ModelConfig } from "../src/model/config.ts";
import { paramSpecs } from "../src/model/params.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

function assertEquals(actual: unknown, expected: unknown, label: string): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  assert(a === e, `${label}: expected ${e}, got ${a}`);
}

/** Runs `fn`, expects a one-line UserError containing every string in `parts`. */
function expectUserError(fn: () => unknown, parts: string[]): string {
  try {
    fn();
  } catch (err) {
    assert(err instanceof UserError, `expected a UserError, got ${err}`);
    assert(!err.message.includes("\n"), `message is not one line: ${err.message}`);
    for (const p of parts) assert(err.message.includes(p), `message lacks '${p}': ${err.message}`);
    return err.message;
  }
  throw new Error(`expected a UserError containing ${JSON.stringify(parts)}, got no error`);
}

/** roberta-base's config.json as published on the hub. */
const ROBERTA_BASE = {
  architectures: ["RobertaForMaskedLM"],
  attention_probs_dropout_prob: 0.1,
  bos_token_id: 0,
  eos_token_id: 2,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-05,
  max_position_embeddings: 514,
  model_type: "roberta",
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 1,
  type_vocab_size: 1,
  vocab_size: 50265,
};

/** bert-base-uncased's config.json as published on the hub. */
const BERT_BASE = {
  architectures: ["BertForMaskedLM"],
  attention_probs_dropout_prob: 0.1,
  gradient_checkpointing: false,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: "bert",
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: "absolute",
  transformers_version: "4.6.0.dev0",
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 30522,
};

const parse = (obj: unknown, file = "config.json") => parseHfConfig(JSON.stringify(obj), file);

Deno.test("roberta-base and bert-base-uncased configs map onto ModelConfig", () => {
  const r = parse(ROBERTA_BASE);
  assertEquals(r.config, {
    modelType: "roberta",
    vocabSize: 50265,
    hidden: 768,
    layers: 12,
    heads: 12,
    intermediate: 3072,
    maxPositions: 514,
    typeVocabSize: 1,
    layerNormEps: 1e-5,
    padTokenId: 1,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    numLabels: 0,
  }, "roberta-base");
  assertEquals(r.architectures, ["RobertaForMaskedLM"], "architectures");
  assertEquals(r.labels, undefined, "no labels");
  const b = parse(BERT_BASE).config;
  assertEquals([
    b.modelType,
    b.vocabSize,
    b.layerNormEps,
    b.padTokenId,
    b.typeVocabSize,
    b.maxPositions,
  ], [
    "bert",
    30522,
    1e-12,
    0,
    2,
    512,
  ], "bert-base-uncased");
});

Deno.test("old configs: transformers' class defaults fill absent optional fields", () => {
  // SciBERT-style: no model_type, architectures, pad_token_id, layer_norm_eps.
  const old = {
    attention_probs_dropout_prob: 0.1,
    hidden_act: "gelu",
    hidden_dropout_prob: 0.1,
    hidden_size: 768,
    initializer_range: 0.02,
    intermediate_size: 3072,
    max_position_embeddings: 512,
    num_attention_heads: 12,
    num_hidden_layers: 12,
    type_vocab_size: 2,
    vocab_size: 31090,
  };
  expectUserError(() => parse(old, "scibert/config.json"), [
    "scibert/config.json",
    "field 'model_type' is missing",
    "bert, roberta",
  ]);
  const c = parseHfConfig(JSON.stringify(old), "config.json", { modelTypeHint: "bert" }).config;
  assertEquals([c.modelType, c.padTokenId, c.layerNormEps], ["bert", 0, 1e-12], "bert defaults");
  const { model_type: _, ...noType } = ROBERTA_BASE;
  assertEquals(parse(noType).config.modelType, "roberta", "model_type from architectures");
});

Deno.test("labels: id2label/label2id/num_labels", () => {
  const cfg = parse({
    ...ROBERTA_BASE,
    id2label: { "0": "neg", "1": "pos", "2": "mixed" },
    label2id: { neg: 0, pos: 1, mixed: 2 },
  });
  assertEquals(cfg.labels, ["neg", "pos", "mixed"], "labels in id order");
  assertEquals(cfg.config.numLabels, 3, "numLabels");
  assertEquals(parse({ ...ROBERTA_BASE, num_labels: 4 }).config.numLabels, 4, "num_labels alone");
  expectUserError(() => parse({ ...ROBERTA_BASE, id2label: { "0": "a", "2": "b" } }), [
    "config.json",
    "'id2label'",
    `"1" is missing`,
  ]);
  expectUserError(() => parse({ ...ROBERTA_BASE, id2label: { "0": "a", x: "b" } }), [
    "field 'id2label' must be",
  ]);
  expectUserError(
    () => parse({ ...ROBERTA_BASE, id2label: { "0": "a", "1": "b" }, label2id: { a: 1, b: 0 } }),
    ["label2id says 'a' is 1 but id2label says it is 0"],
  );
  expectUserError(
    () => parse({ ...ROBERTA_BASE, id2label: { "0": "a", "1": "b" }, num_labels: 3 }),
    [
      "num_labels is 3 but id2label has 2 labels",
    ],
  );
});

Deno.test("bad configs: one-line UserErrors naming the file, the field and what was expected", () => {
  const f = "models/x/config.json";
  expectUserError(() => parse({ ...BERT_BASE, model_type: "distilbert" }, f), [
    f,
    `model_type "distilbert" is not supported (l3mask supports: bert, roberta)`,
  ]);
  const { hidden_size: _, ...noHidden } = BERT_BASE;
  expectUserError(() => parse(noHidden, f), [
    f,
    "field 'hidden_size' is missing (expected a positive integer)",
  ]);
  expectUserError(() => parse({ ...BERT_BASE, num_hidden_layers: "12" }, f), [
    f,
    `field 'num_hidden_layers' must be a positive integer, got "12"`,
  ]);
  expectUserError(() => parse({ ...BERT_BASE, vocab_size: 0 }, f), [
    f,
    "'vocab_size' must be a positive integer, got 0",
  ]);
  expectUserError(() => parse({ ...BERT_BASE, hidden_act: "gelu_new" }, f), [
    f,
    `field 'hidden_act' must be "gelu" (l3mask implements exact erf GELU only), got "gelu_new"`,
  ]);
  expectUserError(() => parse({ ...BERT_BASE, position_embedding_type: "relative_key" }, f), [
    "'position_embedding_type' must be \"absolute\"",
  ]);
  expectUserError(() => parse({ ...BERT_BASE, hidden_dropout_prob: 1.5 }, f), [
    "'hidden_dropout_prob' must be a probability in [0, 1), got 1.5",
  ]);
  expectUserError(() => parse({ ...BERT_BASE, num_attention_heads: 7 }, f), [
    "hidden_size 768 is not a multiple of num_attention_heads 7",
  ]);
  expectUserError(() => parse({ ...BERT_BASE, pad_token_id: 30522 }, f), [
    "pad_token_id 30522 is outside the vocabulary",
  ]);
  expectUserError(() => parseHfConfig("{oops", f), [f, "not valid JSON"]);
  expectUserError(() => parseHfConfig("[]", f), [f, "must be a JSON object"]);
});

Deno.test("readHfConfig reads a file; a missing file is a UserError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "l3mask_config_" });
  try {
    const path = join(dir, "config.json");
    await Deno.writeTextFile(path, JSON.stringify(ROBERTA_BASE));
    assertEquals((await readHfConfig(path)).config.vocabSize, 50265, "vocab");
    let msg = "";
    try {
      await readHfConfig(join(dir, "nope.json"));
    } catch (err) {
      assert(err instanceof UserError, "UserError");
      msg = err.message;
    }
    assert(msg.includes("nope.json: file not found"), msg);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("toHfConfig writes a config transformers loads and that parses back to the same model", () => {
  const src = parse({ ...ROBERTA_BASE, id2label: undefined });
  const cfg = { ...src.config, numLabels: 3 };
  const out = toHfConfig(cfg, {
    head: "classification",
    labels: ["a", "b", "c"],
    original: src.raw,
  });
  assertEquals(out.architectures, ["RobertaForSequenceClassification"], "architectures");
  assertEquals(out.id2label, { "0": "a", "1": "b", "2": "c" }, "id2label");
  assertEquals(out.label2id, { a: 0, b: 1, c: 2 }, "label2id");
  assertEquals([
    out.torch_dtype,
    out.model_type,
    out.hidden_act,
    out.bos_token_id,
    out.eos_token_id,
  ], [
    "float32",
    "roberta",
    "gelu",
    0,
    2,
  ], "fixed fields");
  assert(typeof out.transformers_version === "string", "transformers_version");
  const back = parseHfConfig(JSON.stringify(out));
  assertEquals(back.config, cfg, "round trip");
  assertEquals(back.labels, ["a", "b", "c"], "labels round trip");

  const bert = parse(BERT_BASE).config;
  const mlm = toHfConfig(bert, { head: "mlm" });
  assertEquals(mlm.architectures, ["BertForMaskedLM"], "bert mlm");
  assert(
    !("id2label" in mlm) && !("bos_token_id" in mlm),
    "no labels or roberta ids on a BERT MLM",
  );
  const cls = toHfConfig({ ...bert, numLabels: 2 }, { head: "classification" });
  assertEquals(cls.architectures, ["BertForSequenceClassification"], "bert classifier");
  assertEquals(cls.id2label, { "0": "LABEL_0", "1": "LABEL_1" }, "default labels");
  assertEquals(parseHfConfig(JSON.stringify(mlm)).config, bert, "bert round trip");
});

// ---------------------------------------------------------------------------------------------
// Checkpoint ↔ config

const tiny = (modelType: "bert" | "roberta", numLabels = 0): ModelConfig => ({
  modelType,
  vocabSize: 20,
  hidden: 8,
  layers: 2,
  heads: 2,
  intermediate: 16,
  maxPositions: 12,
  typeVocabSize: modelType === "bert" ? 2 : 1,
  layerNormEps: 1e-5,
  padTokenId: modelType === "bert" ? 0 : 1,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  numLabels,
});

function tensorsFor(
  cfg: ModelConfig,
  opts: { mlm: boolean; classifier: boolean },
  rename: (name: string) => string = (n) => n,
): CheckpointTensor[] {
  return paramSpecs(cfg, opts).map((s) => ({ name: rename(s.name), shape: s.shape, dtype: "F32" }));
}

Deno.test("matchCheckpoint maps an exact checkpoint and ignores buffers and extras", () => {
  const cfg = tiny("roberta");
  const tensors = [
    ...tensorsFor(cfg, { mlm: true, classifier: false }),
    { name: "roberta.embeddings.position_ids", shape: [1, 12], dtype: "I64" },
    { name: "roberta.pooler.dense.weight", shape: [8, 8], dtype: "F32" },
    { name: "lm_head.decoder.weight", shape: [20, 8], dtype: "F16" },
  ];
  const m = matchCheckpoint("model.safetensors", tensors, cfg, { mlm: true, classifier: false });
  const specs = paramSpecs(cfg, { mlm: true, classifier: false });
  assertEquals(m.names.size, specs.length, "every parameter mapped");
  for (const s of specs) assertEquals(m.names.get(s.name), s.name, s.name);
  assertEquals(m.decoder, "lm_head.decoder.weight", "decoder seen");
  assertEquals(
    m.unused.sort(),
    ["roberta.embeddings.position_ids", "roberta.pooler.dense.weight"],
    "unused",
  );
  assertEquals(m.missing, [], "nothing missing");
});

Deno.test("matchCheckpoint accepts old LayerNorm.gamma/beta names, a tied decoder and decoder.bias", () => {
  const cfg = tiny("bert");
  const tensors = tensorsFor(
    cfg,
    { mlm: true, classifier: false },
    (n) =>
      n.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(
        /LayerNorm\.bias$/,
        "LayerNorm.beta",
      )
        .replace(/^cls\.predictions\.bias$/, "cls.predictions.decoder.bias"),
  );
  const m = matchCheckpoint("bert/model.safetensors", tensors, cfg, {
    mlm: true,
    classifier: false,
  });
  assertEquals(
    m.names.get("bert.embeddings.LayerNorm.weight"),
    "bert.embeddings.LayerNorm.gamma",
    "gamma",
  );
  assertEquals(
    m.names.get("cls.predictions.transform.LayerNorm.bias"),
    "cls.predictions.transform.LayerNorm.beta",
    "beta",
  );
  assertEquals(m.names.get("cls.predictions.bias"), "cls.predictions.decoder.bias", "decoder.bias");
  assertEquals(m.decoder, undefined, "tied decoder");
});

Deno.test("matchCheckpoint maps base-model checkpoints saved without the prefix", () => {
  const cfg = tiny("roberta");
  const tensors = tensorsFor(
    cfg,
    { mlm: false, classifier: false },
    (n) => n.replace(/^roberta\./, ""),
  );
  const m = matchCheckpoint("model.safetensors", tensors, cfg, { mlm: false, classifier: false });
  assertEquals(
    m.names.get("roberta.encoder.layer.1.attention.self.query.weight"),
    "encoder.layer.1.attention.self.query.weight",
    "prefix added",
  );
  // The MLM head is not in a base-model checkpoint.
  expectUserError(
    () => matchCheckpoint("model.safetensors", tensors, cfg, { mlm: true, classifier: false }),
    [
      "model.safetensors: tensor 'lm_head.dense.weight' and 4 more tensors are missing (needed by config.json)",
      "no MLM head",
    ],
  );
});

Deno.test("matchCheckpoint: an optional classifier head is returned as missing (BERT keeps its pooler)", () => {
  const cfg = tiny("bert", 3);
  const tensors = [
    ...tensorsFor(cfg, { mlm: true, classifier: false }),
    { name: "bert.pooler.dense.weight", shape: [8, 8], dtype: "F32" },
    { name: "bert.pooler.dense.bias", shape: [8], dtype: "F32" },
    { name: "cls.seq_relationship.weight", shape: [2, 8], dtype: "F32" },
  ];
  const m = matchCheckpoint("model.safetensors", tensors, cfg, {
    mlm: "optional",
    classifier: "optional",
  });
  assertEquals(m.missing.map((s) => s.name), ["classifier.weight", "classifier.bias"], "missing");
  assertEquals(m.names.get("bert.pooler.dense.weight"), "bert.pooler.dense.weight", "pooler kept");
  assertEquals(m.unused, ["cls.seq_relationship.weight"], "NSP head unused");
  expectUserError(
    () => matchCheckpoint("model.safetensors", tensors, cfg, { mlm: true, classifier: true }),
    [
      "tensor 'classifier.weight' and 1 more tensors are missing",
      "no classification head",
    ],
  );
  expectUserError(
    () =>
      matchCheckpoint(
        "m.safetensors",
        tensors,
        tiny("bert", 0),
        { mlm: true, classifier: true },
        "x/config.json",
      ),
    [
      "x/config.json: a classification head needs at least 2 labels",
    ],
  );
});

Deno.test("matchCheckpoint: shape, dtype, layer-count and model-type mismatches", () => {
  const cfg = tiny("roberta");
  const good = tensorsFor(cfg, { mlm: true, classifier: false });
  const f = "ckpt/model.safetensors";
  const wrongShape = good.map((t) =>
    t.name === "roberta.embeddings.word_embeddings.weight" ? { ...t, shape: [21, 8] } : t
  );
  expectUserError(() => matchCheckpoint(f, wrongShape, cfg, { mlm: true, classifier: false }), [
    `${f}: tensor 'roberta.embeddings.word_embeddings.weight' has shape [21, 8] but config.json implies [20, 8]`,
  ]);
  const intWeights = good.map((t) => t.name === "lm_head.dense.weight" ? { ...t, dtype: "I8" } : t);
  expectUserError(() => matchCheckpoint(f, intWeights, cfg, { mlm: true, classifier: false }), [
    `${f}: tensor 'lm_head.dense.weight' has dtype I8`,
  ]);
  const badDecoder = [...good, { name: "lm_head.decoder.weight", shape: [8, 20], dtype: "F32" }];
  expectUserError(() => matchCheckpoint(f, badDecoder, cfg, { mlm: true, classifier: false }), [
    "tensor 'lm_head.decoder.weight' has shape [8, 20] but config.json implies [20, 8]",
  ]);
  const deeper = tensorsFor({ ...cfg, layers: 3 }, { mlm: true, classifier: false });
  expectUserError(() => matchCheckpoint(f, deeper, cfg, { mlm: true, classifier: false }), [
    `${f}: has encoder layers 0..2 but config.json says num_hidden_layers 2`,
  ]);
  const shallow = tensorsFor({ ...cfg, layers: 1 }, { mlm: true, classifier: false });
  expectUserError(() => matchCheckpoint(f, shallow, cfg, { mlm: true, classifier: false }), [
    "tensor 'roberta.encoder.layer.1.attention.self.query.weight' and 15 more tensors are missing",
  ]);
  const bertFile = tensorsFor(tiny("bert"), { mlm: false, classifier: false });
  expectUserError(() => matchCheckpoint(f, bertFile, cfg, { mlm: false, classifier: false }), [
    "the file holds 'bert.' weights but config.json says model_type 'roberta'",
  ]);
});

Deno.test("matchCheckpoint works on a real safetensors header", async () => {
  const dir = await Deno.makeTempDir({ prefix: "l3mask_config_" });
  try {
    const cfg = tiny("bert");
    const specs = paramSpecs(cfg, { mlm: true, classifier: false });
    const path = join(dir, "model.safetensors");
    await writeSafetensors(
      path,
      specs.map((s) => ({
        name: s.name,
        shape: s.shape,
        data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)),
      })),
    );
    const header = await readSafetensorsHeader(path);
    const m = matchCheckpoint(path, header.entries, cfg, { mlm: true, classifier: false });
    assertEquals(m.names.size, specs.length, "all mapped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
