/**
 * `l3mask pretrain` (masked-LM training from random initialisation) and `l3mask adapt`
 * (continued masked-LM training of a checkpoint on domain text, RTM or L3Masking).
 */
import { UserError } from "../errors.ts";
import { openDevice } from "../gpu/context.ts";
import { resolveModel } from "../io/hub.ts";
import { loadTokenizer } from "../io/tokenizer.ts";
import { maxSequenceLength, type ModelConfig, resolveMaxLength } from "../model/config.ts";
import { paramSpecs } from "../model/params.ts";
import { initParams, loadCheckpoint } from "../model/weights.ts";
import { parse } from "../options/args.ts";
import { CommandOptions } from "../options/command.ts";
import { keyLineOf, loadConfigFile } from "../options/config_file.ts";
import { corpusExamples } from "../pretrain/corpus.ts";
import { runMlmJob } from "../pretrain/run.ts";
import type { MlmRecord } from "../run/records.ts";
import { RunDir } from "../run/run_dir.ts";
import { defaultPltCacheDir } from "../score/cache.ts";
import { computePlt, textMaskProbs } from "../score/pipeline.ts";
import { VERSION } from "../version.ts";

const PRETRAIN = new CommandOptions(
  "pretrain",
  ["corpus", "tokenizer", "config@pretrain", "out@model", "until", "resume@mlm"] as const,
);
/** The config file's model: section. */
const ARCHITECTURE = new CommandOptions(
  "pretrain",
  ["type", "layers", "hidden", "heads", "intermediate", "max_positions", "init_std"] as const,
);
/** The config file's training: section. */
const MLM_TRAINING = new CommandOptions(
  "pretrain",
  [
    "max_length",
    "batch_size@mlm",
    "steps",
    "lr",
    "warmup_ratio",
    "weight_decay",
    "betas",
    "eps",
    "clip_norm",
    "dropout",
    "pbar",
    "seed",
    "heldout_fraction",
    "eval_every@mlm",
    "save_every",
  ] as const,
);
const ADAPT = new CommandOptions(
  "adapt",
  [
    "model",
    "corpus",
    "out@model",
    "masking",
    "steps@adapt",
    "lr@adapt",
    "batch_size@mlm",
    "max_length",
    "pbar",
    "seed",
    "eval_every@mlm",
    "warmup_ratio",
    "weight_decay",
    "betas",
    "eps",
    "clip_norm",
    "heldout_fraction",
    "complement",
    "overflow",
    "batch_tokens",
    "copies",
    "cache_dir",
    "resume@mlm",
    "offline",
  ] as const,
);

const PRETRAIN_USAGE =
  `Usage: l3mask pretrain --corpus F... --tokenizer DIR --config C.yaml --out DIR [--resume]

Masked-LM training of a new model from random initialisation. Writes a Hugging Face
BertForMaskedLM (or RobertaForMaskedLM) checkpoint to --out, with metrics.jsonl, pretrain.yaml
and state/ (for --resume).

Options:
${PRETRAIN.help()}

Config file, model: section:
${ARCHITECTURE.help()}

Config file, training: section:
${MLM_TRAINING.help()}`;

const ADAPT_USAGE =
  `Usage: l3mask adapt --model M --corpus F... --out DIR [--masking rtm|l3] [options]

Continued masked-LM pretraining of an existing model on domain text (task- or domain-adaptive
pretraining), with random masking (rtm) or L3Masking (l3: masks follow the starting model's
token-wise pseudo-likelihood, computed once and cached). The checkpoint is saved every
--eval-every steps.

Options:
${ADAPT.help()}`;

/** A section (model: or training:) of the pretrain config file. */
function section(
  file: Record<string, unknown>,
  name: "model" | "training",
  path: string,
): Record<string, unknown> {
  const values = file[name];
  if (values === undefined || values === null || typeof values !== "object") {
    throw new UserError(`${keyLineOf(file, name, path)}: expected a ${name}: section of keys`);
  }
  return values as Record<string, unknown>;
}

/** The pretrain config file: its two sections, each key checked against the option table. */
async function readPretrainConfig(path: string) {
  const file = await loadConfigFile(path);
  for (const key of Object.keys(file)) {
    if (key !== "model" && key !== "training") {
      throw new UserError(
        `${keyLineOf(file, key, path)}: unknown section '${key}'; the file has model: and ` +
          `training: sections`,
      );
    }
  }
  const arch = ARCHITECTURE.schema.parse(
    ARCHITECTURE.resolve([{ source: path, values: section(file, "model", path) }], path),
  );
  const training = MLM_TRAINING.schema.parse(
    MLM_TRAINING.resolve([{ source: path, values: section(file, "training", path) }], path),
  );
  return { arch, training };
}

