/**
 * `l3mask pretrain` (masked-LM training from random initialisation) and `l3mask adapt`
 * (continued masked-LM training of a checkpoint on domain text, RTM or L3Masking).
 */
import { join } from "node:path";
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { UserError } from "../errors.ts";
import { createContext } from "../gpu/context.ts";
import { resolveModel } from "../io/hub.ts";
import { type L3Tokenizer, loadTokenizer } from "../io/tokenizer.ts";
import { maxSequenceLength, type ModelConfig, resolveMaxLength } from "../model/config.ts";
import { paramSpecs } from "../model/params.ts";
import { initParams, loadCheckpoint } from "../model/weights.ts";
import { runMlmJob } from "../pretrain/run.ts";
import { RunDir } from "../run/run_dir.ts";
import type { MlmRecord } from "../run/records.ts";
import { packTexts } from "../pretrain/pack.ts";
import { defaultPltCacheDir } from "../score/cache.ts";
import { computePlt, textMaskProbs } from "../score/pipeline.ts";
import { encodeRows, type Example } from "../data/examples.ts";
import { loadBuiltinCorpus } from "../vocab/corpora.ts";
import { VERSION } from "../version.ts";
import { parse } from "../options/args.ts";
import { choice, positiveInt, probability } from "./flags.ts";

const PretrainConfig = z.strictObject({
  model: z.strictObject({
    type: z.enum(["bert", "roberta"]).default("bert"),
    layers: z.int().min(1),
    hidden: z.int().min(4),
    heads: z.int().min(1),
    intermediate: z.int().min(1),
    max_positions: z.int().min(8).default(512),
    init_std: z.number().positive().default(0.02),
  }),
  training: z.strictObject({
    max_length: z.int().min(8).default(128),
    batch_size: z.int().min(1).default(32),
    steps: z.int().min(1),
    lr: z.number().positive().default(5e-4),
    warmup_ratio: z.number().min(0).max(1).default(0.06),
    weight_decay: z.number().min(0).default(0.01),
    betas: z.tuple([z.number(), z.number()]).default([0.9, 0.98]),
    eps: z.number().positive().default(1e-6),
    clip_norm: z.number().positive().default(1),
    dropout: z.number().min(0).max(0.9).default(0.1),
    pbar: z.number().positive().max(1).default(0.15),
    seed: z.int().min(0).default(42),
    heldout_fraction: z.number().min(0).max(0.5).default(0.02),
    eval_every: z.int().min(1).default(200),
    save_every: z.int().min(1).default(200),
  }),
});
type PretrainConfig = z.output<typeof PretrainConfig>;

const PRETRAIN_USAGE =
  `Usage: l3mask pretrain --corpus F... --tokenizer DIR --config C.yaml --out DIR [--resume]

Masked-LM training of a new model from random initialisation. --corpus takes text files (one
document per line or free text), .jsonl files with a "text" field, or the built-in npm corpora
builtin:moby-dick, builtin:sotu, builtin:spam-assassin. --tokenizer is a directory with tokenizer.json (see 'l3mask
vocab'). The config (YAML) has a model: section (type, layers, hidden, heads, intermediate,
max_positions) and a training: section (max_length, batch_size, steps, lr, warmup_ratio,
weight_decay, dropout, pbar, seed, heldout_fraction, eval_every, save_every). Writes a Hugging
Face BertForMaskedLM checkpoint to --out, metrics.jsonl and state/ (for --resume).`;

const ADAPT_USAGE =
  `Usage: l3mask adapt --model M --corpus F... --out DIR [--masking rtm|l3] [options]

Continued masked-LM pretraining of an existing model on domain text (task- or domain-adaptive
pretraining), with random masking (rtm) or L3Masking (l3: masks follow the starting model's
token-wise pseudo-likelihood, computed once and cached).

  --steps N        optimizer steps (default 1000)     --lr X           peak lr (default 1e-4)
  --batch-size N   texts per step (default 32)        --max-length N   tokens per text (default
                                                      128, or fewer where the positions end)
  --pbar P         mean masking rate (default 0.15)   --seed S         (default 42)
  --eval-every N   held-out loss every N steps (200)  --resume         continue from DIR/state
  --offline        never touch the network`;

