/** `l3mask score INPUT --model M`: PLT and mPLT per token (SPEC §2, §3, §7). */
import { join } from "node:path";
import { readDataset } from "../data/read.ts";
import { UserError } from "../errors.ts";
import { openDevice } from "../gpu/context.ts";
import { readHfConfig } from "../model/hf_config.ts";
import { resolveModel } from "../io/hub.ts";
import { checkOutputDir, checkOutputFile, writeOutputFile } from "../io/outputs.ts";
import { type L3Tokenizer, loadTokenizer } from "../io/tokenizer.ts";
import { loadCheckpoint } from "../model/weights.ts";
import { resolveMaxLength } from "../model/config.ts";
import { defaultPltCacheDir } from "../score/cache.ts";
import { computePlt, textMaskProbs } from "../score/pipeline.ts";
import { schemeName } from "../score/copies.ts";
import { inShard } from "../score/shard.ts";
import { parseShard } from "../options/checks.ts";
import { formatScoreCsv, formatScoreJsonl, type ScoredRow } from "../score/output.ts";
import { VERSION } from "../version.ts";
import { parse } from "../options/args.ts";
import { CommandOptions, type ValuesOf } from "../options/command.ts";

const OPTIONS = new CommandOptions(
  "score",
  [
    "model",
    "text_column",
    "input_format",
    "skip_bad_rows",
    "format",
    "out@file",
    "report",
    "max_length",
    "pbar",
    "complement",
    "overflow",
    "copies",
    "shard",
    "batch_tokens",
    "cache_dir",
    "offline",
    "seed",
  ] as const,
);

const USAGE = `Usage: l3mask score INPUT --model M [options]

Token-wise pseudo-likelihood (PLL-word-l2r) of every token of every text under the vanilla
model, and the L3Masking mask probabilities derived from it. INPUT is CSV, TSV or JSONL. Scoring
is deterministic: --seed is accepted for symmetry with train. --copies K scores each text from K
word groups instead of one masked copy per token (faster, approximate; the README measures how
close). --shard I/N scores a 1/N share of the rows; 'l3mask merge-scores' joins the shards.

Options:
${OPTIONS.help()}`;

type ScoreOptions = ValuesOf<typeof OPTIONS.keys[number]>;

