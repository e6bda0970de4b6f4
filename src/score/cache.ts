/**
 * The PLT cache: per (model files, tokenizer, max length) one append-only JSONL file of
 * {k: sha256(text), logp: [...]} lines, plus {k, g: K, logp} for texts scored with K word groups
 * (`--copies K`, src/score/copies.ts): a text's exact and approximate values are kept apart. A
 * run appends each text as soon as its last copy is scored, so an interrupted run resumes where
 * it stopped and a finished one re-runs instantly;
 * `train` reads the same file for L3Masking.
 *
 * Several processes may share a cache directory (two `score` runs, a `score` beside a `train`)
 * and append to the same file at once. So the file is opened in append mode (O_APPEND) and never
 * truncated, rewritten or written at an offset of our choosing, and each `put` is one write() of
 * whole lines: on a local file system the kernel places every such write, complete, at the end of
 * the file as it is at that moment, so the records of different processes interleave line by line
 * and none overwrites another's. (The earlier scheme cut the torn tail it had read and wrote at its
 * own offset, so a second process wrote over the first one's records.)
 *
 * A line can still be torn: a write cut short (a kill mid-write, a full disk, a short write
 * finished by a second one) or a file system without atomic appends (NFS). The reader keeps every
 * complete record and skips each line that is not one, with one warning on stderr for the file;
 * the skipped texts are simply scored again. A writer that finds the file not ending in a newline
 * starts its first write with one, so its records do not glue onto a torn tail. The same text
 * appended by two processes is harmless: its first complete record is used.
 */
import { join } from "node:path";
import { findWeightsFile, readWeightsEntries } from "../io/weights_file.ts";
import { asFsUserError } from "../io/outputs.ts";
import type { CopyScheme } from "./copies.ts";

export function defaultPltCacheDir(): string {
  const env = (k: string) => {
    try {
      return Deno.env.get(k);
    } catch {
      return undefined;
    }
  };
  const explicit = env("L3MASK_PLT_CACHE");
  if (explicit) return explicit;
  const home = env("HOME") ?? env("USERPROFILE") ?? ".";
  return join(env("XDG_CACHE_HOME") ?? join(home, ".cache"), "l3mask", "plt");
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Fingerprint of what PLT depends on: config.json, the tokenizer (`tokenizerJson`: the bytes of
 * tokenizer.json, or the JSON built from vocabulary files, L3Tokenizer.jsonBytes), the weights
 * file's tensor
 * table (name, dtype, shape, byte range), size and mtime (weights are not hashed byte by byte: 500
 * MB per run would be slow; a changed checkpoint changes its table, size or mtime in practice), max
 * length and the scorer version. The weights file is model.safetensors, else pytorch_model.bin
 * (io/weights_file.ts); a safetensors directory gets the fingerprint it always had.
 */
export async function modelFingerprint(
  dir: string,
  maxLength: number,
  tokenizerJson: Uint8Array,
): Promise<string> {
  const config = await Deno.readFile(join(dir, "config.json"));
  const file = await findWeightsFile(dir);
  const entries = await readWeightsEntries(file);
  const st = await Deno.stat(file);
  const headerDesc = JSON.stringify({
    entries: entries.map((e) => [e.name, e.dtype, e.shape, e.begin, e.end]),
    size: st.size,
    mtime: st.mtime?.getTime() ?? 0,
  });
  return (await sha256Hex(
    `pll-word-l2r-v1\n${maxLength}\n${await sha256Hex(config)}\n${await sha256Hex(
      tokenizerJson,
    )}\n${headerDesc}`,
  )).slice(0, 32);
}

const KEY = /^[0-9a-f]{64}$/;
const FIX = "choose a writable cache directory (--cache-dir, or L3MASK_PLT_CACHE)";

/** A cache record: a text's key, how it was scored and its log-probabilities. */
export interface PltRecord {
  key: string;
  /** Absent: exact. */
  scheme?: CopyScheme;
  logp: (number | null)[];
}

/** The map key of a text's record under a scheme. */
function entryKey(key: string, scheme: CopyScheme = "exact"): string {
  return scheme === "exact" ? key : `${key}/${scheme.groups}`;
}

/** A line's record, or undefined when it is not a complete one (torn, glued, not JSON). */
function parseRecord(line: string): PltRecord | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = o as { k?: unknown; g?: unknown; logp?: unknown };
  if (typeof r?.k !== "string" || !KEY.test(r.k) || !Array.isArray(r.logp)) return undefined;
  if (!r.logp.every((x) => x === null || typeof x === "number")) return undefined;
  if (r.g !== undefined && !(Number.isInteger(r.g) && (r.g as number) >= 1)) return undefined;
  return {
    key: r.k,
    scheme: r.g === undefined ? "exact" : { groups: r.g as number },
    logp: r.logp,
  };
}