/** Documents from files or built-in corpus names. */
export async function readCorpus(specs: string[]): Promise<string[]> {
  const docs: string[] = [];
  for (const spec of specs) {
    const st = await Deno.stat(spec).catch(() => null);
    if (!st) {
      const name = spec.replace(/^builtin:/, "");
      if (["moby-dick", "sotu", "spam-assassin"].includes(name)) {
        docs.push(...await loadBuiltinCorpus(name as "moby-dick" | "sotu" | "spam-assassin"));
        continue;
      }
      throw new UserError(
        `corpus '${spec}' is neither a file nor a built-in corpus (builtin:moby-dick, builtin:sotu, builtin:spam-assassin)`,
      );
    }
    const text = await Deno.readTextFile(spec);
    if (spec.endsWith(".jsonl")) {
      text.split("\n").forEach((line, i) => {
        if (!line.trim()) return;
        let o;
        try {
          o = JSON.parse(line);
        } catch {
          throw new UserError(`${spec}:${i + 1}: not valid JSON`);
        }
        if (typeof o?.text !== "string") {
          throw new UserError(`${spec}:${i + 1}: no string "text" field`);
        }
        docs.push(o.text);
      });
    } else docs.push(text);
  }
  return docs;
}

async function corpusExamples(
  tok: L3Tokenizer,
  corpus: string[],
  maxLength: number,
): Promise<Example[]> {
  const docs = await readCorpus(corpus);
  const texts = packTexts(docs, tok, maxLength - tok.addedSingle);
  if (!texts.length) throw new UserError("the corpus holds no text");
  if (texts.length < 2) {
    // One text would be held out and leave nothing to train on.
    throw new UserError(
      `the corpus packs into ${texts.length} text of at most ${maxLength} tokens; training ` +
        `needs at least 2 (some are held out): add text, or sentences ending in . ! or ?`,
    );
  }
  return encodeRows(tok, texts.map((text, row) => ({ row, line: row + 1, text })), [], maxLength);
}

export async function pretrain(args: string[]): Promise<void> {
  const { values, positionals } = parse(
    "pretrain",
    args,
    {
      corpus: { type: "string", multiple: true },
      tokenizer: { type: "string" },
      config: { type: "string" },
      out: { type: "string" },
      resume: { type: "boolean" },
    } as const,
    PRETRAIN_USAGE,
  );
  // `--corpus A B C` as well as `--corpus A --corpus B`.
  const corpus = [...(values.corpus as unknown as string[] ?? []), ...positionals];
  if (!corpus.length || !values.tokenizer || !values.config || !values.out) {
    throw new UserError(
      "--corpus, --tokenizer, --config and --out are required. See 'l3mask pretrain --help'.",
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(await Deno.readTextFile(values.config));
  } catch (e) {
    throw new UserError(`${values.config}: ${(e as Error).message}`);
  }
  const parsed = PretrainConfig.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UserError(`${values.config}: ${i.path.join(".")}: ${i.message}`);
  }
  const c: PretrainConfig = parsed.data;
  const run = await RunDir.open<MlmRecord>(values.out, {
    resume: Boolean(values.resume),
    policy: "shared",
    flag: "--out",
  });
  const tok = await loadTokenizer(values.tokenizer);
  const tokenizerJson = await Deno.readFile(join(values.tokenizer, "tokenizer.json"));
  const t = c.training;
  const cfg: ModelConfig = {
    modelType: c.model.type,
    vocabSize: tok.vocabSize,
    hidden: c.model.hidden,
    layers: c.model.layers,
    heads: c.model.heads,
    intermediate: c.model.intermediate,
    maxPositions: c.model.max_positions,
    typeVocabSize: c.model.type === "bert" ? 2 : 1,
    layerNormEps: c.model.type === "bert" ? 1e-12 : 1e-5,
    padTokenId: tok.specialIds.pad,
    hiddenDropout: t.dropout,
    attentionDropout: t.dropout,
    numLabels: 0,
  };
  if (t.max_length > maxSequenceLength(cfg)) {
    throw new UserError(
      `${values.config}: training.max_length ${t.max_length} exceeds the ` +
        `${maxSequenceLength(cfg)} tokens model.max_positions ${c.model.max_positions} allows; ` +
        `lower training.max_length or raise model.max_positions`,
    );
  }
  const host = initParams(
    paramSpecs(cfg, { mlm: true, classifier: false }),
    t.seed,
    c.model.init_std,
  );
  const exs = await corpusExamples(tok, corpus, t.max_length);
  await run.writeConfig("pretrain.yaml", await Deno.readTextFile(values.config));
  await runMlmJob(
    run,
    cfg,
    host,
    tok,
    tokenizerJson,
    exs,
    {
      masking: "rtm",
      pbar: t.pbar,
      lr: t.lr,
      weightDecay: t.weight_decay,
      betas: t.betas,
      eps: t.eps,
      clipNorm: t.clip_norm,
      warmupRatio: t.warmup_ratio,
      batchSize: t.batch_size,
      steps: t.steps,
      seed: t.seed,
      evalEvery: t.eval_every,
      saveEvery: t.save_every,
    },
    t.heldout_fraction,
    Boolean(values.resume),
    {
      l3mask: {
        version: VERSION,
        command: `l3mask pretrain --corpus ${corpus.join(" ")} --config ${values.config}${
          values.resume ? " --resume" : ""
        }`,
      },
      bos_token_id: tok.specialIds.cls,
      eos_token_id: tok.specialIds.sep,
    },
  );
}