export async function pretrain(args: string[]): Promise<void> {
  const { values, positionals } = parse("pretrain", args, PRETRAIN.flagOptions(), PRETRAIN_USAGE);
  // `--corpus A B C` as well as `--corpus A --corpus B`.
  const o = PRETRAIN.readFlags(values, { corpus: positionals });
  const { arch, training: t } = await readPretrainConfig(o.config);
  const run = await RunDir.open<MlmRecord>(o.out, {
    resume: o.resume,
    policy: "shared",
    flag: "--out",
  });
  const tok = await loadTokenizer(o.tokenizer);
  const tokenizerJson = tok.jsonBytes;
  const cfg: ModelConfig = {
    modelType: arch.type,
    vocabSize: tok.vocabSize,
    hidden: arch.hidden,
    layers: arch.layers,
    heads: arch.heads,
    intermediate: arch.intermediate,
    maxPositions: arch.maxPositions,
    typeVocabSize: arch.type === "bert" ? 2 : 1,
    layerNormEps: arch.type === "bert" ? 1e-12 : 1e-5,
    padTokenId: tok.specialIds.pad,
    hiddenDropout: t.dropout,
    attentionDropout: t.dropout,
    numLabels: 0,
  };
  if (t.maxLength !== undefined && t.maxLength > maxSequenceLength(cfg)) {
    throw new UserError(
      `${o.config}: training.max_length ${t.maxLength} exceeds the ` +
        `${maxSequenceLength(cfg)} tokens model.max_positions ${arch.maxPositions} allows; ` +
        `lower training.max_length or raise model.max_positions`,
    );
  }
  const resolved = resolveMaxLength(cfg, t.maxLength);
  if ("problem" in resolved) throw new UserError(resolved.problem);
  const maxLength = resolved.maxLength;
  const host = initParams(paramSpecs(cfg, { mlm: true, classifier: false }), t.seed, arch.initStd);
  const exs = await corpusExamples(tok, o.corpus, maxLength);
  await run.writeConfig("pretrain.yaml", await Deno.readTextFile(o.config));
  const settings = {
    masking: "rtm" as const,
    pbar: t.pbar,
    lr: t.lr,
    weightDecay: t.weightDecay,
    betas: t.betas,
    eps: t.eps,
    clipNorm: t.clipNorm,
    warmupRatio: t.warmupRatio,
    batchSize: t.batchSize,
    steps: t.steps,
    seed: t.seed,
    evalEvery: t.evalEvery,
    saveEvery: t.saveEvery,
  } as const;
  const command = `l3mask pretrain --corpus ${o.corpus.join(" ")} --config ${o.config}${
    o.resume ? " --resume" : ""
  }`;
  await runMlmJob(run, cfg, host, tok, tokenizerJson, exs, settings, t.heldoutFraction, o.resume, {
    l3mask: { version: VERSION, command },
    bos_token_id: tok.specialIds.cls,
    eos_token_id: tok.specialIds.sep,
  }, o.until);
}

export async function adapt(args: string[]): Promise<void> {
  const { values, positionals } = parse("adapt", args, ADAPT.flagOptions(), ADAPT_USAGE);
  const o = ADAPT.readFlags(values, { corpus: positionals });
  const run = await RunDir.open<MlmRecord>(o.out, {
    resume: o.resume,
    policy: "shared",
    flag: "--out",
  });
  const dir = await resolveModel(o.model, { offline: o.offline });
  const tok = await loadTokenizer(dir);
  const loaded = await loadCheckpoint(dir, { mlm: true, classifier: false }, { tokenizer: tok });
  const resolved = resolveMaxLength(loaded.config, o.maxLength);
  if ("problem" in resolved) throw new UserError(resolved.problem);
  const maxLength = resolved.maxLength;
  if (o.masking === "l3" && o.batchTokens < maxLength) {
    throw new UserError(
      `--batch-tokens ${o.batchTokens} must be at least the max length ${maxLength} (one text ` +
        `per forward pass when scoring PLT); raise --batch-tokens or lower --max-length`,
    );
  }
  const exs = await corpusExamples(tok, o.corpus, maxLength);
  if (o.masking === "l3") {
    const ctx = await openDevice();
    const plt = await computePlt(ctx, loaded, tok, exs.map((e) => e.text!), {
      maxLength,
      budgetTokens: o.batchTokens,
      copies: o.copies,
      cacheDir: o.cacheDir ?? defaultPltCacheDir(),
      progress: true,
    });
    const rates = { pbar: o.pbar, complement: o.complement, overflow: o.overflow };
    exs.forEach((e, i) => (e.maskProb = textMaskProbs(plt.scores[i], rates)));
    ctx.destroy();
  }
  const settings = {
    masking: o.masking,
    pbar: o.pbar,
    lr: o.lr,
    weightDecay: o.weightDecay,
    betas: o.betas as [number, number],
    eps: o.eps,
    clipNorm: o.clipNorm,
    warmupRatio: o.warmupRatio,
    batchSize: o.batchSize,
    steps: o.steps,
    seed: o.seed,
    evalEvery: o.evalEvery,
    saveEvery: o.evalEvery,
  };
  const tokenizerJson = tok.jsonBytes;
  await runMlmJob(
    run,
    loaded.config,
    loaded.params,
    tok,
    tokenizerJson,
    exs,
    settings,
    o.heldoutFraction,
    o.resume,
    {
      l3mask: { version: VERSION, adapted_from: o.model, masking: o.masking },
    },
  );
}
