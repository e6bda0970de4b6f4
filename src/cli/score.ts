/** `l3mask score INPUT --model M`: PLT and mPLT per token (SPEC §2, §3, §7). */
import { join } from "node:path";
import { type DataFormat, readDataset } from "../data/read.ts";
import { UserError } from "../errors.ts";
import { createContext } from "../gpu/context.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { readHfConfig } from "../model/hf_config.ts";
import { resolveModel } from "../io/hub.ts";
import { asFsUserError, checkOutputDir, checkOutputFile } from "../io/outputs.ts";
import { loadTokenizer } from "../io/tokenizer.ts";
import type { Complement, Overflow } from "../mask/mplt.ts";
import { loadCheckpoint } from "../model/weights.ts";
import { DEFAULT_MAX_LENGTH, resolveMaxLength } from "../model/config.ts";
import { defaultPltCacheDir } from "../score/cache.ts";
import { computePlt, textMaskProbs } from "../score/pipeline.ts";
import { formatScoreCsv, formatScoreJsonl, type ScoredRow } from "../score/output.ts";
import { VERSION } from "../version.ts";
import { parse } from "./args.ts";
import { choice, positiveInt, probability } from "./flags.ts";

const USAGE = `Usage: l3mask score INPUT --model M [options]

Token-wise pseudo-likelihood (PLL-word-l2r) of every token of every text under the vanilla
model, and the L3Masking mask probabilities derived from it. INPUT is CSV, TSV or JSONL.

  --model M            model directory or hub id (config.json, tokenizer.json, model.safetensors)
  --text-column NAME   column holding the text (default: text)
  --format F           output: jsonl (default; one line per row, SPEC §7) or csv (one row per token)
  --out FILE           output file (default: stdout); written to a temporary file, then renamed
  --report FILE.html   also write a self-contained HTML heatmap report
  --max-length N       tokens per text including specials (default ${DEFAULT_MAX_LENGTH}, or what the
                       model's positions allow when fewer)
  --pbar P             mean mask probability (default 0.15)
  --complement C       one-minus (1 - PLT, default) or surprisal (-log PLT)
  --overflow O         redistribute (default) or clip (the reference code)
  --batch-tokens N     tokens per forward pass (default 8192)
  --input-format F     csv, tsv or jsonl (default: from the extension)
  --skip-bad-rows      skip malformed rows (counted) instead of stopping
  --cache-dir DIR      PLT cache (default: $L3MASK_PLT_CACHE or ~/.cache/l3mask/plt)
  --offline            never touch the network (also HF_HUB_OFFLINE=1)
  --seed S             accepted for symmetry with train; scoring is deterministic`;

