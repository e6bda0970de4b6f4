/**
 * Model resolution: a local directory, or a Hugging Face Hub id downloaded into a cache.
 *
 * The cache uses the Hugging Face hub layout (the one huggingface_hub/transformers and
 * @huggingface/hub use), so models already downloaded by Python are reused and vice versa:
 *
 *   <cache>/models--<org>--<name>/refs/<revision>          commit hash of the branch/tag
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<f>   symlink to ../../blobs/<etag>
 *   <cache>/models--<org>--<name>/blobs/<etag>             content (sha256 for LFS files)
 *   <cache>/models--<org>--<name>/blobs/<etag>.incomplete  a partial download, resumed by Range
 *
 * <cache> is opts.cacheDir, else $L3MASK_CACHE, else the hub default ($HF_HUB_CACHE, $HF_HOME/hub,
 * ~/.cache/huggingface/hub). @huggingface/hub resolves commits and file metadata; the file bytes
 * are streamed here so a partial download can be resumed (its own downloadFileToCacheDir restarts
 * from zero and writes no refs, which offline mode needs). Downloads are checked against the
 * hub's checksums (sha256 for LFS files, the git blob id otherwise).
 *
 * Offline mode (opts.offline or HF_HUB_OFFLINE=1) never calls fetch.
 */
import { dirname, join, relative } from "node:path";
import { createHash, type Hash } from "node:crypto";
import {
  downloadFile,
  fileDownloadInfo,
  type FileDownloadInfoOutput,
  HubApiError,
  modelInfo,
  pathsInfo,
} from "@huggingface/hub";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { FOREIGN_WEIGHTS, foreignWeightsHint, WEIGHTS_FILES } from "./weights_file.ts";
import { hasTokenizerFiles } from "./tokenizer_files.ts";

/**
 * The files of an l3mask model directory; pytorch_model.bin may stand in for model.safetensors
 * (WEIGHTS_FILES), which is preferred when both are there, and vocabulary files for
 * tokenizer.json (TOKENIZER_SETS).
 */
export const MODEL_FILES = ["config.json", "tokenizer.json", "model.safetensors"] as const;

/** The files besides the weights and the tokenizer. */
const REQUIRED_FILES = ["config.json"] as const;
const ANY_WEIGHTS = WEIGHTS_FILES.join(" or ");
/** Each set makes a tokenizer (io/tokenizer_files.ts builds it when tokenizer.json is absent). */
const TOKENIZER_SETS = [["tokenizer.json"], ["vocab.txt"], ["vocab.json", "merges.txt"]];
/** Read with a vocabulary set when present (fetched before it, so a set on disk is complete). */
const TOKENIZER_EXTRAS = ["tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"];
const ANY_TOKENIZER = "a tokenizer (tokenizer.json, vocab.txt, or vocab.json + merges.txt)";
const NEEDS = `${REQUIRED_FILES.join(", ")}, ${ANY_TOKENIZER} and ${ANY_WEIGHTS}`;
const COMMIT_RE = /^[0-9a-f]{40}$/;
const HUB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const REVISION_RE = /^[A-Za-z0-9._\/-]+$/;

export interface ResolveOptions {
  /** Never touch the network (also on with HF_HUB_OFFLINE=1). */
  offline?: boolean;
  /** Hub cache root (default: $L3MASK_CACHE, then the Hugging Face default). */
  cacheDir?: string;
  /** Access token (default: $HF_TOKEN, then $HUGGING_FACE_HUB_TOKEN). */
  token?: string;
  progress?: (msg: string) => void;
  /** fetch to use for every request (tests inject one). */
  fetch?: typeof fetch;
  hubUrl?: string;
}