export async function score(args: string[]): Promise<void> {
  const { values, positionals } = parse("score", args, OPTIONS.flagOptions(), USAGE);
  if (positionals.length !== 1) {
    throw new UserError(
      `expected one INPUT file, got ${positionals.length}. See 'l3mask score --help'.`,
    );
  }
  const o = OPTIONS.readFlags(values);
  const input = positionals[0];
  const cacheDir = await checkOutputs(o);
  const data = await readDataset(input, {
    format: o.inputFormat,
    textColumn: o.textColumn,
    skipBadRows: o.skipBadRows,
  });
  const dir = await resolveModel(o.model, {
    offline: o.offline,
    progress: (m) => console.error(m),
  });
  // The positions decide the default max length; config.json alone tells, before the weights load.
  const resolved = resolveMaxLength(
    (await readHfConfig(join(dir, "config.json"))).config,
    o.maxLength,
  );
  if ("problem" in resolved) throw new UserError(`${o.model}: ${resolved.problem}`);
  const maxLength = resolved.maxLength;
  checkBudget(o.batchTokens, maxLength, o.maxLength !== undefined);
  const tok = await loadTokenizer(dir);
  const model = await loadCheckpoint(dir, { mlm: true, classifier: false });
  const ctx = await openDevice();
  const rowsIn = o.shard ? await inShard(data.rows, parseShard(o.shard)) : data.rows;
  const texts = rowsIn.map((r) => r.text);
  const plt = await computePlt(ctx, model, tok, texts, {
    maxLength,
    budgetTokens: o.batchTokens,
    cacheDir,
    copies: o.copies,
    progress: true,
  });
  ctx.destroy();
  const rates = { pbar: o.pbar, complement: o.complement, overflow: o.overflow };
  const rows: ScoredRow[] = plt.scores.map((s, i) => ({
    row: rowsIn[i].row,
    text: texts[i],
    tokens: s.tokens,
    ids: s.ids,
    word: s.word,
    plt: s.logp.map((lp) => (lp === null ? null : Math.exp(lp))),
    logp: s.logp,
    mask_prob: textMaskProbs(s, rates),
    scoring: schemeName(s.scheme),
  }));
  const truncated = plt.scores.filter((s) => s.truncated).length;
  const notes = [
    o.shard
      ? `shard ${o.shard}: ${rows.length} of ${data.rows.length} rows`
      : `${rows.length} rows`,
    `${plt.cached} from cache`,
    `${plt.scoredTokens} tokens scored with ${plt.copies} copies in ${plt.seconds.toFixed(1)}s` +
    (plt.scoredTokens ? ` (${(plt.scoredTokens / plt.seconds).toFixed(1)} tokens/s)` : ""),
  ];
  if (truncated) notes.push(`${truncated} texts truncated to ${maxLength} tokens`);
  if (data.notes.emptyText) notes.push(`${data.notes.emptyText} empty texts (no scored tokens)`);
  if (data.skipped.length) notes.push(`${data.skipped.length} bad rows skipped`);
  const body = o.format === "jsonl" ? formatScoreJsonl(rows) : formatScoreCsv(rows);
  // Both files are rendered before either is written, and each is written atomically.
  const html = o.report
    ? await report(rows, o, { input, kind: tok.kind, maxLength, truncated, plt, data })
    : undefined;
  if (o.out) await writeOutputFile(o.out, "--out", body);
  else await Deno.stdout.write(new TextEncoder().encode(body));
  if (o.report && html !== undefined) {
    await writeOutputFile(o.report, "--report", html);
    notes.push(`report: ${o.report}`);
  }
  console.error(`score: ${notes.join(", ")}${o.out ? `; wrote ${o.out}` : ""}`);
}

/**
 * Every place this run writes to, checked before the model is fetched or anything is scored.
 * Returns the PLT cache directory.
 */
async function checkOutputs(o: ScoreOptions): Promise<string> {
  if (o.maxLength !== undefined) checkBudget(o.batchTokens, o.maxLength, true);
  if (o.out !== undefined && o.out === o.report) {
    throw new UserError(`--out and --report are both ${o.out}; give them different files`);
  }
  const cacheDir = o.cacheDir ?? defaultPltCacheDir();
  if (o.out !== undefined) await checkOutputFile(o.out, "--out");
  if (o.report !== undefined) await checkOutputFile(o.report, "--report");
  await checkOutputDir(cacheDir, o.cacheDir ? "--cache-dir" : "the PLT cache");
  return cacheDir;
}

/** The HTML heatmap report of the scored rows (src/report/score_report.ts). */
async function report(
  rows: ScoredRow[],
  o: ScoreOptions,
  r: {
    input: string;
    kind: L3Tokenizer["kind"];
    maxLength: number;
    truncated: number;
    plt: { scoredTokens: number; seconds: number };
    data: { notes: { emptyText: number } };
  },
): Promise<string> {
  const { renderScoreReport } = await import("../report/score_report.ts");
  const { plt } = r;
  return renderScoreReport(rows, {
    kind: r.kind,
    settings: {
      model: o.model,
      input: r.input,
      "max length": r.maxLength,
      pbar: o.pbar,
      complement: o.complement,
      overflow: o.overflow,
      "batch tokens": o.batchTokens,
      copies: o.copies,
      ...(o.shard ? { shard: o.shard } : {}),
      version: VERSION,
      date: new Date().toISOString(),
    },
    stats: {
      rows: rows.length,
      "scored tokens": rows.reduce((s, row) => s + row.plt.filter((p) => p !== null).length, 0),
      "truncated texts": r.truncated,
      "empty texts": r.data.notes.emptyText,
      "tokens/s": plt.scoredTokens ? Number((plt.scoredTokens / plt.seconds).toFixed(1)) : "cached",
      "wall time (s)": Number(plt.seconds.toFixed(1)),
    },
  });
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
