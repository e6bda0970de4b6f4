/**
 * The `train` configuration (SPEC §5, §6): one table of fields drives the zod schema, the YAML
 * keys (snake_case), the CLI flags (kebab-case), the help text and the resolved config.yaml, so
 * none of them can drift from the others. Values come in layers — defaults < `--config` file <
 * flags — and every error names the layer (file:line or "command line"), the key, the value and
 * what the key takes.
 */
import { dirname } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, stringify } from "yaml";
import { z } from "zod";
import { closestName } from "../data/read.ts";
import { UserError } from "../errors.ts";
import type { Options } from "../cli/args.ts";
import paperYaml from "../../configs/paper.yaml" with { type: "text" };
import referenceYaml from "../../configs/reference.yaml" with { type: "text" };
import tinyYaml from "../../configs/tiny.yaml" with { type: "text" };

/** The named configurations in configs/, embedded so `--config tiny` works from a compiled binary. */
export const BUILTIN_CONFIGS: Readonly<Record<string, string>> = {
  paper: paperYaml,
  reference: referenceYaml,
  tiny: tinyYaml,
};

// ---------------------------------------------------------------------------------------------
// Value checks: a zod schema, the words for what it accepts, and how a flag string becomes a value.

/** How a flag's text becomes a value: kept, a number, a comma list of numbers, or a number/word. */
type FlagKind = "string" | "boolean" | "number" | "numbers" | "number-or-word";

interface Check<S extends z.ZodType> {
  schema: S;
  expects: string;
  flag: FlagKind;
}

function text(): Check<z.ZodString> {
  return { schema: z.string().min(1), expects: "a non-empty string", flag: "string" };
}

function bool(): Check<z.ZodBoolean> {
  return { schema: z.boolean(), expects: "true or false", flag: "boolean" };
}

function int(min: number, max?: number): Check<z.ZodInt> {
  const schema = max === undefined ? z.int().min(min) : z.int().min(min).max(max);
  const expects = max === undefined ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
  return { schema, expects, flag: "number" };
}

/** A finite number in an interval; `(` / `)` mark open ends, as in "(0, 1]". */
function real(lo: number, loOpen: boolean, hi?: number, hiOpen = false): Check<z.ZodNumber> {
  let schema = loOpen ? z.number().gt(lo) : z.number().gte(lo);
  if (hi !== undefined) schema = hiOpen ? schema.lt(hi) : schema.lte(hi);
  const expects = hi === undefined
    ? `a number ${loOpen ? ">" : ">="} ${lo}`
    : `a number in ${loOpen ? "(" : "["}${lo}, ${hi}${hiOpen ? ")" : "]"}`;
  return { schema, expects, flag: "number" };
}

function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
): Check<z.ZodEnum<{ [K in T[number]]: K }>> {
  return { schema: z.enum(values), expects: `one of ${values.join(", ")}`, flag: "string" };
}

function betas(): Check<z.ZodTuple<[z.ZodNumber, z.ZodNumber], null>> {
  const beta = z.number().gte(0).lt(1);
  return {
    schema: z.tuple([beta, beta]),
    expects: "two numbers in [0, 1), e.g. 0.9,0.98",
    flag: "numbers",
  };
}

function evalEvery(): Check<z.ZodUnion<[z.ZodLiteral<"epoch">, z.ZodInt]>> {
  return {
    schema: z.union([z.literal("epoch"), z.int().min(1)]),
    expects: "'epoch' or a number of optimizer steps >= 1",
    flag: "number-or-word",
  };
}

// ---------------------------------------------------------------------------------------------
// The table. Order = YAML order = help order.

type Group =
  | "data"
  | "run"
  | "task and masking"
  | "batches and model"
  | "optimizers"
  | "META-TARTAN"
  | "evaluation"
  | "final fine-tuning";

interface Doc {
  group: Group;
  /** Placeholder after the flag in the help ("" for booleans). */
  arg: string;
  help: string;
  /** Shown as the default of an optional field, in place of "none". */
  unset?: string;
}