export interface ModelSpec {
  id: string;
  revision: string;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/** HF_HUB_OFFLINE set to 1/true/yes/on. */
export function offlineFromEnv(): boolean {
  const v = env("HF_HUB_OFFLINE")?.toLowerCase();
  return v === "1" || v === "true" || v === "yes" || v === "on";
}

/** The hub cache root used when none is given. */
export function defaultCacheDir(): string {
  const explicit = env("L3MASK_CACHE") ?? env("HF_HUB_CACHE") ?? env("HUGGINGFACE_HUB_CACHE");
  if (explicit) return explicit;
  const hfHome = env("HF_HOME");
  if (hfHome) return join(hfHome, "hub");
  const home = env("HOME") ?? env("USERPROFILE") ?? ".";
  return join(env("XDG_CACHE_HOME") ?? join(home, ".cache"), "huggingface", "hub");
}

/** `models--org--name` under the cache root. */
export function repoCacheDir(cacheDir: string, id: string): string {
  return join(cacheDir, ["models", ...id.split("/")].join("--"));
}

/** Splits `id[@revision]` and validates both; revision defaults to "main". */
export function parseModelSpec(spec: string): ModelSpec {
  const at = spec.indexOf("@");
  const id = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? "main" : spec.slice(at + 1);
  if (!HUB_ID_RE.test(id) || id.includes("--") || id.includes("..") || id.length > 96) {
    throw new UserError(
      `'${spec}' is neither an existing directory nor a Hugging Face model id ` +
        `(like roberta-base or allenai/scibert_scivocab_uncased, optionally @revision)`,
    );
  }
  if (!REVISION_RE.test(revision) || revision.includes("..")) {
    throw new UserError(`'${spec}': revision '${revision}' is not a valid branch, tag or commit`);
  }
  return { id, revision };
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw err;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await statOrNull(path))?.isFile ?? false;
}

/**
 * The files `dir` lacks; no weights file is named as `model.safetensors or pytorch_model.bin`, no
 * tokenizer as ANY_TOKENIZER.
 */
async function missingModelFiles(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const f of REQUIRED_FILES) if (!(await isFile(join(dir, f)))) missing.push(f);
  if (!(await statOrNull(dir))?.isDirectory || !(await hasTokenizerFiles(dir))) {
    missing.push(ANY_TOKENIZER);
  }
  let weights = false;
  for (const f of WEIGHTS_FILES) weights ||= await isFile(join(dir, f));
  if (!weights) missing.push(ANY_WEIGHTS);
  return missing;
}

function looksLikePath(spec: string): boolean {
  return spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("~") ||
    spec.includes("\\") || spec.split("@")[0].split("/").length > 2;
}

/** Checks a local model directory and returns it unchanged. */
async function checkLocalDir(dir: string): Promise<string> {
  const missing = await missingModelFiles(dir);
  if (missing.length === 0) return dir;
  if (missing.includes(ANY_WEIGHTS)) {
    const present: string[] = [];
    for (const f of Object.keys(FOREIGN_WEIGHTS)) if (await isFile(join(dir, f))) present.push(f);
    const hint = foreignWeightsHint(dir, present);
    if (hint) throw new UserError(`'${dir}' has no ${ANY_WEIGHTS}; ${hint}`);
  }
  const hints: string[] = [];
  if (missing.includes(ANY_TOKENIZER)) {
    hints.push("copy the tokenizer files of the model's hub repository (or its save_pretrained)");
  }
  if (missing.includes(ANY_WEIGHTS)) {
    hints.push("save the model with save_pretrained(dir, safe_serialization=True)");
  }
  if (missing.includes("config.json")) hints.push("config.json comes with every save_pretrained");
  throw new UserError(
    `model directory '${dir}' is missing ${
      missing.join(" and ")
    } (an l3mask model directory needs ` +
      `${NEEDS}); ${hints.join("; ")}`,
  );
}

/** The cached snapshot directory for `revision`, if refs/snapshots say there is one. */
export async function cachedSnapshot(
  repoDir: string,
  revision: string,
): Promise<string | undefined> {
  let commit = revision;
  if (!COMMIT_RE.test(revision)) {
    try {
      commit = (await Deno.readTextFile(join(repoDir, "refs", revision))).trim();
    } catch {
      return undefined;
    }
  }
  const dir = join(repoDir, "snapshots", commit);
  return (await statOrNull(dir))?.isDirectory ? dir : undefined;
}

/**
 * Resolves `spec` to a local directory holding config.json, a tokenizer (tokenizer.json, else
 * vocab.txt or vocab.json + merges.txt with their config files) and model.safetensors or
 * pytorch_model.bin: an existing directory as is, otherwise a hub id (`name`, `org/name`,
 * optionally `@revision`) from the cache, downloading what is missing unless offline (the hub's
 * model.safetensors when it has one, else its pytorch_model.bin; its tokenizer.json when it has
 * one, else its vocabulary files).
 */
