/**
 * Sharded scoring: `score --shard I/N` scores the rows whose text hashes to shard I - 1 (SHA-256
 * of the UTF-8 text as a 256-bit number, modulo N, so duplicates of a text land in one shard and
 * a shard's rows do not depend on the others), and `merge-scores` joins the shards' JSONL outputs
 * into the output a single run writes: every row of the input exactly once, in input order.
 */
import { UserError } from "../errors.ts";
import { sha256Hex } from "./cache.ts";
import { parseSchemeName } from "./copies.ts";
import type { ScoredRow } from "./output.ts";

export interface ShardSpec {
  /** 0-based. */
  index: number;
  count: number;
}

/** The 0-based shard of a text among `count`. */
export async function shardOf(text: string, count: number): Promise<number> {
  return Number(BigInt(`0x${await sha256Hex(text)}`) % BigInt(count));
}

/** The items whose text is in shard `spec`, in their order. */
export async function inShard<R extends { text: string }>(
  rows: readonly R[],
  spec: ShardSpec,
): Promise<R[]> {
  const shards = await Promise.all(rows.map((r) => shardOf(r.text, spec.count)));
  return rows.filter((_, i) => shards[i] === spec.index);
}

const FIELDS = ["row", "text", "tokens", "ids", "word", "plt", "logp", "mask_prob", "scoring"];

/** One JSONL line of `score` output, checked field by field; where tells the file and line. */
export function parseScoredRow(line: string, where: string): ScoredRow {
  const bad = (what: string): never => {
    throw new UserError(
      `${where}: ${what}; merge-scores reads the JSONL that 'score --format jsonl' writes`,
    );
  };
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return bad("not a JSON line");
  }
  if (o === null || typeof o !== "object" || Array.isArray(o)) return bad("not a JSON object");
  const keys = Object.keys(o);
  if (keys.join() !== FIELDS.join()) {
    return bad(`expected the fields ${FIELDS.join(", ")}; found ${keys.join(", ") || "none"}`);
  }
  const r = o as unknown as ScoredRow;
  const n = Array.isArray(r.tokens) ? r.tokens.length : -1;
  const list = (x: unknown, ok: (v: unknown) => boolean) =>
    Array.isArray(x) && x.length === n && x.every(ok);
  const num = (v: unknown) => typeof v === "number";
  const numOrNull = (v: unknown) => v === null || num(v);
  if (!Number.isInteger(r.row) || r.row < 0) bad(`row ${JSON.stringify(r.row)} is not a row index`);
  if (typeof r.text !== "string") bad("text is not a string");
  if (!list(r.tokens, (v) => typeof v === "string")) bad("tokens is not a list of strings");
  for (
    const [k, ok] of [["ids", num], ["word", numOrNull], ["plt", numOrNull], ["logp", numOrNull], [
      "mask_prob",
      num,
    ]] as const
  ) {
    if (!list(o[k], ok)) bad(`${k} is not a list of ${n} numbers${ok === num ? "" : " or nulls"}`);
  }
  if (typeof r.scoring !== "string" || !parseSchemeName(r.scoring)) {
    bad(`scoring ${JSON.stringify(r.scoring)} is neither "exact" nor "groups-K"`);
  }
  return r;
}

/** A shard output file: its name and text. */
export interface ShardFile {
  path: string;
  text: string;
}

/**
 * The rows of `data` (in their order) from the shard files, checked: each shard row is a row of
 * the input with the same text, no row comes twice, none is missing, and the approximate rows were
 * all scored with the same number of word groups.
 */
export function mergeShards(
  data: { path: string; rows: readonly { row: number; text: string }[] },
  shards: readonly ShardFile[],
): ScoredRow[] {
  const want = new Map(data.rows.map((r) => [r.row, r.text]));
  const got = new Map<number, { r: ScoredRow; where: string }>();
  let groups: { name: string; where: string } | undefined;
  for (const f of shards) {
    f.text.split("\n").forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${f.path}:${i + 1}`;
      const r = parseScoredRow(line, where);
      const text = want.get(r.row);
      if (text === undefined) {
        throw new UserError(
          `${where}: row ${r.row} is not a row of ${data.path}; merge the shards of the input they were scored from`,
        );
      }
      if (text !== r.text) {
        throw new UserError(
          `${where}: row ${r.row}'s text differs from row ${r.row} of ${data.path}; merge the shards of the input they were scored from, read with the same --text-column`,
        );
      }
      const seen = got.get(r.row);
      if (seen) {
        throw new UserError(
          `${where}: row ${r.row} is also in ${seen.where}; give each shard's output once`,
        );
      }
      if (r.scoring !== "exact") {
        if (groups && groups.name !== r.scoring) {
          throw new UserError(
            `${where}: row ${r.row} was scored with ${r.scoring}, ${groups.where} with ${groups.name}; score every shard with the same --copies`,
          );
        }
        groups ??= { name: r.scoring, where };
      }
      got.set(r.row, { r, where });
    });
  }
  const missing = data.rows.filter((r) => !got.has(r.row)).map((r) => r.row);
  if (missing.length) {
    const shown = missing.slice(0, 5).join(", ") + (missing.length > 5 ? ", …" : "");
    throw new UserError(
      `${missing.length} of ${data.rows.length} rows of ${data.path} are in none of the shards (row ${shown}); pass the output of every 'score --shard I/N', I = 1 .. N`,
    );
  }
  return data.rows.map((r) => got.get(r.row)!.r);
}
