/**
 * The `train` configuration (SPEC §5, §6): train's subset of the option table
 * (src/options/table.ts) drives the zod schema, the YAML keys (snake_case), the CLI flags
 * (kebab-case), the help text and the resolved config.yaml, so none of them can drift from the
 * others or from the other commands. Values come in layers — defaults < `--config` file < flags —
 * and every error names the layer (file:line or "command line"), the key, the value and what the
 * key takes.
 */
import type { z } from "zod";
import {
  CommandOptions,
  type ConfigLayer,
  flagOf as flagOfKey,
  type Problem,
} from "../options/command.ts";
import { loadConfigFile as loadFile, parseConfigText } from "../options/config_file.ts";
import type { Options } from "../options/args.ts";
import { option } from "../options/table.ts";
import paperYaml from "../../configs/paper.yaml" with { type: "text" };
import referenceYaml from "../../configs/reference.yaml" with { type: "text" };
import tinyYaml from "../../configs/tiny.yaml" with { type: "text" };

export type { ConfigLayer } from "../options/command.ts";
export { parseConfigText } from "../options/config_file.ts";

/** The named configurations in configs/, embedded so `--config tiny` works from a compiled binary. */
export const BUILTIN_CONFIGS: Readonly<Record<string, string>> = {
  paper: paperYaml,
  reference: referenceYaml,
  tiny: tinyYaml,
};

/** train's keys, in config.yaml and help order. */
export const CONFIG_KEYS = [
  // data (SPEC §6)
  "model",
  "train",
  "dev",
  "test",
  "text_column",
  "text_pair_column",
  "label_column",
  "input_format",
  "skip_bad_rows",
  "max_train_examples",
  // run
  "out",
  "seed",
  "cache_dir",
  "offline",
  // task and masking (SPEC §3–§5)
  "mode",
  "masking",
  "weighting",
  "pbar",
  "complement",
  "overflow",
  "batch_tokens",
  "copies",
  // batches and model
  "max_length",
  "batch_size",
  "grad_accum",
  "mlm_batch_size",
  "dropout",
  // optimizers (SPEC §5)
  "encoder_lr",
  "encoder_betas",
  "encoder_eps",
  "encoder_weight_decay",
  "head_lr",
  "head_weight_decay",
  "warmup_ratio",
  "clip_norm",
  "max_epochs",
  "max_steps",
  // META-TARTAN (SPEC §5, steps 3–4)
  "meta_lr",
  "dev_head_steps",
  "dev_head_lr",
  "dev_head_weight_decay",
  "dev_head_tol",
  "dev_head_examples",
  // evaluation
  "eval_every",
  "metric",
  "patience",
  // final fine-tuning (primary task only)
  "finetune_epochs",
  "finetune_lr",
  "finetune_patience",
] as const;

/** A YAML key (snake_case) of train. */
export type ConfigKey = typeof CONFIG_KEYS[number];

function crossFieldProblems(get: (key: ConfigKey) => unknown): Problem<ConfigKey>[] {
  const problems: Problem<ConfigKey>[] = [];
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

const TRAIN_OPTIONS = new CommandOptions("train", CONFIG_KEYS, crossFieldProblems);

/**
 * The resolved training configuration (camelCase). Parsing applies the SPEC defaults, checks
 * ranges and the cross-field rules, and fills `mlmBatchSize` from `batchSize` when unset.
 * `mode: stl` keeps `masking`/`weighting` as given; the trainer ignores them.
 */
export const TrainConfig = TRAIN_OPTIONS.schema.transform((c) => {
  const filled = { ...c, mlmBatchSize: c.mlmBatchSize ?? c.batchSize };
  // Table order, so two resolutions of the same values are equal key by key.
  return TRAIN_OPTIONS.withValues(filled, {}) as typeof c & { mlmBatchSize: number };
});
export type TrainConfig = z.output<typeof TrainConfig>;

/** Reads a config file; a missing path that names a built-in config reads configs/NAME.yaml. */
export function loadConfigFile(path: string): Promise<Record<string, unknown>> {
  return loadFile(path, BUILTIN_CONFIGS);
}

/** Merges layers over the defaults and validates the result (see CommandOptions.resolve). */
export function resolveConfig(layers: readonly ConfigLayer[]): TrainConfig {
  return TrainConfig.parse(TRAIN_OPTIONS.resolve(layers));
}

/** node:util parseArgs options for every key; add `config`, `resume` and the like beside them. */
export function trainFlagOptions(): Options {
  return TRAIN_OPTIONS.flagOptions();
}

/** Parsed flag values → a snake_case layer of typed values for resolveConfig. */
export function flagsToValues(
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
): Record<string, unknown> {
  return TRAIN_OPTIONS.flagsToValues(values);
}

/** The resolved config as YAML, every key in table order (see CommandOptions.toYaml). */
export function toYaml(config: TrainConfig, header?: string): string {
  return TRAIN_OPTIONS.toYaml(config, header);
}

/** `c` with some values replaced, its keys kept in table order (as resolveConfig orders them). */
export function withValues(c: TrainConfig, values: Partial<TrainConfig>): TrainConfig {
  return TRAIN_OPTIONS.withValues(c, values);
}

/** The flag that sets `key`, as typed on the command line: `--encoder-lr`. */
export function flagOf(key: ConfigKey): string {
  return flagOfKey(key);
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

/**
 * The options part of `train --help` (the command puts its Usage lines above it): every flag
 * with its placeholder, one-line meaning and default, grouped as in config.yaml. `extra` rows
 * (flag, meaning) are listed first, e.g. `--resume DIR`.
 */
export function configHelp(extra: readonly (readonly [string, string])[] = []): string {
  return [
    "Values come from the defaults, then the --config file, then the flags; a flag --name-of-key",
    "sets the YAML key name_of_key. Boolean flags have a --no-NAME form that undoes a config",
    "file's true.",
    "",
    "Options:",
    TRAIN_OPTIONS.help([["--config FILE", option("config").help], ...extra]),
  ].join("\n");
}