interface Field<S extends z.ZodType, Out extends z.ZodType> extends Doc {
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

const FIELDS = {
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
    help: "csv, tsv or jsonl for every split",
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
    help: "seed of shuffling, masking, dropout and head initialisation",
  }),
  cache_dir: optional(text(), {
    group: "run",
    arg: "DIR",
    help: "PLT cache",
    unset: "$L3MASK_PLT_CACHE or ~/.cache/l3mask/plt",
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
    help: "MLM masking: random (rtm) or L3Masking (l3); mtl only",
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
  batch_tokens: withDefault(int(1), 8192, {
    group: "task and masking",
    arg: "N",
    help: "tokens per forward pass when scoring PLT (>= max_length)",
  }),

  // batches and model
  max_length: optional(int(3), {
    group: "batches and model",
    arg: "N",
    help: "tokens per text including specials; a run's config.yaml records the value used",
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
    help: "gradient-norm clip of the encoder and of the head",
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
} as const;

type Fields = typeof FIELDS;
/** A YAML key (snake_case). */
export type ConfigKey = keyof Fields & string;
export const CONFIG_KEYS = Object.keys(FIELDS) as ConfigKey[];

type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}`
  : S;
type Shape = { [K in ConfigKey as Camel<K>]: Fields[K]["schema"] };

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const kebab = (key: string) => key.replaceAll("_", "-");
const field = (key: ConfigKey): Field<z.ZodType, z.ZodType> =>
  FIELDS[key] as Field<z.ZodType, z.ZodType>;

// ---------------------------------------------------------------------------------------------
// Cross-field rules, shared by the schema and by resolveConfig (which adds where each value came from).

interface Problem {
  keys: ConfigKey[];
  /** The message, given how to show a key with its value. */
  message: (show: (key: ConfigKey) => string) => string;
}

function crossFieldProblems(get: (key: ConfigKey) => unknown): Problem[] {
  const problems: Problem[] = [];
  const accum = get("grad_accum") as number;
  if ((get("batch_size") as number) % accum !== 0) {
    problems.push({
      keys: ["grad_accum", "batch_size"],
      message: (show) =>
        `${show("grad_accum")} must divide ${
          show("batch_size")
        } (the micro-batch is batch_size / grad_accum)`,
    });
  }
  const mlm = get("mlm_batch_size") as number | undefined;
  if (mlm !== undefined && mlm % accum !== 0) {
    problems.push({
      keys: ["grad_accum", "mlm_batch_size"],
      message: (show) =>
        `${show("grad_accum")} must divide ${
          show("mlm_batch_size")
        } (each micro-batch takes mlm_batch_size / grad_accum MLM examples)`,
    });
  }
  // An unset max_length is resolved from the model (src/train/run.ts checks it there).
  const maxLength = get("max_length") as number | undefined;
  if (maxLength !== undefined && (get("batch_tokens") as number) < maxLength) {
    problems.push({
      keys: ["batch_tokens", "max_length"],
      message: (show) =>
        `${show("batch_tokens")} must be at least ${
          show("max_length")
        } (one text per forward pass)`,
    });
  }
  return problems;
}

const shape = Object.fromEntries(
  CONFIG_KEYS.map((k) => [camel(k), field(k).schema]),
) as unknown as Shape;

/**
 * The resolved training configuration (camelCase). Parsing applies the SPEC defaults, checks
 * ranges and the cross-field rules, and fills `mlmBatchSize` from `batchSize` when unset.
 * `mode: stl` keeps `masking`/`weighting` as given; the trainer ignores them.
 */
export const TrainConfig = z.strictObject(shape)
  .superRefine((c, ctx) => {
    const get = (k: ConfigKey) => (c as Record<string, unknown>)[camel(k)];
    for (const p of crossFieldProblems(get)) {
      ctx.addIssue({
        code: "custom",
        path: p.keys.map(camel),
        message: p.message((k) => `${k} ${show(get(k))}`),
      });
    }
  })
  .transform((c) => {
    const filled = { ...c, mlmBatchSize: c.mlmBatchSize ?? c.batchSize } as Record<string, unknown>;
    // Table order, so two resolutions of the same values are equal key by key.
    const ordered = CONFIG_KEYS.map(camel).filter((k) => filled[k] !== undefined).map((
      k,
    ) => [k, filled[k]]);
    return Object.fromEntries(ordered) as typeof c & { mlmBatchSize: number };
  });
export type TrainConfig = z.output<typeof TrainConfig>;

// ---------------------------------------------------------------------------------------------
// Reading config files.

/** Line of each top-level key of a parsed file, for error messages (kept off the record itself). */
const keyLines = new WeakMap<object, Map<string, number>>();

/** Parses YAML (or JSON) text into a key → value record; syntax errors name `source:line:column`. */
export function parseConfigText(text: string, source: string): Record<string, unknown> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ""), { lineCounter, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
    throw new UserError(`${where}: invalid YAML: ${err.message.split(/ at line \d+|\n/)[0]}`);
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return {};
  if (!isMap(contents)) {
    const line = contents.range ? lineCounter.linePos(contents.range[0]).line : 1;
    throw new UserError(
      `${source}:${line}: expected 'key: value' lines at the top level, as in configs/paper.yaml`,
    );
  }
  const values = doc.toJS() as Record<string, unknown>;
  const lines = new Map<string, number>();
  for (const pair of contents.items) {
    const key = pair.key;
    if (isScalar(key) && key.range) {
      lines.set(String(key.value), lineCounter.linePos(key.range[0]).line);
    }
  }
  keyLines.set(values, lines);
  return values;
}

/**
 * Reads a YAML or JSON config file. A path that does not exist but names a built-in
 * configuration (`paper`, `reference`, `tiny`) reads the embedded copy of configs/NAME.yaml.
 */
export async function loadConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new UserError(`${path}: cannot read the config file: ${(e as Error).message}`);
    }
    const builtin = BUILTIN_CONFIGS[path];
    if (builtin !== undefined) return parseConfigText(builtin, `configs/${path}.yaml`);
    throw new UserError(`${path}: no such config file; ${await nearbyConfigs(path)}`);
  }
  return parseConfigText(text, path);
}

async function nearbyConfigs(path: string): Promise<string> {
  const builtins = `built-in configs: ${Object.keys(BUILTIN_CONFIGS).join(", ")}`;
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dirname(path))) {
      if (entry.isFile && /\.(ya?ml|json)$/i.test(entry.name)) names.push(entry.name);
    }
  } catch {
    return builtins;
  }
  const base = path.split(/[\\/]/).pop() ?? path;
  const near = closestName(base, [...names, ...Object.keys(BUILTIN_CONFIGS)]);
  return near === undefined ? builtins : `did you mean '${near}'? (${builtins})`;
}

// ---------------------------------------------------------------------------------------------
// Layering.

export interface ConfigLayer {
  /** Where the values came from, for messages: a file path, "command line", "config.yaml of the run". */
  source: string;
  /** snake_case key → value; null resets a key to its default (or unset); undefined is skipped. */
  values: Record<string, unknown>;
  /** Name keys as flags (`--encoder-lr`) in messages; set for the layer built by flagsToValues. */
  flags?: boolean;
}

/** Keys that users of other tools reach for, and the key that does that job here. */
const ALIASES: Record<string, ConfigKey> = {
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

function suggestKey(key: string): ConfigKey | undefined {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replaceAll("-", "_").toLowerCase();
  if (snake in FIELDS) return snake as ConfigKey;
  return ALIASES[snake] ?? (closestName(snake, CONFIG_KEYS) as ConfigKey | undefined);
}

/** A value as it appears in messages. */
function show(v: unknown): string {
  if (typeof v === "number") return formatNumber(v);
  if (Array.isArray(v)) return v.map(show).join(",");
  return typeof v === "string" ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

interface Origin {
  layer: number;
  where: string;
  flags: boolean;
}

const DEFAULT_ORIGIN: Origin = { layer: -1, where: "default", flags: false };

/**
 * Merges layers (later ones override earlier ones) over the SPEC defaults and validates the
 * result. Throws a UserError naming the layer (file:line where known), the key, the value and
 * what the key takes.
 */
export function resolveConfig(layers: readonly ConfigLayer[]): TrainConfig {
  const merged = new Map<ConfigKey, unknown>();
  const origins = new Map<ConfigKey, Origin>();
  layers.forEach((layer, index) => {
    const lines = keyLines.get(layer.values);
    const whereOf = (key: string) => {
      const line = lines?.get(key);
      return line === undefined ? layer.source : `${layer.source}:${line}`;
    };
    for (const [key, value] of Object.entries(layer.values)) {
      const where = whereOf(key);
      if (!(key in FIELDS)) {
        const near = suggestKey(key);
        const hint = near === undefined
          ? "see 'l3mask train --help' for the keys"
          : `did you mean '${near}'?`;
        throw new UserError(`${where}: unknown key '${key}'; ${hint}`);
      }
      if (value === undefined) continue;
      const k = key as ConfigKey;
      const name = layer.flags ? `--${kebab(k)}` : k;
      if (value === null) {
        merged.delete(k);
        origins.set(k, { layer: index, where, flags: !!layer.flags });
        continue;
      }
      const f = field(k);
      const parsed = f.check.schema.safeParse(value);
      if (!parsed.success) {
        const quote = f.check.flag === "string" && !layer.flags && typeof value !== "string" &&
            typeof value !== "object"
          ? "; quote it to keep it as text"
          : "";
        throw new UserError(
          `${where}: ${name}: expected ${f.check.expects}, got ${show(value)}${quote}`,
        );
      }
      merged.set(k, parsed.data);
      origins.set(k, { layer: index, where, flags: !!layer.flags });
    }
  });

  const missing = CONFIG_KEYS.filter((k) => field(k).required && !merged.has(k));
  if (missing.length > 0) {
    const how = missing.map((k) => `--${kebab(k)} ${field(k).arg}`).join(", ");
    throw new UserError(
      `missing ${missing.join(", ")}: pass ${how} (or set them in the --config file)`,
    );
  }

  const get = (k: ConfigKey) => merged.has(k) ? merged.get(k) : field(k).default;
  const problem = crossFieldProblems(get)[0];
  if (problem) {
    const originOf = (k: ConfigKey) => origins.get(k) ?? DEFAULT_ORIGIN;
    // Blame the key set last: the user most likely just changed it.
    const blamed = problem.keys.reduce((a, b) => originOf(b).layer > originOf(a).layer ? b : a);
    const at = originOf(blamed).where;
    const showWithOrigin = (k: ConfigKey) => {
      const o = originOf(k);
      const name = o.flags ? `--${kebab(k)}` : k;
      return `${name} ${show(get(k))}${o.where === at ? "" : ` (${o.where})`}`;
    };
    throw new UserError(`${at}: ${problem.message(showWithOrigin)}`);
  }

  const camelValues = Object.fromEntries([...merged].map(([k, v]) => [camel(k), v]));
  return TrainConfig.parse(camelValues);
}

// ---------------------------------------------------------------------------------------------
// Flags.

/** Flags whose `--no-NAME` form sets a boolean back to false (to undo a config file). */
const negated = (key: ConfigKey) => `no-${kebab(key)}`;

/**
 * node:util parseArgs options for every key: `--encoder-lr X` (strings), `--offline` and
 * `--no-offline` (booleans). Add `config`, `resume` and the like beside them.
 */
export function trainFlagOptions(): Options {
  const options: Options = {};
  for (const key of CONFIG_KEYS) {
    if (field(key).check.flag === "boolean") {
      options[kebab(key)] = { type: "boolean" };
      options[negated(key)] = { type: "boolean" };
    } else {
      options[kebab(key)] = { type: "string" };
    }
  }
  return options;
}

/** A flag's text as a number when it reads as one; otherwise the text, for the check to reject. */
function flagNumber(s: string): number | string {
  const n = Number(s);
  return s.trim() !== "" && Number.isFinite(n) ? n : s;
}

/**
 * Parsed flag values (kebab-case strings and booleans) → a snake_case layer of typed values for
 * resolveConfig: numbers, `0.9,0.98` lists, `epoch` or a number. Values of flags that are not
 * config keys (`config`, `resume`, `help`) are ignored.
 */
export function flagsToValues(
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const check = field(key).check;
    if (check.flag === "boolean") {
      const on = values[kebab(key)] === true, off = values[negated(key)] === true;
      if (on && off) {
        throw new UserError(
          `--${kebab(key)} and --${negated(key)} contradict each other; pass one`,
        );
      }
      if (on || off) out[key] = on;
      continue;
    }
    const raw = values[kebab(key)];
    if (raw === undefined) continue;
    const s = String(Array.isArray(raw) ? raw.at(-1) : raw);
    if (check.flag === "number") out[key] = flagNumber(s);
    else if (check.flag === "numbers") {
      out[key] = s.split(",").map((part) => flagNumber(part.trim()));
    } else if (check.flag === "number-or-word") {
      out[key] = /^\s*[-+]?[\d.]/.test(s) ? flagNumber(s) : s;
    } else out[key] = s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// config.yaml of a run, and the help text.

/** Fractions as people write them: 1e-4 rather than 0.0001 (the shorter form; exact either way). */
export function formatNumber(n: number): string {
  const plain = String(n);
  if (Number.isInteger(n)) return plain;
  const exp = n.toExponential().replace("e+", "e");
  return exp.length < plain.length ? exp : plain;
}

function yamlValue(v: unknown): string {
  if (v === undefined || v === null) return "null";
  if (typeof v === "number") return formatNumber(v);
  if (Array.isArray(v)) return `[${v.map(yamlValue).join(", ")}]`;
  return stringify(v).trimEnd();
}

/**
 * The resolved config as YAML: every key in table order (unset optional keys as null), one
 * comment line per group, so two runs' config.yaml files diff line by line.
 */
export function toYaml(config: TrainConfig, header?: string): string {
  const values = config as unknown as Record<string, unknown>;
  const lines: string[] = header ? header.split("\n").map((l) => `# ${l}`.trimEnd()) : [];
  let group = "";
  for (const key of CONFIG_KEYS) {
    const f = field(key);
    if (f.group !== group) {
      if (lines.length > 0) lines.push("");
      lines.push(`# ${f.group}`);
      group = f.group;
    }
    lines.push(`${key}: ${yamlValue(values[camel(key)])}`);
  }
  return lines.join("\n") + "\n";
}

/** `c` with some values replaced, its keys kept in table order (as resolveConfig orders them). */
export function withValues(c: TrainConfig, values: Partial<TrainConfig>): TrainConfig {
  const merged = { ...c, ...values } as Record<string, unknown>;
  return Object.fromEntries(
    CONFIG_KEYS.map(camel).filter((k) => merged[k] !== undefined).map((k) => [k, merged[k]]),
  ) as TrainConfig;
}

/** The flag that sets `key`, as typed on the command line: `--encoder-lr`. */
export function flagOf(key: ConfigKey): string {
  return `--${kebab(key)}`;
}

/**
 * Keys that may come with `--resume` on the command line: they say where files are found, not
 * what the run computes (the PLT cache holds the same scores wherever it lives), so the resumed
 * run stays bit-identical. Every other key is fixed by the run's config.yaml.
 */
export const RESUME_KEYS: readonly ConfigKey[] = ["offline", "cache_dir"];

/** Reads a run's config.yaml back (for `--resume`); keys added since then take their defaults. */
export function fromResolvedYaml(text: string, source: string): TrainConfig {
  return resolveConfig([{ source, values: parseConfigText(text, source) }]);
}

function defaultText(key: ConfigKey): string {
  const f = field(key);
  if (f.required) return "required";
  if (f.default === undefined) return `default: ${f.unset ?? "none"}`;
  if (typeof f.default === "boolean") return "";
  return `default: ${
    Array.isArray(f.default) ? f.default.map(show).join(",") : show(f.default).replaceAll("'", "")
  }`;
}

/** `lead` then `text`, wrapped at 100 columns under the start of `text`. */
function wrap(lead: string, text: string): string {
  const lines: string[] = [];
  let line = lead;
  for (const word of text.split(" ")) {
    if (line.length > lead.length && line.length + 1 + word.length > 100) {
      lines.push(line);
      line = " ".repeat(lead.length) + word;
    } else {
      line += (line.length > lead.length ? " " : "") + word;
    }
  }
  lines.push(line);
  return lines.join("\n").replaceAll("\u00a0", " ");
}

/**
 * The options part of `train --help` (the command puts its Usage lines above it): every flag
 * with its placeholder, one-line meaning and default, grouped as in config.yaml. `extra` rows
 * (flag, meaning) are listed first, e.g. `--resume DIR`.
 */
export function configHelp(extra: readonly (readonly [string, string])[] = []): string {
  const rows: (readonly [string, string] | string)[] = [
    ["--config FILE", "YAML or JSON file of snake_case keys (or paper, reference, tiny)"],
    ...extra,
  ];
  let group = "";
  for (const key of CONFIG_KEYS) {
    const f = field(key);
    if (f.group !== group) rows.push(f.group), group = f.group;
    const flag = f.arg ? `--${kebab(key)} ${f.arg}` : `--${kebab(key)}`;
    const def = defaultText(key);
    // Non-breaking spaces keep "(default: X)" on one line when wrapping.
    rows.push([flag, def ? `${f.help} (${def.replaceAll(" ", "\u00a0")})` : f.help]);
  }
  const width = Math.max(...rows.filter((r) => typeof r !== "string").map((r) => r[0].length)) + 2;
  const body = rows.map((r) =>
    typeof r === "string"
      ? `\n${r[0].toUpperCase()}${r.slice(1)}:`
      : wrap(`  ${r[0].padEnd(width)}`, r[1])
  );
  return [
    "Values come from the defaults, then the --config file, then the flags; a flag --name-of-key",
    "sets the YAML key name_of_key. Boolean flags have a --no-NAME form that undoes a config",
    "file's true.",
    "",
    "Options:",
    ...body,
  ].join("\n");
}