export async function adapt(args: string[]): Promise<void> {
  const { values, positionals } = parse(
    "adapt",
    args,
    {
      model: { type: "string" },
      corpus: { type: "string", multiple: true },
      out: { type: "string" },
      masking: { type: "string" },
      steps: { type: "string" },
      lr: { type: "string" },
      "batch-size": { type: "string" },
      "max-length": { type: "string" },
      pbar: { type: "string" },
      seed: { type: "string" },
      "eval-every": { type: "string" },
      resume: { type: "boolean" },
      offline: { type: "boolean" },
    } as const,
    ADAPT_USAGE,
  );
  const corpus = [...(values.corpus as unknown as string[] ?? []), ...positionals];
  if (!values.model || !corpus.length || !values.out) {
    throw new UserError("--model, --corpus and --out are required. See 'l3mask adapt --help'.");
  }
  const masking = choice(values.masking ?? "l3", "--masking", ["rtm", "l3"] as const);
  const steps = positiveInt(values.steps ?? "1000", "--steps");
  const lr = Number(values.lr ?? "1e-4");
  if (!(lr > 0)) throw new UserError(`--lr must be a positive number, got '${values.lr}'`);
  const batchSize = positiveInt(values["batch-size"] ?? "32", "--batch-size");
  const requestedLength = values["max-length"] === undefined
    ? undefined
    : positiveInt(values["max-length"], "--max-length");
  const pbar = probability(values.pbar ?? "0.15", "--pbar");
  const seed = positiveInt(String(Number(values.seed ?? "42") + 1), "--seed") - 1;
  const run = await RunDir.open<MlmRecord>(values.out, {
    resume: Boolean(values.resume),
    policy: "shared",
    flag: "--out",
  });
  const dir = await resolveModel(values.model, { offline: values.offline });
  const tok = await loadTokenizer(dir);
  const loaded = await loadCheckpoint(dir, { mlm: true, classifier: false }, { tokenizer: tok });
  const resolved = resolveMaxLength(loaded.config, requestedLength);
  if ("problem" in resolved) throw new UserError(resolved.problem);
  const maxLength = resolved.maxLength;
  const exs = await corpusExamples(tok, corpus, maxLength);
  if (masking === "l3") {
    const ctx = await createContext().catch((e) => {
      throw new UserError((e as Error).message);
    });
    const plt = await computePlt(ctx, loaded, tok, exs.map((e) => e.text!), {
      maxLength,
      budgetTokens: 8192,
      cacheDir: defaultPltCacheDir(),
      progress: true,
    });
    exs.forEach((
      e,
      i,
    ) => (e.maskProb = textMaskProbs(plt.scores[i], {
      pbar,
      complement: "one-minus",
      overflow: "redistribute",
    })));
    ctx.destroy();
  }
  await runMlmJob(
    run,
    loaded.config,
    loaded.params,
    tok,
    await Deno.readFile(join(dir, "tokenizer.json")),
    exs,
    {
      masking,
      pbar,
      lr,
      weightDecay: 0.01,
      betas: [0.9, 0.98],
      eps: 1e-6,
      clipNorm: 1,
      warmupRatio: 0.06,
      batchSize,
      steps,
      seed,
      evalEvery: positiveInt(values["eval-every"] ?? "200", "--eval-every"),
      saveEvery: positiveInt(values["eval-every"] ?? "200", "--eval-every"),
    },
    0.02,
    Boolean(values.resume),
    { l3mask: { version: VERSION, adapted_from: values.model, masking } },
  );
}