export async function resolveModel(spec: string, opts: ResolveOptions = {}): Promise<string> {
  const st = await statOrNull(spec);
  if (st?.isDirectory) return await checkLocalDir(spec);
  if (st) {
    throw new UserError(
      `'${spec}' is a file; pass the model directory (with ${NEEDS}) or a hub id`,
    );
  }
  if (looksLikePath(spec)) throw new UserError(`model directory '${spec}' does not exist`);
  const { id, revision } = parseModelSpec(spec);
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const repoDir = repoCacheDir(cacheDir, id);
  const progress = opts.progress ?? (() => {});

  if (opts.offline || offlineFromEnv()) {
    const snap = await cachedSnapshot(repoDir, revision);
    if (!snap) {
      throw new UserError(
        `model '${spec}' is not in the cache at ${repoDir} and offline mode is on; run once ` +
          `without --offline or pass a local directory`,
      );
    }
    const missing = await missingModelFiles(snap);
    if (missing.length > 0) {
      throw new UserError(
        `model '${spec}' is only partly in the cache at ${snap} (missing ${
          missing.join(" and ")
        }) ` +
          `and offline mode is on; run once without --offline or pass a local directory`,
      );
    }
    return snap;
  }

  const token = opts.token ?? env("HF_TOKEN") ?? env("HUGGING_FACE_HUB_TOKEN");
  if (token !== undefined && !token.startsWith("hf_")) {
    throw new UserError(
      "HF_TOKEN does not look like a Hugging Face access token (they start with 'hf_')",
    );
  }
  const hub: HubAccess = {
    id,
    fetch: opts.fetch ?? globalThis.fetch,
    accessToken: token,
    hubUrl: opts.hubUrl,
  };

  let commit: string;
  try {
    commit = COMMIT_RE.test(revision) ? revision : await resolveCommit(hub, revision);
  } catch (err) {
    if (!isNetworkError(err)) throw hubError(err, spec);
    // Like huggingface_hub: with the hub unreachable, a complete cached snapshot is still good.
    const snap = await cachedSnapshot(repoDir, revision);
    if (snap && (await missingModelFiles(snap)).length === 0) {
      progress(`cannot reach the Hugging Face Hub (${errMessage(err)}); using the cached ${snap}`);
      return snap;
    }
    throw hubError(err, spec);
  }

  const snapDir = join(repoDir, "snapshots", commit);
  try {
    if ((await missingModelFiles(snapDir)).length > 0) {
      await downloadSnapshot(hub, repoDir, snapDir, commit, spec, progress);
    }
  } catch (err) {
    throw hubError(err, spec);
  }
  if (revision !== commit) await writeFileAtomic(join(repoDir, "refs", revision), commit);
  return snapDir;
}

interface HubAccess {
  id: string;
  fetch: typeof fetch;
  accessToken?: string;
  hubUrl?: string;
}

async function resolveCommit(hub: HubAccess, revision: string): Promise<string> {
  const info = await modelInfo({
    name: hub.id,
    revision,
    additionalFields: ["sha"],
    fetch: hub.fetch,
    accessToken: hub.accessToken,
    hubUrl: hub.hubUrl,
  });
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha !== "string" || !COMMIT_RE.test(sha)) {
    throw new UserError(`the Hugging Face Hub returned no commit for '${hub.id}@${revision}'`);
  }
  return sha;
}