/** The cache line of a record (parseRecord's inverse). */
function formatRecord({ key, scheme = "exact", logp }: PltRecord): string {
  return JSON.stringify(scheme === "exact" ? { k: key, logp } : { k: key, g: scheme.groups, logp });
}

export interface PltCacheOptions {
  /** Where the warning about skipped lines goes (default: stderr). */
  warn?: (message: string) => void;
}

export class PltCache {
  private entries = new Map<string, PltRecord>();
  private file: Deno.FsFile | null = null;
  /** The file did not end in a newline when read: the first append starts with one. */
  private needsNewline = false;

  private constructor(readonly path: string) {}

  static async open(
    dir: string,
    fingerprint: string,
    opts: PltCacheOptions = {},
  ): Promise<PltCache> {
    const cache = new PltCache(join(dir, `${fingerprint}.jsonl`));
    let bytes = new Uint8Array();
    try {
      await Deno.mkdir(dir, { recursive: true });
      bytes = await Deno.readFile(cache.path).catch((e) => {
        if (e instanceof Deno.errors.NotFound) return new Uint8Array();
        throw e;
      });
      cache.file = await Deno.open(cache.path, { create: true, append: true });
    } catch (e) {
      throw asFsUserError(e, `PLT cache ${cache.path}`, FIX);
    }
    cache.load(bytes, opts, "their texts are scored again");
    return cache;
  }

  /** The records of a cache file, read only (another run's cache, for `merge-scores`). */
  static async read(path: string, opts: PltCacheOptions = {}): Promise<PltCache> {
    const cache = new PltCache(path);
    try {
      cache.load(await Deno.readFile(path), opts, "their texts are not merged");
    } catch (e) {
      throw asFsUserError(e, `PLT cache ${path}`, "give a readable cache directory");
    }
    return cache;
  }

  /** Reads the file's complete records; one warning for the lines that are not (`consequence`). */
  private load(bytes: Uint8Array, opts: PltCacheOptions, consequence: string): void {
    this.needsNewline = bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a;
    let skipped = 0;
    for (const line of new TextDecoder().decode(bytes).split("\n")) {
      if (!line.trim()) continue;
      const record = parseRecord(line);
      if (!record) skipped++;
      else {
        const k = entryKey(record.key, record.scheme);
        if (!this.entries.has(k)) this.entries.set(k, record);
      }
    }
    if (skipped) {
      (opts.warn ?? console.error)(
        `warning: PLT cache ${this.path}: skipped ${skipped} unreadable line${
          skipped === 1 ? "" : "s"
        } (a write cut short or torn); ${consequence}`,
      );
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** A text's log-probabilities under `scheme`, when cached. */
  get(key: string, scheme: CopyScheme = "exact"): (number | null)[] | undefined {
    return this.entries.get(entryKey(key, scheme))?.logp;
  }

  /** Every record, in the order first read or put. */
  records(): IterableIterator<PltRecord> {
    return this.entries.values();
  }

  /**
   * Record texts' log-probabilities (null where unscored) and append them to the file, all in one
   * write (see the module header for why one). Records already held are skipped.
   */
  async put(items: PltRecord[]): Promise<void> {
    let chunk = this.needsNewline ? "\n" : "";
    let records = 0;
    for (const item of items) {
      const k = entryKey(item.key, item.scheme);
      if (this.entries.has(k)) continue;
      this.entries.set(k, item);
      chunk += formatRecord(item) + "\n";
      records++;
    }
    if (!records) return;
    const bytes = new TextEncoder().encode(chunk);
    try {
      // One write() in all but the rarest case; a short write is finished by another (the reader
      // skips the line should a concurrent append land in between).
      let off = 0;
      while (off < bytes.length) off += await this.file!.write(bytes.subarray(off));
    } catch (e) {
      throw asFsUserError(e, `PLT cache ${this.path}`, FIX);
    }
    this.needsNewline = false;
  }

  close(): void {
    this.file?.close();
    this.file = null;
  }
}

/** A cache file's name: the model fingerprint (modelFingerprint) and `.jsonl`. */
const CACHE_FILE = /^([0-9a-f]{32})\.jsonl$/;

/**
 * Adds every record of the cache files in `sources` (other runs' cache directories, e.g. the
 * shards' of a sharded `score`) to the same-named files of `dest`, skipping records it holds.
 * Returns how many records were added.
 */
export async function mergeCaches(sources: readonly string[], dest: string): Promise<number> {
  let added = 0;
  for (const dir of sources) {
    let names: string[];
    try {
      names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
    } catch (e) {
      throw asFsUserError(e, `--cache-from ${dir}`, "give the cache directory of a score run");
    }
    for (const name of names) {
      const m = CACHE_FILE.exec(name);
      if (!m) continue;
      const from = await PltCache.read(join(dir, name));
      const to = await PltCache.open(dest, m[1]);
      try {
        const before = to.size;
        await to.put([...from.records()]);
        added += to.size - before;
      } finally {
        to.close();
      }
    }
  }
  return added;
}