export async function score(args: string[]): Promise<void> {
  const { values, positionals } = parse("score", args, {
    model: { type: "string" },
    "text-column": { type: "string" },
    format: { type: "string" },
    out: { type: "string" },
    report: { type: "string" },
    "max-length": { type: "string" },
    pbar: { type: "string" },
    complement: { type: "string" },
    overflow: { type: "string" },
    "batch-tokens": { type: "string" },
    "input-format": { type: "string" },
    "skip-bad-rows": { type: "boolean" },
    "cache-dir": { type: "string" },
    offline: { type: "boolean" },
    seed: { type: "string" },
  }, USAGE);
  if (positionals.length !== 1) {
    throw new UserError(
      `expected one INPUT file, got ${positionals.length}. See 'l3mask score --help'.`,
    );
  }
  if (!values.model) throw new UserError("--model is required (a directory or a hub id)");
  const input = positionals[0];
  const format = choice(values.format ?? "jsonl", "--format", ["jsonl", "csv"] as const);
  const requestedMaxLength = values["max-length"] === undefined
    ? undefined
    : positiveInt(values["max-length"], "--max-length");
  const pbar = probability(values.pbar ?? "0.15", "--pbar");
  const complement = choice(
    values.complement ?? "one-minus",
    "--complement",
    ["one-minus", "surprisal"] as const,
  ) as Complement;
  const overflow = choice(
    values.overflow ?? "redistribute",
    "--overflow",
    ["redistribute", "clip"] as const,
  ) as Overflow;
  const budgetTokens = positiveInt(values["batch-tokens"] ?? "8192", "--batch-tokens");
  if (requestedMaxLength !== undefined) checkBudget(budgetTokens, requestedMaxLength, true);
  const inputFormat = values["input-format"]
    ? choice(
      values["input-format"],
      "--input-format",
      ["csv", "tsv", "jsonl"] as const,
    ) as DataFormat
    : undefined;
  if (values.out !== undefined && values.out === values.report) {
    throw new UserError(`--out and --report are both ${values.out}; give them different files`);
  }
  const cacheDir = values["cache-dir"] ?? defaultPltCacheDir();

  // Every place this run writes to, checked before the model is fetched or anything is scored.
  if (values.out !== undefined) await checkOutputFile(values.out, "--out");
  if (values.report !== undefined) await checkOutputFile(values.report, "--report");
  await checkOutputDir(cacheDir, values["cache-dir"] ? "--cache-dir" : "the PLT cache");

  const data = await readDataset(input, {
    format: inputFormat,
    textColumn: values["text-column"] ?? "text",
    skipBadRows: values["skip-bad-rows"],
  });
  const dir = await resolveModel(values.model, {
    offline: values.offline,
    progress: (m) => console.error(m),
  });
  // The positions decide the default max length; config.json alone tells, before the weights load.
  const resolved = resolveMaxLength(
    (await readHfConfig(join(dir, "config.json"))).config,
    requestedMaxLength,
  );
  if ("problem" in resolved) throw new UserError(`${values.model}: ${resolved.problem}`);
  const maxLength = resolved.maxLength;
  checkBudget(budgetTokens, maxLength, requestedMaxLength !== undefined);
  const tok = await loadTokenizer(dir);
  const model = await loadCheckpoint(dir, { mlm: true, classifier: false });
  const ctx = await createContext().catch((e) => {
    throw new UserError((e as Error).message);
  });
  const texts = data.rows.map((r) => r.text);
  const plt = await computePlt(ctx, model, tok, texts, {
    maxLength,
    budgetTokens,
    cacheDir,
    progress: true,
  });
  ctx.destroy();

  const rows: ScoredRow[] = plt.scores.map((s, i) => ({
    row: data.rows[i].row,
    text: texts[i],
    tokens: s.tokens,
    ids: s.ids,
    word: s.word,
    plt: s.logp.map((lp) => (lp === null ? null : Math.exp(lp))),
    logp: s.logp,
    mask_prob: textMaskProbs(s, { pbar, complement, overflow }),
  }));
  const truncated = plt.scores.filter((s) => s.truncated).length;
  const notes = [
    `${rows.length} rows`,
    `${plt.cached} from cache`,
    `${plt.scoredTokens} tokens scored in ${plt.seconds.toFixed(1)}s` +
    (plt.scoredTokens ? ` (${(plt.scoredTokens / plt.seconds).toFixed(1)} tokens/s)` : ""),
  ];
  if (truncated) notes.push(`${truncated} texts truncated to ${maxLength} tokens`);
  if (data.notes.emptyText) notes.push(`${data.notes.emptyText} empty texts (no scored tokens)`);
  if (data.skipped.length) notes.push(`${data.skipped.length} bad rows skipped`);
  const body = format === "jsonl" ? formatScoreJsonl(rows) : formatScoreCsv(rows);
  // Both files are rendered before either is written, and each is written atomically.
  let html: string | undefined;
  if (values.report) {
    const { renderScoreReport } = await import("../report/score_report.ts");
    html = renderScoreReport(rows, {
      kind: tok.kind,
      settings: {
        model: values.model,
        input,
        "max length": maxLength,
        pbar,
        complement,
        overflow,
        "batch tokens": budgetTokens,
        version: VERSION,
        date: new Date().toISOString(),
      },
      stats: {
        rows: rows.length,
        "scored tokens": rows.reduce((s, r) => s + r.plt.filter((p) => p !== null).length, 0),
        "truncated texts": truncated,
        "empty texts": data.notes.emptyText,
        "tokens/s": plt.scoredTokens
          ? Number((plt.scoredTokens / plt.seconds).toFixed(1))
          : "cached",
        "wall time (s)": Number(plt.seconds.toFixed(1)),
      },
    });
  }
  if (values.out) await writeOutput(values.out, "--out", body);
  else await Deno.stdout.write(new TextEncoder().encode(body));
  if (values.report && html !== undefined) {
    await writeOutput(values.report, "--report", html);
    notes.push(`report: ${values.report}`);
  }
  console.error(`score: ${notes.join(", ")}${values.out ? `; wrote ${values.out}` : ""}`);
}

/** The batch must hold one whole text: `--batch-tokens` at least the max length. */
function checkBudget(budgetTokens: number, maxLength: number, explicit: boolean): void {
  if (budgetTokens >= maxLength) return;
  throw new UserError(
    `--batch-tokens (${budgetTokens}) must be at least ` +
      (explicit
        ? `--max-length (${maxLength})`
        : `the max length (${maxLength}, the default for this model); pass --batch-tokens ${maxLength} or more, or a smaller --max-length`),
  );
}

/** Writes `data` to `path` atomically; a failure is one line naming `flag`, no file left behind. */
async function writeOutput(path: string, flag: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (e) {
    throw asFsUserError(e, `${flag} ${path}`, "choose a writable location");
  }
}