async function downloadSnapshot(
  hub: HubAccess,
  repoDir: string,
  snapDir: string,
  commit: string,
  spec: string,
  progress: (msg: string) => void,
): Promise<void> {
  const infos = await pathsInfo({
    repo: { type: "model", name: hub.id },
    paths: [
      ...REQUIRED_FILES,
      ...TOKENIZER_SETS.flat(),
      ...TOKENIZER_EXTRAS,
      ...WEIGHTS_FILES,
      ...Object.keys(FOREIGN_WEIGHTS),
    ],
    revision: commit,
    fetch: hub.fetch,
    accessToken: hub.accessToken,
    hubUrl: hub.hubUrl,
  });
  const byPath = new Map(infos.filter((i) => i.type === "file").map((i) => [i.path, i]));
  const weights = WEIGHTS_FILES.find((f) => byPath.has(f));
  const hint = weights ? undefined : foreignWeightsHint(hub.id, byPath.keys());
  if (hint) {
    throw new UserError(
      `model '${spec}' has no ${ANY_WEIGHTS} on the Hugging Face Hub; ${hint} (or, if the ` +
        `hub's conversion bot opened a pull request with model.safetensors, pass ` +
        `'${hub.id}@refs/pr/<N>')`,
    );
  }
  const absent: string[] = REQUIRED_FILES.filter((f) => !byPath.has(f));
  const tokenizer = tokenizerFiles(new Set(byPath.keys()));
  if (!tokenizer) absent.push(ANY_TOKENIZER);
  if (!weights) absent.push(ANY_WEIGHTS);
  if (absent.length > 0) {
    throw new UserError(
      `model '${spec}' on the Hugging Face Hub lacks ${absent.join(" and ")} (l3mask needs ` +
        `${NEEDS}); download what it has, add the missing files with transformers' ` +
        `save_pretrained, and pass the directory`,
    );
  }
  await Deno.mkdir(snapDir, { recursive: true });
  // The weights last: a snapshot with its weights file is complete (missingModelFiles).
  for (const file of [...REQUIRED_FILES, ...tokenizer!, weights!]) {
    const target = join(snapDir, file);
    if (await isFile(target)) continue;
    const info = byPath.get(file)!;
    const etag = info.lfs?.oid ?? info.oid;
    if (!etag) throw new UserError(`the Hugging Face Hub gave no checksum for '${hub.id}/${file}'`);
    const size = info.lfs?.size ?? info.size;
    const blob = join(repoDir, "blobs", etag);
    await ensureBlob(hub, commit, file, etag, size, blob, progress);
    await linkIntoSnapshot(blob, target);
  }
}

/**
 * The tokenizer files to fetch from those the hub has: tokenizer.json alone, else the extras
 * present followed by every vocabulary file present (io/tokenizer_files.ts picks the set);
 * undefined when no set is complete.
 */
function tokenizerFiles(onHub: Set<string>): string[] | undefined {
  if (onHub.has("tokenizer.json")) return ["tokenizer.json"];
  if (!TOKENIZER_SETS.some((set) => set.every((f) => onHub.has(f)))) return undefined;
  const vocab = TOKENIZER_SETS.slice(1).flat().filter((f) => onHub.has(f));
  return [...TOKENIZER_EXTRAS.filter((f) => onHub.has(f)), ...vocab];
}

async function linkIntoSnapshot(blob: string, target: string): Promise<void> {
  await Deno.remove(target).catch(() => {});
  try {
    await Deno.symlink(relative(dirname(target), blob), target);
  } catch {
    await Deno.copyFile(blob, target); // file systems without symlinks, as huggingface_hub does
  }
}

function fmtMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Hashes the hub uses as etags: sha256 of the content (LFS) or the git blob id (sha1). */
function newVerifier(etag: string, size: number): Hash | undefined {
  if (/^[0-9a-f]{64}$/.test(etag)) return createHash("sha256");
  if (COMMIT_RE.test(etag)) return createHash("sha1").update(`blob ${size}\0`);
  return undefined;
}

/** Downloads one file into `blob`, resuming `<blob>.incomplete` when there is one. */
async function ensureBlob(
  hub: HubAccess,
  commit: string,
  file: string,
  etag: string,
  size: number,
  blob: string,
  progress: (msg: string) => void,
): Promise<void> {
  if ((await statOrNull(blob))?.size === size) return;
  await Deno.mkdir(dirname(blob), { recursive: true });
  const partial = `${blob}.incomplete`;
  let have = (await statOrNull(partial))?.size ?? 0;
  if (have > size) have = 0;
  const label = `${hub.id}/${file}`;

  const verifier = newVerifier(etag, size);
  if (have < size) {
    const info = await fileDownloadInfo({
      repo: { type: "model", name: hub.id },
      path: file,
      revision: commit,
      fetch: hub.fetch,
      accessToken: hub.accessToken,
      hubUrl: hub.hubUrl,
    });
    if (!info) throw new UserError(`'${label}' is no longer on the hub at commit ${commit}`);
    const { stream, start } = await openDownload(hub, file, commit, info, have);
    have = start;
    progress(
      have > 0
        ? `resuming ${label} at ${fmtMB(have)} of ${fmtMB(size)}`
        : `downloading ${label} (${fmtMB(size)})`,
    );
    if (verifier && have > 0) await hashFile(partial, have, verifier);
    const out = await Deno.open(partial, {
      write: true,
      create: true,
      truncate: have === 0,
      append: have > 0,
    });
    let last = Date.now();
    try {
      for await (const chunk of stream) {
        let off = 0;
        while (off < chunk.length) off += await out.write(chunk.subarray(off));
        verifier?.update(chunk);
        have += chunk.length;
        if (have > size) break;
        if (Date.now() - last > 2000) {
          progress(`${label}: ${fmtMB(have)} of ${fmtMB(size)}`);
          last = Date.now();
        }
      }
    } catch (err) {
      throw new UserError(
        `download of ${label} was interrupted at ${fmtMB(have)} of ${fmtMB(size)} ` +
          `(${errMessage(err)}); run the command again to resume`,
      );
    } finally {
      out.close();
    }
    if (have !== size) {
      if (have > size) await Deno.remove(partial).catch(() => {});
      throw new UserError(
        `download of ${label} ended at ${have} of ${size} bytes; run the command again to ` +
          (have > size ? "download it afresh" : "resume"),
      );
    }
  } else if (verifier) {
    await hashFile(partial, size, verifier);
  }
  if (verifier) {
    const digest = verifier.digest("hex");
    if (digest !== etag) {
      await Deno.remove(partial).catch(() => {});
      throw new UserError(
        `downloaded ${label} does not match the hub's checksum (${etag}, got ${digest}); the ` +
          `partial file was deleted, run the command again to download it afresh`,
      );
    }
  }
  await Deno.rename(partial, blob);
  progress(`downloaded ${label}`);
}

