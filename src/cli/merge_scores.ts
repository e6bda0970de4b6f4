/**
 * `l3mask merge-scores INPUT SHARD.jsonl... --out FILE`: joins the outputs of `score --shard I/N`
 * into the file a single `score` run writes (src/score/shard.ts), and with --cache-from adds the
 * shards' PLT caches to this machine's cache.
 */
import { readDataset } from "../data/read.ts";
import { UserError } from "../errors.ts";
import { asFsUserError, checkOutputDir, checkOutputFile, writeOutputFile } from "../io/outputs.ts";
import { parse } from "../options/args.ts";
import { CommandOptions } from "../options/command.ts";
import { defaultPltCacheDir, mergeCaches } from "../score/cache.ts";
import { formatScoreCsv, formatScoreJsonl } from "../score/output.ts";
import { mergeShards, type ShardFile } from "../score/shard.ts";

const OPTIONS = new CommandOptions(
  "merge-scores",
  [
    "text_column",
    "input_format",
    "skip_bad_rows",
    "format",
    "out@file",
    "cache_from",
    "cache_dir",
  ] as const,
);

const USAGE = `Usage: l3mask merge-scores INPUT SHARD.jsonl... [--out FILE] [options]

Joins the JSONL outputs of 'l3mask score INPUT --shard I/N' (I = 1 .. N) into the output one
'l3mask score INPUT' run writes, byte for byte: every row of INPUT once, in input order. Give the
same data options (--text-column, --input-format, --skip-bad-rows) the shards were scored with.
--cache-from DIR (repeat it for each shard's cache directory) adds the shards' PLT caches to
--cache-dir, so that a later 'train' or 'score' on this machine finds the scores.

Options:
${OPTIONS.help()}`;

export async function mergeScores(args: string[]): Promise<void> {
  const { values, positionals } = parse("merge-scores", args, OPTIONS.flagOptions(), USAGE);
  if (positionals.length < 2) {
    throw new UserError(
      `expected INPUT and at least one shard output, got ${positionals.length} file${
        positionals.length === 1 ? "" : "s"
      }. See 'l3mask merge-scores --help'.`,
    );
  }
  const o = OPTIONS.readFlags(values);
  const [input, ...shardPaths] = positionals;
  if (o.out !== undefined) {
    if ([input, ...shardPaths].includes(o.out)) {
      throw new UserError(`--out ${o.out} is also an input; write the merged file elsewhere`);
    }
    await checkOutputFile(o.out, "--out");
  }
  const cacheDir = o.cacheDir ?? defaultPltCacheDir();
  if (o.cacheFrom) await checkOutputDir(cacheDir, o.cacheDir ? "--cache-dir" : "the PLT cache");
  const data = await readDataset(input, {
    format: o.inputFormat,
    textColumn: o.textColumn,
    skipBadRows: o.skipBadRows,
  });
  const shards: ShardFile[] = [];
  for (const path of shardPaths) {
    if ((await Deno.stat(path).catch(() => null))?.isDirectory) {
      throw new UserError(
        `${path} is a directory, not a shard output; to merge several caches, give each its own --cache-from`,
      );
    }
    try {
      shards.push({ path, text: await Deno.readTextFile(path) });
    } catch (e) {
      throw asFsUserError(e, path, "give the output files of 'score --shard I/N'");
    }
  }
  const rows = mergeShards(data, shards);
  const body = o.format === "jsonl" ? formatScoreJsonl(rows) : formatScoreCsv(rows);
  const notes = [`${rows.length} rows from ${shards.length} shard outputs`];
  if (o.cacheFrom) {
    const added = await mergeCaches(o.cacheFrom, cacheDir);
    notes.push(`${added} PLT cache records added to ${cacheDir}`);
  }
  if (o.out) await writeOutputFile(o.out, "--out", body);
  else await Deno.stdout.write(new TextEncoder().encode(body));
  console.error(`merge-scores: ${notes.join(", ")}${o.out ? `; wrote ${o.out}` : ""}`);
}
