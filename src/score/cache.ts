/**
 * The PLT cache: per (model files, tokenizer, max length) one append-only JSONL file of
 * {k: sha256(text), logp: [...]} lines. A run appends each text as soon as its last copy is
 * scored, so an interrupted run resumes where it stopped and a finished one re-runs instantly;
 * `train` reads the same file for L3Masking. A torn last line (kill mid-write) is ignored.
 */
import { join } from "node:path";
import { readSafetensorsHeader } from "../io/safetensors.ts";

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
 * Fingerprint of what PLT depends on: config.json, tokenizer.json, the safetensors header and
 * data size (weights are not hashed byte by byte: 500 MB per run would be slow; a changed
 * checkpoint changes its header offsets or size in practice), max length and the scorer version.
 */
export async function modelFingerprint(dir: string, maxLength: number): Promise<string> {
  const config = await Deno.readFile(join(dir, "config.json"));
  const tokenizer = await Deno.readFile(join(dir, "tokenizer.json"));
  const header = await readSafetensorsHeader(join(dir, "model.safetensors"));
  const st = await Deno.stat(join(dir, "model.safetensors"));
  const headerDesc = JSON.stringify({
    entries: header.entries.map((e) => [e.name, e.dtype, e.shape, e.begin, e.end]),
    size: st.size,
    mtime: st.mtime?.getTime() ?? 0,
  });
  return (await sha256Hex(
    `pll-word-l2r-v1\n${maxLength}\n${await sha256Hex(config)}\n${await sha256Hex(
      tokenizer,
    )}\n${headerDesc}`,
  )).slice(0, 32);
}

export class PltCache {
  private entries = new Map<string, (number | null)[]>();
  private file: Deno.FsFile | null = null;

  private constructor(readonly path: string) {}

  static async open(dir: string, fingerprint: string): Promise<PltCache> {
    await Deno.mkdir(dir, { recursive: true });
    const cache = new PltCache(join(dir, `${fingerprint}.jsonl`));
    let text = "";
    try {
      text = await Deno.readTextFile(cache.path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    let good = 0;
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const o = JSON.parse(line);
        if (typeof o.k === "string" && Array.isArray(o.logp)) {
          cache.entries.set(o.k, o.logp);
          good += line.length + 1;
          continue;
        }
      } catch {
        // a torn line from an interrupted write: dropped below
      }
      break;
    }
    cache.file = await Deno.open(cache.path, { create: true, write: true, read: true });
    // Cut a torn tail so appends start on a clean line.
    await cache.file.truncate(good);
    await cache.file.seek(good, Deno.SeekMode.Start);
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): (number | null)[] | undefined {
    return this.entries.get(key);
  }

  /** Record texts' log-probabilities (null where unscored) and append them to the file. */
  async put(items: { key: string; logp: (number | null)[] }[]): Promise<void> {
    if (!items.length) return;
    let chunk = "";
    for (const { key, logp } of items) {
      if (this.entries.has(key)) continue;
      this.entries.set(key, logp);
      chunk += JSON.stringify({ k: key, logp }) + "\n";
    }
    const bytes = new TextEncoder().encode(chunk);
    let off = 0;
    while (off < bytes.length) off += await this.file!.write(bytes.subarray(off));
  }

  close(): void {
    this.file?.close();
    this.file = null;
  }
}