async function hashFile(path: string, bytes: number, hash: Hash): Promise<void> {
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 22);
    let left = bytes;
    while (left > 0) {
      const n = await f.read(buf.subarray(0, Math.min(buf.length, left)));
      if (n === null) throw new UserError(`${path}: shrank while being read`);
      hash.update(buf.subarray(0, n));
      left -= n;
    }
  } finally {
    f.close();
  }
}

/** Opens the byte stream from `have` on; `start` is where it really starts (0 if not resumable). */
async function openDownload(
  hub: HubAccess,
  file: string,
  commit: string,
  info: FileDownloadInfoOutput,
  have: number,
): Promise<{ stream: ReadableStream<Uint8Array>; start: number }> {
  if (info.xet) {
    // Xet storage: the library reconstructs the bytes; its Blob.slice resumes at an offset.
    const blob = await downloadFile({
      repo: { type: "model", name: hub.id },
      path: file,
      revision: commit,
      fetch: hub.fetch,
      accessToken: hub.accessToken,
      hubUrl: hub.hubUrl,
      downloadInfo: info,
    });
    if (!blob) throw new UserError(`'${hub.id}/${file}' is no longer on the hub at ${commit}`);
    return { stream: (have > 0 ? blob.slice(have) : blob).stream(), start: have };
  }
  const headers: Record<string, string> = {};
  if (hub.accessToken) headers.Authorization = `Bearer ${hub.accessToken}`;
  if (have > 0) headers.Range = `bytes=${have}-`;
  const resp = await hub.fetch(info.url, { headers });
  if (!resp.ok || !resp.body) {
    await resp.body?.cancel();
    throw new UserError(`downloading '${hub.id}/${file}' failed with HTTP ${resp.status}`);
  }
  // A server that ignores Range sends the whole file (200): start over.
  return { stream: resp.body, start: resp.status === 206 ? have : 0 };
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && !(err instanceof UserError) &&
    !/access token/i.test(err.message);
}

/** Maps hub and network failures to UserErrors with the fix; other errors pass through. */
function hubError(err: unknown, spec: string): unknown {
  if (err instanceof UserError) return err;
  if (err instanceof HubApiError) {
    const s = err.statusCode;
    if (s === 401) {
      return new UserError(
        `model '${spec}' is not accessible on the Hugging Face Hub (HTTP 401): it does not ` +
          `exist, or it is private or gated; check the id, or set HF_TOKEN to a token with access`,
      );
    }
    if (s === 403) {
      return new UserError(
        `access to model '${spec}' was refused (HTTP 403); if it is gated, accept its terms on ` +
          `huggingface.co and set HF_TOKEN`,
      );
    }
    if (s === 404) {
      return new UserError(
        `model '${spec}' was not found on the Hugging Face Hub (HTTP 404: ${err.message}); ` +
          `check the id and revision`,
      );
    }
    return new UserError(`the Hugging Face Hub failed for '${spec}' (HTTP ${s}): ${err.message}`);
  }
  if (isNetworkError(err)) {
    return new UserError(
      `could not reach the Hugging Face Hub for '${spec}' (${errMessage(err)}); check the ` +
        `network, pass a local directory, or use --offline with a cached model`,
    );
  }
  return err;
}
